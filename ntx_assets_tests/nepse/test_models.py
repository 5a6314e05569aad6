"""Every row of every real 2025-12-04 snapshot parses, and dumps back to the raw row."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import ntx_assets_tests.tools.standin
from ntx_assets.nepse.models import (
    Company,
    Holiday,
    IndexHistoryRow,
    MarketStatus,
    Page,
    PriceHistoryRow,
    Report,
    Security,
    SecurityDetail,
    TodayPrice,
)
from ntx_assets.universe.rule import classify

SNAPSHOTS = Path(ntx_assets_tests.tools.standin.__file__).parent / "snapshots" / "2025-12-04"
EXPECTED_SYMBOLS = Path(__file__).parents[1] / "data" / "universe_2025-12-04_expected_symbols.txt"


def _load(name: str) -> Any:
    return json.loads((SNAPSHOTS / name).read_text(encoding="utf-8"))


def _rows(name: str) -> list[dict[str, Any]]:
    data = _load(name)
    if isinstance(data, dict) and "content" in data:
        Page.model_validate(data)  # the envelope parses too
        return data["content"]
    return data if isinstance(data, list) else [data]


CASES: list[tuple[str, type[BaseModel], int]] = [
    ("static__companies.json", Company, 612),
    ("static__non_delisted.json", Security, 543),
    ("static__promoters.json", SecurityDetail, 20),
    ("static__classifications.json", SecurityDetail, 20),
    ("daily__2025-12-04__today_price.json", TodayPrice, 20),
    ("historical__securities__security_131_extended.json", PriceHistoryRow, 226),
    ("historical__securities__security_131_history.json", PriceHistoryRow, 18),
    ("historical__securities__security_136_history.json", PriceHistoryRow, 0),
    ("historical__indices__index_58_history.json", IndexHistoryRow, 20),
    ("daily__2025-12-04__market_state.json", MarketStatus, 1),
    ("static__holidays_2024.json", Holiday, 37),
    ("static__holidays_2025.json", Holiday, 46),
]


@pytest.mark.parametrize(("name", "model", "count"), CASES, ids=[case[0] for case in CASES])
def test_every_snapshot_row_parses_and_round_trips(name: str, model: type[BaseModel], count: int) -> None:
    rows = _rows(name)
    assert len(rows) == count
    for row in rows:
        assert model.model_validate(row).model_dump(by_alias=True) == row


def test_holiday_years_snapshot_is_a_list_of_ints() -> None:
    years = _load("static__holidays.json")
    assert years[0] == 2026 and all(isinstance(year, int) for year in years)


def test_the_product_rule_selects_the_expected_259_from_the_parsed_lists() -> None:
    """classify on the 2025-12-04 lists as the client parses them: exactly the 259 symbols listed (made
    once with jq, independently of ntx_assets.universe.rule)."""
    companies = [Company.model_validate(row) for row in _rows("static__companies.json")]
    securities = [Security.model_validate(row) for row in _rows("static__non_delisted.json")]
    promoters = [SecurityDetail.model_validate(row) for row in _rows("static__promoters.json")]
    universe = classify(companies, securities, promoters)
    expected = {
        line.strip()
        for line in EXPECTED_SYMBOLS.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert len(expected) == 259
    assert set(universe.loc[universe["included"], "symbol"]) == expected


def test_typed_fields_of_the_security_object() -> None:
    nabil = SecurityDetail.model_validate(_rows("static__classifications.json")[0])
    assert (nabil.id, nabil.symbol, nabil.listing_date) == (131, "NABIL", date(1985, 11, 24))
    assert nabil.sector_name == "Commercial Banks"
    assert nabil.share_group is not None and nabil.share_group.name == "A"
    assert nabil.instrument_type is not None and nabil.instrument_type.code == "EQ"
    promoter = SecurityDetail.model_validate(_rows("static__promoters.json")[0])
    assert promoter.is_promoter == "Y"


def test_typed_fields_of_prices_and_status() -> None:
    price = TodayPrice.model_validate(_rows("daily__2025-12-04__today_price.json")[0])
    assert (price.security_id, price.business_date, price.open_price) == (2790, date(2025, 12, 3), 1017.0)
    bar = PriceHistoryRow.model_validate(_rows("historical__securities__security_131_extended.json")[0])
    assert (bar.business_date, bar.close_price, bar.total_traded_quantity) == (
        date(2025, 12, 3),
        510.2,
        25319,
    )
    status = MarketStatus.model_validate(_load("daily__2025-12-04__market_state.json"))
    assert (status.id, status.business_date, status.market_open) == (80, date(2025, 12, 3), False)
    assert status.closed  # the real 2025-12-04 answer: {"isOpen":"CLOSE", ...}


def test_unknown_fields_are_kept() -> None:
    row = {"id": 1, "symbol": "X", "brandNewField": {"nested": [1, 2]}}
    assert Company.model_validate(row).model_dump(by_alias=True) == row


def test_report_model_per_the_documented_shape() -> None:
    # docs/NEPSE_API.md 2.8 sample (NEPAPI fixture), with the nested ids the go-nepse types declare.
    row = {
        "id": 46727,
        "activeStatus": "A",
        "modifiedDate": "2026-08-06T09:37:02.187",
        "applicationType": None,
        "applicationStatus": None,
        "fiscalReport": {
            "id": 9,
            "quarterMaster": {"id": 4, "quarterName": "Fourth Quarter"},
            "reportTypeMaster": {"id": 1, "reportName": "Quarterly Report"},
            "financialYear": {
                "id": 25,
                "fyName": "2025-2026",
                "fyNameNepali": "2082-2083",
                "fromYear": "2025-07-17",
                "toYear": "2026-07-16",
            },
            "peValue": 18.86,
            "epsValue": 28.36,
            "paidUpCapital": 27059000000.0,
            "profitAmount": None,
            "netWorthPerShare": 215.1,
            "remarks": None,
        },
        "applicationDocumentDetailsList": [
            {
                "id": 77,
                "submittedDate": "2026-08-06",
                "filePath": "nabil_user/2026-08-06/Nabil Bank Limited 4th Quarter.pdf",
                "encryptedId": "abc123",
            }
        ],
    }
    report = Report.model_validate(row)
    assert report.model_dump(by_alias=True) == row
    assert report.fiscal_report is not None and report.fiscal_report.quarter_master is not None
    assert report.fiscal_report.quarter_master.quarter_name == "Fourth Quarter"
    assert report.fiscal_report.financial_year is not None
    assert report.fiscal_report.financial_year.from_year == date(2025, 7, 17)
    assert report.documents[0].file_path == "nabil_user/2026-08-06/Nabil Bank Limited 4th Quarter.pdf"
    annual = Report.model_validate({"id": 1, "fiscalReport": {"quarterMaster": None}})
    assert annual.documents == [] and annual.fiscal_report is not None
    assert annual.fiscal_report.quarter_master is None


@pytest.mark.parametrize(("state", "closed"), [("CLOSE", True), ("OPEN", False), ("Pre Open", False)])
def test_market_status_closed_means_nepse_said_close(state: str, closed: bool) -> None:
    raw = {**_load("daily__2025-12-04__market_state.json"), "isOpen": state}
    assert MarketStatus.model_validate(raw).closed is closed


def test_tradable_follows_permitted_to_trade_on_the_real_rows() -> None:
    classified = [SecurityDetail.model_validate(r) for r in _rows("static__classifications.json")]
    promoters = [SecurityDetail.model_validate(r) for r in _rows("static__promoters.json")]
    assert all(s.tradable for s in classified)  # the 2025-12-04 page: every row "Y"
    assert {s.tradable for s in promoters} == {True, False}
    assert all(s.tradable == (s.permitted_to_trade == "Y") for s in promoters)


def test_typed_fields_of_the_index_history() -> None:
    """The real NEPSE index capture: page 0 of 12 (totalElements 227, about a year), newest first, each
    row index 58 with its open, high, low and close."""
    page = Page.model_validate(_load("historical__indices__index_58_history.json"))
    assert (page.total_elements, page.total_pages, page.number) == (227, 12, 0)
    rows = [IndexHistoryRow.model_validate(row) for row in page.content]
    assert rows[0].business_date == date(2025, 12, 3) and rows[0].closing_index == 2631.17
    assert (rows[0].turnover_volume, rows[0].total_transaction) == (10032760, 66677)
    assert [row.business_date for row in rows] == sorted((row.business_date for row in rows), reverse=True)
    assert {row.exchange_index_id for row in rows} == {58}
    for row in rows:
        assert row.low_index <= min(row.open_index, row.closing_index) <= row.high_index  # type: ignore[operator]
    text_close = {**page.content[0], "closingIndex": "2631.17"}
    with pytest.raises(ValueError, match="closingIndex"):
        IndexHistoryRow.model_validate(text_close)
