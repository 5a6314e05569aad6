"""Re-basings over the whole history, each with the source of its factor; unknown ones restart the series."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ntx_assets.archive.__main__ import main
from ntx_assets.archive.check import check_company
from ntx_assets.corporate_actions.announcements import band_explainer
from ntx_assets.prices.indicators import indicator_rows
from ntx_assets.prices.rebasings import ANNOUNCEMENT, EXCHANGE_BASE, UNEXPLAINED, find_rebasings

ARCHIVE = Path(__file__).parents[1] / "data" / "price-archive"


def _rebasings(symbol: str) -> dict[str, dict]:
    checked = check_company(symbol, (ARCHIVE / f"{symbol}.csv").read_text())
    return {item["date"]: item for item in checked.rebasings}


def test_nepse_s_own_base_in_per_change_gives_the_factor() -> None:
    # docs/price-archive.md: stored close / implied base = 1.5000 (HDL), 1.2000 (ADBL), 1.1500 (SHL).
    hdl = _rebasings("HDL")["2021-01-03"]
    assert hdl == {"date": "2021-01-03", "factor": pytest.approx(1 / 1.5, abs=2e-4), "source": EXCHANGE_BASE}
    assert _rebasings("ADBL")["2022-01-02"]["factor"] == pytest.approx(1 / 1.2, abs=2e-4)
    assert _rebasings("SHL")["2025-11-23"]["factor"] == pytest.approx(1 / 1.15, abs=2e-4)


@pytest.mark.parametrize(
    ("symbol", "day"),
    [("CBBL", "2019-12-02"), ("HDL", "2019-12-01"), ("BPCL", "2019-12-25"), ("CHCL", "2019-11-13")],
)
def test_a_fall_beyond_the_band_with_the_raw_change_is_a_rebasing_of_unknown_factor(
    symbol: str, day: str
) -> None:
    # The archive shows the raw change (-22.69% for CBBL): no trade falls that far, and no factor is guessed.
    assert _rebasings(symbol)[day] == {"date": day, "factor": None, "source": UNEXPLAINED}


def _prices(closes: list[float], previous: list[float | None], source: str = "archive:test") -> pd.DataFrame:
    days = pd.bdate_range("2016-01-04", periods=len(closes)).date
    return pd.DataFrame(
        {
            "security_id": 1, "symbol": "X", "business_date": days, "open": np.nan, "high": closes,
            "low": closes, "close": closes, "previous_close": previous, "volume": 100.0, "source": source,
        }
    )  # fmt: skip


def test_an_announced_bonus_explains_a_move_beyond_the_band() -> None:
    closes = [500.0] * 10 + [400.0] * 10  # a 25% bonus: 500 / 1.25 = 400
    prices = _prices(closes, [None] * 20)
    ex_date = prices["business_date"][10]
    actions = pd.DataFrame(
        [{"source": "corporate_action", "nepse_id": 7, "security_id": 1, "symbol": "X", "fiscal_year": None,
          "status": None, "announced_on": ex_date - dt.timedelta(days=30), "bonus_pct": 25.0,
          "right_pct": None, "right_price": None, "cash_dividend_pct": None}]
    )  # fmt: skip
    found = find_rebasings(prices, band_explainer(actions, None))
    assert found[["ex_date", "factor_source"]].to_dict("records") == [
        {"ex_date": ex_date, "factor_source": ANNOUNCEMENT}
    ]
    assert found["factor"][0] == pytest.approx(0.8)
    # Without the announcement, the same move is a re-basing of unknown factor.
    alone = find_rebasings(prices)
    assert alone["factor_source"].tolist() == [UNEXPLAINED] and math.isnan(alone["factor"][0])


def test_nepse_rows_are_judged_by_nepse_s_base_only() -> None:
    # A NEPSE row 25% below the previous close, with NEPSE's base equal to that close: no re-basing read in.
    prices = _prices([500.0, 375.0], [None, 500.0], source="nepse")
    assert find_rebasings(prices).empty


def test_no_indicator_window_reaches_back_across_an_unknown_rebasing() -> None:
    rng = np.random.default_rng(3)
    closes = list(500 * np.cumprod(1 + rng.normal(0, 0.01, 60)))
    closes[30:] = [c * 0.6 for c in closes[30:]]  # a 40% fall no announcement explains
    prices = _prices(closes, [None] * 60)
    days = list(prices["business_date"])
    rows = {row["business_date"]: row for row in indicator_rows(prices, days)}
    # 20 sessions after the break SMA 20 exists again; before that it is warming up from the break.
    assert rows[days[48]]["sma_20"] is None
    assert rows[days[49]]["sma_20"] == pytest.approx(np.mean(closes[30:50]))
    # Changing any price before the break changes no indicator after it.
    changed = prices.copy()
    changed.loc[:29, ["high", "low", "close"]] *= 1.3
    after = {row["business_date"]: row for row in indicator_rows(changed, days)}
    assert all(after[d] == rows[d] for d in days[30:])


def test_check_command_prints_the_documented_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(ARCHIVE), "--symbols", "HDL,NOPE", "--format", "json"]) == 1
    output = json.loads(capsys.readouterr().out)
    hdl, nope = output["companies"]
    assert set(hdl) >= {"symbol", "rows", "first", "last", "set_aside", "rebasings"}
    assert (hdl["symbol"], hdl["rows"], hdl["first"], hdl["last"]) == (
        "HDL",
        2215,
        "2011-10-24",
        "2026-08-21",
    )
    assert all(set(r) == {"date", "factor", "source"} for r in hdl["rebasings"])
    assert {r["source"] for r in hdl["rebasings"]} <= {EXCHANGE_BASE, ANNOUNCEMENT, UNEXPLAINED}
    assert nope["problem"] == "no file in the archive"


def test_check_command_table_and_a_missing_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(ARCHIVE), "--symbols", "ADBL"]) == 0
    assert "ADBL" in capsys.readouterr().out
    assert main(["check", "/nonexistent/archive"]) == 2
    assert "neither an http(s) URL nor a folder" in capsys.readouterr().err


def test_the_screener_says_from_which_date_a_company_s_history_is_continuous() -> None:
    from ntx_assets.screener.table import _continuous_from

    frame = pd.DataFrame(
        {
            "session_date": pd.to_datetime(["2016-01-04", "2016-03-01", "2016-03-01", "2019-01-02"]),
            "security_id": [1, 1, 2, 1],
        }
    )
    starts = pd.DataFrame({"security_id": [1, 2], "first_date": [dt.date(2011, 1, 2), dt.date(2013, 5, 5)]})
    restarts = pd.DataFrame({"security_id": [1, 1], "ex_date": [dt.date(2016, 2, 1), dt.date(2018, 6, 1)]})
    found = _continuous_from(frame, starts, restarts)
    assert list(found.dt.date) == [
        dt.date(2011, 1, 2),
        dt.date(2016, 2, 1),
        dt.date(2013, 5, 5),
        dt.date(2018, 6, 1),
    ]


def test_a_session_with_dividends_but_no_report_known_yet_screens() -> None:
    # The archive's years: announcements reach back further than NEPSE's reports.
    from ntx_assets.screener import fundamentals

    columns = ["security_id", "fiscal_year", "fiscal_year_nepali", "quarter", "report_type", "modified_at"]
    empty = pd.DataFrame(columns=[*columns, "known_on", "first_fetched_on", "eps"])
    grid = pd.DataFrame({"session_date": pd.to_datetime(["2020-01-05"]), "security_id": [1]})
    eps = fundamentals.year_end_eps(fundamentals.dated_reports(empty), grid, pd.Series([2075.0]))
    assert eps.isna().all()
