"""artifacts: every filing document, downloaded once into the content-addressed store.

Follows `filings` through `new_documents_sensor` (defs/new_documents.py): a symbol's artifacts are
requested when one of its filings materializations says new documents landed.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import dagster as dg
from sqlalchemy import Engine, and_, select

from ntx_assets.artifact_store import (
    ArtifactError,
    ArtifactStore,
    StoredArtifact,
    check_document_path,
    check_encrypted_id,
    check_same_origin,
    original_file_name,
)
from ntx_assets.defs.filings import filings, symbol_security_ids
from ntx_assets.defs.partial_success import fail_the_rest, materialized
from ntx_assets.defs.partitions import symbol_partitions
from ntx_assets.nepse import DownloadTooLarge, NepseClient, NepseError, NepseHTTPError, UnsafePath
from ntx_assets.resources import ArtifactStoreResource, NepseResource, WarehouseResource
from ntx_assets.step_metrics import NepseStep
from ntx_assets.warehouse import UpsertCounts, upsert
from ntx_assets.warehouse.schema import artifacts as artifacts_table
from ntx_assets.warehouse.schema import filing_documents

EVERY_DOCUMENT_HAS_ARTIFACT_OR_FAILURE = "every_document_has_artifact_or_failure"
STORED_ARTIFACTS_MATCH_SHA256 = "stored_artifacts_match_sha256"

# Symbols per run of an artifacts backfill: as for filings, a bounded blast radius and room for the pool
# to interleave; a run is one call per *new* document, so a re-run of stored symbols costs nothing.
ARTIFACTS_PER_RUN = 25

# HTTP statuses that say "this document will not be served", as opposed to "not right now".
_PERMANENT_STATUSES = frozenset({400, 404, 410})
_REASON_CHARS = 1000


@dataclass(frozen=True)
class Document:
    document_id: int
    security_id: int
    symbol: str
    file_path: str | None
    encrypted_id: str | None


@dataclass(frozen=True)
class Outcome:
    document: Document
    stored: StoredArtifact | None = None
    failure: str | None = None
    permanent: bool = False

    def row(self, now: dt.datetime) -> dict[str, Any]:
        stored = self.stored
        return {
            "document_id": self.document.document_id,
            "security_id": self.document.security_id,
            "status": "stored" if stored else "failed",
            "sha256": stored.sha256 if stored else None,
            "storage_path": stored.storage_path if stored else None,
            "file_name": original_file_name(self.document.file_path),
            "content_type": stored.content_type if stored else None,
            "byte_size": stored.byte_size if stored else None,
            "downloaded_at": now if stored else None,
            "failure_reason": None if stored else (self.failure or "")[:_REASON_CHARS],
            "permanent": self.permanent,
        }


@dataclass(frozen=True)
class Plan:
    pending: list[Document]
    already_stored: int
    known_permanent: dict[int, str]  # document id -> reason, recorded by an earlier run
    repaired: list[int]  # stored before, but the file is gone or no longer hashes right


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
    security_ids = symbol_security_ids(warehouse.engine, symbols)

    plan = plan_downloads(warehouse.engine, store, security_ids)
    step = NepseStep(context, nepse, planned_calls=len(plan.pending))  # one download per document
    client = step.client
    if plan.repaired:
        context.log.warning(f"re-downloading {len(plan.repaired)} stored document(s) that no longer verify")
    outcomes, written = _download_all(
        warehouse.engine, client, store, plan.pending, nepse.max_concurrent_requests
    )

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


def plan_downloads(engine: Engine, store: ArtifactStore, security_ids: Mapping[str, int]) -> Plan:
    """The documents of these symbols that still need a download.

    Skipped: documents stored whose file still hashes to the recorded sha256, and documents that failed
    permanently. Everything else is pending: new documents, transient failures, and stored documents
    whose file went missing or stopped verifying.
    """
    symbol_of = {security_id: symbol for symbol, security_id in security_ids.items()}
    d, a = filing_documents, artifacts_table
    query = (
        select(
            d.c.document_id,
            d.c.security_id,
            d.c.file_path,
            d.c.encrypted_id,
            a.c.status,
            a.c.sha256,
            a.c.storage_path,
            a.c.permanent,
            a.c.failure_reason,
        )
        .select_from(d.outerjoin(a, a.c.document_id == d.c.document_id))
        .where(d.c.security_id.in_(list(symbol_of)))
        .order_by(d.c.security_id, d.c.document_id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    pending: list[Document] = []
    already_stored = 0
    known_permanent: dict[int, str] = {}
    repaired: list[int] = []
    for row in rows:
        document = Document(
            int(row.document_id),
            int(row.security_id),
            symbol_of[row.security_id],
            row.file_path,
            row.encrypted_id,
        )
        if row.status == "stored":
            if row.sha256 and row.storage_path and store.verify(row.storage_path, row.sha256):
                already_stored += 1
                continue
            repaired.append(document.document_id)
        elif row.status == "failed" and row.permanent:
            known_permanent[document.document_id] = row.failure_reason or ""
            continue
        pending.append(document)
    return Plan(pending, already_stored, known_permanent, repaired)


def fetch_document(client: NepseClient, store: ArtifactStore, document: Document) -> Outcome:
    """Download one document into the store; every failure becomes an Outcome, never an exception."""
    try:
        file_path = check_document_path(document.file_path) if document.file_path else None
        encrypted_id = None
        if file_path is None:
            if not document.encrypted_id:
                return Outcome(
                    document, failure="NEPSE lists neither a filePath nor an encryptedId", permanent=True
                )
            encrypted_id = check_encrypted_id(document.encrypted_id)
        with store.staging() as staged:
            download = client.download(
                file_path=file_path, encrypted_id=encrypted_id, max_bytes=store.max_bytes, sink=staged.file
            )
            check_same_origin(download.url, client.base_url)
            stored = staged.commit(
                expected_sha256=download.sha256,
                file_name=original_file_name(file_path),
                declared_content_type=download.content_type,
            )
        return Outcome(document, stored=stored)
    except ArtifactError as error:
        return Outcome(document, failure=str(error), permanent=error.permanent)
    except (UnsafePath, DownloadTooLarge) as error:
        return Outcome(document, failure=str(error), permanent=True)
    except NepseHTTPError as error:
        return Outcome(document, failure=str(error), permanent=_permanent_http_failure(error))
    except (NepseError, OSError) as error:
        # Retries already happened inside the client; the next run tries again.
        return Outcome(document, failure=f"{type(error).__name__}: {error}", permanent=False)


def _permanent_http_failure(error: NepseHTTPError) -> bool:
    status = error.status_code
    if status is not None:
        return status in _PERMANENT_STATUSES or 300 <= status < 400
    # The client refuses redirects that leave the NEPSE host (or loop) without a status of their own.
    return "redirect" in error.cause


def _download_all(
    engine: Engine, client: NepseClient, store: ArtifactStore, pending: Sequence[Document], workers: int
) -> tuple[list[Outcome], UpsertCounts]:
    """Download concurrently (the client paces every request); record each symbol as soon as its last
    document is done, in one transaction, so an interrupted run keeps what it finished."""
    remaining: dict[str, int] = defaultdict(int)
    for document in pending:
        remaining[document.symbol] += 1
    by_symbol: dict[str, list[Outcome]] = defaultdict(list)
    outcomes: list[Outcome] = []
    written = UpsertCounts()
    if not pending:
        return outcomes, written
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="artifacts") as pool:
        futures = [pool.submit(fetch_document, client, store, document) for document in pending]
        for future in as_completed(futures):
            outcome = future.result()
            outcomes.append(outcome)
            symbol = outcome.document.symbol
            by_symbol[symbol].append(outcome)
            remaining[symbol] -= 1
            if remaining[symbol] == 0:
                now = dt.datetime.now(dt.UTC)
                with engine.begin() as conn:
                    written += upsert(conn, artifacts_table, [o.row(now) for o in by_symbol.pop(symbol)])
    return outcomes, written


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
    d, a = filing_documents, artifacts_table
    ids = list(security_ids)
    with engine.connect() as conn:
        missing = (
            conn.execute(
                select(d.c.document_id)
                .select_from(d.outerjoin(a, a.c.document_id == d.c.document_id))
                .where(d.c.security_id.in_(ids), a.c.document_id.is_(None))
                .order_by(d.c.document_id)
            )
            .scalars()
            .all()
        )
        documents = len(conn.execute(select(d.c.document_id).where(d.c.security_id.in_(ids))).all())
    return dg.AssetCheckResult(
        check_name=EVERY_DOCUMENT_HAS_ARTIFACT_OR_FAILURE,
        passed=not missing,
        severity=dg.AssetCheckSeverity.ERROR,
        description=None if not missing else f"{len(missing)} document(s) have no artifacts row",
        metadata={"documents": documents, "missing": dg.MetadataValue.json([int(i) for i in missing[:50]])},
    )


def stored_sha256_check(
    engine: Engine, store: ArtifactStore, security_ids: Iterable[int]
) -> dg.AssetCheckResult:
    a = artifacts_table
    with engine.connect() as conn:
        rows = conn.execute(
            select(a.c.document_id, a.c.storage_path, a.c.sha256).where(
                and_(a.c.security_id.in_(list(security_ids)), a.c.status == "stored")
            )
        ).all()
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
