"""report_ratios: the NRB ratios of banks and other financial institutions, read from their downloaded
report documents (docs/report-ratios.md).

Partitioned by symbol like `artifacts`, which it follows (eager automation: a symbol's readings are
brought up to date once its documents landed). Only the documents of companies in FINANCIAL_SECTORS are
read; each gets one report_ratios row (ntx_assets.filings.ratios.results), also when it could not be read,
with the reason. A document already read from the same file (sha256) by the same reader version is not read
again, so a re-run reads nothing. No API call: the documents are the ones `artifacts` stored.
"""

import datetime as dt
import os
import queue
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import dagster as dg

from ntx_assets.defs.filings.assets import ARTIFACTS_PER_RUN, artifacts
from ntx_assets.defs.partitions import symbol_partitions
from ntx_assets.filings.document_store import ArtifactStore, UnsafeStoragePath
from ntx_assets.filings.ratios import RATIO_KEYS, LayoutServer, failed, read_report_ratios
from ntx_assets.filings.ratios.results import (
    PARTIAL,
    PERIOD_MISMATCH,
    READ,
    UNREADABLE,
    is_downloaded,
    needs_reading,
    not_downloaded_row,
    reading_row,
)
from ntx_assets.orchestration.partial_success import fail_the_rest, materialized
from ntx_assets.orchestration.symbols import partition_security_ids
from ntx_assets.resources import ArtifactStoreResource, WarehouseResource
from ntx_assets.screener.bank_ratios import FINANCIAL_SECTORS
from ntx_assets.warehouse import UpsertCounts
from ntx_assets.warehouse.report_ratios import (
    documents_to_read,
    financial_security_ids,
    write_report_ratios,
)

EVERY_DOCUMENT_HAS_A_READING = "report_ratios_every_document_has_a_reading"
# Each document is parsed in a bounded process of its own (ntx_assets.filings.ratios.server): one per core.
READ_WORKERS = max(1, os.cpu_count() or 1)
_REASONS_SHOWN = 20


