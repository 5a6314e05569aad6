"""Trailing-twelve-month figures on hand-made reports, each expected value worked out by hand from the
report rows: this year's year-to-date + last year's whole year - last year's same year-to-date, a year end
its own profit; only reports public by the session; NULL when a needed report is missing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ntx_assets.filings.reports import filing_rows
from ntx_assets.nepse.models import Report
from ntx_assets.screener import fundamentals, ttm

D = dt.date
SHARES = 10.0  # paid-up capital 1,000 over the face value of Rs 100
BVPS = 200.0


def reports(*rows: tuple) -> pd.DataFrame:
    """(Nepali fiscal year, quarter or None for annual, known_on, year-to-date profit)"""
    return pd.DataFrame(
        [
            {
                "security_id": 1,
                "fiscal_year": None,
                "fiscal_year_nepali": fy,
                "quarter": quarter,
                "report_type": "annual" if quarter is None else "quarterly",
                "modified_at": pd.Timestamp(known),
                "known_on": known,
                "first_fetched_on": D(2026, 12, 1),
                "eps": 99.0,  # NEPSE's annualized figure: never used by the TTM columns
                "net_worth_per_share": BVPS,
                "paid_up_capital": SHARES * 100,
                "profit": profit,
            }
            for fy, quarter, known, profit in rows
        ]
    )


REPORTS = (
    ("2079-2080", 1, D(2022, 11, 20), 45.0),
    ("2079-2080", 4, D(2023, 8, 10), 190.0),
    ("2080-2081", 1, D(2023, 11, 20), 48.0),
    ("2080-2081", 2, D(2024, 2, 10), 80.0),
    ("2080-2081", 4, D(2024, 8, 10), 200.0),
    ("2080-2081", None, D(2024, 12, 1), 210.0),  # the audited annual report
    ("2081-2082", 1, D(2024, 12, 5), 50.0),
    ("2081-2082", 2, D(2025, 2, 10), 110.0),
    ("2081-2082", 3, D(2025, 5, 10), 170.0),
    ("2081-2082", 4, D(2025, 8, 10), 240.0),
    ("2082-2083", 1, D(2025, 11, 25), 60.0),
    ("2081-2082", None, D(2025, 12, 20), 250.0),  # last year's annual, published after this year's Q1
    ("2082-2083", 2, D(2026, 2, 12), 130.0),
)


def at(days: list[dt.date], rows: pd.DataFrame, close: float = 540.0) -> pd.DataFrame:
    grid = pd.DataFrame({"session_date": pd.to_datetime(days), "security_id": 1})
    dated = fundamentals.dated_reports(rows)
    known = fundamentals.latest_known(dated, grid)
    out = ttm.ttm_columns(dated, known, pd.Series(close, index=grid.index))
    return out.assign(fiscal_year=known["fiscal_year"], quarter=known["quarter"], rank=known["rank"])


def test_a_second_quarter_adds_last_years_annual_and_takes_off_its_second_quarter() -> None:
    row = at([D(2026, 2, 12)], reports(*REPORTS)).iloc[0]
    # 2082-83 Q2: 130 + 250 (2081-82 annual) - 110 (2081-82 Q2) = 270; per share 270 / 10 = 27.
    assert row["profit_ttm"] == pytest.approx(270.0)
    assert row["eps_ttm"] == pytest.approx(27.0)
    assert row["pe_ttm"] == pytest.approx(540.0 / 27.0)
    assert row["roe_ttm"] == pytest.approx(270.0 / (BVPS * SHARES))
    # A year earlier, 2081-82 Q2: 110 + 210 (2080-81 annual) - 80 (2080-81 Q2) = 240.
    assert row["profit_growth_ttm_yoy"] == pytest.approx(270.0 / 240.0 - 1)


def test_a_report_public_after_the_session_does_not_count_at_it() -> None:
    rows = at([D(2025, 12, 19), D(2025, 12, 20), D(2026, 2, 11)], reports(*REPORTS))
    # 2025-12-19: the 2081-82 annual (public 2025-12-20) is not known yet, its fourth quarter is:
    # 60 + 240 - 50 = 250.
    assert rows.loc[0, "quarter"] == 1 and rows.loc[0, "profit_ttm"] == pytest.approx(250.0)
    # From 2025-12-20 the annual report is the year's whole profit: 60 + 250 - 50 = 260.
    assert rows.loc[1, "profit_ttm"] == pytest.approx(260.0)
    # 2026-02-11: the second quarter (public 2026-02-12) does not count yet.
    assert rows.loc[2, "quarter"] == 1 and rows.loc[2, "profit_ttm"] == pytest.approx(260.0)
    # The base of 2025-12-20 is 2081-82 Q1: 50 + 210 - 48 = 212.
    assert rows.loc[1, "profit_growth_ttm_yoy"] == pytest.approx(260.0 / 212.0 - 1)


def test_a_year_end_report_is_its_own_trailing_year() -> None:
    rows = at([D(2025, 8, 10), D(2024, 12, 2), D(2024, 8, 10)], reports(*REPORTS))
    # The 2081-82 fourth quarter: 240, against 2080-81's whole year, its annual report's 210.
    assert rows.loc[0, "quarter"] == 4 and rows.loc[0, "profit_ttm"] == pytest.approx(240.0)
    assert rows.loc[0, "profit_growth_ttm_yoy"] == pytest.approx(240.0 / 210.0 - 1)
    # The 2080-81 annual report: 210, against 2079-80's whole year: no annual report of it was published,
    # its fourth quarter says 190 (the same twelve months).
    assert rows.loc[1, "rank"] == fundamentals.ANNUAL_RANK and rows.loc[1, "profit_ttm"] == 210.0
    assert rows.loc[1, "profit_growth_ttm_yoy"] == pytest.approx(210.0 / 190.0 - 1)
    # 2024-08-10, the day of the 2080-81 fourth quarter: 200 against 190.
    assert rows.loc[2, "profit_ttm"] == 200.0
    assert rows.loc[2, "profit_growth_ttm_yoy"] == pytest.approx(200.0 / 190.0 - 1)


def test_a_missing_report_makes_the_figures_null_never_another_period() -> None:
    without_q1 = [r for r in REPORTS if (r[0], r[1]) != ("2081-2082", 1)]
    rows = at([D(2025, 12, 20), D(2026, 2, 12)], reports(*without_q1))
    # 2082-83 Q1 needs 2081-82 Q1: NULL, not the annualized figure nor the fourth quarter's year.
    assert rows.loc[0, "quarter"] == 1
    assert rows.loc[0, ["profit_ttm", "eps_ttm", "pe_ttm", "roe_ttm", "profit_growth_ttm_yoy"]].isna().all()
    # 2082-83 Q2 needs 2081-82 Q2, not Q1: 270 as before.
    assert rows.loc[1, "profit_ttm"] == pytest.approx(270.0)
    # Without any year end of 2080-81, 2081-82 Q2's base cannot be made: the growth is NULL.
    no_year_end = [r for r in REPORTS if not (r[0] == "2080-2081" and r[1] in (4, None))]
    row = at([D(2026, 2, 12)], reports(*no_year_end)).iloc[0]
    assert row["profit_ttm"] == pytest.approx(270.0) and np.isnan(row["profit_growth_ttm_yoy"])


def test_a_loss_has_no_pe_and_a_negative_roe() -> None:
    losses = [(fy, q, known, -p if fy == "2082-2083" else p) for fy, q, known, p in REPORTS]
    row = at([D(2026, 2, 12)], reports(*losses)).iloc[0]
    # -130 + 250 - 110 = 10: still a profit over the twelve months.
    assert row["profit_ttm"] == pytest.approx(10.0) and row["pe_ttm"] == pytest.approx(540.0)
    row = at([D(2025, 12, 20)], reports(*losses)).iloc[0]
    # -60 + 250 - 50 = 140
    assert row["profit_ttm"] == pytest.approx(140.0)
    deeper = [(fy, q, known, -500.0 if (fy, q) == ("2082-2083", 1) else p) for fy, q, known, p in REPORTS]
    row = at([D(2025, 12, 20)], reports(*deeper)).iloc[0]
    # -500 + 250 - 50 = -300: no P/E, ROE -300 / 2,000.
    assert np.isnan(row["pe_ttm"]) and row["roe_ttm"] == pytest.approx(-0.15)


def test_no_report_known_yet_gives_nulls() -> None:
    rows = at([D(2022, 11, 19)], reports(*REPORTS))
    assert rows.loc[0, list(ttm.COLUMNS)].isna().all()
    empty = reports(*REPORTS).iloc[0:0]
    assert at([D(2026, 2, 12)], empty).loc[0, list(ttm.COLUMNS)].isna().all()


# --- NABIL's live reports ------------------------------------------------------------------------------

CAPTURE = Path(__file__).parents[1] / "data" / "public-captures" / "reports_kronos_131.json"


def nabil_reports() -> pd.DataFrame:
    """NABIL's six captured report records as the filings asset stores them."""
    records = [Report.model_validate(record) for record in json.loads(CAPTURE.read_text())]
    rows = filing_rows(records, security_id=131, symbol="NABIL").filings
    return pd.DataFrame(rows).assign(security_id=1, first_fetched_on=D(2026, 12, 1))


