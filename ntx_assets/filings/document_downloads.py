"""Filing documents into the content-addressed store: which still need a download, and fetching them.

No Dagster: the artifacts asset (defs/filings/assets.py) plans with `plan_downloads` from the stored
states, runs `download_all`, and records what it returns.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from ntx_assets.filings.document_store import (
    ArtifactError,
    ArtifactStore,
    StoredArtifact,
    check_document_path,
    check_encrypted_id,
    check_same_origin,
    original_file_name,
)
from ntx_assets.nepse import DownloadTooLarge, NepseClient, NepseError, NepseHTTPError, UnsafePath
from ntx_assets.warehouse import UpsertCounts

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


def plan_downloads(states: Iterable[Any], store: ArtifactStore, symbol_of: Mapping[int, str]) -> Plan:
    """The documents that still need a download, from each document's stored state
    (`ntx_assets.warehouse.filings.document_states`; `symbol_of`: security id -> symbol).

    Skipped: documents stored whose file still hashes to the recorded sha256, and documents that failed
    permanently. Everything else is pending: new documents, transient failures, and stored documents
    whose file went missing or stopped verifying.
    """
    rows = list(states)
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


def download_all(
    client: NepseClient,
    store: ArtifactStore,
    pending: Sequence[Document],
    workers: int,
    record: Callable[[list[dict[str, Any]]], UpsertCounts],
) -> tuple[list[Outcome], UpsertCounts]:
    """Download concurrently (the client paces every request); `record` each symbol's artifacts rows as
    soon as its last document is done (one transaction each, so an interrupted run keeps what it
    finished)."""
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
                written += record([o.row(now) for o in by_symbol.pop(symbol)])
    return outcomes, written
