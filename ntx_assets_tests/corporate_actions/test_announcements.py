"""ntx_assets.corporate_actions.announcements: announced actions -> rows, and which action explains a
re-basing (pure).

The expected bases are NEPSE's published examples (docs/NEPSE_API.md section 8), written out by hand."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from ntx_assets.corporate_actions.announcements import (
    BONUS,
    BONUS_AND_RIGHT,
    CASH_DIVIDEND,
    CORPORATE_ACTION,
    DIVIDEND_NOTICE,
    RIGHT,
    UNEXPLAINED,
    BadCorporateAction,
    action_rows,
    assign_closures,
    explain_rebasings,
)
from ntx_assets.nepse.models import CorporateAction, DividendApplication

D = dt.date
CAPTURES = Path(__file__).parents[1] / "data" / "public-captures"

# go-nepse's sample row shape (docs/NEPSE_API.md section 8): an 18.5% bonus given as a ratio only.
ACTION: dict[str, Any] = {
    "sdId": 501,
    "activeStatus": "BONUS_APPROVED",
    "authorizationComments": "approved",
    "submittedDate": "2026-02-10",
    "filePath": None,
    "documentId": 9001,
    "ratioNum": 185000.0,
    "ratioDen": 1000000.0,
    "cashDividend": None,
    "fiscalYear": "2081-2082",
    "rightAmountPerShare": None,
    "bonusPercentage": None,
    "rightPercentage": None,
}
NOTICE: dict[str, Any] = {
    "id": 77,
    "activeStatus": "A",
    "modifiedDate": "2026-02-11T10:15:00.123",
    "applicationType": 3,
    "applicationStatus": 2,
    "companyNews": {
        "id": 5,
        "newsSource": "NEPSE",
        "newsHeadline": "Dividend declared",
        "newsBody": "...",
        "newsType": "Dividend Declaration",
        "expiryDate": "2026-03-01",
        "dividendsNotice": {
            "financialYear": {"fyName": "2024-2025", "fyNameNepali": "2081-2082"},
            "cashDividend": 2.5,
            "bonusShare": 18.5,
            "rightShare": None,
            "remarks": None,
        },
    },
}


def test_both_endpoints_become_rows_keyed_on_nepse_ids() -> None:
    rows = action_rows(
        [CorporateAction.model_validate(ACTION)],
        [DividendApplication.model_validate(NOTICE)],
        security_id=131,
        symbol="NABIL",
    )
    assert rows == [
        {
            "source": CORPORATE_ACTION,
            "nepse_id": 501,
            "security_id": 131,
            "symbol": "NABIL",
            "fiscal_year": "2081-2082",
            "status": "BONUS_APPROVED",
            "announced_on": D(2026, 2, 10),
            "bonus_pct": pytest.approx(18.5),
            "right_pct": None,
            "right_price": None,
            "cash_dividend_pct": None,
        },
        {
            "source": DIVIDEND_NOTICE,
            "nepse_id": 77,
            "security_id": 131,
            "symbol": "NABIL",
            "fiscal_year": "2081-2082",
            "status": "A",
            "announced_on": D(2026, 2, 11),
            "bonus_pct": 18.5,
            "right_pct": None,
            "right_price": None,
            "cash_dividend_pct": 2.5,
        },
    ]


def test_a_mistyped_or_keyless_row_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="bonusPercentage"):
        CorporateAction.model_validate({**ACTION, "bonusPercentage": "10"})
    with pytest.raises(ValidationError, match="sdId"):
        CorporateAction.model_validate({k: v for k, v in ACTION.items() if k != "sdId"})
    bad_date = CorporateAction.model_validate({**ACTION, "submittedDate": "10/02/2026"})
    with pytest.raises(BadCorporateAction, match=r"NABIL: row 501 field 'submittedDate'"):
        action_rows([bad_date], [], security_id=131, symbol="NABIL")


def actions(*rows: dict[str, Any]) -> pd.DataFrame:
    defaults = {
        "source": CORPORATE_ACTION,
        "security_id": 1,
        "symbol": "X",
        "fiscal_year": "2082-2083",
        "status": None,
        "announced_on": D(2026, 1, 10),
        "bonus_pct": None,
        "right_pct": None,
        "right_price": None,
        "cash_dividend_pct": None,
    }
    return pd.DataFrame([{**defaults, "nepse_id": index + 1, **row} for index, row in enumerate(rows)])


EX_DATE = D(2026, 2, 2)


def rebasing(
    prior_close: float, adjusted_base: float, ex_date: dt.date = EX_DATE, security_id: int = 1
) -> dict[str, Any]:
    return {
        "security_id": security_id,
        "ex_date": ex_date,
        "factor": adjusted_base / prior_close,
        "prior_close": prior_close,
        "adjusted_base": adjusted_base,
    }


def explain(rebasings: list[dict[str, Any]], announced: pd.DataFrame) -> list[tuple[Any, ...]]:
    out = explain_rebasings(pd.DataFrame(rebasings), announced)
    return list(out[["explanation", "action_id"]].itertuples(index=False, name=None))


@pytest.mark.parametrize(
    ("prior", "base", "announced", "kind"),
    [
        (327.0, 297.27, {"bonus_pct": 10.0}, BONUS),  # published: 10% bonus 327 -> 297.27
        (395.0, 374.41, {"bonus_pct": 5.5}, BONUS),
        (2110.0, 1971.96, {"bonus_pct": 7.0}, BONUS),
        (2332.0, 1943.33, {"bonus_pct": 20.0}, BONUS),
        (390.0, 332.0, {"right_pct": 25.0}, RIGHT),  # (390 + 100 x 0.25) / 1.25, issue price the par
        (500.0, 300.0, {"right_pct": 100.0, "right_price": 100.0}, RIGHT),  # 1:1 at 100
        (600.0, 304.55, {"bonus_pct": 10.0, "right_pct": 100.0}, BONUS_AND_RIGHT),  # (600 + 100) / 2.1 + 0.2
        (400.0, 380.0, {"cash_dividend_pct": 20.0}, CASH_DIVIDEND),  # Rs 20 a share
    ],
)
def test_each_kind_is_explained_by_its_formula(prior: float, base: float, announced: dict, kind: str) -> None:
    if kind == BONUS_AND_RIGHT:
        base = round((prior + 100.0) / 2.1, 2)
    assert explain([rebasing(prior, base)], actions(announced)) == [(kind, "1")]


def test_five_and_five_and_a_half_percent_are_told_apart() -> None:
    announced = actions({"bonus_pct": 5.0}, {"bonus_pct": 5.5})
    assert explain([rebasing(395.0, 374.41)], announced) == [(BONUS, "2")]
    assert explain([rebasing(395.0, 376.19)], announced) == [(BONUS, "1")]  # 395 / 1.05


def test_a_bonus_row_and_a_right_row_explain_one_closure_together() -> None:
    announced = actions({"bonus_pct": 10.0}, {"right_pct": 100.0, "source": DIVIDEND_NOTICE})
    base = round((600.0 + 100.0) / 2.1, 2)
    assert explain([rebasing(600.0, base)], announced) == [(BONUS_AND_RIGHT, "1+2")]


def test_unexplained_when_no_formula_fits_or_the_announcement_is_too_late_or_used() -> None:
    assert explain([rebasing(327.0, 280.0)], actions({"bonus_pct": 10.0})) == [(UNEXPLAINED, None)]
    late = actions({"bonus_pct": 10.0, "announced_on": D(2026, 2, 3)})  # after the ex-date
    assert explain([rebasing(327.0, 297.27)], late) == [(UNEXPLAINED, None)]
    stale = actions({"bonus_pct": 10.0, "announced_on": D(2024, 1, 1)})  # more than 400 days before
    assert explain([rebasing(327.0, 297.27)], stale) == [(UNEXPLAINED, None)]
    # One announcement explains one re-basing: the second identical drop has nothing left.
    twice = [rebasing(327.0, 297.27), rebasing(330.0, 300.0, ex_date=D(2026, 3, 2))]
    assert explain(twice, actions({"bonus_pct": 10.0})) == [(BONUS, "1"), (UNEXPLAINED, None)]


def test_other_securities_actions_never_explain() -> None:
    assert explain([rebasing(327.0, 297.27, security_id=2)], actions({"bonus_pct": 10.0})) == [
        (UNEXPLAINED, None)
    ]
    assert explain([rebasing(327.0, 297.27)], actions()) == [(UNEXPLAINED, None)]


def test_the_ratio_stands_for_a_bonus_only_when_no_percentage_is_given() -> None:
    right = {**ACTION, "activeStatus": "RIGHT_APPROVED", "rightPercentage": 100.0, "ratioNum": 1.0}
    right["ratioDen"] = 1.0
    (row,) = action_rows([CorporateAction.model_validate(right)], [], security_id=1, symbol="X")
    assert (row["bonus_pct"], row["right_pct"]) == (None, 100.0)


def closures(*rows: tuple[dt.date, str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"security_id": 1, "book_close_date": closes, "fiscal_year": year} for closes, year in rows]
    )


def test_the_action_whose_book_closure_precedes_the_rebasing_wins() -> None:
    """Two 10% bonuses fit one re-basing: last year's (its book closed long ago) and this year's (its book
    closed the session before). The announced closure picks this year's, in either order of the rows."""
    announced = actions(
        {"bonus_pct": 10.0, "fiscal_year": "2081-2082", "announced_on": D(2025, 3, 1)},
        {"bonus_pct": 10.0, "fiscal_year": "2082-2083", "announced_on": D(2025, 2, 1)},
    )
    book = closures((D(2025, 4, 1), "2081-2082"), (D(2026, 1, 30), "2082-2083"))
    for order in (announced, announced.iloc[::-1]):
        out = explain_rebasings(pd.DataFrame([rebasing(327.0, 297.27)]), order, book)
        assert out["action_id"].tolist() == ["2"]
    # Without closures the later announcement wins (the old rule); with closures named by no fiscal year,
    # an action's closure is the first on or after its announcement.
    assert explain([rebasing(327.0, 297.27)], announced) == [(BONUS, "1")]
    unnamed = closures((D(2025, 2, 20), None), (D(2026, 1, 30), None))
    later = actions(
        {"bonus_pct": 10.0, "announced_on": D(2025, 2, 10)},
        {"bonus_pct": 10.0, "announced_on": D(2026, 1, 5)},
    )
    out = explain_rebasings(pd.DataFrame([rebasing(327.0, 297.27)]), later, unnamed)
    assert out["action_id"].tolist() == ["2"]
    # A closure after the re-basing makes an action the last choice.
    future = closures((D(2026, 3, 1), "2082-2083"))
    both = actions(
        {"bonus_pct": 10.0, "fiscal_year": "2082-2083", "announced_on": D(2026, 1, 20)},
        {"bonus_pct": 10.0, "fiscal_year": "2081-2082", "announced_on": D(2025, 6, 1)},
    )
    out = explain_rebasings(pd.DataFrame([rebasing(327.0, 297.27)]), both, future)
    assert out["action_id"].tolist() == ["2"]


