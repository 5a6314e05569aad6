"""`nepse_index`: NEPSE's own index (id 58) by session, the backtest's `--benchmark index`.

NEPSE serves the index history about one year back, newest first (GET /api/nots/index/history/58). The
first run stores that year; each later run reads back only to the last stored date, one call a day, so the
stored series grows beyond NEPSE's year from the first run on. The last stored date is read again on
every run: a row NEPSE corrected after a run is updated, an unchanged one is left alone.
"""

import datetime as dt
from collections.abc import Iterator

import dagster as dg

from ntx_assets.orchestration.step_metrics import NepseStep
from ntx_assets.prices.nepse_index import NEPSE_INDEX_ID, index_rows, missing_sessions
from ntx_assets.resources import NepseResource, WarehouseResource
from ntx_assets.warehouse.nepse_index import index_dates, stored_span, write_index
from ntx_assets.warehouse.queries import price_sessions_between

INDEX_HAS_EVERY_SESSION = "nepse_index_has_every_session"
INDEX_HISTORY_ENDPOINT = "GET /api/nots/index/history/{indexId}"
# Every day at 16:00 in Kathmandu, an hour after the 15:00 close: NEPSE's trading week moved from
# Sunday-Thursday to Monday-Friday on 2026-04-06 (ntx_assets.prices.sessions), and a day without a session
# costs one call that finds nothing new, so no weekday list has to follow the regimes.
INDEX_CRON = "0 16 * * *"
_SHOWN_MISSING = 20


@dg.asset(
    pool="nepse_api",
    group_name="prices",
    kinds={"python", "sql"},
    automation_condition=dg.AutomationCondition.on_cron(INDEX_CRON, "Asia/Kathmandu"),
    description=(
        "NEPSE's own index (id 58, all equities) by session: open, high, low, close, turnover and change, "
        "from NEPSE's index history (about one year back, newest first). A run reads back to the last "
        "stored date only: one call a day. The backtest's --benchmark index reads its close."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            INDEX_HAS_EVERY_SESSION,
            asset="nepse_index",
            description="Every session with stored daily_prices inside the stored index's span (its first "
            "to its last date) has an index row: a hole would make the backtest's benchmark refuse that "
            "period.",
        )
    ],
)
def nepse_index(
    context: dg.AssetExecutionContext, nepse: NepseResource, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    with warehouse.engine.connect() as conn:
        before = stored_span(conn, NEPSE_INDEX_ID)
    # A year of sessions (about 250 rows) fits one page of 500, and a refresh stops at its first page.
    step = NepseStep(context, nepse, planned_calls=1)
    index_calls_before = step.client.stats.calls.get(INDEX_HISTORY_ENDPOINT, 0)
    records = step.client.index_history(NEPSE_INDEX_ID, since=before.last)
    index_calls = step.client.stats.calls.get(INDEX_HISTORY_ENDPOINT, 0) - index_calls_before
    rows = index_rows(records, NEPSE_INDEX_ID)
    with warehouse.engine.begin() as conn:
        counts = write_index(conn, rows)
        after = stored_span(conn, NEPSE_INDEX_ID)
    if rows and before.last is not None and rows[0]["business_date"] > before.last:
        # NEPSE's oldest row served is newer than the last stored one: more than its year passed since the
        # last run, and the sessions in between are gone from NEPSE (the check names those with prices).
        context.log.warning(
            f"nepse_index: the last stored date is {before.last} but NEPSE now serves its index only from "
            f"{rows[0]['business_date']}: the sessions in between cannot be read from NEPSE any more"
        )
    yield dg.MaterializeResult(
        metadata={
            "rows": after.rows,
            "dagster/row_count": after.rows,
            "first_date": _shown(after.first),
            "last_date": _shown(after.last),
            "rows_read": len(rows),
            **counts.as_metadata(),
            "index_history_calls": index_calls,
            **step.metadata(),
        }
    )
    yield _every_session_check(warehouse)


def _every_session_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.engine.connect() as conn:
        dates = index_dates(conn, NEPSE_INDEX_ID)
        sessions = price_sessions_between(conn, dates[0], dates[-1]) if dates else []
    missing = missing_sessions(dates, sessions)
    return dg.AssetCheckResult(
        check_name=INDEX_HAS_EVERY_SESSION,
        passed=not missing,
        severity=dg.AssetCheckSeverity.ERROR,
        description=None
        if not missing
        else f"{len(missing)} session(s) with stored prices have no NEPSE index row, first {missing[0]}: "
        "NEPSE no longer serves dates older than about a year; a newer one comes back on the next run",
        metadata={
            "index_rows": len(dates),
            "sessions_compared": len(sessions),
            "missing": len(missing),
            "missing_dates": dg.MetadataValue.json([day.isoformat() for day in missing[:_SHOWN_MISSING]]),
        },
    )


def _shown(day: dt.date | None) -> str:
    return day.isoformat() if day is not None else "none"
