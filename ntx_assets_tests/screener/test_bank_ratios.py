"""The NRB ratios in the screen, on report_ratios rows made by hand: the ratios of the row's own report,
only documents public by the session, a later document of the period replacing an earlier one, NULL where
no document of the period could be read (never the previous quarter's) and for companies that are not
financial institutions; their sector medians and ranks."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ntx_assets.screener import bank_ratios, fundamentals, peers
from ntx_assets.warehouse.schema import REPORT_RATIO_COLUMNS

D = dt.date
BANK, HYDRO, MICROFINANCE = 1, 2, 3
SECTORS = {BANK: "Commercial Banks", HYDRO: "Hydro Power", MICROFINANCE: "Microfinance"}


def reports(*rows: tuple) -> pd.DataFrame:
    """(security id, Nepali fiscal year, quarter or None for annual, known_on)"""
    return pd.DataFrame(
        [
            {
                "security_id": security_id,
                "fiscal_year": None,
                "fiscal_year_nepali": fy,
                "quarter": quarter,
                "report_type": "annual" if quarter is None else "quarterly",
                "modified_at": pd.Timestamp(known),
                "known_on": known,
                "first_fetched_on": D(2026, 12, 1),
                "eps": 30.0,
                "net_worth_per_share": 200.0,
                "paid_up_capital": 1e9,
                "profit": 1e8,
            }
            for security_id, fy, quarter, known in rows
        ]
    )


def ratios(*rows: tuple) -> pd.DataFrame:
    """(document id, security id, Nepali fiscal year, quarter or None, known_on, status, capital adequacy,
    NPL); the other five ratios are the capital adequacy + 1 ... + 5 where the document was read."""
    out = []
    for document_id, security_id, fy, quarter, known, status, car, npl in rows:
        read = status != "unreadable"
        values = [car, npl, *((car + k) if read and car is not None else None for k in range(1, 6))]
        out.append(
            {
                "document_id": document_id,
                "report_id": None,
                "security_id": security_id,
                "report_type": "annual" if quarter is None else "quarterly",
                "fiscal_year": fy,
                "quarter": quarter,
                "known_on": known,
                "status": status,
                **dict(zip(REPORT_RATIO_COLUMNS, values, strict=True)),
            }
        )
    return pd.DataFrame(out)


REPORTS = reports(
    (BANK, "2081-2082", 4, D(2025, 8, 10)),
    (BANK, "2082-2083", 1, D(2025, 11, 25)),
    (BANK, "2082-2083", 2, D(2026, 2, 12)),
    (HYDRO, "2082-2083", 1, D(2025, 11, 20)),
    (MICROFINANCE, "2081-2082", 4, D(2025, 8, 1)),
    (MICROFINANCE, "2081-2082", None, D(2025, 10, 1)),
    (MICROFINANCE, "2080-2081", None, D(2024, 10, 1)),
)
RATIOS = ratios(
    (11, BANK, "2081-2082", 4, D(2025, 8, 10), "read", 12.5, 1.2),
    # Q1's document was submitted a day after the report's first document.
    (12, BANK, "2082-2083", 1, D(2025, 11, 26), "read", 13.0, 1.5),
    # A corrected Q1 document, from which only the capital adequacy could be read.
    (14, BANK, "2082-2083", 1, D(2025, 12, 1), "partial", 13.1, None),
    (13, BANK, "2082-2083", 2, D(2026, 2, 12), "unreadable", None, None),
    (21, HYDRO, "2082-2083", 1, D(2025, 11, 20), "read", 50.0, 5.0),  # a hydro has no NRB ratios
    (31, MICROFINANCE, "2081-2082", 4, D(2025, 8, 1), "read", 9.5, 3.0),
    (32, MICROFINANCE, "2080-2081", None, D(2024, 10, 1), "read", 8.0, 4.0),
)


def at(*rows: tuple[dt.date, int], ratio_rows: pd.DataFrame = RATIOS) -> pd.DataFrame:
    grid = pd.DataFrame(
        {"session_date": pd.to_datetime([day for day, _ in rows]), "security_id": [i for _, i in rows]}
    )
    known = fundamentals.latest_known(fundamentals.dated_reports(REPORTS), grid)
    sectors = grid["security_id"].map(SECTORS)
    out = bank_ratios.bank_ratios(bank_ratios.dated_ratios(ratio_rows), known, sectors)
    return out.assign(quarter=known["quarter"], fy=known["fy"], rank=known["rank"])


def test_the_ratios_are_the_rows_own_report_from_the_day_its_document_was_public() -> None:
    out = at((D(2025, 11, 25), BANK), (D(2025, 11, 26), BANK), (D(2025, 8, 10), BANK), (D(2025, 8, 9), BANK))
    # 2025-11-25: the row is Q1's, whose document is public only from 11-26: NULL, not Q4's ratios.
    assert out.loc[0, "quarter"] == 1 and out.loc[0, list(bank_ratios.COLUMNS)].isna().all()
    assert out.loc[1, ["capital_adequacy_pct", "npl_pct", "spread_pct"]].tolist() == [13.0, 1.5, 18.0]
    assert out.loc[1, "ratios_known_on"] == pd.Timestamp("2025-11-26")
    assert out.loc[2, ["capital_adequacy_pct", "npl_pct"]].tolist() == [12.5, 1.2]
    assert out.loc[3, list(bank_ratios.RATIOS)].isna().all()  # nothing public yet


def test_a_later_document_of_the_period_replaces_the_earlier_one_whole() -> None:
    out = at((D(2025, 12, 1), BANK)).iloc[0]
    assert out["capital_adequacy_pct"] == 13.1 and out["ratios_known_on"] == pd.Timestamp("2025-12-01")
    assert np.isnan(out["npl_pct"])  # not read from it: NULL, not the earlier document's 1.5


def test_an_unreadable_document_leaves_the_ratios_null_not_the_previous_quarters() -> None:
    out = at((D(2026, 2, 12), BANK)).iloc[0]
    assert out["quarter"] == 2 and out[list(bank_ratios.COLUMNS)].isna().all()
    # Without any row for the period at all, the same.
    out = at((D(2026, 2, 12), BANK), ratio_rows=RATIOS[RATIOS["document_id"] != 13]).iloc[0]
    assert out[list(bank_ratios.COLUMNS)].isna().all()


def test_a_company_that_is_no_financial_institution_has_none() -> None:
    out = at((D(2025, 12, 1), HYDRO)).iloc[0]
    assert out[list(bank_ratios.COLUMNS)].isna().all()


def test_an_annual_report_takes_its_own_documents_else_its_fourth_quarters() -> None:
    out = at((D(2025, 10, 1), MICROFINANCE), (D(2024, 10, 1), MICROFINANCE))
    # The 2081-82 annual report has no document read: its fourth quarter's, the same year end.
    assert (out.loc[0, "fy"], out.loc[0, "rank"]) == (2081, fundamentals.ANNUAL_RANK)
    assert out.loc[0, ["capital_adequacy_pct", "npl_pct"]].tolist() == [9.5, 3.0]
    assert out.loc[1, ["capital_adequacy_pct", "npl_pct"]].tolist() == [8.0, 4.0]
    # With a document of the annual report too, the annual report's wins.
    annual = ratios((33, MICROFINANCE, "2081-2082", None, D(2025, 10, 1), "read", 9.9, 2.9))
    out = at((D(2025, 10, 1), MICROFINANCE), ratio_rows=pd.concat([RATIOS, annual], ignore_index=True))
    assert out.loc[0, ["capital_adequacy_pct", "npl_pct"]].tolist() == [9.9, 2.9]


def test_no_report_ratios_at_all() -> None:
    out = at((D(2025, 12, 1), BANK), ratio_rows=pd.DataFrame())
    assert out[list(bank_ratios.COLUMNS)].isna().all().all()


def test_sector_medians_of_every_ratio_and_ranks_of_the_three_that_grade_soundness() -> None:
    day = pd.Timestamp("2026-11-20")
    frame = pd.DataFrame(
        {
            "session_date": day,
            "sector": ["Commercial Banks"] * 3 + ["Microfinance", "Hydro Power"],
            **{column: np.nan for column in bank_ratios.RATIOS},
        }
    )
    frame["npl_pct"] = [1.0, 3.0, np.nan, 5.0, np.nan]
    frame["capital_adequacy_pct"] = [12.0, 14.0, 13.0, 10.0, np.nan]
    out = peers.within_sector(frame, bank_ratios.MEDIANS, bank_ratios.RANKS)
    assert set(out.columns) == set(bank_ratios.MEDIANS) | set(bank_ratios.RANKS)
    assert set(bank_ratios.RANKS.values()) == {"capital_adequacy_pct", "npl_pct", "provision_to_npl_pct"}
    assert out["npl_pct_sector_median"].tolist()[:4] == [2.0, 2.0, 2.0, 5.0]
    # Ascending like every rank: the lowest NPL of the sector ranks lowest (the better end for NPL), the
    # highest capital adequacy ranks 1 (the better end for capital adequacy).
    assert out["npl_pct_rank_sector"].tolist()[:2] == [0.5, 1.0] and np.isnan(
        out.loc[2, "npl_pct_rank_sector"]
    )
    assert out["capital_adequacy_pct_rank_sector"].tolist()[:4] == pytest.approx([1 / 3, 1.0, 2 / 3, 1.0])
    assert out.loc[4].isna().all()