@dg.asset(
    partitions_def=symbol_partitions,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=ARTIFACTS_PER_RUN),
    deps=[artifacts],
    automation_condition=dg.AutomationCondition.eager(),
    group_name="filings",
    kinds={"python", "sql", "pdf"},
    description=(
        "The NRB ratios (capital fund to RWA, NPL, provision to NPL, cost of funds, credit to deposit, base "
        "rate, spread) of banks, development banks, finance companies and microfinance institutions, read "
        "from the text layer of their stored report documents: one report_ratios row per document, read, "
        "partial or unreadable with its reason. Follows artifacts; a document is read again only when its "
        "file or the reader changed. No API call."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            EVERY_DOCUMENT_HAS_A_READING,
            asset="report_ratios",
            description="Every filing document of the run's financial institutions has a report_ratios row "
            "for its current file and the current reader (a result, even when nothing could be read).",
        )
    ],
)
def report_ratios(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, artifact_store: ArtifactStoreResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    started = time.monotonic()
    store = artifact_store.store
    symbols = list(context.partition_keys)
    security_ids = partition_security_ids(warehouse.engine, symbols)
    with warehouse.engine.connect() as conn:
        financial = financial_security_ids(conn, security_ids.values(), FINANCIAL_SECTORS)
        documents = [row._asdict() for row in documents_to_read(conn, financial)]
    pending = [document for document in documents if needs_reading(document)]
    missing_files = [d for d in pending if is_downloaded(d) and not _stored_file_exists(store, d)]
    if missing_files:
        context.log.warning(
            f"{len(missing_files)} stored document(s) have no file in the store: not read; run artifacts "
            "for their symbols (it re-downloads files that no longer verify), then report_ratios again"
        )
    missing_ids = {d["document_id"] for d in missing_files}
    to_read = [d for d in pending if d["document_id"] not in missing_ids]

    written = UpsertCounts()
    by_company: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for document in to_read:
        by_company[document["security_id"]].append(document)
    with ExitStack() as stack, ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
        # One reading server per worker thread (each parses every document in a forked process of its own).
        servers: queue.SimpleQueue[LayoutServer] = queue.SimpleQueue()
        for _ in range(READ_WORKERS):
            servers.put(stack.enter_context(LayoutServer()))

        def row(document: Mapping[str, Any]) -> dict[str, Any]:
            server = servers.get()
            try:
                return _row(store, document, server)
            finally:
                servers.put(server)

        for company_documents in by_company.values():
            rows = list(pool.map(row, company_documents))
            with warehouse.engine.begin() as conn:  # one company's readings land together
                written += write_report_ratios(conn, rows)
    read_seconds = time.monotonic() - started

    with warehouse.engine.connect() as conn:
        after = [row._asdict() for row in documents_to_read(conn, financial)]
    symbol_of = {security_id: symbol for symbol, security_id in security_ids.items()}
    metadata = {
        "symbols": len(symbols),
        "financial_institutions": len(financial),
        "documents": len(documents),
        "read_now": len(to_read),
        "unchanged": len(documents) - len(pending),
        "not_read_file_missing": len(missing_files),
        **_status_counts(after),
        "unreadable_reasons": dg.MetadataValue.json(_reasons(after)),
        "latest_readings": dg.MetadataValue.md(_latest_table(after, symbol_of)),
        "read_seconds": round(read_seconds, 2),
        **written.as_metadata("rows"),
    }
    check = _coverage_check(after)
    unread = {symbol_of[d["security_id"]] for d in missing_files}
    if unread:
        # Their readings did not land: those symbols fail (a re-run after artifacts reads just them); the
        # others, whose readings did, are recorded materialized.
        yield check
        fail_the_rest(
            context,
            materialized(context, [symbol for symbol in symbols if symbol not in unread]),
            {symbol: f"{symbol}: a stored document's file is missing from the store" for symbol in unread},
            unit="symbol",
            metadata=metadata,
            hint="Run artifacts for these symbols (it downloads files that no longer verify), then "
            "report_ratios again.",
        )
    yield dg.MaterializeResult(metadata=metadata)
    yield check


def _stored_file_exists(store: ArtifactStore, document: Mapping[str, Any]) -> bool:
    try:
        return store.path_of(document["storage_path"]).is_file()
    except UnsafeStoragePath:
        return True  # read, and recorded unreadable with the reason (_row)


def _row(store: ArtifactStore, document: Mapping[str, Any], server: LayoutServer) -> dict[str, Any]:
    read_at = dt.datetime.now(dt.UTC)
    if not is_downloaded(document):
        return not_downloaded_row(document, read_at)
    try:
        path = store.path_of(document["storage_path"])
    except UnsafeStoragePath as error:
        return reading_row(document, failed(str(error)), read_at)
    return reading_row(document, read_report_ratios(path, server=server), read_at)


def _status_counts(documents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    counts = Counter(d["read_status"] for d in documents)
    with_ratios = counts[READ] + counts[PARTIAL]
    return {
        "documents_read": counts[READ],
        "documents_partial": counts[PARTIAL],
        "documents_unreadable": counts[UNREADABLE],
        "documents_period_mismatch": counts[PERIOD_MISMATCH],
        "documents_without_reading": counts[None],
        "share_with_ratios": dg.MetadataValue.text(
            f"{with_ratios / len(documents):.2%}" if documents else "-"
        ),
    }


def _reasons(documents: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    reasons = Counter(
        d["read_reason"] for d in documents if d["read_status"] in (UNREADABLE, PERIOD_MISMATCH)
    )
    return dict(reasons.most_common(_REASONS_SHOWN))


def _latest_table(documents: Sequence[Mapping[str, Any]], symbol_of: Mapping[int, str]) -> str:
    """Each company's latest document with ratios read (latest public, then highest id), in percent."""
    latest: dict[int, Mapping[str, Any]] = {}
    for d in documents:
        if d["read_status"] not in (READ, PARTIAL):
            continue
        key = (d["known_on"] or dt.date.min, d["document_id"])
        held = latest.get(d["security_id"])
        if held is None or key > (held["known_on"] or dt.date.min, held["document_id"]):
            latest[d["security_id"]] = d
    if not latest:
        return "No document of these companies has ratios read."
    header = ["symbol", "fiscal year", "quarter", "public on", *RATIO_KEYS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for security_id, d in sorted(latest.items(), key=lambda item: symbol_of.get(item[0], "")):
        cells = [
            symbol_of.get(security_id, str(security_id)),
            str(d["fiscal_year"] or "-"),
            "annual" if d["report_type"] == "annual" else str(d["quarter"] or "-"),
            str(d["known_on"] or "-"),
            *(("-" if d[key] is None else f"{d[key]:.2f}%") for key in RATIO_KEYS),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _coverage_check(documents: Sequence[Mapping[str, Any]]) -> dg.AssetCheckResult:
    stale = [int(d["document_id"]) for d in documents if needs_reading(d)]
    return dg.AssetCheckResult(
        check_name=EVERY_DOCUMENT_HAS_A_READING,
        passed=not stale,
        severity=dg.AssetCheckSeverity.ERROR,
        description=None
        if not stale
        else f"{len(stale)} document(s) have no reading of their current file: run artifacts, then "
        "report_ratios, for their symbols",
        metadata={"documents": len(documents), "without_reading": dg.MetadataValue.json(stale[:50])},
    )
