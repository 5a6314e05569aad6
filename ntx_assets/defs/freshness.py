"""daily_prices_fresh: the latest session's prices arrived within a grace period after the close.

The latest session that is *due* is the latest trading day (NEPSE's calendar: the trading week of its
regime, minus NEPSE's holiday list) whose 15:00 close plus NTX_PRICES_FRESHNESS_GRACE_HOURS (default 2)
lies before now, in Nepal time. If NEPSE's market status names an earlier latest session (an unannounced
closure, or a holiday missing from the list), that session is the one due. The check fails when the
warehouse holds no `daily_prices` row for the due session.

It is a standalone check (no partitions): it reads the warehouse and the wall clock, not a run's
partitions, so it runs on its own from `daily_prices_freshness_job` (scheduled daily by
`daily_prices_freshness_schedule` in sensors.py, shortly after the deadline) and also in every run that
materializes `daily_prices` through the daemon or the UI (Dagster adds an asset's checks to its runs),
so a late load turns it green in the same run.
"""

import datetime as dt
from collections.abc import Callable, Collection

import dagster as dg
from sqlalchemy import func, select

from ntx_assets.clock import NEPAL_TZ, SESSION_CLOSE, nepal_now
from ntx_assets.defs.daily_prices import daily_prices
from ntx_assets.defs.partitions import session_date_partitions
from ntx_assets.resources import CheckTargetsResource, NepseResource, WarehouseResource
from ntx_assets.sessions import holiday_dates, is_session
from ntx_assets.step_metrics import NepseStep
from ntx_assets.warehouse.schema import daily_prices as prices_table

DAILY_PRICES_FRESH = "daily_prices_fresh"
GRACE_VARIABLE = "NTX_PRICES_FRESHNESS_GRACE_HOURS"
# How far back the due session is looked for: longer than any run of holidays, shorter than forever.
_MAX_LOOKBACK_DAYS = 60


def session_deadline(day: dt.date, grace: dt.timedelta) -> dt.datetime:
    """When `day`'s prices are due: its close plus the grace, in Nepal time."""
    return dt.datetime.combine(day, SESSION_CLOSE, tzinfo=NEPAL_TZ) + grace


def latest_due_session(
    now: dt.datetime,
    holidays_of: Callable[[int], Collection[dt.date]],
    grace: dt.timedelta,
    earliest: dt.date,
) -> dt.date | None:
    """The latest session on or after `earliest` whose deadline is at or before `now` (aware).

    `holidays_of(year)` gives NEPSE's holidays of a year; it is asked only for the years walked through.
    None when no session since `earliest` (or in the last 60 days) is due yet.
    """
    local = now.astimezone(NEPAL_TZ)
    day = local.date()
    stop = max(earliest, day - dt.timedelta(days=_MAX_LOOKBACK_DAYS))
    while day >= stop:
        if session_deadline(day, grace) <= local and is_session(day, holidays_of(day.year)):
            return day
        day -= dt.timedelta(days=1)
    return None


@dg.asset_check(
    asset=daily_prices,
    name=DAILY_PRICES_FRESH,
    pool="nepse_api",
    description=(
        "The latest session due (its 15:00 close + NTX_PRICES_FRESHNESS_GRACE_HOURS, default 2 h, has "
        "passed, Nepal time; NEPSE's calendar and holiday list, or NEPSE's own latest session if earlier) "
        "has rows in daily_prices."
    ),
)
def daily_prices_fresh(
    context: dg.AssetCheckExecutionContext,
    nepse: NepseResource,
    warehouse: WarehouseResource,
    check_targets: CheckTargetsResource,
) -> dg.AssetCheckResult:
    # The holiday list of this year (and last year's early in January) and NEPSE's market status.
    client = NepseStep(context, nepse, planned_calls=3).client
    grace = check_targets.freshness_grace
    now = nepal_now()
    holidays: dict[int, set[dt.date]] = {}

    def holidays_of(year: int) -> set[dt.date]:
        if year not in holidays:
            holidays[year] = holiday_dates(client.holidays(year))
        return holidays[year]

    earliest = dt.date.fromisoformat(str(session_date_partitions.get_first_partition_key()))
    due = latest_due_session(now, holidays_of, grace, earliest)
    nepse_latest = client.market_status().business_date
    if due is not None and nepse_latest < due:
        # NEPSE says it has not traded since: an unannounced closure or a holiday missing from the list.
        due = nepse_latest if nepse_latest >= earliest else None

    t = prices_table
    with warehouse.engine.connect() as conn:
        latest_loaded = conn.execute(select(func.max(t.c.business_date))).scalar_one()
        rows = 0
        if due is not None:
            count = select(func.count()).select_from(t).where(t.c.business_date == due)
            rows = conn.execute(count).scalar_one()
    metadata = {
        "due_session": due.isoformat() if due else None,
        "due_by": session_deadline(due, grace).isoformat() if due else None,
        "rows_for_due_session": rows,
        "latest_loaded_session": latest_loaded.isoformat() if latest_loaded else None,
        "nepse_latest_session": nepse_latest.isoformat(),
        "checked_at": now.isoformat(timespec="seconds"),
        "grace_hours": grace.total_seconds() / 3600,
    }
    if due is None:
        return dg.AssetCheckResult(
            passed=True, description="No session is due yet since the first partition.", metadata=metadata
        )
    passed = rows > 0
    deadline = session_deadline(due, grace)
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"{rows} rows for session {due}."
            if passed
            else (
                f"No daily_prices rows for session {due}, due by {deadline:%Y-%m-%d %H:%M} Nepal time; the "
                f"latest loaded session is {latest_loaded or 'none'}. Materialize daily_prices for {due}, "
                "and look at new_session_sensor's ticks and runs."
            )
        ),
        metadata=metadata,
    )


daily_prices_freshness_job = dg.define_asset_job(
    "daily_prices_freshness_job",
    selection=dg.AssetSelection.checks(daily_prices_fresh),
    description="Run the daily_prices_fresh check alone (launched by daily_prices_freshness_schedule).",
)
