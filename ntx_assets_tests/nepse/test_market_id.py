"""The market id that signs every POST is read again when every payload-id variant comes back empty."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ntx_assets.nepse import NepseError
from ntx_assets_tests.nepse.test_client_standin import MARKET_OPEN, TODAY_PRICE, fast_client
from ntx_assets_tests.pinned import PINNED_TODAY
from ntx_assets_tests.tools.standin import FaultConfig, StandinConfig, StandinServer, running_standin

# Payload ids carry the machine's day of month (nepse/payload_id.py): decided by the calendar.
pytestmark = pytest.mark.calendar


@pytest.fixture
def standin() -> Iterator[StandinServer]:
    with running_standin(StandinConfig(seed=7, end_date=PINNED_TODAY, market_id=11)) as server:
        yield server


def _session(server: StandinServer):  # type: ignore[no-untyped-def]
    return next(day for day in reversed(server.data.sessions) if server.data.today_prices(day))


def test_a_changed_market_id_is_read_again_once_and_the_call_succeeds(standin: StandinServer) -> None:
    day = _session(standin)
    with fast_client(standin.base_url) as client:
        assert client.today_prices(day)  # the market id (11) is now cached for the Nepal day
        standin.reset_counts()
        standin.data.market_id = 42  # NEPSE moved it during the day
        rows = client.today_prices(day)
        counts = standin.request_counts()
        assert rows and client.stats.total_retries == 0
        # one more market-open, and today-price tried with the old id's variants, then accepted
        assert counts.get(MARKET_OPEN) == 1
        assert counts.get(TODAY_PRICE, 0) >= 2
        standin.reset_counts()
        assert client.today_prices(day)  # the re-read id is cached again: no further market-open
        assert standin.request_counts().get(MARKET_OPEN, 0) == 0
        assert standin.request_counts().get(TODAY_PRICE) == 1


def test_an_unchanged_market_id_is_read_once_per_call_and_the_failure_says_so(standin: StandinServer) -> None:
    day = _session(standin)
    with fast_client(standin.base_url, max_attempts=3) as client:
        assert client.today_prices(day)
        standin.reset_counts()
        standin.set_faults(FaultConfig(rate_empty_200=1.0))  # every POST answers as to a wrong id
        with pytest.raises(NepseError, match=r"re-reading the market id: unchanged \(11\)"):
            client.today_prices(day)
        assert standin.request_counts().get(MARKET_OPEN) == 1  # once for the call, not once per attempt
