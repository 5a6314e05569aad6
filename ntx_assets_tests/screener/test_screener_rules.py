"""The screener's point-in-time rules on hand-made frames: fiscal years, the price band and basis-adjusted
returns, liquidity windows, the report known at a session and its growth, the dividend record, sector
medians and ranks, and the universe of a session."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ntx_assets.common.fiscal import fiscal_year_name, fiscal_year_of, fiscal_year_start, parse_fiscal_year
from ntx_assets.screener import dividends, fundamentals, sector
from ntx_assets.screener.history import changes, forward_returns, summarize
from ntx_assets.screener.prices import at_band, liquidity, price_features
from ntx_assets.screener.table import COLUMNS, ScreenerInputs, screener_frame
from ntx_assets.screener.universe import universe_grid

D = dt.date


def grid(*rows: tuple[dt.date, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {"session_date": pd.to_datetime([day for day, _ in rows]), "security_id": [i for _, i in rows]}
    )


# --- fiscal years ------------------------------------------------------------------------------------


@pytest.mark.calendar
@pytest.mark.parametrize(
    ("day", "year"),
    [
        (D(2025, 7, 16), 2081),  # the last day of 2081-2082 (Asar end)
        (D(2025, 7, 17), 2082),  # Shrawan 1, 2082: NABIL's report gives fromYear 2025-07-17
        (D(2024, 7, 15), 2080),
        (D(2024, 7, 16), 2081),  # Shrawan 1, 2081 falls a day earlier: fromYear 2024-07-16
        (D(2026, 12, 4), 2083),
    ],
)
def test_the_fiscal_year_starts_on_shrawan_1(day: dt.date, year: int) -> None:
    assert fiscal_year_of(day) == year


def test_fiscal_year_names_read_both_calendars() -> None:
    assert fiscal_year_start(2082) == D(2025, 7, 17) and fiscal_year_name(2082) == "2082-2083"
    assert parse_fiscal_year("2082-2083") == parse_fiscal_year("2025-2026") == 2082
    assert parse_fiscal_year("2081/82") == 2081
    assert parse_fiscal_year("FY 2081") is None and parse_fiscal_year(None) is None


# --- prices ------------------------------------------------------------------------------------------


def test_a_close_at_the_band_is_the_last_tick_inside_ten_percent() -> None:
    previous = np.array([100.0, 100.0, 333.3, 333.3, 333.3, 500.0, np.nan])
    close = np.array([110.0, 109.9, 366.6, 366.7 - 0.1, 300.0, 480.0, 120.0])
    # 333.3 x 1.1 = 366.63 -> 366.6 is the last upper tick; x 0.9 = 299.97 -> 300.0 the last lower tick.
    assert at_band(close, previous).tolist() == [True, False, True, True, True, False, False]


def test_returns_are_in_the_sessions_own_basis_and_blind_to_later_rebasings() -> None:
    days = pd.bdate_range("2026-01-05", periods=12)
    closes = [100.0, 101, 102, 103, 104, 105, 106, 107, 53.6, 54, 55, 56]  # a 1:1 bonus on day 8
    previous = [np.nan, 100, 101, 102, 103, 104, 105, 106, 53.5, 53.6, 54, 55]  # base 107 / 2 = 53.5
    prices = pd.DataFrame(
        {"security_id": 1, "business_date": days, "close": closes, "previous_close": previous}
    )
    features = price_features(prices).set_index("business_date")
    # Day 11 against day 6 (five sessions earlier): 106 in the new basis is 53.
    assert features.loc[days[11], "return_5d"] == pytest.approx(56 / 53 - 1)
    # Day 7, before the re-basing, in its own basis: the later re-basing changes nothing of it.
    assert features.loc[days[7], "return_5d"] == pytest.approx(107 / 102 - 1)
    alone = price_features(prices.iloc[:8]).set_index("business_date")
    assert alone.loc[days[7], "return_5d"] == features.loc[days[7], "return_5d"]
    assert np.isnan(features.loc[days[4], "return_5d"])  # four sessions earlier only


def test_liquidity_counts_the_last_twenty_sessions_and_is_null_before_twenty() -> None:
    sessions = list(pd.bdate_range("2026-01-05", periods=25))
    traded = sessions[::2]  # every other session
    prices = pd.DataFrame(
        {
            "security_id": 7,
            "business_date": traded,
            "turnover": 1000.0,
            "at_band": [i == 0 for i in range(len(traded))],
        }
    )
    window = liquidity(prices, sessions, [sessions[18], sessions[19], sessions[24]], np.array([7, 8]))
    by = window.set_index(["session_date", "security_id"])
    assert np.isnan(by.loc[(sessions[18], 7), "days_traded_20"])  # 19 sessions stored so far
    assert by.loc[(sessions[19], 7), "days_traded_20"] == 10
    assert by.loc[(sessions[19], 7), "circuit_hits_20"] == 1
    assert by.loc[(sessions[24], 7), "days_traded_20"] == 10  # sessions 5..24: 6, 8, ..., 24
    assert by.loc[(sessions[24], 7), "avg_turnover_20"] == pytest.approx(10 * 1000.0 / 20)
    assert by.loc[(sessions[24], 7), "circuit_hits_20"] == 0  # the hit on session 0 left the window
    assert by.loc[(sessions[24], 8), "days_traded_20"] == 0  # never traded: 0, not NULL


# --- reports -----------------------------------------------------------------------------------------


def reports(*rows: tuple) -> pd.DataFrame:
    """(fiscal_year, quarter or None for annual, known_on, eps, profit, bvps)"""
    return pd.DataFrame(
        [
            {
                "security_id": 1,
                "fiscal_year": fy,
                "fiscal_year_nepali": None,
                "quarter": quarter,
                "report_type": "annual" if quarter is None else "quarterly",
                "modified_at": pd.Timestamp(known),
                "known_on": known,
                "first_fetched_on": D(2026, 12, 1),
                "eps": eps,
                "net_worth_per_share": bvps,
                "paid_up_capital": 1e9,
                "profit": profit,
            }
            for fy, quarter, known, eps, profit, bvps in rows
        ]
    )


REPORTS = reports(
    ("2024-2025", 1, D(2024, 11, 20), 20.0, 50.0, 200.0),
    ("2024-2025", 2, D(2025, 2, 10), 22.0, 110.0, 205.0),
    ("2025-2026", 1, D(2025, 11, 25), 25.0, 60.0, 210.0),
    ("2025-2026", 2, D(2026, 2, 12), 0.0, 0.0, 220.0),
    ("2024-2025", None, D(2026, 1, 5), 21.0, 210.0, 208.0),  # last year's annual, published late
)


def test_the_report_known_at_a_session_is_the_latest_period_published_by_then() -> None:
    rows = grid(
        (D(2024, 11, 19), 1),  # nothing published yet
        (D(2025, 12, 1), 1),  # Q1 2025-26 published on 2025-11-25
        (D(2026, 1, 6), 1),  # the 2024-25 annual report came out later: an older period, not newer
        (D(2026, 2, 12), 1),  # Q2 2025-26 published that day
    )
    known = fundamentals.latest_known(fundamentals.dated_reports(REPORTS), rows)
    assert np.isnan(known.loc[0, "eps"])
    assert known.loc[1, ["fiscal_year", "quarter", "eps"]].tolist() == ["2025-2026", 1, 25.0]
    assert known.loc[1, "report_known_on"] == D(2025, 11, 25)
    assert known.loc[2, "quarter"] == 1  # Q1 2025-26 still outranks the annual report of 2024-25
    assert known.loc[3, "quarter"] == 2
    # Growth against the same quarter of the previous year, known by then: 25 / 20, 60 / 50, 210 / 200.
    assert known.loc[1, "eps_growth_yoy"] == pytest.approx(0.25)
    assert known.loc[1, "profit_growth_yoy"] == pytest.approx(0.2)
    assert known.loc[1, "bvps_growth_yoy"] == pytest.approx(0.05)
    assert known.loc[3, "eps_growth_yoy"] == pytest.approx(-1.0)  # 0 / 22 - 1: a base > 0 is enough


def test_of_two_reports_published_the_same_day_the_newer_period_wins() -> None:
    # MLBBL on the stand-in: the 2025-26 annual report and Q1 2026-27 both dated 2026-11-17.
    rows = reports(
        ("2026-2027", 1, D(2026, 11, 17), 37.7, 10.0, 100.0),
        ("2025-2026", None, D(2026, 11, 17), 41.5, 40.0, 99.0),
    )
    for order in (rows, rows.iloc[::-1]):
        known = fundamentals.latest_known(fundamentals.dated_reports(order), grid((D(2026, 11, 17), 1)))
        assert known.loc[0, ["fiscal_year", "quarter"]].tolist() == ["2026-2027", 1]


def test_growth_is_null_without_a_base_or_with_a_base_at_or_below_zero() -> None:
    rows = reports(
        ("2024-2025", 3, D(2025, 5, 1), -4.0, -10.0, 0.0),
        ("2025-2026", 3, D(2026, 5, 1), 8.0, 20.0, 150.0),
        ("2025-2026", 4, D(2026, 8, 1), 9.0, 30.0, 151.0),
    )
    known = fundamentals.latest_known(
        fundamentals.dated_reports(rows), grid((D(2026, 5, 2), 1), (D(2026, 8, 2), 1))
    )
    assert known.loc[0, ["eps_growth_yoy", "profit_growth_yoy", "bvps_growth_yoy"]].isna().all()
    assert known.loc[1, ["eps_growth_yoy", "profit_growth_yoy", "bvps_growth_yoy"]].isna().all()  # no Q4 base


def test_a_report_without_any_date_is_known_from_the_day_it_was_first_stored() -> None:
    rows = REPORTS.iloc[:1].assign(known_on=[None], first_fetched_on=[D(2025, 3, 1)])
    known = fundamentals.latest_known(
        fundamentals.dated_reports(rows), grid((D(2025, 2, 28), 1), (D(2025, 3, 1), 1))
    )
    assert np.isnan(known.loc[0, "eps"]) and known.loc[1, "eps"] == 20.0


# --- dividends ---------------------------------------------------------------------------------------


def actions(*rows: tuple) -> pd.DataFrame:
    """(fiscal year, announced, cash %, bonus %)"""
    return dividends.dated_actions(
        pd.DataFrame(
            [
                {
                    "security_id": 1,
                    "fiscal_year": fy,
                    "announced_on": announced,
                    "bonus_pct": bonus,
                    "right_pct": None,
                    "cash_dividend_pct": cash,
                }
                for fy, announced, cash, bonus in rows
            ]
        )
    )


RECORD = actions(
    ("2078-2079", D(2022, 12, 1), 10.0, 0.0),
    ("2079-2080", D(2023, 12, 1), 0.0, 5.0),
    ("2080-2081", D(2024, 12, 1), 15.0, None),
    ("2080-2081", D(2024, 12, 3), 15.0, None),  # the same declaration from the other endpoint
    ("2082-2083", D(2025, 12, 20), 12.0, 10.0),  # nothing for 2081-2082
)


def record_at(day: dt.date, eps: float = 40.0) -> pd.Series:
    rows = grid((day, 1))
    out = dividends.dividend_record(RECORD, rows, lambda years: pd.Series(eps, index=years.index))
    return out.iloc[0]


@pytest.mark.calendar
def test_the_record_ends_at_the_last_year_announced_for_in_its_season() -> None:
    # 2025-10-01 is in fiscal year 2082: its last complete year 2081 has no announcement yet, so the
    # record ends at 2080: cash 15, 0, 10 over 2080..2078; bonus 0 + 5 + 0; 3 years of 5 with a dividend.
    before = record_at(D(2025, 10, 1))
    assert before["cash_dividend_3y_avg_pct"] == pytest.approx(25 / 3)
    assert before["bonus_3y_total_pct"] == 5.0 and before["years_with_dividend_5y"] == 3
    assert before["payout_ratio"] == pytest.approx(15 / 40)
    # 2026-08-01 is in fiscal year 2083: the year 2082 was announced (2025-12-20): 12, 0 (2081), 15.
    after = record_at(D(2026, 8, 1))
    assert after["cash_dividend_3y_avg_pct"] == pytest.approx(27 / 3)
    assert after["bonus_3y_total_pct"] == 10.0 and after["years_with_dividend_5y"] == 4


def test_the_record_is_null_before_any_announcement_and_payout_needs_a_positive_eps() -> None:
    assert record_at(D(2022, 11, 30)).isna().all()
    assert np.isnan(record_at(D(2025, 10, 1), eps=0.0)["payout_ratio"])


def test_last_actions_and_the_next_book_closure_use_only_what_was_announced() -> None:
    rows = grid((D(2024, 12, 2), 1), (D(2025, 12, 19), 1), (D(2025, 12, 21), 1))
    last = dividends.last_actions(RECORD, rows)
    assert last["last_cash_dividend_pct"].tolist() == [15.0, 15.0, 12.0]
    assert last["last_bonus_pct"].tolist() == [5.0, 5.0, 10.0]
    closures = pd.DataFrame(
        {
            "security_id": [1, 1],
            "announced_on": [D(2025, 12, 20), D(2025, 12, 22)],
            "book_close_date": [D(2026, 1, 10), D(2026, 1, 5)],
        }
    )
    upcoming = dividends.next_book_close(closures, rows)
    assert upcoming.isna().tolist() == [True, True, False]
    assert upcoming.iloc[2] == pd.Timestamp("2026-01-10")  # the 01-05 closure was not announced yet


# --- sector and universe -----------------------------------------------------------------------------


def test_sector_medians_and_percentile_ranks_share_ties_and_skip_nulls() -> None:
    day = pd.Timestamp("2026-11-20")
    frame = pd.DataFrame(
        {
            "session_date": day,
            "sector": ["Banks", "Banks", "Banks", "Banks", "Hydro", None],
            "pe": [10.0, 20.0, 20.0, np.nan, 5.0, 7.0],
            "pb": 1.0,
            "roe": 0.1,
            "return_20d": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
            "turnover": 1.0,
        }
    )
    out = sector.sector_context(frame)
    assert out["pe_sector_median"].tolist()[:5] == [20.0, 20.0, 20.0, 20.0, 5.0]
    assert out["pe_vs_sector"].tolist()[:2] == [0.5, 1.0]
    assert out["pe_rank_sector"].tolist()[:3] == pytest.approx([1 / 3, 2.5 / 3, 2.5 / 3])
    assert np.isnan(out.loc[3, "pe_rank_sector"]) and out.loc[4, "pe_rank_sector"] == 1.0
    assert out.loc[5].isna().all()  # no sector, no context
    assert out["return_20d_rank_sector"].tolist()[:4] == [0.25, 0.5, 0.75, 1.0]


def test_the_universe_of_a_session_follows_listing_and_the_last_trade_of_companies_gone_since() -> None:
    companies = pd.DataFrame(
        {
            "security_id": [1, 2, 3, 4, 5],
            "included": [True, True, False, False, False],
            "reason": ["included", "included", "suspended", "mutual_fund", "not_listed"],
            "listing_date": [D(2020, 1, 1), D(2026, 6, 1), D(2020, 1, 1), D(2020, 1, 1), None],
            "last_seen": [D(2026, 11, 20)] * 4 + [D(2026, 5, 15)],
        }
    )
    prices = pd.DataFrame(
        {"security_id": [3, 5], "business_date": pd.to_datetime(["2026-03-02", "2026-02-02"])}
    )
    days = [pd.Timestamp("2026-03-02"), pd.Timestamp("2026-05-15"), pd.Timestamp("2026-06-01")]
    members = universe_grid(companies, prices, days).groupby("session_date")["security_id"].apply(set)
    assert members[days[0]] == {1, 3, 5}  # 2 not listed yet; 3 still trading; 4 is a fund
    assert members[days[1]] == {1, 5}  # 3 traded last on 03-02; 5 was in NEPSE's lists until 05-15
    assert members[days[2]] == {1, 2}


def test_forward_returns_summary_and_changes() -> None:
    returns = forward_returns({1: 100.0, 2: 50.0, 3: 10.0}, {1: 110.0, 2: 45.0}, [1, 2, 3])
    assert returns == {1: pytest.approx(0.1), 2: pytest.approx(-0.1), 3: None}
    summary = summarize(20, D(2026, 7, 1), [returns[1], returns[3]], list(returns.values()))
    assert (summary.known, summary.picks, summary.median) == (1, 2, pytest.approx(0.1))
    assert summary.universe_median == pytest.approx(0.0) and summary.universe_known == 2
    assert changes(["A", "B"], ["B", "C"]) == (["C"], ["A"])
    assert "not known yet" in summarize(5, None, [], []).describe(D(2026, 11, 20))


def test_dates_without_a_stored_session_have_no_rows() -> None:
    """A weekend, a holiday, or an empty warehouse: the run writes nothing and says so, it does not fail."""
    empty = pd.DataFrame()
    inputs = ScreenerInputs(
        companies=empty,
        prices=pd.DataFrame(columns=["security_id", "business_date"]),
        sessions=[],
        indicators=empty,
        reports=empty,
        actions=empty,
        closures=empty,
        shares=empty,
    )
    frame = screener_frame(inputs, [D(2026, 11, 21), D(2026, 11, 22)], logo_base_url="http://nepse")
    assert frame.empty and list(frame.columns) == list(COLUMNS)
