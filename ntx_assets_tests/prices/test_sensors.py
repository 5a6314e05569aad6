from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import func, select

from ntx_assets.common.clock import NEPAL_TZ, nepal_today
from ntx_assets.definitions import defs as project_defs
from ntx_assets.defs.automation import automation_sensor
from ntx_assets.defs.partitions import session_date_partitions
from ntx_assets.defs.prices.assets import daily_prices, indicators
from ntx_assets.defs.prices.checks import DAILY_PRICES_FRESH, daily_prices_fresh
from ntx_assets.defs.prices.sensors import (
    MAX_ATTEMPTS,
    NEW_SESSION_ASSETS,
    later_indicators_sensor,
    new_session_job,
    new_session_sensor,
)
from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.nepse import MarketStatus
from ntx_assets.orchestration.run_requests import RANGE_END_TAG, RANGE_START_TAG
from ntx_assets.prices.indicators import LOOKBACK_DAYS, later_dates, stale_later_dates
from ntx_assets.prices.session_requests import (
    CURSOR_KEY,
    closed_session_to_request,
    read_cursor,
    write_cursor,
)
from ntx_assets.prices.sessions import is_trading_weekday
from ntx_assets.resources import ExportResource, NepseResource
from ntx_assets.warehouse import create_warehouse_engine
from ntx_assets.warehouse.schema import daily_prices as prices_table
from ntx_assets_tests.conftest import fast_nepse_resource
from ntx_assets_tests.pinned import PINNED_NOW, PINNED_TODAY, npt, pinned
from ntx_assets_tests.prices.test_daily_prices import range_tags
from ntx_assets_tests.tools.harness.resources import run_resources
from ntx_assets_tests.tools.standin import StandinServer

# Decides by the calendar: rerun under faketime with `make test-calendar` (pytest -m calendar).
pytestmark = pytest.mark.calendar

FIRST = dt.date.fromisoformat(str(session_date_partitions.get_first_partition_key()))
CLOSE = dt.time(15, 0)


@pytest.fixture(scope="module")
def sensor_instance() -> Iterator[dg.DagsterInstance]:
    """A real instance for the tests that only evaluate the sensor (it reads and writes no run)."""
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture(scope="module")
def universe_db(
    tmp_path_factory: pytest.TempPathFactory, standin: StandinServer, sensor_instance: dg.DagsterInstance
) -> Path:
    """A SQLite warehouse holding the universe (profiles included), copied by each test that needs one."""
    path = tmp_path_factory.mktemp("universe") / "warehouse.db"
    resources = run_resources(fast_nepse_resource(standin.base_url), f"sqlite:///{path}")
    assert dg.materialize([company_universe], instance=sensor_instance, resources=resources).success
    return path


@pytest.fixture
def warehouse_url(universe_db: Path, tmp_path: Path) -> str:
    copy = tmp_path / "warehouse.db"
    shutil.copy(universe_db, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def market(standin: StandinServer) -> Iterator[StandinServer]:
    """The shared stand-in, its market status restored to the default afterwards."""
    yield standin
    standin.set_market_status(None)


def tmp_path_of(warehouse_url: str) -> Path:
    return Path(warehouse_url.removeprefix("sqlite:///")).parent


def exports_for(folder: Path) -> ExportResource:
    """The exports the new-session run writes with its screener, in the test's own folder."""
    return ExportResource(directory=str(folder / "exports"), logo_base_url="http://127.0.0.1:9")


def past_sessions(standin: StandinServer) -> list[dt.date]:
    """The stand-in's sessions inside the partitions and before today (never 'not closed yet')."""
    return [d for d in standin.data.sessions if FIRST <= d < nepal_today()]


def evaluate(
    nepse: NepseResource, instance: dg.DagsterInstance, cursor: str | None = None
) -> dg.SensorResult | dg.SkipReason:
    # NepseResource opens a client in setup and closes it in teardown, so the context must be entered,
    # as the daemon does for every tick.
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"nepse": nepse}) as context:
        return new_session_sensor(context)


def test_an_open_market_requests_nothing(
    market: StandinServer, nepse_resource: NepseResource, sensor_instance: dg.DagsterInstance
) -> None:
    day = past_sessions(market)[-1]
    market.set_market_status("OPEN", dt.datetime.combine(day, dt.time(11, 0)))
    result = evaluate(nepse_resource, sensor_instance)
    assert isinstance(result, dg.SkipReason)
    assert f"NEPSE's market is OPEN (as of {day} 11:00" in str(result.skip_message)


