"""Report records -> filings rows and filing_documents rows, and the order of a filings refresh (pure).

The client has already typed each report (`Report`: ids and amounts are numbers, dates dates) or refused
it. A symbol's reports are accepted whole or not at all: one report whose type, quarter or timestamp
cannot be read raises `BadReport` naming the symbol, the report id and the field, and the caller writes
nothing of that symbol. NEPSE's values are mapped to the warehouse's vocabulary here, once:
"Quarterly Report" / "Annual Report" -> quarterly / annual, "First Quarter" .. "Fourth Quarter" -> 1..4.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ntx_assets.common.text import clean_text
from ntx_assets.nepse.models import Quarter, Report, ReportDocument, nepse_field

# NEPSE's reportTypeMaster.reportName, lower-cased and with single spaces -> filings.report_type.
_REPORT_TYPES = {
    "quarterly report": "quarterly",
    "quarterly": "quarterly",
    "annual report": "annual",
    "annual": "annual",
}
_QUARTERS = {
    "first quarter": 1,
    "second quarter": 2,
    "third quarter": 3,
    "fourth quarter": 4,
    "1st quarter": 1,
    "2nd quarter": 2,
    "3rd quarter": 3,
    "4th quarter": 4,
}
# FiscalReport attribute -> filings column
_AMOUNTS = {
    "eps_value": "eps",
    "pe_value": "pe",
    "net_worth_per_share": "net_worth_per_share",
    "profit_amount": "profit",
    "paid_up_capital": "paid_up_capital",
}

# Run priorities of a filings refresh (the `dagster/priority` run tag: the run queue starts higher first).
NEVER_FETCHED_PRIORITY = 10
REFRESH_PRIORITY = 0


class BadReport(ValueError):
    """A report row that must not reach the warehouse."""

    def __init__(self, *, symbol: str, report_id: object, field: str, problem: str) -> None:
        self.symbol, self.report_id, self.field, self.problem = symbol, report_id, field, problem
        super().__init__(
            f"reports of {symbol}: report {report_id} field {field!r} {problem}; nothing of {symbol} was "
            "written. If NEPSE introduced a new value, teach ntx_assets/filings/reports.py about it; "
            "otherwise re-run the partition once NEPSE serves corrected data."
        )


@dataclass(frozen=True)
class FilingRows:
    """What one symbol's reports become: rows for `filings` and for `filing_documents`."""

    filings: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)

    @property
    def document_ids(self) -> list[int]:
        return [row["document_id"] for row in self.documents]


def filing_rows(reports: Iterable[Report], *, security_id: int, symbol: str) -> FilingRows:
    """Check one security's report records and return its warehouse rows.

    A report or document repeated with identical content is kept once; the same id with different
    content is refused, because which copy is right is NEPSE's to say, not ours.
    """
    filings: dict[int, dict[str, Any]] = {}
    documents: dict[int, dict[str, Any]] = {}
    for report in reports:
        row = _filing_row(report, security_id, symbol)
        _keep_once(filings, report.id, row, symbol, report.id, "id")
        for index, document in enumerate(report.documents):
            doc_row = _document_row(document, index, report.id, security_id, symbol)
            _keep_once(
                documents, doc_row["document_id"], doc_row, symbol, report.id, f"documents[{index}].id"
            )
    return FilingRows(list(filings.values()), list(documents.values()))


def _keep_once(
    seen: dict[int, dict[str, Any]], key: int, row: dict[str, Any], symbol: str, report_id: int, name: str
) -> None:
    previous = seen.get(key)
    if previous is not None and previous != row:
        raise BadReport(
            symbol=symbol, report_id=report_id, field=name, problem=f"repeats {key} with different content"
        )
    seen[key] = row


def _filing_row(report: Report, security_id: int, symbol: str) -> dict[str, Any]:
    def bad(field_name: str, problem: str) -> BadReport:
        return BadReport(symbol=symbol, report_id=report.id, field=field_name, problem=problem)

    fiscal = report.fiscal_report
    if fiscal is None:
        raise bad(nepse_field(Report, "fiscal_report"), "is missing")
    report_name = clean_text(fiscal.report_type_master.report_name if fiscal.report_type_master else None)
    report_type = _REPORT_TYPES.get(_normal(report_name))
    if report_type is None:
        raise bad(
            "fiscalReport.reportTypeMaster.reportName",
            f"is {report_name!r}, not one of 'Quarterly Report' or 'Annual Report'",
        )
    quarter = _quarter(fiscal.quarter_master, bad) if report_type == "quarterly" else None
    year = fiscal.financial_year
    row: dict[str, Any] = {
        "report_id": report.id,
        "security_id": security_id,
        "symbol": symbol,
        "report_type": report_type,
        "fiscal_year": clean_text(year.fy_name if year else None),
        "fiscal_year_nepali": clean_text(year.fy_name_nepali if year else None),
        "quarter": quarter,
    }
    for attribute, column in _AMOUNTS.items():
        row[column] = getattr(fiscal, attribute)
    row["modified_at"] = _timestamp(report.modified_date, bad)
    row["known_on"] = known_on(report, row["modified_at"])
    return row


