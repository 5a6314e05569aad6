from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import dagster as dg
import pytest
from sqlalchemy import Engine, select

from ntx_assets.defs.prices.assets import daily_prices
from ntx_assets.resources import NepseResource, WarehouseResource
from ntx_assets.warehouse import create_warehouse_engine
from ntx_assets.warehouse.schema import companies
from ntx_assets.warehouse.schema import daily_prices as prices_table
from ntx_assets_tests.conftest import fast_nepse_resource
from ntx_assets_tests.pinned import PINNED_TODAY, npt, pinned
from ntx_assets_tests.tools.standin import REMOVE, StandinServer

# Decides by the calendar: rerun under faketime with `make test-calendar` (pytest -m calendar).
pytestmark = pytest.mark.calendar

TODAY_PRICE = "POST /api/nots/nepse-data/today-price"


def range_tags(first: dt.date, last: dt.date) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }


def last_dates(standin: StandinServer, days: int) -> tuple[dt.date, dt.date]:
    """The `days` calendar days before the stand-in's end date (today's session is left out)."""
    last = standin.data.end_date - dt.timedelta(days=1)
    return last - dt.timedelta(days=days - 1), last


@pytest.fixture
def warehouse_with_universe(database_url: str, load_universe: Callable[[str], None]) -> Iterator[Engine]:
    load_universe(database_url)
    engine = create_warehouse_engine(database_url)
    yield engine
    engine.dispose()


def run_prices(
    instance: dg.DagsterInstance, nepse: NepseResource, database_url: str, first: dt.date, last: dt.date
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [daily_prices],
        instance=instance,
        resources={"nepse": nepse, "warehouse": WarehouseResource(database_url=database_url)},
        tags=range_tags(first, last),
        raise_on_error=False,
    )


def test_range_run_writes_exactly_the_standin_rows_with_one_call_per_session(
    standin: StandinServer,
    nepse_resource: NepseResource,
    database_url: str,
    dagster_instance: dg.DagsterInstance,
    warehouse_with_universe: Engine,
) -> None:
    first, last = last_dates(standin, 20)
    sessions = [d for d in standin.data.sessions if first <= d <= last]
    assert 0 < len(sessions) < 20  # the range holds weekends or holidays too
    with warehouse_with_universe.connect() as conn:
        universe = set(conn.execute(select(companies.c.security_id).where(companies.c.included)).scalars())

    calls_before = standin.request_counts().get(TODAY_PRICE, 0)
    result = run_prices(dagster_instance, nepse_resource, database_url, first, last)
    assert result.success
    assert len(dagster_instance.get_runs()) == 1  # ONE run for all 20 dates
    # One today-price call per session (each fits one page of 500), none on non-session days; at most one
    # more when the payload-id variant tried first is the wrong one for the day (docs/NEPSE_API.md section 1).
    assert len(sessions) <= standin.request_counts()[TODAY_PRICE] - calls_before <= len(sessions) + 1

    expected = {
        (row["securityId"], d): row
        for d in sessions
        for row in standin.data.today_prices(d)
        if row["securityId"] in universe
    }
    with warehouse_with_universe.connect() as conn:
        stored = {
            (r["security_id"], r["business_date"]): r
            for r in conn.execute(
                select(prices_table).where(prices_table.c.business_date.between(first, last))
            )
            .mappings()
            .all()
        }
    assert stored.keys() == expected.keys()
    for key, row in expected.items():
        got = stored[key]
        assert (got["symbol"], got["open"], got["high"], got["low"], got["close"]) == (
            row["symbol"],
            row["openPrice"],
            row["highPrice"],
            row["lowPrice"],
            row["closePrice"],
        )
        assert (got["volume"], got["turnover"], got["trades"], got["previous_close"]) == pytest.approx(
            (
                row["totalTradedQuantity"],
                row["totalTradedValue"],
                row["totalTrades"],
                row["previousDayClosePrice"],
            )
        )

    metadata = result.asset_materializations_for_node("daily_prices")[0].metadata
    assert metadata["sessions_loaded"].value == len(sessions)
    assert metadata["planned_calls"].value == len(sessions)
    assert metadata["rows_inserted"].value == len(expected)
    assert len(result.asset_materializations_for_node("daily_prices")) == 20  # every date of the range
    check = result.get_asset_check_evaluations()[0]
    assert check.check_name == "daily_prices_are_consistent" and check.passed

    again = run_prices(dagster_instance, nepse_resource, database_url, first, last)
    metadata = again.asset_materializations_for_node("daily_prices")[0].metadata
    assert (metadata["rows_inserted"].value, metadata["rows_updated"].value) == (0, 0)
    assert metadata["rows_unchanged"].value == len(expected)


