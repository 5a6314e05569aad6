from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Iterator

import dagster as dg
import pytest

from ntx_assets.common.clock import nepal_today
from ntx_assets.defs.prices.assets import daily_prices
from ntx_assets.defs.prices.checks import (
    DAILY_PRICES_FRESH,
    GRACE_VARIABLE,
    daily_prices_fresh,
    daily_prices_freshness_job,
)
from ntx_assets.defs.prices.schedules import daily_prices_freshness_schedule
from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.orchestration.freshness_policy import freshness_grace
from ntx_assets.prices.sessions import latest_due_session
from ntx_assets.resources import CheckTargetsResource, NepseResource, WarehouseResource
from ntx_assets.settings import SettingsError, definitions_settings
from ntx_assets.warehouse import create_warehouse_engine, migrate, upsert
from ntx_assets.warehouse.schema import daily_prices as prices_table
from ntx_assets_tests.pinned import PINNED_TODAY, npt, pinned
from ntx_assets_tests.tools.standin import StandinServer

# Decides by the calendar: rerun under faketime with `make test-calendar` (pytest -m calendar).
pytestmark = pytest.mark.calendar

TWO_HOURS = dt.timedelta(hours=2)
EARLIEST = dt.date(2025, 12, 1)
# Tihar 2026 (the stand-in's list): Monday to Thursday are holidays.
TIHAR = {dt.date(2026, 11, 9), dt.date(2026, 11, 10), dt.date(2026, 11, 11), dt.date(2026, 11, 12)}


def holidays(dates: Collection[dt.date]) -> tuple[list[int], Callable[[int], Collection[dt.date]]]:
    asked: list[int] = []

    def holidays_of(year: int) -> Collection[dt.date]:
        asked.append(year)
        return dates

    return asked, holidays_of


@pytest.mark.parametrize(
    ("now", "grace", "due"),
    [
        (npt(2026, 11, 20, 16, 59), TWO_HOURS, dt.date(2026, 11, 19)),  # Friday, 1 minute before the deadline
        (npt(2026, 11, 20, 17, 0), TWO_HOURS, dt.date(2026, 11, 20)),  # Friday, at the deadline
        (npt(2026, 11, 20, 15, 30), dt.timedelta(minutes=30), dt.date(2026, 11, 20)),
        (npt(2026, 11, 22, 10, 0), TWO_HOURS, dt.date(2026, 11, 20)),  # Sunday: Friday's session
        (npt(2026, 11, 23, 9, 0), TWO_HOURS, dt.date(2026, 11, 20)),  # Monday morning: still Friday's
        (npt(2026, 11, 12, 18, 0), TWO_HOURS, dt.date(2026, 11, 6)),  # after four Tihar holidays
        (npt(2026, 1, 3, 12, 0), TWO_HOURS, dt.date(2026, 1, 1)),  # Saturday under Sunday-Thursday: Thursday
        (
            dt.datetime(2026, 11, 20, 11, 15, tzinfo=dt.UTC),
            TWO_HOURS,
            dt.date(2026, 11, 20),
        ),  # 17:00 in Nepal
    ],
)
def test_latest_due_session(now: dt.datetime, grace: dt.timedelta, due: dt.date) -> None:
    _, holidays_of = holidays(TIHAR)
    assert latest_due_session(now, holidays_of, grace, EARLIEST) == due


def test_latest_due_session_asks_only_for_the_years_it_needs_and_stops_at_the_first_partition() -> None:
    asked, holidays_of = holidays(set())
    # 2026-01-01 (a Thursday, Sunday-Thursday week) is not due at 10:00, so 2025-12-31 is, and only the
    # 2025 holiday list was needed.
    due = latest_due_session(npt(2026, 1, 1, 10, 0), holidays_of, TWO_HOURS, EARLIEST)
    assert due == dt.date(2025, 12, 31)
    assert asked == [2025]
    assert latest_due_session(npt(2025, 12, 1, 10, 0), holidays_of, TWO_HOURS, EARLIEST) is None


def test_the_grace_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(GRACE_VARIABLE, raising=False)
    assert freshness_grace() == TWO_HOURS
    definitions_settings.cache_clear()  # a reload of the code location
    monkeypatch.setenv(GRACE_VARIABLE, "0.5")
    assert freshness_grace() == dt.timedelta(minutes=30)
    definitions_settings.cache_clear()
    monkeypatch.setenv(GRACE_VARIABLE, "0")
    with pytest.raises(SettingsError, match=rf"{GRACE_VARIABLE}='0': Input should be greater than 0"):
        freshness_grace()


# --- the check against a real warehouse and the stand-in ---------------------------------------------


@pytest.fixture(scope="module")
def check_instance() -> Iterator[dg.DagsterInstance]:
    """One real instance for these tests: the check reads the warehouse and NEPSE, not Dagster's state."""
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def market(standin: StandinServer) -> Iterator[StandinServer]:
    yield standin
    standin.set_market_status(None)


