"""screener: every session's screen, point in time, and the JSON exports an app reads as they are.

Partitioned like daily_prices (one partition per date; a date that is no session has no rows). The row of
(company, t) uses only what was known at t's close (ntx_assets/screener/table.py): a year's backfill is one
run (single-run policy), and declarative automation adds each new session once its prices and indicators
landed; when filings, announcements or the universe change, it recomputes the latest session. No API call.
The run replaces the rows of its sessions in one transaction; when it covers the latest stored session it
rewrites `screener.json` and `companies.json` from it (the `screener_latest` view).
"""

import datetime as dt
import math
import time
from collections.abc import Iterator, Sequence

import dagster as dg
import pandas as pd

from ntx_assets.defs.company_universe import company_universe
from ntx_assets.defs.corporate_actions import corporate_actions
from ntx_assets.defs.daily_prices import daily_prices
from ntx_assets.defs.filings import filings
from ntx_assets.defs.indicators import indicators
from ntx_assets.defs.partitions import session_date_partitions
from ntx_assets.policies import latest_session_policy
from ntx_assets.resources import ExportResource, WarehouseResource
from ntx_assets.screener.exports import company_rows, export_document, write_json
from ntx_assets.screener.table import ScreenerInputs, records, screener_frame
from ntx_assets.warehouse.queries import included_listing_dates
from ntx_assets.warehouse.screener import (
    latest_screener,
    read_screener_inputs,
    replace_screener_rows,
    screener_sessions,
)

ONE_ROW_PER_COMPANY = "screener_one_row_per_included_company"
ROWS_CURRENT = "screener_rows_current"
RATIOS_FINITE = "screener_ratios_finite"
STALE_SESSIONS = 5
TOP_ROWS = 10
# ratio -> the inputs that must be present and positive for it to be defined
RATIO_INPUTS = {
    "pe": ("close", "eps_annualized"),
    "pb": ("close", "book_value_per_share"),
    "roe": ("book_value_per_share",),
    "market_cap": ("close", "listed_shares"),
    "dividend_yield": ("close", "last_cash_dividend_pct"),
    "change_pct": ("close", "previous_close"),
}

