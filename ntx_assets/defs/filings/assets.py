"""The filings family's assets.

- `filings`: every listed company's quarterly and annual reports and their documents, one call per symbol.
- `artifacts`: every filing document, downloaded once into the content-addressed store. Follows `filings`
  through `new_documents_sensor` (sensors.py): a symbol's artifacts are requested when one of its
  filings materializations says new documents landed.

The refresh (schedules.py), never-fetched first: `filings_refresh_schedule` (daily at 18:30 Asia/Kathmandu,
after the close) refreshes every symbol. It cuts the `symbol` partitions into runs of `filings_refresh_job`
of at most FILINGS_PER_RUN symbols each and tags every run `dagster/priority`: 10 when its symbols have
never been fetched (no row in `filings` and no materialization of their partition), 0 otherwise. The run
queue (QueuedRunCoordinator, dagster.yaml) starts higher-priority runs first, and the `nepse_api` pool lets
one step call NEPSE at a time, so a newly listed company's filings arrive before the routine refresh of the
others. A run covers a partition *range*, so a group never mixes the two kinds (see
`ntx_assets.filings.reports.refresh_groups`). To launch a refresh by hand: Automation ->
filings_refresh_schedule ->
"Test schedule" -> launch the evaluated runs. A plain UI backfill of `filings` works too, but runs its
groups in partition order, without priorities.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
from sqlalchemy import Engine

from ntx_assets.common.clock import nepal_today
from ntx_assets.defs.partitions import symbol_partitions
from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.filings.document_downloads import Outcome, download_all, plan_downloads
from ntx_assets.filings.document_store import ArtifactStore
from ntx_assets.filings.reports import BadReport, FilingRows, filing_rows
from ntx_assets.nepse import NepseError
from ntx_assets.orchestration.partial_success import fail_the_rest, materialized
from ntx_assets.orchestration.step_metrics import NepseStep
from ntx_assets.orchestration.symbols import partition_security_ids
from ntx_assets.resources import ArtifactStoreResource, NepseResource, WarehouseResource
from ntx_assets.warehouse import UpsertCounts
from ntx_assets.warehouse.filings import (
    document_states,
    documents_without_artifact,
    record_artifacts,
    stored_artifacts,
    write_filings,
)

# Symbols per run of a filings backfill or refresh (one reports call each, ~13 s at 2 requests/s). Small
# enough that a failure costs at most 25 calls to redo and the nepse_api pool can interleave other runs
# (a new price session) between groups; large enough that 264 symbols are 11 runs, not 264 run starts.
FILINGS_PER_RUN = 25

# Metadata of every filings materialization: {symbol: documents that landed new}, only symbols with some.
NEW_DOCUMENTS_BY_SYMBOL = "new_documents_by_symbol"


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
    security_ids = partition_security_ids(warehouse.engine, symbols)

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


def _write(engine: Engine, symbol: str, security_id: int, rows: FilingRows) -> SymbolFilings:
    with engine.begin() as conn:  # reports and their documents land together or not at all
        filing_counts, document_counts = write_filings(conn, rows.filings, rows.documents, nepal_today())
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


EVERY_DOCUMENT_HAS_ARTIFACT_OR_FAILURE = "every_document_has_artifact_or_failure"
STORED_ARTIFACTS_MATCH_SHA256 = "stored_artifacts_match_sha256"

# Symbols per run of an artifacts backfill: as for filings, a bounded blast radius and room for the pool
# to interleave; a run is one call per *new* document, so a re-run of stored symbols costs nothing.
ARTIFACTS_PER_RUN = 25


@dg.asset(
    partitions_def=symbol_partitions,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=ARTIFACTS_PER_RUN),
    deps=[filings],
    pool="nepse_api",
    group_name="filings",
    kinds={"python", "sql", "pdf"},
    description=(
        "Every filing document of each listed company, downloaded once, verified by sha256 and kept in the "
        "content-addressed store (NTX_ARTIFACT_DIR); one row per document in `artifacts`, stored or "
        "failed with its reason. Hostile paths, oversize files and content that is not what it claims "
        "are recorded as permanent failures; transient failures are retried by the next run."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            EVERY_DOCUMENT_HAS_ARTIFACT_OR_FAILURE,
            asset="artifacts",
            description="Every filing document of the run's symbols has an artifacts row (stored or failed).",
        ),
        dg.AssetCheckSpec(
            STORED_ARTIFACTS_MATCH_SHA256,
            asset="artifacts",
            description="Every stored artifact of the run's symbols exists and still hashes to its sha256.",
        ),
    ],
)
def artifacts(
    context: dg.AssetExecutionContext,
    nepse: NepseResource,
    warehouse: WarehouseResource,
    artifact_store: ArtifactStoreResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    store = artifact_store.store
    symbols = list(context.partition_keys)
    security_ids = partition_security_ids(warehouse.engine, symbols)
    with warehouse.engine.connect() as conn:
        states = document_states(conn, security_ids.values())
    plan = plan_downloads(
        states, store, {security_id: symbol for symbol, security_id in security_ids.items()}
    )
    step = NepseStep(context, nepse, planned_calls=len(plan.pending))  # one download per document
    client = step.client
    if plan.repaired:
        context.log.warning(f"re-downloading {len(plan.repaired)} stored document(s) that no longer verify")

    def record(rows: list[dict[str, Any]]) -> UpsertCounts:
        with warehouse.engine.begin() as conn:
            return record_artifacts(conn, rows)

    outcomes, written = download_all(client, store, plan.pending, nepse.max_concurrent_requests, record)

    stored = [o for o in outcomes if o.stored]
    permanent = {o.document.document_id: o.failure or "" for o in outcomes if o.failure and o.permanent}
    transient = [o for o in outcomes if o.failure and not o.permanent]
    metadata = {
        "symbols": len(symbols),
        "downloaded": len(stored),
        "already_stored": plan.already_stored,
        "failed_permanently": len(permanent),
        "failed_permanently_before": len(plan.known_permanent),
        "permanent_failure_reasons": dg.MetadataValue.json(
            {str(k): v[:300] for k, v in {**plan.known_permanent, **permanent}.items()}
        ),
        "failed_transiently": len(transient),
        "bytes_downloaded": sum(o.stored.byte_size for o in stored if o.stored),
        **written.as_metadata("rows"),
        **step.metadata(),
    }
    checks = [
        document_coverage_check(warehouse.engine, security_ids.values()),
        stored_sha256_check(warehouse.engine, store, security_ids.values()),
    ]
    if transient:
        yield from _report_transient(context, symbols, transient, checks, metadata)
        return
    yield dg.MaterializeResult(metadata=metadata)
    yield from checks


def _report_transient(
    context: dg.AssetExecutionContext,
    symbols: Sequence[str],
    transient: Sequence[Outcome],
    checks: Sequence[dg.AssetCheckResult],
    metadata: dict,
) -> Iterator[dg.AssetCheckResult]:
    # Everything is recorded; the symbols without transient failures are done and marked materialized,
    # the step fails so Dagster shows the rest, and the next run retries only the failed documents.
    by_symbol: dict[str, list[str]] = {}
    for o in transient:
        by_symbol.setdefault(o.document.symbol, []).append(f"document {o.document.document_id}: {o.failure}")
    yield from checks
    fail_the_rest(
        context,
        materialized(context, [s for s in symbols if s not in by_symbol]),
        {symbol: f"{symbol}: {'; '.join(errors[:3])}" for symbol, errors in by_symbol.items()},
        unit="symbol",
        metadata=metadata,
        hint=f"{len(transient)} document(s) failed after the client's retries and were recorded as failed "
        "(not permanent); re-run to retry them.",
    )


# --- checks -----------------------------------------------------------------------------------------


def document_coverage_check(engine: Engine, security_ids: Iterable[int]) -> dg.AssetCheckResult:
    with engine.connect() as conn:
        documents, missing = documents_without_artifact(conn, list(security_ids))
    return dg.AssetCheckResult(
        check_name=EVERY_DOCUMENT_HAS_ARTIFACT_OR_FAILURE,
        passed=not missing,
        severity=dg.AssetCheckSeverity.ERROR,
        description=None if not missing else f"{len(missing)} document(s) have no artifacts row",
        metadata={"documents": documents, "missing": dg.MetadataValue.json(missing[:50])},
    )


def stored_sha256_check(
    engine: Engine, store: ArtifactStore, security_ids: Iterable[int]
) -> dg.AssetCheckResult:
    with engine.connect() as conn:
        rows = stored_artifacts(conn, list(security_ids))
    bad = [int(row.document_id) for row in rows if not store.verify(row.storage_path or "", row.sha256 or "")]
    return dg.AssetCheckResult(
        check_name=STORED_ARTIFACTS_MATCH_SHA256,
        passed=not bad,
        severity=dg.AssetCheckSeverity.ERROR,
        description=None
        if not bad
        else f"{len(bad)} stored file(s) are missing or no longer match their sha256",
        metadata={"stored": len(rows), "mismatched": dg.MetadataValue.json(bad[:50])},
    )