def seed_prices(database_url: str, dates: Iterable[dt.date]) -> None:
    """One NABIL row per date, written as daily_prices writes (an upsert into the migrated schema)."""
    engine = create_warehouse_engine(database_url)
    migrate(engine)
    rows = [
        {
            "security_id": 131,
            "business_date": day,
            "symbol": "NABIL",
            "high": 515.0,
            "low": 510.0,
            "close": 512.0,
            "volume": 100,
            "turnover": 51200.0,
        }
        for day in dates
    ]
    with engine.begin() as conn:
        upsert(conn, prices_table, rows)
    engine.dispose()


def run_check(
    database_url: str, nepse: NepseResource, instance: dg.DagsterInstance
) -> dg.AssetCheckEvaluation:
    """Run daily_prices_freshness_job (what the schedule launches) and return the evaluation."""
    defs = dg.Definitions(
        assets=[company_universe, daily_prices],
        asset_checks=[daily_prices_fresh],
        jobs=[daily_prices_freshness_job],
        resources={
            "nepse": nepse,
            "warehouse": WarehouseResource(database_url=database_url),
            "check_targets": CheckTargetsResource(),
        },
    )
    result = defs.resolve_job_def(daily_prices_freshness_job.name).execute_in_process(instance=instance)
    assert result.success  # a failed check is an evaluation, not a failed run
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.check_name == DAILY_PRICES_FRESH
    return evaluation


def recent_sessions(standin: StandinServer) -> list[dt.date]:
    today = nepal_today()
    return [d for d in standin.data.sessions if today - dt.timedelta(days=14) <= d <= today]


def test_passes_when_the_due_session_is_loaded(
    market: StandinServer,
    nepse_resource: NepseResource,
    check_instance: dg.DagsterInstance,
    database_url: str,
) -> None:
    sessions = recent_sessions(market)
    seed_prices(database_url, sessions)
    evaluation = run_check(database_url, nepse_resource, check_instance)
    assert evaluation.passed
    due = dt.date.fromisoformat(str(evaluation.metadata["due_session"].value))
    assert due in sessions
    assert evaluation.metadata["rows_for_due_session"].value == 1


def test_fails_when_the_due_session_is_missing_and_follows_nepse_after_an_unannounced_closure(
    market: StandinServer,
    nepse_resource: NepseResource,
    check_instance: dg.DagsterInstance,
    database_url: str,
) -> None:
    *loaded, previous, last = recent_sessions(market)
    seed_prices(database_url, loaded)

    # NEPSE's status (the stand-in's default) names its latest session `last`, whose deadline has not
    # passed yet: the due session is `previous`. Neither is loaded.
    evaluation = run_check(database_url, nepse_resource, check_instance)
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    due = dt.date.fromisoformat(str(evaluation.metadata["due_session"].value))
    assert due == previous  # at the pinned 16:30, before the pinned Friday's 17:00 deadline
    assert last == PINNED_TODAY
    assert f"No daily_prices rows for session {due}, due by {due} 17:00 Nepal time" in str(
        evaluation.description
    )
    assert f"the latest loaded session is {loaded[-1]}" in str(evaluation.description)

    # NEPSE says it has not traded since loaded[-1] (a closure missing from the holiday list): fresh.
    market.set_market_status("CLOSE", dt.datetime.combine(loaded[-1], dt.time(15, 0)))
    evaluation = run_check(database_url, nepse_resource, check_instance)
    assert evaluation.passed
    assert evaluation.metadata["due_session"].value == loaded[-1].isoformat()
    assert evaluation.metadata["nepse_latest_session"].value == loaded[-1].isoformat()


def test_the_schedule_runs_the_check_after_the_deadline(check_instance: dg.DagsterInstance) -> None:
    schedule = daily_prices_freshness_schedule
    assert schedule.cron_schedule == "5 17 * * *"  # 15:00 close + 2 h + 5 min
    assert schedule.execution_timezone == "Asia/Kathmandu"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == daily_prices_freshness_job.name
    tick = schedule.evaluate_tick(dg.build_schedule_context(instance=check_instance))
    assert len(tick.run_requests or []) == 1


@pytest.mark.parametrize(
    ("hour", "minute", "due_today"),
    [(16, 59, False), (17, 0, True)],  # the pinned Friday's 15:00 close + 2 h grace is 17:00
)
def test_the_check_decides_at_the_instant_it_runs(
    market: StandinServer,
    nepse_resource: NepseResource,
    check_instance: dg.DagsterInstance,
    sqlite_database_url: str,
    hour: int,
    minute: int,
    due_today: bool,
) -> None:
    *loaded, previous, today = recent_sessions(market)
    assert today == PINNED_TODAY  # NEPSE's (the stand-in's) latest session is the pinned Friday
    seed_prices(sqlite_database_url, [*loaded, previous])
    with pinned(npt(2026, 11, 20, hour, minute)):
        evaluation = run_check(sqlite_database_url, nepse_resource, check_instance)
    due = dt.date.fromisoformat(str(evaluation.metadata["due_session"].value))
    assert due == (today if due_today else previous)
    assert evaluation.passed is not due_today
    assert evaluation.metadata["checked_at"].value == f"2026-11-20T{hour:02d}:{minute:02d}:00+05:45"