def test_nabils_live_reports() -> None:
    """2082-83 Q4 (7,905,796,000, public 2026-08-06) is its own trailing year, per share over 27.06 bn /
    100 shares, against the 2081-82 annual report (5,922,144,047, public 2026-05-18); its third quarter
    has no 2081-82 third quarter among the captured reports, so no TTM: NULL, not the annualized 33.02."""
    rows = at([D(2026, 8, 6), D(2026, 5, 18), D(2026, 4, 28)], nabil_reports(), close=535.0)
    assert rows.loc[0, "quarter"] == 4 and rows.loc[0, "profit_ttm"] == 7_905_796_000.0
    shares = 27_056_996_729.0 / 100
    assert rows.loc[0, "eps_ttm"] == pytest.approx(7_905_796_000.0 / shares)  # 29.22, NEPSE's Q4 EPS 28.36
    assert rows.loc[0, "pe_ttm"] == pytest.approx(535.0 / (7_905_796_000.0 / shares))
    assert rows.loc[0, "roe_ttm"] == pytest.approx(7_905_796_000.0 / shares / 247.28)
    assert rows.loc[0, "profit_growth_ttm_yoy"] == pytest.approx(7_905_796_000.0 / 5_922_144_047.0 - 1)
    for day in (1, 2):
        assert rows.loc[day, "quarter"] == 3
        assert rows.loc[day, ["profit_ttm", "eps_ttm", "pe_ttm", "roe_ttm"]].isna().all()