def test_a_bad_row_fails_its_partition_writes_nothing_of_it_and_the_others_land(
    standin: StandinServer,
    nepse_resource: NepseResource,
    database_url: str,
    dagster_instance: dg.DagsterInstance,
    warehouse_with_universe: Engine,
) -> None:
    first, last = last_dates(standin, 10)
    sessions = [d for d in standin.data.sessions if first <= d <= last]
    bad_day = sessions[len(sessions) // 2]
    with warehouse_with_universe.connect() as conn:
        universe = set(conn.execute(select(companies.c.security_id).where(companies.c.included)).scalars())
    victim = next(r for r in standin.data.today_prices(bad_day) if r["securityId"] in universe)
    try:
        standin.data.amend_today_price(bad_day, victim["securityId"], closePrice=REMOVE)
        result = run_prices(dagster_instance, nepse_resource, database_url, first, last)
    finally:
        standin.data.restore_today_prices(bad_day)

    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.error.message + str(failure.step_failure_data.user_failure_data)
    assert victim["symbol"] in message and bad_day.isoformat() in message and "closePrice" in message
    with warehouse_with_universe.connect() as conn:
        dates = set(conn.execute(select(prices_table.c.business_date).distinct()).scalars())
    assert bad_day not in dates
    assert dates == set(sessions) - {bad_day}
    materialized = dagster_instance.get_materialized_partitions(dg.AssetKey("daily_prices"))
    assert bad_day.isoformat() not in materialized
    assert {d.isoformat() for d in sessions} - {bad_day.isoformat()} <= materialized

    healed = run_prices(dagster_instance, nepse_resource, database_url, bad_day, bad_day)
    assert healed.success


def test_dates_older_than_the_api_keeps_fail_alone_saying_so_and_the_rest_land(
    standin: StandinServer,
    database_url: str,
    dagster_instance: dg.DagsterInstance,
    warehouse_with_universe: Engine,
) -> None:
    # As the calendar moves on, the first partitions fall out of NEPSE's window: a backfill of every
    # partition must fail those dates only, not the whole run.
    today = PINNED_TODAY
    first, last = today - dt.timedelta(days=35), today - dt.timedelta(days=25)
    earliest = today - dt.timedelta(days=30)
    nepse = fast_nepse_resource(standin.base_url, history_days=30)  # NEPSE keeps 30 days
    result = run_prices(dagster_instance, nepse, database_url, first, last)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.error.message
    assert (
        f"{first} (and 4 more, up to {earliest - dt.timedelta(days=1)}) is older than the NEPSE API"
        in message
    )
    assert f"the earliest date that can be loaded is {earliest}" in message
    assert "The other 6 date(s) landed." in message

    materialized = dagster_instance.get_materialized_partitions(daily_prices.key)
    keys = [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    assert materialized == {key for key in keys if key >= earliest.isoformat()}
    with warehouse_with_universe.connect() as conn:
        stored_dates = set(
            conn.execute(
                select(prices_table.c.business_date).where(prices_table.c.business_date.between(first, last))
            ).scalars()
        )
    loadable_sessions = {d for d in standin.data.sessions if earliest <= d <= last}
    assert loadable_sessions and stored_dates == loadable_sessions


def test_consistency_check_fails_on_an_inverted_stored_row(
    standin: StandinServer,
    nepse_resource: NepseResource,
    database_url: str,
    dagster_instance: dg.DagsterInstance,
    warehouse_with_universe: Engine,
) -> None:
    day = next(d for d in reversed(standin.data.sessions) if d < standin.data.end_date)
    with warehouse_with_universe.begin() as conn:
        # A row the asset would never write (a security outside the universe), stored by someone else.
        conn.execute(
            prices_table.insert().values(
                security_id=999_999,
                business_date=day,
                symbol="BAD",
                high=10.0,
                low=12.0,
                close=11.0,
                volume=1,
                turnover=11.0,
            )
        )
    result = run_prices(dagster_instance, nepse_resource, database_url, day, day)
    check = result.get_asset_check_evaluations()[0]
    assert not check.passed
    # Judged by the rule that admits a session (pricing.price_problems): the row, and what is wrong.
    # (the numbers as the backend returns them: 12 or 12.0)
    found = check.metadata["inconsistent"].value
    assert [text.split(" is ")[0] for text in found] == [f"BAD {day}: low", f"BAD {day}: close"]
    assert "above highPrice" in found[0] and "outside the day's range" in found[1]
    assert check.metadata["inconsistent_count"].value == 2


def test_today_before_the_close_is_not_reported_materialized(
    standin: StandinServer,
    nepse_resource: NepseResource,
    database_url: str,
    dagster_instance: dg.DagsterInstance,
    warehouse_with_universe: Engine,
) -> None:
    # 09:45 on the pinned Friday: the market has not even opened. The range ends today.
    first = PINNED_TODAY - dt.timedelta(days=5)
    with pinned(npt(2026, 11, 20, 9, 45)):
        result = run_prices(dagster_instance, nepse_resource, database_url, first, PINNED_TODAY)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.error.message
    assert f"{PINNED_TODAY}'s session is not over (it is {PINNED_TODAY} 09:45 Nepal time" in message
    assert "The other 5 date(s) landed." in message
    earlier = {(first + dt.timedelta(days=i)).isoformat() for i in range(5)}
    assert dagster_instance.get_materialized_partitions(daily_prices.key) == earlier
    with warehouse_with_universe.connect() as conn:
        today_rows = conn.execute(
            select(prices_table.c.security_id).where(prices_table.c.business_date == PINNED_TODAY)
        ).all()
    assert today_rows == []

    # After the close (the pinned 16:30), the same partition loads and is materialized.
    again = run_prices(dagster_instance, nepse_resource, database_url, PINNED_TODAY, PINNED_TODAY)
    assert again.success
    assert PINNED_TODAY.isoformat() in dagster_instance.get_materialized_partitions(daily_prices.key)