@pytest.mark.parametrize("cursor_kind", ["none", "older_json", "older_bare_date"])
def test_a_closed_session_is_requested_once_as_one_run_for_every_symbol(
    market: StandinServer,
    nepse_resource: NepseResource,
    sensor_instance: dg.DagsterInstance,
    cursor_kind: str,
) -> None:
    *_, older, day = past_sessions(market)
    cursor = {"none": None, "older_json": write_cursor(older), "older_bare_date": older.isoformat()}[
        cursor_kind
    ]
    market.set_market_status("CLOSE", dt.datetime.combine(day, CLOSE))

    result = evaluate(nepse_resource, sensor_instance, cursor)
    assert isinstance(result, dg.SensorResult)
    assert result.run_requests is not None and len(result.run_requests) == 1
    request = result.run_requests[0]
    assert request.partition_key == day.isoformat()
    assert new_session_sensor.job_name == new_session_job.name  # universe, prices, indicators
    assert request.run_key == f"session-{day.isoformat()}"
    assert json.loads(str(result.cursor)) == {CURSOR_KEY: day.isoformat(), "attempts": 1}

    # The next tick (the daemon stores the cursor, so it survives restarts) finds nothing new.
    again = evaluate(nepse_resource, sensor_instance, result.cursor)
    assert isinstance(again, dg.SkipReason)
    assert f"NEPSE's latest close is {day}" in str(again.skip_message)
    assert f"{day} was already requested" in str(again.skip_message)