def test_an_agm_closure_without_a_fiscal_year_belongs_to_the_action_with_its_terms() -> None:
    """NEPSE's AGM notice names the bonus and cash it approves, not its fiscal year. Two 10% bonuses fit a
    re-basing on 2026-02-02: the one announced 2025-12-01, whose closure (the first 10% one after it) was on
    2026-01-30, and the one announced 2026-01-20, whose closure (the next 10% one) comes 2026-03-10. The
    earlier announcement explains it, although the later one would win without the closures."""
    announced = actions(
        {"bonus_pct": 10.0, "announced_on": D(2025, 12, 1)},
        {"bonus_pct": 10.0, "announced_on": D(2026, 1, 20)},
    )
    book = pd.DataFrame(
        [
            {"security_id": 1, "book_close_date": D(2026, 1, 30), "fiscal_year": None, "bonus_pct": 10.0},
            {"security_id": 1, "book_close_date": D(2026, 3, 10), "fiscal_year": None, "bonus_pct": 10.0},
            {"security_id": 1, "book_close_date": D(2026, 1, 25), "fiscal_year": None, "bonus_pct": 15.0},
        ]
    )
    for order in (announced, announced.iloc[::-1]):
        out = explain_rebasings(pd.DataFrame([rebasing(330.0, 300.0)]), order, book)
        assert out["action_id"].tolist() == ["1"]
    assert explain([rebasing(330.0, 300.0)], announced) == [(BONUS, "2")]  # without closures
    assert assign_closures(announced, []) == {}


