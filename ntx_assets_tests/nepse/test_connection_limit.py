"""Against a server that drops connections above 2 at once (as public clients met on the live site): the
default concurrency never trips it, and a client set higher survives the drops mid-page by retrying."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from ntx_assets.nepse import defaults
from ntx_assets_tests.nepse.test_client_standin import fast_client
from ntx_assets_tests.pinned import PINNED_TODAY
from ntx_assets_tests.tools.standin import FaultConfig, StandinConfig, StandinServer, running_standin

pytestmark = pytest.mark.calendar  # payload ids carry the machine's day of month


@pytest.fixture
def standin() -> Iterator[StandinServer]:
    with running_standin(StandinConfig(seed=7, end_date=PINNED_TODAY, max_in_flight=2)) as server:
        # every answer takes 50 ms, so requests from several threads really overlap
        server.set_faults(FaultConfig(rate_slow=1.0, slow_seconds=0.05))
        yield server


def _four_sessions_at_once(server: StandinServer, **client_options: object) -> int:
    """Four sessions' today-prices (several pages each) from four threads; the client's retries."""
    days = [day for day in reversed(server.data.sessions) if server.data.today_prices(day)][:4]
    with fast_client(server.base_url, page_size=50, **client_options) as client:
        client.market_status()
        with ThreadPoolExecutor(max_workers=4) as pool:
            pages = list(pool.map(client.today_prices, days))
        retries = client.stats.total_retries
    assert [len(rows) for rows in pages] == [len(server.data.today_prices(day)) for day in days]
    return retries


def test_the_default_concurrency_is_two_and_never_trips_the_limit(standin: StandinServer) -> None:
    assert defaults.MAX_CONCURRENT_REQUESTS == 2
    retries = _four_sessions_at_once(standin, max_concurrent_requests=defaults.MAX_CONCURRENT_REQUESTS)
    assert standin.injected_faults().get("over_concurrency", 0) == 0 and retries == 0


def test_a_client_above_the_limit_survives_dropped_connections_mid_page(standin: StandinServer) -> None:
    retries = _four_sessions_at_once(standin, max_concurrent_requests=4, max_attempts=30)
    dropped = standin.injected_faults().get("over_concurrency", 0)
    assert dropped >= 1 and retries >= dropped  # each dropped request was retried, and every row landed
