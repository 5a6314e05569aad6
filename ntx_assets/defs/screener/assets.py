"""screener: every session's screen, point in time, and the JSON exports an app reads as they are.

Partitioned like daily_prices (one partition per date; a date that is no session has no rows). The row of
(company, t) uses only what was known at t's close (ntx_assets/screener/table.py): a year's backfill is one
run (single-run policy), and declarative automation adds each new session once its prices and indicators
landed; when filings, announcements or the universe change, it recomputes the latest session. No API call.
The run replaces the rows of its sessions in one transaction; when it covers the latest stored session it
rewrites `screener.json` and `companies.json` from it (the `screener_latest` view).
"""

import datetime as dt
import time
from collections.abc import Iterator

import dagster as dg

from ntx_assets.common.clock import nepal_now
from ntx_assets.defs.corporate_actions.assets import corporate_actions
from ntx_assets.defs.filings.assets import filings
from ntx_assets.defs.filings.ratios import report_ratios
from ntx_assets.defs.partitions import session_date_partitions
from ntx_assets.defs.prices.assets import SessionNotOver, daily_prices, indicators
from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.orchestration.freshness_policy import latest_session_policy
from ntx_assets.orchestration.partial_success import fail_the_rest, materialized
from ntx_assets.prices.sessions import session_can_have_closed
from ntx_assets.resources import ExportResource, WarehouseResource
from ntx_assets.screener.exports import write_exports
from ntx_assets.screener.quality import (
    STALE_SESSIONS,
    missing_and_duplicated,
    ratios_not_finite,
    rows_behind,
    top_table,
)
from ntx_assets.screener.table import ScreenerInputs, records, screener_frame
from ntx_assets.warehouse import UpsertCounts
from ntx_assets.warehouse.queries import included_listing_dates
from ntx_assets.warehouse.screener import (
    latest_screener,
    read_screener_inputs,
    replace_screener_rows,
    screener_sessions,
)

ONE_ROW_PER_COMPANY = "screener_one_row_per_included_company"
# Dates screened per read-compute-write pass: a quarter of calendar days (about 60 sessions).
SCREEN_CHUNK_DATES = 92
ROWS_CURRENT = "screener_rows_current"
RATIOS_FINITE = "screener_ratios_finite"