def test_live_captures_parse_in_either_order_and_date_a_notice_by_added_date() -> None:
    """The public captures: corporate actions oldest first (NABIL's 18.5% bonus row), and a 2026-09
    dividend notice with no modifiedDate, dated by companyNews.addedDate.

    The capture kept one corporate-action row; a second, derived from it (another sdId, the next fiscal
    year's 10% bonus submitted a year later), makes a list whose order NEPSE may give either way: oldest
    first as captured, or newest first. Both parse to the same rows, each with its own id, date and terms."""
    (captured,) = json.loads((CAPTURES / "ca_pratap22.json").read_text())
    later = captured | {
        "sdId": captured["sdId"] + 1,
        "submittedDate": "2024-01-05T11:02:13.101",
        "fiscalYear": "2080-2081",
        "ratioNum": 100000,
        "bonusPercentage": 10.0,
    }
    oldest_first, newest_first = [captured, later], [later, captured]
    assert oldest_first != newest_first  # the two inputs really differ
    parsed = [
        action_rows([CorporateAction.model_validate(r) for r in order], [], security_id=131, symbol="NABIL")
        for order in (oldest_first, newest_first)
    ]
    assert [row["nepse_id"] for row in parsed[0]] == [539, 540]
    assert [row["nepse_id"] for row in parsed[1]] == [540, 539]
    by_id = [{row["nepse_id"]: row for row in rows} for rows in parsed]
    assert by_id[0] == by_id[1]
    terms = {i: (r["bonus_pct"], r["announced_on"], r["fiscal_year"]) for i, r in by_id[0].items()}
    assert terms == {539: (18.5, D(2023, 1, 1), "2079-2080"), 540: (10.0, D(2024, 1, 5), "2080-2081")}
    notice = json.loads((CAPTURES / "div_ghaleyanish_asstored.json").read_text())[0]
    # The probe stored every value as text: typed here as NEPSE sends them (ids and amounts numbers).
    typed = {
        "id": 47328,
        "activeStatus": "A",
        "companyNews": {
            "id": 70585,
            "newsType": notice["companyNews"]["newsType"],
            "addedDate": notice["companyNews"]["addedDate"],
            "dividendsNotice": {
                "financialYear": notice["companyNews"]["dividendsNotice"]["financialYear"],
                "cashDividend": 10.8,
                "bonusShare": 5.0,
                "rightShare": 0.0,
            },
            "bookCloseNotice": None,
            "agmNotice": None,
        },
    }
    assert "modifiedDate" not in notice
    (row,) = action_rows([], [DividendApplication.model_validate(typed)], security_id=131, symbol="NABIL")
    assert row["announced_on"] == D(2026, 9, 6)
    assert (row["fiscal_year"], row["cash_dividend_pct"], row["bonus_pct"]) == ("2082-2083", 10.8, 5.0)