def test_a_session_whose_close_is_not_published_is_pending_and_requested_again(
    market: StandinServer, nepse_resource: NepseResource, warehouse_url: str
) -> None:
    """NEPSE still serves the intraday shape (closePrice and marketCapitalization null, the public
    capture's ACLBSL row) after its CLOSE: the run loads nothing of the session and fails it as pending,
    not as bad data; the sensor requests it again once that run ended (nothing while a run of it is still
    going), up to MAX_ATTEMPTS runs in all, and stops once the prices landed.

    The first run and the one that loads are real; the runs of attempts 2 to MAX_ATTEMPTS are run records
    as the daemon makes them (the job, the partition's tag), started and then failed: the sensor reads
    only their status."""
    day = past_sessions(market)[-1]
    key = day.isoformat()
    market.set_market_status("CLOSE", dt.datetime.combine(day, CLOSE))
    aclbsl = next(c["id"] for c in market.data.companies if c["symbol"] == "ACLBSL")
    market.data.amend_today_price(day, aclbsl, closePrice=None, marketCapitalization=None)
    job = project_defs().resolve_job_def(new_session_job.name)
    resources = run_resources(nepse_resource, warehouse_url, exports=exports_for(tmp_path_of(warehouse_url)))
    assert MAX_ATTEMPTS == 12  # an hour of 5-minute ticks
    try:
        with dg.instance_for_test() as instance:
            first = evaluate(nepse_resource, instance)
            assert isinstance(first, dg.SensorResult) and first.run_requests
            assert json.loads(str(first.cursor)) == {CURSOR_KEY: key, "attempts": 1}
            # Requested, and the daemon has not made its run yet: nothing failed, nothing asked again.
            waiting = evaluate(nepse_resource, instance, first.cursor)
            assert isinstance(waiting, dg.SkipReason), waiting
            pending = job.execute_in_process(
                partition_key=key,
                instance=instance,
                resources=resources,
                raise_on_error=False,
                tags={"dagster/partition": key},
            )
            assert not pending.success
            failure = pending.get_step_failure_events()[0].step_failure_data.error
            assert failure is not None and "closing prices are not published yet" in failure.message
            assert "BadPriceData" not in failure.message and "nothing of session" not in failure.message
            assert key not in instance.get_materialized_partitions(daily_prices.key)
            engine = create_warehouse_engine(warehouse_url)
            with engine.connect() as conn:
                stored = conn.execute(
                    select(func.count()).where(prices_table.c.business_date == day)
                ).scalar_one()
            engine.dispose()
            assert stored == 0

            cursor = first.cursor
            second_cursor = None
            for attempt in range(2, MAX_ATTEMPTS + 1):
                again = evaluate(nepse_resource, instance, cursor)
                assert isinstance(again, dg.SensorResult) and again.run_requests is not None, (attempt, again)
                (request,) = again.run_requests
                assert request.run_key == f"session-{key}-attempt-{attempt}"
                assert request.partition_key == key
                assert json.loads(str(again.cursor)) == {CURSOR_KEY: key, "attempts": attempt}
                cursor = again.cursor
                second_cursor = second_cursor or cursor
                run = instance.add_run(
                    dg.DagsterRun(
                        job_name=new_session_job.name,
                        run_id=str(uuid.uuid4()),
                        status=dg.DagsterRunStatus.STARTED,
                        tags={"dagster/partition": key, "dagster/run_key": str(request.run_key)},
                    )
                )
                if attempt == 2:  # while that run is still going, the sensor asks for nothing
                    going = evaluate(nepse_resource, instance, cursor)
                    assert isinstance(going, dg.SkipReason), going
                    assert f"{key} was requested and its run has not finished yet" in str(going.skip_message)
                instance.report_run_failed(run, message="closing prices are not published yet")
            # MAX_ATTEMPTS runs ended without the prices: no more requests; the cursor keeps the count.
            capped = evaluate(nepse_resource, instance, cursor)
            assert isinstance(capped, dg.SkipReason), capped
            assert f"gave up on {day}: {MAX_ATTEMPTS} runs ended without its prices" in str(
                capped.skip_message
            )
            assert json.loads(str(cursor)) == {CURSOR_KEY: key, "attempts": MAX_ATTEMPTS}
            assert len(instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": key}))) == 12

            market.data.restore_today_prices(day)  # NEPSE publishes the close
            loaded = job.execute_in_process(
                partition_key=key,
                instance=instance,
                resources=resources,
                tags={"dagster/partition": key},
            )
            assert loaded.success
            # Loaded: nothing requested again, even by a cursor with attempts left.
            for left in (second_cursor, cursor):
                done = evaluate(nepse_resource, instance, left)
                assert isinstance(done, dg.SkipReason) and f"{day} was already requested" in str(
                    done.skip_message
                )
    finally:
        market.data.restore_today_prices(day)


def _latest_holiday_on_a_trading_weekday(standin: StandinServer) -> tuple[dt.date, str]:
    today = nepal_today()
    rows = [row for year in (today.year - 1, today.year) for row in standin.data.holiday_rows(year)]
    candidates = sorted(
        (dt.date.fromisoformat(row["holidayDate"][:10]), row["holidayDescription"])
        for row in rows
        if FIRST <= dt.date.fromisoformat(row["holidayDate"][:10]) < today
        and is_trading_weekday(dt.date.fromisoformat(row["holidayDate"][:10]))
    )
    return candidates[-1]


def test_a_close_reported_on_a_holiday_or_weekend_requests_nothing(
    market: StandinServer, nepse_resource: NepseResource, sensor_instance: dg.DagsterInstance
) -> None:
    holiday, name = _latest_holiday_on_a_trading_weekday(market)
    market.set_market_status("CLOSE", dt.datetime.combine(holiday, CLOSE))
    result = evaluate(nepse_resource, sensor_instance)
    assert isinstance(result, dg.SkipReason)
    assert f"{holiday} is a NEPSE holiday ({name})" in str(result.skip_message)

    weekend = max(
        d for d in (nepal_today() - dt.timedelta(days=n) for n in range(1, 8)) if not is_trading_weekday(d)
    )
    market.set_market_status("CLOSE", dt.datetime.combine(weekend, CLOSE))
    result = evaluate(nepse_resource, sensor_instance)
    assert isinstance(result, dg.SkipReason)
    assert f"{weekend} is a {weekend:%A}, not a trading day of its week" in str(result.skip_message)


def test_a_session_before_the_first_partition_requests_nothing(
    market: StandinServer, nepse_resource: NepseResource, sensor_instance: dg.DagsterInstance
) -> None:
    before = max(d for d in market.data.sessions if d < FIRST)
    market.set_market_status("CLOSE", dt.datetime.combine(before, CLOSE))
    result = evaluate(nepse_resource, sensor_instance)
    assert isinstance(result, dg.SkipReason)
    assert f"{before} is before the first partition {FIRST}" in str(result.skip_message)


def _status(state: str, as_of: dt.datetime) -> MarketStatus:
    return MarketStatus(id=1, is_open=state, as_of=as_of)


@pytest.mark.parametrize(
    ("state", "now", "expected"),
    [
        ("CLOSE", dt.datetime(2026, 11, 20, 15, 5), dt.date(2026, 11, 20)),
        ("CLOSE", dt.datetime(2026, 11, 20, 14, 30), "before the 15:00 close: wait"),  # early CLOSE
        ("Pre Open", dt.datetime(2026, 11, 20, 10, 40), "NEPSE's market is Pre Open"),
        (
            "CLOSE",
            dt.datetime(2026, 11, 23, 9, 0),
            dt.date(2026, 11, 20),
        ),  # the sensor was off over a weekend
    ],
)
def test_closed_session_to_request_waits_for_the_close(
    state: str, now: dt.datetime, expected: dt.date | str
) -> None:
    status = _status(state, dt.datetime.combine(dt.date(2026, 11, 20), dt.time(15, 0)))
    decision = closed_session_to_request(
        status, dt.date(2026, 11, 19), now.replace(tzinfo=NEPAL_TZ), dt.date(2025, 12, 1), now.date()
    )
    if isinstance(expected, str):
        assert isinstance(decision, str) and expected in decision
    else:
        assert decision == expected


def test_a_session_after_today_is_refused() -> None:
    status = _status("CLOSE", dt.datetime(2026, 11, 24, 15, 0))
    now = dt.datetime(2026, 11, 23, 16, 0, tzinfo=NEPAL_TZ)
    decision = closed_session_to_request(status, None, now, dt.date(2025, 12, 1), now.date())
    assert (
        decision
        == "NEPSE's latest session 2026-11-24 is after today's partition 2026-11-23: check the clocks"
    )


def test_the_cursor_round_trips_and_a_bad_one_says_how_to_fix_it() -> None:
    assert read_cursor(write_cursor(dt.date(2026, 11, 20))) == dt.date(2026, 11, 20)
    assert read_cursor(None) is None
    with pytest.raises(ValueError, match="Set cursor"):
        read_cursor('{"something": "else"}')


def test_the_run_request_is_one_run_of_universe_prices_indicators_and_screener_for_the_date(
    market: StandinServer,
    nepse_resource: NepseResource,
    dagster_instance: dg.DagsterInstance,
    warehouse_url: str,
) -> None:
    day = past_sessions(market)[-1]
    market.set_market_status("CLOSE", dt.datetime.combine(day, CLOSE))
    resources = run_resources(nepse_resource, warehouse_url, exports=exports_for(tmp_path_of(warehouse_url)))
    defs = dg.Definitions(
        assets=list(NEW_SESSION_ASSETS),
        asset_checks=[daily_prices_fresh],
        sensors=[new_session_sensor],
        resources=resources,
    )
    # evaluate_tick resolves the request against the job as the daemon does (the partition must exist).
    with dg.build_sensor_context(
        instance=dagster_instance, resources={"nepse": nepse_resource}, definitions=defs
    ) as context:
        tick = new_session_sensor.evaluate_tick(context)
    assert len(tick.run_requests) == 1
    request = tick.run_requests[0]
    assert request.tags["dagster/partition"] == day.isoformat()
    assert request.tags["dagster/sensor_name"] == "new_session_sensor"

    result = defs.resolve_job_def(new_session_job.name).execute_in_process(
        instance=dagster_instance, partition_key=request.partition_key, tags=request.tags
    )
    assert result.success
    assert len(dagster_instance.get_runs()) == 1
    materialized = {
        (event.asset_key.to_user_string(), event.partition)
        for event in result.get_asset_materialization_events()
    }
    assert materialized == {
        ("company_universe", None),
        ("daily_prices", day.isoformat()),
        ("indicators", day.isoformat()),
        ("screener", day.isoformat()),  # the daily path is one run
    }
    engine = create_warehouse_engine(warehouse_url)
    with engine.connect() as conn:
        stored = conn.execute(
            select(func.count()).select_from(prices_table).where(prices_table.c.business_date == day)
        ).scalar_one()
    engine.dispose()
    assert stored > 0
    # The freshness check runs in the same run, after the prices: NEPSE's latest session is `day`, loaded.
    checks = {evaluation.check_name: evaluation.passed for evaluation in result.get_asset_check_evaluations()}
    assert checks[DAILY_PRICES_FRESH] is True
    assert checks["daily_prices_are_consistent"] is True


# --- declarative automation ---------------------------------------------------------------------------


def test_automation_sensor_runs_by_default_over_every_asset() -> None:
    assert isinstance(automation_sensor, dg.AutomationConditionSensorDefinition)
    assert automation_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert automation_sensor.emit_backfills  # a range of indicators partitions becomes one backfill run
    loaded = project_defs()
    sensors = {sensor.name for sensor in loaded.sensors or []}
    assert {
        "automation_sensor",
        "new_session_sensor",
        "new_documents_sensor",
        "later_indicators_sensor",
    } <= sensors
    targeted = automation_sensor.asset_selection.resolve(loaded.resolve_asset_graph())
    assert indicators.key in targeted


def test_materialized_prices_request_their_indicators_then_nothing(
    standin: StandinServer,
    nepse_resource: NepseResource,
    dagster_instance: dg.DagsterInstance,
    warehouse_url: str,
) -> None:
    resources = run_resources(nepse_resource, warehouse_url, exports=exports_for(tmp_path_of(warehouse_url)))
    assets = list(NEW_SESSION_ASSETS)
    defs = dg.Definitions(assets=assets, resources=resources)
    now = PINNED_NOW

    def requested(cursor: object | None) -> tuple[set[str], object]:
        result = dg.evaluate_automation_conditions(
            defs=defs,
            instance=dagster_instance,
            asset_selection=automation_sensor.asset_selection,
            evaluation_time=now,
            cursor=cursor,  # type: ignore[arg-type]
        )
        assert not result.get_requested_partitions(daily_prices.key)  # prices have no condition
        return set(result.get_requested_partitions(indicators.key)), result.cursor

    nothing, cursor = requested(None)
    assert nothing == set()
    last = past_sessions(standin)[-3]
    first = last - dt.timedelta(days=4)
    assert dg.materialize(
        [daily_prices], instance=dagster_instance, resources=resources, tags=range_tags(first, last)
    ).success

    after_prices, cursor = requested(cursor)
    # Exactly those dates (each indicators date depends on its own date's prices in Dagster's graph; the
    # later dates whose lookback holds them are later_indicators_sensor's, and none is computed yet).
    assert after_prices == {
        (first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)
    }

    recompute = dg.materialize(
        [indicators],
        instance=dagster_instance,
        resources=resources,
        tags={
            "dagster/asset_partition_range_start": min(after_prices),
            "dagster/asset_partition_range_end": max(after_prices),
        },
    )
    assert recompute.success
    after_indicators, cursor = requested(cursor)
    assert after_indicators == set()

    # new_session_job's shape: a date's prices and indicators in one run: nothing left to request.
    day = past_sessions(standin)[-2]
    assert dg.materialize(
        [daily_prices, indicators],
        instance=dagster_instance,
        resources=resources,
        partition_key=day.isoformat(),
    ).success
    after_session_run, _ = requested(cursor)
    assert after_session_run == set()


def _later_tick(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult | dg.SkipReason:
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    result = later_indicators_sensor(context)
    assert isinstance(result, (dg.SensorResult, dg.SkipReason))
    return result


def _requested_range(result: dg.SensorResult | dg.SkipReason) -> tuple[str, str] | None:
    if isinstance(result, dg.SkipReason) or not result.run_requests:
        return None
    (request,) = result.run_requests  # ONE run
    return request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]


def test_later_indicators_follow_a_changed_price_in_one_run_and_nothing_else(
    standin: StandinServer,
    nepse_resource: NepseResource,
    dagster_instance: dg.DagsterInstance,
    warehouse_url: str,
) -> None:
    resources = run_resources(nepse_resource, warehouse_url, exports=exports_for(tmp_path_of(warehouse_url)))
    sessions = past_sessions(standin)
    first, last = sessions[-8], sessions[-2]
    assert dg.materialize(
        [daily_prices, indicators],
        instance=dagster_instance,
        resources=resources,
        tags=range_tags(first, last),
    ).success
    # The load inserted prices, but no later indicators exist: nothing to recompute.
    tick = _later_tick(dagster_instance, None)
    assert isinstance(tick, dg.SensorResult) and not tick.run_requests and tick.cursor
    assert "no later indicators were computed before the change" in str(tick.skip_reason)

    # A date re-fetched with the same prices changes nothing: nothing requested.
    day = sessions[-6]
    assert dg.materialize(
        [daily_prices], instance=dagster_instance, resources=resources, partition_key=day.isoformat()
    ).success
    unchanged = _later_tick(dagster_instance, tick.cursor)
    assert isinstance(unchanged, dg.SensorResult) and not unchanged.run_requests
    assert "no price inserted or updated" in str(unchanged.skip_reason)

    # A corrected price: ONE run over the later dates whose indicators read the old price.
    row = standin.data.today_prices(day)[0]
    try:
        standin.data.amend_today_price(day, row["securityId"], closePrice=row["highPrice"])
        corrected = dg.materialize(
            [daily_prices], instance=dagster_instance, resources=resources, partition_key=day.isoformat()
        )
    finally:
        standin.data.restore_today_prices(day)
    assert corrected.asset_materializations_for_node("daily_prices")[0].metadata["rows_updated"].value == 1
    changed = _later_tick(dagster_instance, unchanged.cursor)
    assert _requested_range(changed) == ((day + dt.timedelta(days=1)).isoformat(), last.isoformat())
    assert isinstance(changed, dg.SensorResult)

    # Once they are recomputed, the same change requests nothing again (a cleared cursor re-reads it).
    start, end = _requested_range(changed) or ("", "")
    assert dg.materialize(
        [indicators],
        instance=dagster_instance,
        resources=resources,
        tags=range_tags(dt.date.fromisoformat(start), dt.date.fromisoformat(end)),
    ).success
    assert isinstance(_later_tick(dagster_instance, changed.cursor), dg.SkipReason)
    reread = _later_tick(dagster_instance, None)
    assert _requested_range(reread) is None


def test_stale_later_dates_are_those_computed_before_the_change_within_the_lookback() -> None:
    d = dt.date(2026, 1, 1)
    keys = {(d + dt.timedelta(days=i)).isoformat() for i in range(0, 500)}
    newest = d + dt.timedelta(days=499)
    # Changed up to d (storage id 100); dates d+1.. d+3 were recomputed after it (ids above 100).
    computed_after = {(d + dt.timedelta(days=i)).isoformat(): 150 for i in (1, 2, 3)}
    stale = stale_later_dates([(d, 100)], newest, keys, computed_after)
    assert stale[0] == d + dt.timedelta(days=4)
    assert stale[-1] == d + dt.timedelta(days=LOOKBACK_DAYS)  # the lookback's end, not the newest date
    assert len(stale) == LOOKBACK_DAYS - 3
    # A later date never computed is not stale (it is computed when its prices arrive).
    assert stale_later_dates([(d, 100)], newest, keys - {stale[0].isoformat()}, computed_after)[0] == (
        d + dt.timedelta(days=5)
    )
    assert later_dates(newest, newest) == []


@pytest.mark.parametrize(("hour", "minute", "requested"), [(14, 30, False), (15, 5, True)])
def test_a_tick_decides_at_the_instant_it_runs(
    market: StandinServer,
    nepse_resource: NepseResource,
    sensor_instance: dg.DagsterInstance,
    hour: int,
    minute: int,
    requested: bool,
) -> None:
    # NEPSE reports the pinned Friday closed (an early CLOSE at 14:30 is not trusted before 15:00).
    market.set_market_status("CLOSE", dt.datetime.combine(PINNED_TODAY, dt.time(14, 30)))
    with pinned(npt(2026, 11, 20, hour, minute)):
        result = evaluate(nepse_resource, sensor_instance)
    if requested:
        assert isinstance(result, dg.SensorResult) and result.run_requests
        assert result.run_requests[0].partition_key == PINNED_TODAY.isoformat()
    else:
        assert isinstance(result, dg.SkipReason)
        assert "before the 15:00 close: wait" in str(result.skip_message)


MARKET_OPEN = "GET /api/nots/nepse-data/market-open"


@pytest.mark.parametrize(
    ("instant", "asks"),
    [
        (npt(2026, 11, 21, 10, 0), False),  # Saturday: no session can close before Monday 15:00
        (npt(2026, 11, 23, 14, 59), False),  # Monday before the close
        (npt(2026, 11, 23, 15, 0), True),  # Monday's close: NEPSE is asked
    ],
)
def test_a_tick_that_cannot_find_a_new_session_asks_nepse_nothing(
    market: StandinServer,
    nepse_resource: NepseResource,
    sensor_instance: dg.DagsterInstance,
    instant: dt.datetime,
    asks: bool,
) -> None:
    friday = dt.date(2026, 11, 20)
    before = market.request_counts().get(MARKET_OPEN, 0)
    with pinned(instant):
        result = evaluate(nepse_resource, sensor_instance, write_cursor(friday))
    asked = market.request_counts().get(MARKET_OPEN, 0) - before
    assert isinstance(result, dg.SkipReason)
    if asks:
        assert asked == 1 and f"{friday} was already requested" in str(result.skip_message)
    else:
        assert asked == 0, result.skip_message
        assert "no session can close before 2026-11-23 15:00 Nepal time" in str(result.skip_message)