def known_on(report: Report, modified_at: dt.datetime | None) -> dt.date | None:
    """The day a report became public: the earliest submittedDate of its documents (the live site dates
    every document; NABIL's six captured reports all do), else the day of its modifiedDate (a record is
    modified on or after its submission, so this never dates a report early), else None (the asset then
    takes the day it first stored the report)."""
    submitted = [document.submitted_date for document in report.documents if document.submitted_date]
    if submitted:
        return min(submitted)
    return modified_at.date() if modified_at is not None else None


def _quarter(master: Quarter | None, bad: Any) -> int:
    name = clean_text(master.quarter_name if master else None)
    quarter = _QUARTERS.get(_normal(name))
    if quarter is None and name is None and master is not None and master.id in (1, 2, 3, 4):
        quarter = master.id
    if quarter is None:
        raise bad(
            "fiscalReport.quarterMaster.quarterName",
            f"is {name!r} on a quarterly report, not one of 'First Quarter' .. 'Fourth Quarter'",
        )
    return quarter


def _document_row(
    document: ReportDocument, index: int, report_id: int, security_id: int, symbol: str
) -> dict[str, Any]:
    if document.id is None:
        raise BadReport(
            symbol=symbol,
            report_id=report_id,
            field=f"applicationDocumentDetailsList[{index}].id",
            problem="is missing",
        )
    return {
        "document_id": document.id,
        "report_id": report_id,
        "security_id": security_id,
        # Paths are stored exactly as NEPSE sent them; artifacts checks them before any download.
        "file_path": document.file_path or None,
        "encrypted_id": document.encrypted_id or None,
        "submitted_date": document.submitted_date,
    }


def _timestamp(value: str | None, bad: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    try:
        # NEPSE's local (Asia/Kathmandu) time without an offset, with 0, 3 or 6 fractional digits.
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise bad(nepse_field(Report, "modified_date"), f"is {value!r}, not an ISO timestamp") from None


def _normal(value: str | None) -> str:
    return " ".join((value or "").lower().split())


# --- the order of a refresh ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshGroup:
    """Symbols fetched in one run: contiguous in the partitions' order, so the run is one partition range."""

    symbols: tuple[str, ...]
    never_fetched: bool

    @property
    def priority(self) -> int:
        return NEVER_FETCHED_PRIORITY if self.never_fetched else REFRESH_PRIORITY

    @property
    def first(self) -> str:
        return self.symbols[0]

    @property
    def last(self) -> str:
        return self.symbols[-1]


def refresh_groups(
    symbols: Sequence[str], never_fetched: Collection[str], *, max_per_group: int
) -> list[RefreshGroup]:
    """Cut `symbols` (in the dynamic partitions' order) into runs of at most `max_per_group`, never-fetched
    groups first.

    A run of a partitioned job covers a *range* of partitions, and a dynamic partition range is
    everything between two keys in insertion order; so a group never mixes never-fetched symbols with
    fetched ones, and a group ends wherever the kind changes. New listings are appended to the
    partitions, so never-fetched symbols are usually contiguous and cost few extra runs.
    """
    if max_per_group < 1:
        raise ValueError(f"max_per_group must be at least 1, got {max_per_group}")
    pending = set(never_fetched)
    groups: list[RefreshGroup] = []
    current: list[str] = []
    current_kind = False
    for symbol in symbols:
        kind = symbol in pending
        if current and (kind != current_kind or len(current) == max_per_group):
            groups.append(RefreshGroup(tuple(current), current_kind))
            current = []
        current_kind = kind
        current.append(symbol)
    if current:
        groups.append(RefreshGroup(tuple(current), current_kind))
    # Stable: inside each kind, the partitions' order is kept.
    return sorted(groups, key=lambda group: not group.never_fetched)


def changed_symbol_groups(
    symbols: Sequence[str], changed: Collection[str], *, max_per_group: int
) -> list[tuple[str, ...]]:
    """The runs that cover exactly the `changed` symbols: contiguous runs of them in the partitions' order
    (`symbols`), at most `max_per_group` each, so a range run never includes an unchanged symbol."""
    groups = refresh_groups(symbols, changed, max_per_group=max_per_group)
    return [group.symbols for group in groups if group.never_fetched]
