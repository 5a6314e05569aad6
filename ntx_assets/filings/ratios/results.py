"""A document's stored result (pure): the report_ratios row of what the reader gave, or of why it could not
read the document, and whether a document needs reading at all.

Every filing document of a financial institution gets one row, keyed by its document id:
- status `read` (all seven ratios), `partial` (some; `problems` names the others and why), `unreadable`
  (none; `reason` is the first problem: no text layer, no ratio table, too big, too slow, not downloaded);
- `period_mismatch` when the document prints a fiscal year or quarter other than its report's: its figures
  are kept for inspection but belong to neither period, so the screener does not use them (nothing is
  guessed about which period NEPSE meant).
The row's period (fiscal_year, quarter, report_type) and known_on are its report's and its submission
date, never the document's own text: the screener joins ratios to fundamentals by the report's period.
A document is read again only when its file changed (another sha256) or the reader did (READER_VERSION).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from ntx_assets.common.fiscal import parse_fiscal_year
from ntx_assets.filings.ratios.labels import RATIO_KEYS
from ntx_assets.filings.ratios.reader import RatioReading

# Bump when the reader may give another result for a document it has read: every stored document is then
# read again by the next run of report_ratios.
READER_VERSION = "2026.12.1"

READ, PARTIAL, UNREADABLE, PERIOD_MISMATCH = "read", "partial", "unreadable", "period_mismatch"
NOT_DOWNLOADED = "not downloaded"


def reading_status(reading: RatioReading) -> tuple[str, str | None]:
    """(status, reason) of a reading: reason is None when at least one ratio was read."""
    if reading.read_count == len(RATIO_KEYS):
        return READ, None
    if reading.read_count > 0:
        return PARTIAL, None
    return UNREADABLE, reading.problems[0] if reading.problems else "no ratio read"


def period_disagreement(document: Mapping[str, Any], reading: RatioReading) -> str | None:
    """Why the document's printed period is not its report's, or None when they agree or the document
    prints none. An annual report's document may print the fourth quarter (the same year end)."""
    period = reading.period or {}
    printed_year = parse_fiscal_year(period.get("fiscal_year"))
    report_year = parse_fiscal_year(document.get("fiscal_year"))
    if printed_year is not None and report_year is not None and printed_year != report_year:
        return (
            f"the document prints fiscal year {period.get('fiscal_year')}, its report is of "
            f"{document.get('fiscal_year')}"
        )
    printed_quarter = period.get("quarter")
    report_quarter = 4 if document.get("report_type") == "annual" else document.get("quarter")
    if (
        printed_quarter is not None
        and report_quarter is not None
        and int(printed_quarter) != int(report_quarter)
    ):
        return f"the document prints quarter {printed_quarter}, its report is of quarter {report_quarter}"
    return None


def _report_columns(document: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "document_id": int(document["document_id"]),
        "report_id": int(document["report_id"]),
        "security_id": int(document["security_id"]),
        "report_type": document.get("report_type"),
        "fiscal_year": document.get("fiscal_year"),
        "quarter": document.get("quarter"),
        "known_on": document.get("known_on"),
    }


def reading_row(document: Mapping[str, Any], reading: RatioReading, read_at: dt.datetime) -> dict[str, Any]:
    """The report_ratios row of a downloaded document (documents_to_read's row) and its reading."""
    status, reason = reading_status(reading)
    problems = list(reading.problems)
    mismatch = period_disagreement(document, reading)
    if mismatch is not None and status != UNREADABLE:
        status, reason = PERIOD_MISMATCH, mismatch
        problems.append(mismatch)
    return {
        **_report_columns(document),
        "format": reading.format,
        "period": None if reading.period is None else json.dumps(reading.period, ensure_ascii=False),
        **{key: reading.ratios.get(key) for key in RATIO_KEYS},
        "status": status,
        "reason": reason,
        "problems": json.dumps(problems, ensure_ascii=False),
        "sha256": document.get("sha256"),
        "reader_version": READER_VERSION,
        "read_at": read_at,
    }


def not_downloaded_reason(document: Mapping[str, Any]) -> str:
    if document.get("artifact_status") is None:
        return f"{NOT_DOWNLOADED}: artifacts has not handled it yet (run artifacts for this symbol)"
    return f"{NOT_DOWNLOADED}: {document.get('failure_reason') or 'the download failed'}"


def not_downloaded_row(document: Mapping[str, Any], read_at: dt.datetime) -> dict[str, Any]:
    """The report_ratios row of a document with no stored file: unreadable, saying why."""
    reason = not_downloaded_reason(document)
    return {
        **_report_columns(document),
        "format": None,
        "period": None,
        **dict.fromkeys(RATIO_KEYS),
        "status": UNREADABLE,
        "reason": reason,
        "problems": json.dumps([reason], ensure_ascii=False),
        "sha256": None,
        "reader_version": READER_VERSION,
        "read_at": read_at,
    }


def is_downloaded(document: Mapping[str, Any]) -> bool:
    return document.get("artifact_status") == "stored" and bool(document.get("storage_path"))


def needs_reading(document: Mapping[str, Any]) -> bool:
    """Whether the document's stored row is missing or stale: another file, another reader, or (for a
    document without a file) another reason."""
    if document.get("reader_version") != READER_VERSION:
        return True
    if is_downloaded(document):
        return document.get("read_sha256") != document.get("sha256")
    return document.get("read_sha256") is not None or document.get("read_reason") != not_downloaded_reason(
        document
    )
