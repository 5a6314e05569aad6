"""ntx_assets.filings.reports: report payloads -> warehouse rows, and the order of a refresh (pure)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from ntx_assets.filings.reports import (
    NEVER_FETCHED_PRIORITY,
    REFRESH_PRIORITY,
    BadReport,
    changed_symbol_groups,
    refresh_groups,
)
from ntx_assets.filings.reports import filing_rows as filing_rows_of_records
from ntx_assets.nepse.models import Report

# The NABIL sample of docs/NEPSE_API.md section 2.8 (NEPAPI's fixture), with the ids it elides filled in.
NABIL_Q4: dict[str, Any] = {
    "id": 46727,
    "activeStatus": "A",
    "modifiedDate": "2026-08-06T09:37:02.187",
    "applicationType": 5,
    "applicationStatus": 2,
    "fiscalReport": {
        "id": 546727,
        "quarterMaster": {"id": 4, "quarterName": "Fourth Quarter"},
        "reportTypeMaster": {"id": 1, "reportName": "Quarterly Report"},
        "financialYear": {
            "id": 35,
            "fyName": "2025-2026",
            "fromYear": "2025-07-17",
            "toYear": "2026-07-16",
            "fyNameNepali": "2082-2083",
        },
        "peValue": 18.86,
        "epsValue": 28.36,
        "paidUpCapital": 27058974900.0,
        "profitAmount": 7673838310.54,
        "netWorthPerShare": 225.41,
        "remarks": None,
    },
    "applicationDocumentDetailsList": [
        {
            "id": 91001,
            "submittedDate": "2026-08-06",
            "filePath": "nabil_user/2026-08-06/Nabil Bank Limited 4th Quarter.pdf",
            "encryptedId": "abc123",
        }
    ],
}


def filing_rows(payload: list[dict[str, Any]], *, security_id: int, symbol: str) -> Any:
    """What the asset does: the client types the rows (Report), filings checks the records."""
    records = [Report.model_validate(row) for row in payload]
    return filing_rows_of_records(records, security_id=security_id, symbol=symbol)


def _annual() -> dict[str, Any]:
    report = copy.deepcopy(NABIL_Q4)
    report["id"] = 46800
    report["fiscalReport"]["quarterMaster"] = None
    report["fiscalReport"]["reportTypeMaster"] = {"id": 2, "reportName": "Annual Report"}
    report["applicationDocumentDetailsList"] = [
        {"id": 91002, "submittedDate": "2026-12-01", "filePath": "nabil_user/2026-12-01/Annual.pdf"},
        {"id": 91003, "submittedDate": None, "encryptedId": "only-by-id"},
    ]
    return report


def test_a_quarterly_and_an_annual_report_become_rows() -> None:
    rows = filing_rows([NABIL_Q4, _annual()], security_id=131, symbol="NABIL")
    assert rows.filings == [
        {
            "report_id": 46727,
            "security_id": 131,
            "symbol": "NABIL",
            "report_type": "quarterly",
            "fiscal_year": "2025-2026",
            "fiscal_year_nepali": "2082-2083",
            "quarter": 4,
            "eps": 28.36,
            "pe": 18.86,
            "net_worth_per_share": 225.41,
            "profit": 7673838310.54,
            "paid_up_capital": 27058974900.0,
            "modified_at": dt.datetime(2026, 8, 6, 9, 37, 2, 187000),
            "known_on": dt.date(2026, 8, 6),  # its document's submittedDate
        },
        {
            "report_id": 46800,
            "security_id": 131,
            "symbol": "NABIL",
            "report_type": "annual",
            "fiscal_year": "2025-2026",
            "fiscal_year_nepali": "2082-2083",
            "quarter": None,
            "eps": 28.36,
            "pe": 18.86,
            "net_worth_per_share": 225.41,
            "profit": 7673838310.54,
            "paid_up_capital": 27058974900.0,
            "modified_at": dt.datetime(2026, 8, 6, 9, 37, 2, 187000),
            "known_on": dt.date(2026, 12, 1),  # the earliest dated document; the undated one is ignored
        },
    ]
    assert rows.documents == [
        {
            "document_id": 91001,
            "report_id": 46727,
            "security_id": 131,
            "file_path": "nabil_user/2026-08-06/Nabil Bank Limited 4th Quarter.pdf",
            "encrypted_id": "abc123",
            "submitted_date": dt.date(2026, 8, 6),
        },
        {
            "document_id": 91002,
            "report_id": 46800,
            "security_id": 131,
            "file_path": "nabil_user/2026-12-01/Annual.pdf",
            "encrypted_id": None,
            "submitted_date": dt.date(2026, 12, 1),
        },
        {
            "document_id": 91003,
            "report_id": 46800,
            "security_id": 131,
            "file_path": None,
            "encrypted_id": "only-by-id",
            "submitted_date": None,
        },
    ]
    assert rows.document_ids == [91001, 91002, 91003]


def test_a_report_without_document_dates_is_known_from_its_modification_else_not_at_all() -> None:
    undated = copy.deepcopy(NABIL_Q4)
    undated["applicationDocumentDetailsList"][0]["submittedDate"] = None
    assert filing_rows([undated], security_id=131, symbol="NABIL").filings[0]["known_on"] == dt.date(
        2026, 8, 6
    )
    del undated["modifiedDate"]
    # The asset then dates it by the day a refresh first stored it (first_fetched_on).
    assert filing_rows([undated], security_id=131, symbol="NABIL").filings[0]["known_on"] is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [("First Quarter", 1), ("second  quarter", 2), ("Third Quarter ", 3), ("4th Quarter", 4)],
)
def test_quarter_names(name: str, expected: int) -> None:
    report = copy.deepcopy(NABIL_Q4)
    report["fiscalReport"]["quarterMaster"] = {"id": 99, "quarterName": name}
    assert filing_rows([report], security_id=131, symbol="NABIL").filings[0]["quarter"] == expected


def test_a_quarter_known_only_by_its_id() -> None:
    report = copy.deepcopy(NABIL_Q4)
    report["fiscalReport"]["quarterMaster"] = {"id": 2}
    assert filing_rows([report], security_id=131, symbol="NABIL").filings[0]["quarter"] == 2


@pytest.mark.parametrize("name", ["Half-yearly Report", "", None])
def test_an_unknown_report_type_names_the_symbol_and_report(name: str | None) -> None:
    report = copy.deepcopy(NABIL_Q4)
    report["fiscalReport"]["reportTypeMaster"] = {"id": 7, "reportName": name}
    with pytest.raises(BadReport) as caught:
        filing_rows([report], security_id=131, symbol="NABIL")
    message = str(caught.value)
    assert "NABIL" in message and "46727" in message and "reportName" in message
    assert caught.value.symbol == "NABIL" and caught.value.report_id == 46727


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda r: r["fiscalReport"].update(quarterMaster=None), "quarterName"),
        (lambda r: r["fiscalReport"].update(quarterMaster={"quarterName": "Fifth Quarter"}), "quarterName"),
        (lambda r: r.update(fiscalReport=None), "fiscalReport"),
        (lambda r: r.update(modifiedDate="yesterday"), "modifiedDate"),
        (lambda r: r["applicationDocumentDetailsList"][0].update(id=None), "DocumentDetailsList[0].id"),
    ],
)
def test_unreadable_fields_are_refused(mutate: Any, field: str) -> None:
    report = copy.deepcopy(NABIL_Q4)
    mutate(report)
    with pytest.raises(BadReport) as caught:
        filing_rows([report], security_id=131, symbol="NABIL")
    assert field in caught.value.field or field in str(caught.value)


@pytest.mark.parametrize(
    ("mutate", "location"),
    [
        (lambda r: r["fiscalReport"].update(epsValue="n/a"), "fiscalReport.epsValue"),
        (lambda r: r["fiscalReport"].update(epsValue="28.36"), "fiscalReport.epsValue"),
        (lambda r: r["fiscalReport"].update(profitAmount=""), "fiscalReport.profitAmount"),
        (lambda r: r["fiscalReport"].update(netWorthPerShare=float("nan")), "fiscalReport.netWorthPerShare"),
        (lambda r: r["fiscalReport"].update(peValue=True), "fiscalReport.peValue"),
        (lambda r: r.update(id="46727"), "id"),
        (
            lambda r: r["applicationDocumentDetailsList"][0].update(submittedDate="06/08/2026"),
            "applicationDocumentDetailsList.0.submittedDate",
        ),
    ],
)
def test_mistyped_values_are_refused_once_at_the_client_model(mutate: Any, location: str) -> None:
    """A number sent as text is malformed, not coerced: the client's Report model refuses the row (the
    client raises NepseRowError naming the field) and the filings asset fails that symbol alone."""
    report = copy.deepcopy(NABIL_Q4)
    mutate(report)
    with pytest.raises(ValidationError) as caught:
        Report.model_validate(report)
    assert ".".join(str(part) for part in caught.value.errors()[0]["loc"]) == location


def test_missing_amounts_are_null() -> None:
    report = copy.deepcopy(NABIL_Q4)
    report["fiscalReport"].update(peValue=None)
    del report["fiscalReport"]["profitAmount"]
    row = filing_rows([report], security_id=131, symbol="NABIL").filings[0]
    assert (row["eps"], row["pe"], row["profit"]) == (28.36, None, None)


def test_an_identical_repeat_is_kept_once_and_a_conflicting_one_refused() -> None:
    rows = filing_rows([NABIL_Q4, copy.deepcopy(NABIL_Q4)], security_id=131, symbol="NABIL")
    assert len(rows.filings) == 1 and len(rows.documents) == 1
    changed = copy.deepcopy(NABIL_Q4)
    changed["fiscalReport"]["epsValue"] = 1.0
    with pytest.raises(BadReport, match="repeats 46727 with different content"):
        filing_rows([NABIL_Q4, changed], security_id=131, symbol="NABIL")


def test_no_reports_is_no_rows() -> None:
    rows = filing_rows([], security_id=131, symbol="NABIL")
    assert rows.filings == [] and rows.documents == []


def test_changed_symbol_groups_cover_exactly_the_changed_symbols_in_contiguous_runs() -> None:
    symbols = ["A", "B", "C", "D", "E", "F"]
    assert changed_symbol_groups(symbols, {"B", "C", "E"}, max_per_group=25) == [("B", "C"), ("E",)]
    assert changed_symbol_groups(symbols, set(symbols), max_per_group=4) == [("A", "B", "C", "D"), ("E", "F")]
    assert changed_symbol_groups(symbols, {"Z"}, max_per_group=25) == []
    assert changed_symbol_groups([], set(), max_per_group=25) == []


# --- refresh order ------------------------------------------------------------------------------------


def test_never_fetched_groups_come_first_and_each_group_is_a_contiguous_range() -> None:
    symbols = ["A", "B", "C", "D", "E", "F", "G"]
    groups = refresh_groups(symbols, {"C", "D", "G"}, max_per_group=25)
    assert [(g.symbols, g.priority) for g in groups] == [
        (("C", "D"), NEVER_FETCHED_PRIORITY),
        (("G",), NEVER_FETCHED_PRIORITY),
        (("A", "B"), REFRESH_PRIORITY),
        (("E", "F"), REFRESH_PRIORITY),
    ]
    for group in groups:
        start = symbols.index(group.first)
        assert list(group.symbols) == symbols[start : start + len(group.symbols)]


def test_groups_are_cut_at_the_maximum_and_cover_every_symbol_once() -> None:
    symbols = [f"S{i:03d}" for i in range(60)]
    never = set(symbols[50:])
    groups = refresh_groups(symbols, never, max_per_group=25)
    assert [len(g.symbols) for g in groups] == [10, 25, 25]
    assert groups[0].never_fetched and not groups[1].never_fetched
    assert sorted(s for g in groups for s in g.symbols) == symbols


def test_refresh_groups_edge_cases() -> None:
    assert refresh_groups([], set(), max_per_group=3) == []
    assert [g.symbols for g in refresh_groups(["A", "B"], {"Z"}, max_per_group=1)] == [("A",), ("B",)]
    with pytest.raises(ValueError):
        refresh_groups(["A"], set(), max_per_group=0)
