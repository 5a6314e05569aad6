"""When NEPSE's market status is still not CLOSE a while after the close, a session whose rows all carry
closing prices is closed all the same (issue 37): the rule, the sensor's request and the asset, both ways."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from ntx_assets.defs.prices.assets import daily_prices
from ntx_assets.nepse.models import MarketStatus
from ntx_assets.prices.session_requests import closed_session_to_request, write_cursor
from ntx_assets.prices.sessions import CLOSING_PRICES_PAST_GRACE, EARLIER_DATE, NEPSE_CLOSE_FLAG, close_rule
from ntx_assets.resources import NepseResource
from ntx_assets_tests.pinned import PINNED_TODAY, npt, pinned
from ntx_assets_tests.prices.test_sensors import (  # noqa: F401 (fixtures)
    evaluate,
    market,
    past_sessions,
    sensor_instance,
    universe_db,
    warehouse_url,
)
from ntx_assets_tests.tools.harness.resources import run_resources
from ntx_assets_tests.tools.standin import StandinServer

pytestmark = pytest.mark.calendar

FRIDAY = dt.date(2026, 11, 20)
GRACE = dt.timedelta(minutes=30)


def status(is_open: str, as_of: dt.datetime) -> MarketStatus:
    return MarketStatus.model_validate(
        {"isOpen": is_open, "asOf": as_of.strftime("%Y-%m-%dT%H:%M:%S"), "id": 7}
    )


@pytest.mark.parametrize(
    ("now", "flag", "grace", "rule"),
    [
        (npt(2026, 11, 20, 14, 59), "CLOSE", GRACE, None),  # before the close, whatever the flag
        (npt(2026, 11, 20, 15, 29), "OPEN", GRACE, None),  # the flag's grace has not run out
        (npt(2026, 11, 20, 15, 30), "OPEN", GRACE, CLOSING_PRICES_PAST_GRACE),
        (npt(2026, 11, 20, 18, 0), "OPEN", None, None),  # no grace: the flag alone decides
        (npt(2026, 11, 20, 15, 1), "CLOSE", GRACE, NEPSE_CLOSE_FLAG),
        (npt(2026, 11, 21, 9, 0), "OPEN", GRACE, EARLIER_DATE),
        (npt(2026, 11, 20, 16, 0), "STALE", GRACE, None),  # OPEN as of the day before: not about today
    ],
)
def test_the_rule_that_decides_a_close(
    now: dt.datetime, flag: str, grace: dt.timedelta | None, rule: str | None
) -> None:
    as_of = {
        "OPEN": npt(2026, 11, 20, 11, 0),
        "CLOSE": npt(2026, 11, 20, 15, 0),
        "STALE": npt(2026, 11, 19, 11),
    }
    answer = status("OPEN" if flag == "STALE" else flag, as_of[flag])
    assert close_rule(FRIDAY, now, lambda: answer, grace) == rule


def test_an_open_flag_past_its_grace_requests_today() -> None:
    open_flag = status("OPEN", npt(2026, 11, 20, 11, 0))
    first, last = dt.date(2026, 1, 1), FRIDAY
    early = closed_session_to_request(
        open_flag, dt.date(2026, 11, 19), npt(2026, 11, 20, 15, 10), first, last, GRACE
    )
    assert isinstance(early, str) and "NEPSE's market is OPEN" in early
    late = closed_session_to_request(
        open_flag, dt.date(2026, 11, 19), npt(2026, 11, 20, 15, 40), first, last, GRACE
    )
    assert late == FRIDAY
    again = closed_session_to_request(open_flag, FRIDAY, npt(2026, 11, 20, 15, 40), first, last, GRACE)
    assert isinstance(again, str) and "already requested" in again


def test_the_sensor_requests_a_session_whose_flag_stays_open(
    market: StandinServer, nepse_resource: NepseResource, sensor_instance: dg.DagsterInstance
) -> None:
    market.set_market_status("OPEN", dt.datetime.combine(PINNED_TODAY, dt.time(11, 0)))
    previous = past_sessions(market)[-1]
    with pinned(npt(2026, 11, 20, 15, 40)):
        result = evaluate(nepse_resource, sensor_instance, write_cursor(previous))
    assert isinstance(result, dg.SensorResult) and result.run_requests
    assert result.run_requests[0].partition_key == PINNED_TODAY.isoformat()


def _load_today(nepse: NepseResource, url: str) -> dg.ExecuteInProcessResult:
    with pinned(npt(2026, 11, 20, 15, 40)):
        return dg.materialize(
            [daily_prices],
            partition_key=PINNED_TODAY.isoformat(),
            resources=run_resources(nepse, url),
            raise_on_error=False,
        )


def test_closing_prices_past_the_grace_close_the_session_and_the_materialization_says_so(
    market: StandinServer, nepse_resource: NepseResource, warehouse_url: str
) -> None:
    market.set_market_status("OPEN", dt.datetime.combine(PINNED_TODAY, dt.time(11, 0)))
    result = _load_today(nepse_resource, warehouse_url)
    assert result.success
    (materialization,) = result.asset_materializations_for_node("daily_prices")
    assert materialization.metadata["close_rule"].value == {
        PINNED_TODAY.isoformat(): CLOSING_PRICES_PAST_GRACE
    }
    assert materialization.metadata["sessions_loaded"].value == 1


def test_intraday_rows_past_the_grace_leave_the_session_pending(
    market: StandinServer, nepse_resource: NepseResource, warehouse_url: str
) -> None:
    market.set_market_status("OPEN", dt.datetime.combine(PINNED_TODAY, dt.time(11, 0)))
    aclbsl = next(c["id"] for c in market.data.companies if c["symbol"] == "ACLBSL")
    market.data.amend_today_price(PINNED_TODAY, aclbsl, closePrice=None, marketCapitalization=None)
    try:
        result = _load_today(nepse_resource, warehouse_url)
    finally:
        market.data.restore_today_prices(PINNED_TODAY)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert failure is not None and "closing prices are not published yet" in failure.message
