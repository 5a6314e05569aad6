"""The universe rule on the real 2025-12-04 payloads, and on synthetic rows for each reason and error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from ntx_assets.nepse.models import Company, Security, SecurityDetail
from ntx_assets.universe import rule as universe
from ntx_assets.universe.rule import (
    DEBENTURE,
    DELISTED,
    INACTIVE,
    INCLUDED,
    MUTUAL_FUND,
    NOT_A_COMPANY,
    PREFERENCE_SHARE,
    PROMOTER_SHARE,
    REASONS,
    SUSPENDED,
    included_symbols,
    summarize,
)
from ntx_assets_tests.tools.standin.snapshots import SNAPSHOT_DIR
from ntx_assets_tests.universe.classified import classify

SNAPSHOT = SNAPSHOT_DIR  # the real 2025-12-04 NEPSE answers the stand-in serves
EXPECTED = Path(__file__).resolve().parents[1] / "data" / "universe_2025-12-04_expected_symbols.txt"


def _load(name: str) -> Any:
    return json.loads((SNAPSHOT / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def payloads() -> dict[str, list[dict[str, Any]]]:
    return {
        "companies": _load("static__companies.json"),
        "securities": _load("static__non_delisted.json"),
        "promoters": _load("static__promoters.json")["content"],
    }


@pytest.fixture(scope="module")
def real(payloads: dict[str, list[dict[str, Any]]]) -> pd.DataFrame:
    return classify(payloads["companies"], payloads["securities"], payloads["promoters"])


def _reason_of(frame: pd.DataFrame, symbol: str) -> str:
    rows = frame[frame["symbol"] == symbol]
    assert len(rows) == 1, f"{symbol}: {len(rows)} rows"
    return str(rows["reason"].iloc[0])


# --- the real snapshot ---------------------------------------------------------------------------------


def test_real_snapshot_selects_exactly_the_expected_symbols(real: pd.DataFrame) -> None:
    expected = {
        line.strip()
        for line in EXPECTED.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert len(expected) == 259
    selected = included_symbols(real)
    assert len(selected) == len(set(selected)) == 259
    assert set(selected) == expected


def test_real_snapshot_has_one_row_per_id_sorted(
    real: pd.DataFrame, payloads: dict[str, list[dict[str, Any]]]
) -> None:
    ids = {row["id"] for rows in payloads.values() for row in rows}
    assert list(real["security_id"]) == sorted(ids)
    assert real["security_id"].is_unique
    assert set(universe.COLUMNS) == set(real.columns)
    assert real["security_id"].dtype == "int64"
    # Missing text stays None (NULL in the database), never NaN.
    assert real["website"].map(lambda v: v is None or isinstance(v, str)).all()


def test_real_snapshot_reason_counts_add_up(real: pd.DataFrame) -> None:
    company_rows = int(real["in_company_list"].sum())
    security_only = int((real["in_security_list"] & ~real["in_company_list"]).sum())
    promoter_only = int(
        (real["in_promoter_list"] & ~real["in_security_list"] & ~real["in_company_list"]).sum()
    )
    assert (company_rows, security_only, promoter_only) == (612, 137, 13)
    assert len(real) == company_rows + security_only + promoter_only

    summary = summarize(real)
    assert summary["by_reason"] == {
        INCLUDED: 259,
        DELISTED: 183,
        SUSPENDED: 25,
        DEBENTURE: 86,
        MUTUAL_FUND: 57,
        PREFERENCE_SHARE: 2,
        PROMOTER_SHARE: 150,
    }
    assert sum(summary["by_reason"].values()) == summary["rows"] == len(real)
    assert summary["included"] == 259 and summary["excluded"] == len(real) - 259
    assert sum(summary["included_by_sector"].values()) == 259
    assert "Mutual Fund" not in summary["included_by_sector"]
    # Every excluded row says why; every included one is active ordinary equity from the company list.
    excluded = real[~real["included"]]
    assert (excluded["reason"] != INCLUDED).all() and excluded["reason"].isin(REASONS).all()
    included = real[real["included"]]
    assert (included["reason"] == INCLUDED).all()
    assert included["in_company_list"].all() and not included["is_promoter"].any()
    assert (included["instrument_type"] == "Equity").all() and (included["status"] == "A").all()


def test_real_snapshot_without_optional_lists(payloads: dict[str, list[dict[str, Any]]]) -> None:
    # The company list alone already yields the 259: promoter shares are not in it.
    only_companies = classify(payloads["companies"])
    assert len(only_companies) == 612
    assert len(included_symbols(only_companies)) == 259


@pytest.mark.parametrize("symbol", ["SEF", "NBF2", "KSY", "GSY", "RSY"])
def test_mutual_funds_under_bank_sectors_are_excluded(real: pd.DataFrame, symbol: str) -> None:
    row = real[real["symbol"] == symbol].iloc[0]
    assert row["sector"] != "Mutual Fund"  # the trap a sector filter falls into
    assert row["reason"] == MUTUAL_FUND and not row["included"]


@pytest.mark.parametrize("symbol", ["RURU", "SAPDBL", "UPPER", "MBJC", "NABIL", "NIMB"])
def test_name_pattern_lookalikes_are_included(real: pd.DataFrame, symbol: str) -> None:
    assert _reason_of(real, symbol) == INCLUDED


@pytest.mark.parametrize(
    ("symbol", "reason"),
    [
        ("NABILP", PROMOTER_SHARE),  # in the promoter list, isPromoter Y
        ("MBLPO", PROMOTER_SHARE),  # "Promotor Share" spelling
        ("ACLBSLP", PROMOTER_SHARE),  # security list only, "Promoter Share" in the name
        ("HBLPO", PROMOTER_SHARE),  # security list only, bare "Promoter" (label only; excluded anyway)
        ("BOKLPO", PROMOTER_SHARE),  # promoter list only, delisted: what it is beats its status
        ("YHL", SUSPENDED),
        ("NTL", SUSPENDED),
        ("NFD", SUSPENDED),
        ("BOKL", DELISTED),
        ("NCCB", DELISTED),
        ("EBLD86", DEBENTURE),  # its securityName is just "Everest Bank Limited"
    ],
)
def test_real_snapshot_reasons(real: pd.DataFrame, symbol: str, reason: str) -> None:
    assert _reason_of(real, symbol) == reason


def test_real_snapshot_uses_no_not_a_company(real: pd.DataFrame) -> None:
    # Every security-list-only row on 2025-12-04 is a promoter share by flag or name.
    assert not (real["reason"] == NOT_A_COMPANY).any()


# --- synthetic rows: one case per reason ----------------------------------------------------------------


def company(
    id_: int = 1,
    symbol: str = "ABC",
    *,
    status: str | None = "A",
    instrument: str | None = "Equity",
    name: str = "ABC Limited",
    sector: str = "Hydro Power",
) -> dict[str, Any]:
    return {
        "id": id_,
        "companyName": name,
        "symbol": symbol,
        "securityName": name,
        "status": status,
        "companyEmail": None,
        "website": "www.abc.com.np",
        "sectorName": sector,
        "regulatoryBody": "N/A",
        "instrumentType": instrument,
    }


def security(
    id_: int = 1, symbol: str = "ABC", *, status: str = "A", name: str = "ABC Limited"
) -> dict[str, Any]:
    return {
        "id": id_,
        "symbol": symbol,
        "securityName": name,
        "name": f"({symbol}) {name}",
        "activeStatus": status,
    }


def promoter(id_: int = 2, symbol: str = "ABCP", *, status: str = "A", flag: str = "Y") -> dict[str, Any]:
    return {
        "id": id_,
        "symbol": symbol,
        "securityName": "ABC Limited Ordinary",
        "isPromoter": flag,
        "activeStatus": status,
        "instrumentType": {"id": 1, "code": "EQ", "description": "Equity", "activeStatus": "A"},
        "companyId": {
            "companyWebsite": "www.abc.com.np",
            "sectorMaster": {"sectorDescription": "Hydro Power"},
        },
    }


# (companies, securities, promoters) -> reason of security id 1 (or 2 for promoter-only rows).
CASES: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], int, str]] = [
    ("active equity", [company()], [security()], [], 1, INCLUDED),
    ("company list only", [company()], [], [], 1, INCLUDED),
    ("mutual fund", [company(instrument="Mutual Funds", sector="Commercial Banks")], [], [], 1, MUTUAL_FUND),
    ("debenture", [company(instrument="Non-Convertible Debentures")], [], [], 1, DEBENTURE),
    ("preference share", [company(instrument="Preference Shares")], [], [], 1, PREFERENCE_SHARE),
    ("new instrument", [company(instrument="Green Bonds")], [], [], 1, "unknown_instrument:Green Bonds"),
    ("null instrument", [company(instrument=None)], [], [], 1, "unknown_instrument:None"),
    ("delisted fund", [company(status="D", instrument="Mutual Funds")], [], [], 1, MUTUAL_FUND),
    ("delisted", [company(status="D")], [], [], 1, DELISTED),
    ("suspended in company list", [company(status="S")], [security(status="S")], [], 1, SUSPENDED),
    ("suspended in security list only", [company()], [security(status="S")], [], 1, SUSPENDED),
    ("delisted in security list", [company()], [security(status="D")], [], 1, DELISTED),
    ("inactive", [company(status="I")], [], [], 1, INACTIVE),
    ("inactive in security list", [company()], [security(status="I")], [], 1, INACTIVE),
    ("new status", [company(status="X")], [], [], 1, "unknown_status:X"),
    ("null company status", [company(status=None)], [security()], [], 1, "unknown_status:None"),
    (
        "promoter by name in company list",
        [company(name="ABC Limited Promoter Share")],
        [],
        [],
        1,
        PROMOTER_SHARE,
    ),
    ("promoter by flag, same id", [company()], [], [promoter(id_=1, symbol="ABC")], 1, PROMOTER_SHARE),
    ("promoter list only", [company()], [], [promoter()], 2, PROMOTER_SHARE),
    ("inactive promoter", [company()], [], [promoter(status="I")], 2, PROMOTER_SHARE),
    (
        "promotor spelling in security list",
        [company()],
        [security(2, "ABCPO", name="ABC Limited Promotor Share")],
        [],
        2,
        PROMOTER_SHARE,
    ),
    ("security list only", [company()], [security(2, "XYZ", name="XYZ Bond")], [], 2, NOT_A_COMPANY),
    ("security list only, suspended", [company()], [security(2, "XYZ", status="S")], [], 2, NOT_A_COMPANY),
    ("promoter list row with flag N", [company()], [], [promoter(flag="N")], 2, NOT_A_COMPANY),
    (
        "yojana in the name is not a fund",
        [company(name="Ru Ru Jalbidhyut Pariyojana Limited")],
        [],
        [],
        1,
        INCLUDED,
    ),
    ("fund sector on equity is kept", [company(sector="Mutual Fund")], [], [], 1, INCLUDED),
]


@pytest.mark.parametrize(
    ("companies", "securities", "promoters", "security_id", "reason"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_reason(
    companies: list[dict[str, Any]],
    securities: list[dict[str, Any]],
    promoters: list[dict[str, Any]],
    security_id: int,
    reason: str,
) -> None:
    frame = classify(companies, securities, promoters)
    row = frame[frame["security_id"] == security_id].iloc[0]
    assert row["reason"] == reason
    assert bool(row["included"]) is (reason == INCLUDED)


def test_every_fixed_reason_has_a_case() -> None:
    # not_permitted_to_trade comes from the classification list: its own test below.
    assert {case[-1] for case in CASES} >= set(REASONS) - {universe.NOT_PERMITTED_TO_TRADE}


def test_long_unknown_instrument_fits_the_reason_column() -> None:
    frame = classify([company(instrument="X" * 200)])
    assert len(frame["reason"].iloc[0]) == universe.MAX_REASON_LENGTH


def test_symbol_rename_keeps_the_id_and_takes_the_company_list_symbol() -> None:
    # id 132 was NIB before the merger and is NIMB after it; one row, keyed on the id, new symbol.
    frame = classify(
        [company(132, "NIMB", name="Nepal Investment Mega Bank Limited")],
        [security(132, "NIB", name="Nepal Investment Bank Limited")],
    )
    assert len(frame) == 1
    row = frame.iloc[0]
    assert (row["security_id"], row["symbol"], row["reason"]) == (132, "NIMB", INCLUDED)
    assert row["in_company_list"] and row["in_security_list"]


def test_identical_duplicate_rows_are_merged() -> None:
    frame = classify([company(), company()], [security(), security()])
    assert len(frame) == 1


def test_rows_are_not_mutated() -> None:
    rows = [company()]
    before = json.dumps(rows, sort_keys=True)
    classify(rows, [security()], [promoter()])
    assert json.dumps(rows, sort_keys=True) == before


def test_summarize_and_included_symbols() -> None:
    frame = classify(
        [company(3, "ZED"), company(1, "ABC"), company(2, "MF", instrument="Mutual Funds", sector="Finance")]
    )
    assert included_symbols(frame) == ["ABC", "ZED"]
    summary = summarize(frame)
    assert summary == {
        "rows": 3,
        "included": 2,
        "excluded": 1,
        "by_reason": {INCLUDED: 2, MUTUAL_FUND: 1},
        "included_by_sector": {"Hydro Power": 2},
    }
    assert all(type(v) is int for v in summary["by_reason"].values())


# --- validation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"companies": []}, "company list is empty"),
        (
            {"companies": [{"id": 1, "symbol": "  ", "status": "A", "instrumentType": "Equity"}]},
            "no 'symbol'",
        ),
        ({"companies": [{"id": 1, "symbol": "ABC", "instrumentType": "Equity"}]}, "has no 'status'"),
        ({"companies": [{"id": 1, "symbol": "ABC", "status": "A"}]}, "has no 'instrumentType'"),
        ({"companies": [company(1, "ABC"), company(1, "ABD")]}, "different symbol ('ABC' and 'ABD')"),
        ({"companies": [company(), company(status="S")]}, "different status"),
        ({"companies": [company()], "securities": [security(1, "A"), security(1, "B")]}, "security list"),
        ({"companies": [company(1, "ABC"), company(2, "ABC")]}, "share a symbol (ABC: ids [1, 2])"),
    ],
)
def test_bad_input_is_refused_with_the_fix(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        classify(**kwargs)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("model", "row", "location"),
    [
        (Company, {"symbol": "ABC", "status": "A", "instrumentType": "Equity"}, "id"),
        (Company, {"id": None, "symbol": "ABC", "status": "A", "instrumentType": "Equity"}, "id"),
        (Company, {"id": "1", "symbol": "ABC", "status": "A", "instrumentType": "Equity"}, "id"),
        (Company, {"id": 1, "status": "A", "instrumentType": "Equity"}, "symbol"),
        (Security, {"symbol": "ABC"}, "id"),
        (SecurityDetail, {"id": 5}, "symbol"),
    ],
)
def test_a_row_of_the_wrong_shape_is_refused_by_the_client_model(
    model: type[Any], row: dict[str, Any], location: str
) -> None:
    """Ids are integers and symbols text, or the client refuses the row (NepseRowError names the field):
    classify only ever sees typed records."""
    with pytest.raises(ValidationError) as caught:
        model.model_validate(row)
    assert caught.value.errors()[0]["loc"] == (location,)


def test_duplicate_symbol_is_fine_when_only_one_is_included() -> None:
    # A delisted company's symbol reused by a new listing must not block the universe.
    frame = classify([company(1, "ABC", status="D"), company(2, "ABC")])
    assert included_symbols(frame) == ["ABC"]


def test_a_company_nepse_does_not_permit_to_trade_is_excluded_saying_so() -> None:
    # NEPSE's classification rows (the 259 active equities of 2025-12-04) all say "Y"; promoter shares,
    # which cannot be traded, say "N". A company the rule includes but NEPSE marks "N" cannot be traded
    # either, like a suspended one: it leaves the universe.
    frame = classify([company()], [security()], [], not_permitted_to_trade={1})
    row = frame.iloc[0]
    assert (bool(row["included"]), row["reason"]) == (False, universe.NOT_PERMITTED_TO_TRADE)
    fund = classify([company(instrument="Mutual Funds")], [], [], not_permitted_to_trade={1}).iloc[0]
    assert fund["reason"] == MUTUAL_FUND  # the first reason that applies is the one given
    assert classify([company()], [security()], [], not_permitted_to_trade={2}).iloc[0]["included"]
