"""filings: every listed company's quarterly and annual reports and their documents, one call per symbol.

Never-fetched first. `filings_refresh_schedule` (daily at 18:30 Asia/Kathmandu, after the close)
refreshes every symbol. It cuts the `symbol` partitions into runs of `filings_refresh_job` of at most
FILINGS_PER_RUN symbols each and tags every run `dagster/priority`: 10 when its symbols have never been
fetched (no row in `filings` and no materialization of their partition), 0 otherwise. The run queue
(QueuedRunCoordinator, dagster.yaml) starts higher-priority runs first, and the `nepse_api` pool lets one
step call NEPSE at a time, so a newly listed company's filings arrive before the routine refresh of the
others. A run covers a partition *range*, so a group never mixes the two kinds (see
`ntx_assets.filings.refresh_groups`). To launch a refresh by hand: Automation -> filings_refresh_schedule
-> "Test schedule" -> launch the evaluated runs. A plain UI backfill of `filings` works too, but runs its
groups in partition order, without priorities.
"""

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
from sqlalchemy import Engine, select

from ntx_assets.clock import nepal_today
from ntx_assets.defs.company_universe import company_universe
from ntx_assets.defs.partial_success import fail_the_rest
from ntx_assets.defs.partitions import symbol_partitions
from ntx_assets.defs.requests import RANGE_END_TAG, RANGE_START_TAG
from ntx_assets.filings import (
    BadReport,
    FilingRows,
    RefreshGroup,
    filing_rows,
    refresh_groups,
)
from ntx_assets.nepse import NepseError
from ntx_assets.resources import NepseResource, WarehouseResource
from ntx_assets.step_metrics import NepseStep
from ntx_assets.warehouse import UpsertCounts, upsert
from ntx_assets.warehouse.queries import included_companies
from ntx_assets.warehouse.schema import companies, filing_documents
from ntx_assets.warehouse.schema import filings as filings_table

# Symbols per run of a filings backfill or refresh (one reports call each, ~13 s at 2 requests/s). Small
# enough that a failure costs at most 25 calls to redo and the nepse_api pool can interleave other runs
# (a new price session) between groups; large enough that 264 symbols are 11 runs, not 264 run starts.
FILINGS_PER_RUN = 25

# Metadata of every filings materialization: {symbol: documents that landed new}, only symbols with some.
NEW_DOCUMENTS_BY_SYMBOL = "new_documents_by_symbol"
PRIORITY_TAG = "dagster/priority"


@dataclass(frozen=True)
class SymbolFilings:
    symbol: str
    security_id: int
    rows: FilingRows
    filings: UpsertCounts
    documents: UpsertCounts