# A session's row depends on that session's prices and indicators; what has no date (filings, announcements,
# the universe) changes the latest session's screen when it lands. Earlier sessions are recomputed by a
# backfill (their reports and announcements were known then, or they were not).
_SESSION_INPUTS = dg.AssetSelection.assets(daily_prices, indicators)
SCREENER_AUTOMATION = (
    (
        dg.AutomationCondition.any_deps_updated().allow(_SESSION_INPUTS)
        | (
            dg.AutomationCondition.any_deps_updated().ignore(_SESSION_INPUTS)
            & dg.AutomationCondition.in_latest_time_window()
        )
    ).since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label(
    "this session's prices or indicators updated; filings, announcements or the universe for the latest"
)


@dg.asset(
    partitions_def=session_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[
        company_universe,
        dg.AssetDep(daily_prices, partition_mapping=dg.TimeWindowPartitionMapping()),
        dg.AssetDep(indicators, partition_mapping=dg.TimeWindowPartitionMapping()),
        dg.AssetDep(filings, partition_mapping=dg.AllPartitionMapping()),
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
    dates = sorted(dt.date.fromisoformat(key) for key in context.partition_keys)
    with warehouse.engine.connect() as conn:
        inputs = ScreenerInputs(**read_screener_inputs(conn, dates))
    read_seconds = time.monotonic() - started
    frame = screener_frame(inputs, dates, logo_base_url=exports.logo_base_url)
    rows = records(frame)
    compute_seconds = time.monotonic() - started - read_seconds
    with warehouse.engine.begin() as conn:
        counts = replace_screener_rows(conn, dates, rows)
    with warehouse.engine.connect() as conn:
        stored = screener_sessions(conn)
        listing = included_listing_dates(conn)
        latest = latest_screener(conn) if stored and stored[-1] in set(dates) else None
    written = _export(exports, latest) if latest is not None else {}
    sessions = _sessions_of(frame)
    listed = {day: {i for i, on in listing.items() if on is None or on <= day} for day in sessions}
    last = frame[frame["session_date"] == sessions[-1]] if sessions else frame.iloc[0:0]
    yield dg.MaterializeResult(
        metadata={
            "dates": len(dates),
            "sessions": len(sessions),
            "first_session": str(sessions[0]) if sessions else "none",
            "last_session": str(sessions[-1]) if sessions else "none",
            "rows": len(rows),
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
    yield one_row_check(frame, listed)
    yield current_check(last, stored)
    yield ratios_check(frame)


def _sessions_of(frame: pd.DataFrame) -> list[dt.date]:
    return sorted(set(frame["session_date"]))


def _export(exports: ExportResource, latest: pd.DataFrame) -> dict[str, int]:
    rows = records(latest)
    session = rows[0]["session_date"] if rows else None
    root = exports.path
    return {
        "screener.json": write_json(root / "screener.json", export_document(session, "rows", rows)),
        "companies.json": write_json(
            root / "companies.json", export_document(session, "companies", company_rows(rows))
        ),
    }


def top_table(frame: pd.DataFrame, rows: int = TOP_ROWS) -> str:
    shown = ("symbol", "close", "change_pct", "market_cap", "pe", "pb", "rsi_14", "turnover")
    top = frame.sort_values("turnover", ascending=False, na_position="last").head(rows)
    lines = ["| " + " | ".join(shown) + " |", "|" + "---|" * len(shown)]
    for row in top.itertuples(index=False):
        cells = [_cell(getattr(row, name)) for name in shown]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def one_row_check(frame: pd.DataFrame, listed: dict[dt.date, set[int]]) -> dg.AssetCheckResult:
    """Every company included now and listed by a session has exactly one row in it."""
    missing: list[str] = []
    duplicated: list[str] = []
    for session, companies in sorted(listed.items()):
        ids = frame.loc[frame["session_date"] == session, "security_id"]
        counts = ids.value_counts()
        missing += [f"{session} {i}" for i in sorted(companies - set(ids))]
        duplicated += [f"{session} {i}" for i in sorted(counts[counts > 1].index)]
    return dg.AssetCheckResult(
        check_name=ONE_ROW_PER_COMPANY,
        passed=not (missing or duplicated),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "sessions": len(listed),
            "rows": len(frame),
            "missing": dg.MetadataValue.json(missing[:50]),
            "duplicated": dg.MetadataValue.json(duplicated[:50]),
        },
    )


def current_check(frame: pd.DataFrame, sessions: Sequence[dt.date]) -> dg.AssetCheckResult:
    """Rows of one session whose company last traded more than STALE_SESSIONS stored sessions earlier."""
    session = frame["session_date"].iloc[0] if len(frame) else None
    ordered = [day for day in sessions if session is not None and day <= session]
    position = {day: index for index, day in enumerate(ordered)}
    latest = len(ordered) - 1
    behind = []
    for row in frame.itertuples(index=False):
        as_of = row.as_of if isinstance(row.as_of, dt.date) else None
        lag = latest - position[as_of] if as_of in position else None
        if as_of is None or (lag is not None and lag > STALE_SESSIONS):
            behind.append(
                f"{row.symbol} {as_of or 'no prices'}" + (f" ({lag} sessions behind)" if lag else "")
            )
    return dg.AssetCheckResult(
        check_name=ROWS_CURRENT,
        passed=not behind,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "session": str(session) if session else "none",
            "behind": len(behind),
            "examples": dg.MetadataValue.json(behind[:50]),
        },
        description=None
        if not behind
        else "Companies whose latest stored session is old: not traded (suspension, a long halt), or their "
        "prices did not load.",
    )


def ratios_check(frame: pd.DataFrame) -> dg.AssetCheckResult:
    bad: list[str] = []
    for ratio, inputs in RATIO_INPUTS.items():
        present = pd.Series(True, index=frame.index)
        for name in inputs:
            values = pd.to_numeric(frame[name], errors="coerce")
            present &= values.notna() & (values > 0)
        values = pd.to_numeric(frame[ratio], errors="coerce")
        broken = frame.loc[present & ~values.apply(lambda v: isinstance(v, float) and math.isfinite(v))]
        bad += [f"{row.session_date} {row.symbol} {ratio}" for row in broken.itertuples(index=False)]
    return dg.AssetCheckResult(
        check_name=RATIOS_FINITE,
        passed=not bad,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"not_finite": len(bad), "examples": dg.MetadataValue.json(bad[:50])},
    )
