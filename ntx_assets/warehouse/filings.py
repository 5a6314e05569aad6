"""Reads and writes of the filing tables: filings, filing_documents and artifacts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, select

from ntx_assets.warehouse.schema import artifacts, companies, filing_documents, filings
from ntx_assets.warehouse.upsert import UpsertCounts, upsert

_D, _A = filing_documents.c, artifacts.c


def write_filings(
    conn: Connection,
    filing_rows: Sequence[Mapping[str, Any]],
    document_rows: Sequence[Mapping[str, Any]],
    fetched_on: dt.date,
) -> tuple[UpsertCounts, UpsertCounts]:
    """One company's reports and their documents, in the caller's transaction (they land together). The
    day a report was first stored stays as it was: it dates reports NEPSE gave no date (known_on)."""
    fetched = [{**row, "first_fetched_on": fetched_on} for row in filing_rows]
    return (
        upsert(conn, filings, fetched, insert_only=("first_fetched_on",)),
        upsert(conn, filing_documents, document_rows),
    )


def symbols_with_filings(conn: Connection, symbols: Collection[str]) -> set[str]:
    """The included `symbols` with at least one stored report."""
    c = companies.c
    query = (
        select(c.symbol)
        .where(
            c.included,
            c.symbol.in_(list(symbols)),
            c.security_id.in_(select(filings.c.security_id).distinct()),
        )
        .distinct()
    )
    return set(conn.execute(query).scalars())


def document_states(conn: Connection, security_ids: Collection[int]) -> Sequence[Row]:
    """Each filing document of these companies with its artifacts row, if any (status, sha256, storage
    path, permanent, failure reason), by company and document id."""
    query = (
        select(
            _D.document_id,
            _D.security_id,
            _D.file_path,
            _D.encrypted_id,
            _A.status,
            _A.sha256,
            _A.storage_path,
            _A.permanent,
            _A.failure_reason,
        )
        .select_from(filing_documents.outerjoin(artifacts, _A.document_id == _D.document_id))
        .where(_D.security_id.in_(list(security_ids)))
        .order_by(_D.security_id, _D.document_id)
    )
    return conn.execute(query).all()


def record_artifacts(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> UpsertCounts:
    return upsert(conn, artifacts, rows)


def documents_without_artifact(conn: Connection, security_ids: Collection[int]) -> tuple[int, list[int]]:
    """How many documents these companies have, and the ids of those without an artifacts row."""
    ids = list(security_ids)
    missing = (
        conn.execute(
            select(_D.document_id)
            .select_from(filing_documents.outerjoin(artifacts, _A.document_id == _D.document_id))
            .where(_D.security_id.in_(ids), _A.document_id.is_(None))
            .order_by(_D.document_id)
        )
        .scalars()
        .all()
    )
    documents = len(conn.execute(select(_D.document_id).where(_D.security_id.in_(ids))).all())
    return documents, [int(document_id) for document_id in missing]


def stored_artifacts(conn: Connection, security_ids: Collection[int]) -> Sequence[Row]:
    """(document_id, storage_path, sha256) of these companies' stored artifacts."""
    return conn.execute(
        select(_A.document_id, _A.storage_path, _A.sha256).where(
            _A.security_id.in_(list(security_ids)), _A.status == "stored"
        )
    ).all()
