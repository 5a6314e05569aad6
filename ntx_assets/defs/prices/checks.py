"""daily_prices_fresh, the prices family's standalone check: the latest session's prices arrived within a
grace period after the close.

The latest session that is *due* is the latest trading day (NEPSE's calendar: the trading week of its
regime, minus NEPSE's holiday list) whose 15:00 close plus NTX_PRICES_FRESHNESS_GRACE_HOURS (default 2)
lies before now, in Nepal time. If NEPSE's market status names an earlier latest session (an unannounced
closure, or a holiday missing from the list), that session is the one due. The check fails when the
warehouse holds no `daily_prices` row for the due session.

It is a standalone check (no partitions): it reads the warehouse and the wall clock, not a run's
partitions, so it runs on its own from `daily_prices_freshness_job` (scheduled daily by
`daily_prices_freshness_schedule` in schedules.py, shortly after the deadline) and also in every run that
materializes `daily_prices` through the daemon or the UI (Dagster adds an asset's checks to its runs),
so a late load turns it green in the same run.
"""

import datetime as dt

import dagster as dg

from ntx_assets.common.clock import nepal_now
from ntx_assets.defs.partitions import session_date_partitions
from ntx_assets.defs.prices.assets import daily_prices
from ntx_assets.orchestration.step_metrics import NepseStep
from ntx_assets.prices.sessions import HolidayLists, latest_due_session, session_deadline
from ntx_assets.resources import CheckTargetsResource, NepseResource, WarehouseResource
from ntx_assets.warehouse.prices import latest_session_loaded, rows_on

DAILY_PRICES_FRESH = "daily_prices_fresh"
GRACE_VARIABLE = "NTX_PRICES_FRESHNESS_GRACE_HOURS"


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
    holidays_of = HolidayLists(client.holidays).dates
    earliest = dt.date.fromisoformat(str(session_date_partitions.get_first_partition_key()))
    due = latest_due_session(now, holidays_of, grace, earliest)
    nepse_latest = client.market_status().business_date
    if due is not None and nepse_latest < due:
        # NEPSE says it has not traded since: an unannounced closure or a holiday missing from the list.
        due = nepse_latest if nepse_latest >= earliest else None

    with warehouse.engine.connect() as conn:
        latest_loaded = latest_session_loaded(conn)
        rows = rows_on(conn, due) if due is not None else 0
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
