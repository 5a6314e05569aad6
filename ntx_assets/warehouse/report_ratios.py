"""Reads and writes of report_ratios: which filing documents of financial institutions need a reading, and
the readings stored per document."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, func, select

from ntx_assets.warehouse.schema import (
    REPORT_RATIO_COLUMNS,
    artifacts,
    companies,
    filing_documents,
    filings,
    report_ratios,
)
from ntx_assets.warehouse.upsert import UpsertCounts, upsert

_D, _A, _F, _C, _R = filing_documents.c, artifacts.c, filings.c, companies.c, report_ratios.c


def documents_to_read(conn: Connection, security_ids: Collection[int]) -> Sequence[Row]:
    """Each filing document of these companies (financial_security_ids' choice), with its report's period,
    the day it became public, its artifact (status, sha256, storage path, failure reason) and its stored
    reading (sha256, status, reason, reader version and the ratios; NULL when never read), by company and
    document id.

    known_on is the document's submission date, else its report's known_on, else the day a refresh first
    stored the report: the dates the screener takes a report as known from (ntx_assets/screener)."""
    query = (
        select(
            _D.document_id,
            _D.report_id,
            _D.security_id,
            _F.report_type,
            func.coalesce(_F.fiscal_year_nepali, _F.fiscal_year).label("fiscal_year"),
            _F.quarter,
            func.coalesce(_D.submitted_date, _F.known_on, _F.first_fetched_on).label("known_on"),
            _A.status.label("artifact_status"),
            _A.sha256,
            _A.storage_path,
            _A.failure_reason,
            _R.sha256.label("read_sha256"),
            _R.status.label("read_status"),
            _R.reason.label("read_reason"),
            _R.reader_version,
            *(_R[name] for name in REPORT_RATIO_COLUMNS),
        )
        .select_from(
            filing_documents.join(filings, _F.report_id == _D.report_id)
            .outerjoin(artifacts, _A.document_id == _D.document_id)
            .outerjoin(report_ratios, _R.document_id == _D.document_id)
        )
        .where(_D.security_id.in_(list(security_ids)))
        .order_by(_D.security_id, _D.document_id)
    )
    return conn.execute(query).all()


def financial_security_ids(
    conn: Connection, security_ids: Collection[int], sectors: Collection[str]
) -> set[int]:
    """The companies among `security_ids` whose sector is one of `sectors`."""
    query = select(_C.security_id).where(_C.security_id.in_(list(security_ids)), _C.sector.in_(list(sectors)))
    return {int(security_id) for security_id in conn.execute(query).scalars()}


def write_report_ratios(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> UpsertCounts:
    """Readings keyed by document id: a document read again replaces its row."""
    return upsert(conn, report_ratios, rows)
