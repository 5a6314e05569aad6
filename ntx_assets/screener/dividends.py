"""A company's announced distributions as known at a session (pure): the latest bonus, cash dividend and
right, its dividend record over fiscal years, and its next announced book closure.

An announcement is known from its date (`corporate_actions.announced_on`: the corporate action's
submittedDate, the dividend notice's modifiedDate or addedDate); an undated one is never used for a past
session. Both NEPSE endpoints may list the same declaration, so a fiscal year's cash dividend (bonus) is the
largest one announced for it, not their sum.

The record is counted in fiscal years of profit (a declaration's fiscal year is the year whose profits it
distributes, e.g. NABIL's 10.8% cash and 5% bonus of 2026-09-06 are for 2082-2083). For a session t in
fiscal year N, the last complete year is N-1; its dividend is declared months into year N, so the record
ends at E = N-1 once the company announced anything for N-1 by t, else at E = N-2 (its season is still
open). Then
- `cash_dividend_3y_avg_pct`: the cash dividends (% of the Rs 100 face value) of E, E-1, E-2 summed and
  divided by 3, a year without one counting 0;
- `bonus_3y_total_pct`: their bonus shares summed;
- `years_with_dividend_5y`: how many of E-4 .. E had a cash dividend or a bonus;
- `payout_ratio`: E's cash dividend per share (c% of Rs 100 = c rupees) over E's EPS (its annual report,
  else its fourth quarter, known at t); NULL when that EPS is unknown or <= 0.
All four are NULL for a company with no announcement known at t at all (unknown, not "never paid").
`next_book_close_date`: the earliest announced book closure after t among the notices published by t.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ntx_assets.common.fiscal import fiscal_year_of, parse_fiscal_year

RECORD_YEARS = 5
AVERAGE_YEARS = 3
FACE_VALUE = 100.0
LAST_ACTIONS = {
    "last_bonus_pct": "bonus_pct",
    "last_cash_dividend_pct": "cash_dividend_pct",
    "last_right_pct": "right_pct",
}


def dated_actions(actions: pd.DataFrame) -> pd.DataFrame:
    """Announced actions with `announced` (a timestamp) and `fy` (Nepali start year); undated ones dropped."""
    out = actions.assign(
        announced=pd.to_datetime(actions["announced_on"]),
        fy=actions["fiscal_year"].map(parse_fiscal_year).astype(float),
    )
    for column in ("bonus_pct", "right_pct", "cash_dividend_pct"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    return out[out["announced"].notna()].reset_index(drop=True)


def _asof(
    grid: pd.DataFrame, rows: pd.DataFrame, column: str, by: list[str], on: str = "announced"
) -> pd.Series:
    """For each grid row: `column` of the latest of `rows` (same `by` keys) with `on` <= its session."""
    if rows.empty or grid.empty:
        return pd.Series(np.nan, index=grid.index)
    left = grid[["session_date", *by]].reset_index()
    for key in by:
        left[key] = left[key].astype(rows[key].dtype)
    merged = pd.merge_asof(
        left.sort_values("session_date", kind="stable"),
        rows[[*by, on, column]].sort_values(on, kind="stable"),
        left_on="session_date",
        right_on=on,
        by=by,
        direction="backward",
    )
    return merged.set_index("index")[column].reindex(grid.index)


def last_actions(actions: pd.DataFrame, grid: pd.DataFrame) -> pd.DataFrame:
    """The latest announced bonus %, cash dividend % and right % known at each grid row's session."""
    out = pd.DataFrame(index=grid.index)
    for name, column in LAST_ACTIONS.items():
        out[name] = _asof(grid, actions[actions[column] > 0], column, ["security_id"])
    return out


def dividend_record(actions: pd.DataFrame, grid: pd.DataFrame, eps_of_year) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The record columns for each grid row; `eps_of_year(fiscal_years: Series) -> Series` gives the EPS
    of each row's fiscal year known at its session (fundamentals.year_end_eps)."""
    out = pd.DataFrame(index=grid.index)
    columns = ("cash_dividend_3y_avg_pct", "bonus_3y_total_pct", "years_with_dividend_5y", "payout_ratio")
    rows = actions[actions["fy"].notna()].sort_values(["security_id", "fy", "announced"]).copy()
    if rows.empty or grid.empty:
        return out.assign(**dict.fromkeys(columns, np.nan))
    # Running maxima within (company, fiscal year): the year's value as known at each announcement.
    keys = [rows["security_id"], rows["fy"]]
    rows["cash"] = rows["cash_dividend_pct"].fillna(0.0).groupby(keys).cummax()
    rows["bonus"] = rows["bonus_pct"].fillna(0.0).groupby(keys).cummax()
    known_any = _asof(grid, rows.assign(seen=1.0), "seen", ["security_id"]).notna()
    sessions = pd.Series(grid["session_date"].unique())
    last_complete = sessions.map(lambda day: fiscal_year_of(day.date()) - 1)
    year = grid["session_date"].map(dict(zip(sessions, last_complete, strict=True))).astype(float)

    def known(column: str, fiscal_year: pd.Series) -> pd.Series:
        return _asof(grid.assign(fy=fiscal_year), rows, column, ["security_id", "fy"])

    end = year.where(known("cash", year).notna(), year - 1)
    cash = [known("cash", end - k).fillna(0.0) for k in range(RECORD_YEARS)]
    bonus = [known("bonus", end - k).fillna(0.0) for k in range(RECORD_YEARS)]
    out["cash_dividend_3y_avg_pct"] = sum(cash[:AVERAGE_YEARS]) / AVERAGE_YEARS
    out["bonus_3y_total_pct"] = sum(bonus[:AVERAGE_YEARS])
    out["years_with_dividend_5y"] = sum(
        ((c > 0) | (b > 0)).astype(float) for c, b in zip(cash, bonus, strict=True)
    )
    eps = eps_of_year(end)
    out["payout_ratio"] = (cash[0] * FACE_VALUE / 100.0 / eps).where(eps > 0)
    out.loc[~known_any, list(columns)] = np.nan
    return out


def next_book_close(closures: pd.DataFrame, grid: pd.DataFrame) -> pd.Series:
    """The earliest book closure after each grid row's session among those announced by it (NaT if none)."""
    dated = closures.assign(
        announced=pd.to_datetime(closures["announced_on"]), closes=pd.to_datetime(closures["book_close_date"])
    ).dropna(subset=["announced", "closes"])
    if dated.empty or grid.empty:
        return pd.Series(pd.NaT, index=grid.index, dtype="datetime64[ns]")
    pairs = (
        grid[["session_date", "security_id"]]
        .reset_index()
        .merge(dated[["security_id", "announced", "closes"]], on="security_id")
    )
    upcoming = pairs[
        (pairs["announced"] <= pairs["session_date"]) & (pairs["closes"] > pairs["session_date"])
    ]
    return upcoming.groupby("index")["closes"].min().reindex(grid.index)