@dg.asset(
    partitions_def=symbol_partitions,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=FILINGS_PER_RUN),
    deps=[company_universe],
    pool="nepse_api",
    group_name="filings",
    kinds={"python", "sql"},
    description=(
        "Quarterly and annual reports of each listed company (EPS, P/E, net worth per share, profit, "
        "paid-up capital, fiscal year and quarter) and the documents attached to them: one reports call "
        "per symbol. Each materialization counts the documents that landed new per symbol, so "
        "new_documents_sensor requests `artifacts` only for symbols whose documents appeared."
    ),
)
def filings(
    context: dg.AssetExecutionContext, nepse: NepseResource, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    symbols = list(context.partition_keys)
    step = NepseStep(context, nepse, planned_calls=len(symbols))  # one reports call per symbol
    client = step.client
    security_ids = symbol_security_ids(warehouse.engine, symbols)

    loaded: dict[str, SymbolFilings] = {}
    rejected: dict[str, Exception] = {}
    for symbol in symbols:
        security_id = security_ids[symbol]
        try:
            rows = filing_rows(client.reports(security_id), security_id=security_id, symbol=symbol)
        except (BadReport, NepseError) as error:
            # One symbol's bad answer (or NEPSE failing it after the client's retries) costs that symbol
            # only; the others of the run still land.
            context.log.error(f"{symbol}: {error}")
            rejected[symbol] = error
            continue
        loaded[symbol] = _write(warehouse.engine, symbol, security_id, rows)

    filing_counts = sum((s.filings for s in loaded.values()), UpsertCounts())
    document_counts = sum((s.documents for s in loaded.values()), UpsertCounts())
    metadata = {
        "symbols": len(symbols),
        "reports": filing_counts.rows,
        "filings_new": filing_counts.inserted,
        "filings_changed": filing_counts.updated,
        "filings_unchanged": filing_counts.unchanged,
        "documents": document_counts.rows,
        "documents_new": document_counts.inserted,
        NEW_DOCUMENTS_BY_SYMBOL: dg.MetadataValue.json(
            {s.symbol: s.documents.inserted for s in loaded.values() if s.documents.inserted}
        ),
        **step.metadata(),
    }
    if rejected:
        _report_partial(context, loaded, rejected, metadata)
    # One result covers every partition of the run (Dagster records it once per partition); the per-symbol
    # count of new documents in it is what new_documents_sensor reads to request `artifacts`.
    yield dg.MaterializeResult(metadata=metadata)


def symbol_security_ids(engine: Engine, symbols: Sequence[str]) -> dict[str, int]:
    """Map each symbol to its security id through the included companies; fail naming unknown ones."""
    with engine.connect() as conn:
        found = {symbol: security_id for security_id, symbol in included_companies(conn, symbols).items()}
    missing = [symbol for symbol in symbols if symbol not in found]
    if missing:
        raise dg.Failure(
            f"No included company in the warehouse has the symbol(s) {', '.join(missing)}: materialize "
            "company_universe first (dagster asset materialize -m ntx_assets.definitions --select "
            "company_universe); a symbol that left the universe keeps no partition to run."
        )
    return found


def _write(engine: Engine, symbol: str, security_id: int, rows: FilingRows) -> SymbolFilings:
    # Reports and their documents land together or not at all.
    # The day a report was first stored stays as it was: it dates reports NEPSE gave no date (known_on).
    fetched = [{**row, "first_fetched_on": nepal_today()} for row in rows.filings]
    with engine.begin() as conn:
        filing_counts = upsert(conn, filings_table, fetched, insert_only=("first_fetched_on",))
        document_counts = upsert(conn, filing_documents, rows.documents)
    return SymbolFilings(symbol, security_id, rows, filing_counts, document_counts)


def _symbol_metadata(symbol_filings: SymbolFilings) -> dict[str, Any]:
    new_documents = symbol_filings.documents.inserted
    return {
        "reports": symbol_filings.filings.rows,
        "filings_new": symbol_filings.filings.inserted,
        "filings_changed": symbol_filings.filings.updated,
        "documents": symbol_filings.documents.rows,
        "documents_new": new_documents,
        NEW_DOCUMENTS_BY_SYMBOL: dg.MetadataValue.json(
            {symbol_filings.symbol: new_documents} if new_documents else {}
        ),
    }


def _report_partial(
    context: dg.AssetExecutionContext,
    loaded: dict[str, SymbolFilings],
    rejected: dict[str, Exception],
    metadata: dict,
) -> None:
    # The good symbols are committed: recorded as materialized, each with its own counts.
    fail_the_rest(
        context,
        (
            dg.AssetMaterialization(
                asset_key=context.asset_key,
                partition=symbol_filings.symbol,
                metadata=_symbol_metadata(symbol_filings),
            )
            for symbol_filings in loaded.values()
        ),
        {s: f"{s}: {e}" for s, e in rejected.items()},
        unit="symbol",
        metadata=metadata,
        hint="Re-run the failed partitions.",
    )


# --- the refresh: never-fetched symbols first ---------------------------------------------------------

filings_refresh_job = dg.define_asset_job(
    "filings_refresh_job",
    # By key: corporate_actions (defs/corporate_actions.py) builds on this module. Both are partitioned by
    # symbol with the same runs of 25, so one run refreshes a group's reports and announcements together.
    selection=dg.AssetSelection.assets(filings, "corporate_actions"),
    description=(
        "Refresh the filings and corporate actions of a range of symbols (launched in groups by "
        "filings_refresh_schedule)."
    ),
)


@dg.schedule(
    job=filings_refresh_job,
    cron_schedule="30 18 * * *",
    execution_timezone="Asia/Kathmandu",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        f"Every symbol's filings and corporate actions, in runs of at most {FILINGS_PER_RUN} symbols; runs "
        "of never-fetched symbols carry dagster/priority 10 (the others 0), so the run queue starts them "
        "first."
    ),
)
def filings_refresh_schedule(
    context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource
) -> list[dg.RunRequest] | dg.SkipReason:
    symbols = context.instance.get_dynamic_partitions(symbol_partitions.name)
    if not symbols:
        return dg.SkipReason("no symbol partitions yet: materialize company_universe first")
    never = never_fetched_symbols(context.instance, warehouse.engine, symbols)
    groups = refresh_groups(symbols, never, max_per_group=FILINGS_PER_RUN)
    when = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    return refresh_run_requests(groups, run_key_prefix=f"filings-refresh-{when:%Y%m%dT%H%M}")


def never_fetched_symbols(instance: dg.DagsterInstance, engine: Engine, symbols: Sequence[str]) -> set[str]:
    """Symbols with no row in `filings` whose `filings` partition was never materialized either."""
    materialized = instance.get_materialized_partitions(filings.key)
    with engine.connect() as conn:
        with_rows = set(
            conn.execute(
                select(companies.c.symbol)
                .where(
                    companies.c.included,
                    companies.c.symbol.in_(list(symbols)),
                    companies.c.security_id.in_(select(filings_table.c.security_id).distinct()),
                )
                .distinct()
            ).scalars()
        )
    return {symbol for symbol in symbols if symbol not in materialized and symbol not in with_rows}


def refresh_run_requests(groups: Sequence[RefreshGroup], *, run_key_prefix: str) -> list[dg.RunRequest]:
    """One run per group, over its partition range, tagged with the group's priority."""
    return [
        dg.RunRequest(
            run_key=f"{run_key_prefix}:{group.first}..{group.last}",
            tags={
                PRIORITY_TAG: str(group.priority),
                RANGE_START_TAG: group.first,
                RANGE_END_TAG: group.last,
            },
        )
        for group in groups
    ]