# A session's row depends on that session's prices and indicators; what has no date (filings, report
# ratios, announcements, the universe) changes the latest session's screen when it lands. Earlier sessions
# are recomputed by a backfill (their reports and announcements were known then, or they were not).
_SESSION_INPUTS = dg.AssetSelection.assets(daily_prices, indicators)
SCREENER_AUTOMATION = (
    (
        dg.AutomationCondition.any_deps_updated().allow(_SESSION_INPUTS)
        | (
            dg.AutomationCondition.any_deps_updated().ignore(_SESSION_INPUTS)
            & dg.AutomationCondition.in_latest_time_window()
        )
    ).since_last_handled()
    # Never a date whose prices have not landed: before its close, the latest time window is today, and a
    # filings refresh at 04:00 would otherwise screen it with no rows (bench of 2026-12-06).
    & ~dg.AutomationCondition.any_deps_missing().allow(dg.AssetSelection.assets(daily_prices))
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label(
    "this session's prices or indicators updated; filings, announcements or the universe for the latest; "
    "never before the session's prices landed"
)


@dg.asset(
    partitions_def=session_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[
        company_universe,
        dg.AssetDep(daily_prices, partition_mapping=dg.TimeWindowPartitionMapping()),
        dg.AssetDep(indicators, partition_mapping=dg.TimeWindowPartitionMapping()),
        dg.AssetDep(filings, partition_mapping=dg.AllPartitionMapping()),
        dg.AssetDep(report_ratios, partition_mapping=dg.AllPartitionMapping()),
        dg.AssetDep(corporate_actions, partition_mapping=dg.AllPartitionMapping()),
    ],
    automation_condition=SCREENER_AUTOMATION,
    freshness_policy=latest_session_policy(),
    group_name="screener",
    kinds={"python", "sql", "json"},
    description=(
        "Every session's screen, point in time: one row per company of that session's universe with what "
        "was known at its close (prices in its basis, adjusted technicals, liquidity, the latest public "
        "report and its year-on-year growth, sector medians and ranks, ownership, dividend record, next "
        "book closure). The latest session is the view screener_latest and the exports screener.json and "
        "companies.json under NTX_EXPORT_DIR. No API call."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            ONE_ROW_PER_COMPANY,
            asset="screener",
            description="Each session of the run has one row per company included now and listed by then.",
        ),
        dg.AssetCheckSpec(
            ROWS_CURRENT,
            asset="screener",
            description=f"Rows of the run's last session over {STALE_SESSIONS} sessions behind (WARN).",
        ),
        dg.AssetCheckSpec(
            RATIOS_FINITE,
            asset="screener",
            description="P/E, P/B, ROE, market cap, dividend yield and change are finite wherever their "
            "inputs exist.",
        ),
    ],
)
def screener(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, exports: ExportResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    started = time.monotonic()
    requested = sorted(dt.date.fromisoformat(key) for key in context.partition_keys)
    # A date whose session cannot have closed yet is not screened and not reported materialized.
    now = nepal_now()
    not_over = {day: SessionNotOver(day, now) for day in requested if not session_can_have_closed(day, now)}
    dates = [day for day in requested if day not in not_over]
    if not dates:
        fail_the_rest(context, [], {d.isoformat(): e for d, e in not_over.items()}, unit="date", metadata={})
    # In chunks of dates: fifteen years of sessions at once would hold millions of rows in memory, while
    # each chunk reads only its own window (and the indicators' lookback before it).
    read_seconds = compute_seconds = 0.0
    counts = UpsertCounts()
    rows_total = 0
    missing: list[str] = []
    duplicated: list[str] = []
    not_finite: list[str] = []
    sessions: list[dt.date] = []
    last = None
    with warehouse.engine.connect() as conn:
        listing = included_listing_dates(conn)
    for chunk in _chunks(dates, SCREEN_CHUNK_DATES):
        chunk_started = time.monotonic()
        with warehouse.engine.connect() as conn:
            inputs = ScreenerInputs(**read_screener_inputs(conn, chunk))
        read_seconds += time.monotonic() - chunk_started
        frame = screener_frame(inputs, chunk, logo_base_url=exports.logo_base_url)
        rows = records(frame)
        compute_seconds += time.monotonic() - chunk_started
        with warehouse.engine.begin() as conn:
            counts += replace_screener_rows(conn, chunk, rows)
        rows_total += len(rows)
        chunk_sessions = sorted(set(frame["session_date"]))
        sessions.extend(chunk_sessions)
        listed = {day: {i for i, on in listing.items() if on is None or on <= day} for day in chunk_sessions}
        chunk_missing, chunk_duplicated = missing_and_duplicated(frame, listed)
        missing.extend(chunk_missing)
        duplicated.extend(chunk_duplicated)
        not_finite.extend(ratios_not_finite(frame))
        if chunk_sessions:
            last = frame[frame["session_date"] == chunk_sessions[-1]]
    compute_seconds -= read_seconds
    with warehouse.engine.connect() as conn:
        stored = screener_sessions(conn)
        latest = latest_screener(conn) if stored and stored[-1] in set(dates) else None
    written = write_exports(exports.path, records(latest)) if latest is not None else {}
    if last is None:  # no chunk held a session (weekends, holidays): the columns without rows
        last = frame.iloc[0:0]
    result = dg.MaterializeResult(
        metadata={
            "dates": len(dates),
            "sessions": len(sessions),
            "first_session": str(sessions[0]) if sessions else "none",
            "last_session": str(sessions[-1]) if sessions else "none",
            "rows": rows_total,
            **counts.as_metadata(),
            "top_by_turnover": dg.MetadataValue.md(top_table(last)),
            "field_coverage": dg.MetadataValue.json(
                {name: int(last[name].notna().sum()) for name in last.columns}
            ),
            "exports": dg.MetadataValue.json({name: str(exports.path / name) for name in written}),
            "export_bytes": dg.MetadataValue.json(written),
            "read_seconds": round(read_seconds, 2),
            "compute_seconds": round(compute_seconds, 2),
            "seconds": round(time.monotonic() - started, 2),
        }
    )
    if not not_over:
        yield result
    if not_over:
        fail_the_rest(
            context,
            materialized(context, [d.isoformat() for d in dates]),
            {d.isoformat(): e for d, e in not_over.items()},
            unit="date",
            metadata={"rows": rows_total, "last_session": str(sessions[-1]) if sessions else "none"},
        )
    yield dg.AssetCheckResult(
        check_name=ONE_ROW_PER_COMPANY,
        passed=not (missing or duplicated),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "sessions": len(sessions),
            "rows": rows_total,
            "missing": dg.MetadataValue.json(missing[:50]),
            "duplicated": dg.MetadataValue.json(duplicated[:50]),
        },
    )
    behind = rows_behind(last, stored)
    yield dg.AssetCheckResult(
        check_name=ROWS_CURRENT,
        passed=not behind,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "session": str(sessions[-1]) if sessions else "none",
            "behind": len(behind),
            "examples": dg.MetadataValue.json(behind[:50]),
        },
        description=None
        if not behind
        else "Companies whose latest stored session is old: not traded (suspension, a long halt), or their "
        "prices did not load.",
    )
    yield dg.AssetCheckResult(
        check_name=RATIOS_FINITE,
        passed=not not_finite,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"not_finite": len(not_finite), "examples": dg.MetadataValue.json(not_finite[:50])},
    )


def _chunks(dates: list[dt.date], size: int) -> Iterator[list[dt.date]]:
    for start in range(0, len(dates), size):
        yield dates[start : start + size]
