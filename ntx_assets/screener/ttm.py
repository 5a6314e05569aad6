"""Trailing-twelve-month figures of the report a session's screen uses (pure).

NEPSE's `profitAmount` is year-to-date (docs/screener.md, "profitAmount is year-to-date"), so the twelve
months that end with the latest report known at t (fiscal year Y, period q) are

- q = 4 (the fourth quarter) or the annual report: its own profit, a whole fiscal year;
- q = 1, 2, 3: YTD(Y, q) + YE(Y-1) - YTD(Y-1, q), where YTD(Y-1, q) is the same quarter's report of the
  previous fiscal year and YE(Y-1) that year's whole-year profit: its annual report, else its fourth
  quarter (the highest period known, as `fundamentals.year_end_eps` takes it).

Every report in the formula must be known at t (public on or before t, `fundamentals.dated_reports`),
the latest modified version of its period; a missing report or profit makes the figure NULL: it is never
filled from another period. `profit_growth_ttm_yoy` compares it with the twelve months a year earlier:
for q = 1, 2, 3 the same figure for (Y-1, q); at a year end YE(Y-1), the previous fiscal year's whole
year (its annual report, else its fourth quarter: the same twelve months either way).

Per-share figures divide by the latest report's own share count, its paid-up capital over the face value
of Rs 100: the shares its profit was earned on, and what NEPSE's `epsValue` divides by, so `eps_ttm`
differs from `eps_annualized` only by the profit's window (a fourth quarter's `eps_ttm` is its profit per
share). `roe_ttm` = profit_ttm / (net worth per share x those shares), the latest report's net worth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ntx_assets.screener.dividends import FACE_VALUE

YEAR_END_RANK = 4  # the fourth quarter; the annual report ranks 5 (fundamentals.ANNUAL_RANK)
COLUMNS = ("eps_ttm", "profit_ttm", "pe_ttm", "roe_ttm", "profit_growth_ttm_yoy")
# Their sector medians (ntx_assets.screener.peers); pe_sector_median and the P/E ranks stay on `pe`.
SECTOR_MEDIANS = {"pe_ttm_sector_median": "pe_ttm", "roe_ttm_sector_median": "roe_ttm"}


def ttm_columns(reports: pd.DataFrame, known: pd.DataFrame, close: pd.Series) -> pd.DataFrame:
    """COLUMNS for each row of `known` (fundamentals.latest_known's output: session_date, security_id, fy,
    rank, profit, paid_up_capital, net_worth_per_share of the latest report known at the session), on its
    index; `reports` is fundamentals.dated_reports' output and `close` the row's close."""
    out = pd.DataFrame(index=known.index)
    if reports.empty or known.empty:
        return out.assign(**dict.fromkeys(COLUMNS, np.nan))[list(COLUMNS)]
    fy, rank = known["fy"].astype(float), known["rank"].astype(float)
    profit_ttm = _trailing(reports, known, fy, rank, known["profit"].astype(float))
    # A year earlier: the previous fiscal year's whole year at a year end (its annual report, else its
    # fourth quarter, the same twelve months), else its same quarter's trailing year.
    year_end = rank >= YEAR_END_RANK
    base_ytd = _profit_of(reports, known, fy - 1, rank)
    base = _trailing(reports, known, fy - 1, rank, base_ytd)
    base = base.where(~year_end, _year_end_profit(reports, known, fy - 1))
    paid_up = known["paid_up_capital"].astype(float)
    shares = (paid_up / FACE_VALUE).where(paid_up > 0)
    bvps = known["net_worth_per_share"].astype(float)
    out["profit_ttm"] = profit_ttm
    out["eps_ttm"] = profit_ttm / shares
    eps, price = out["eps_ttm"], close.astype(float)
    out["pe_ttm"] = (price / eps).where((eps > 0) & (price > 0))
    out["roe_ttm"] = (profit_ttm / (bvps * shares)).where(bvps > 0)
    out["profit_growth_ttm_yoy"] = (profit_ttm / base - 1.0).where(base > 0)
    return out[list(COLUMNS)]


def _trailing(
    reports: pd.DataFrame, rows: pd.DataFrame, fy: pd.Series, rank: pd.Series, ytd: pd.Series
) -> pd.Series:
    """The twelve months ending with period (fy, rank) whose year-to-date profit is `ytd`, known at each
    row's session: `ytd` itself at a year end, else ytd + YE(fy-1) - YTD(fy-1, rank)."""
    earlier_year_end = _year_end_profit(reports, rows, fy - 1)
    earlier_ytd = _profit_of(reports, rows, fy - 1, rank)
    within = ytd + earlier_year_end - earlier_ytd
    return pd.Series(np.where(rank >= YEAR_END_RANK, ytd, within), index=rows.index, dtype=float)


def _profit_of(reports: pd.DataFrame, rows: pd.DataFrame, fy: pd.Series, rank: pd.Series) -> pd.Series:
    """The profit of each row's company's report of period (fy, rank), the latest modified of those known at
    the row's session; NaN when none is."""
    wanted = rows[["session_date", "security_id"]].assign(fy=fy.to_numpy(), rank=rank.to_numpy())
    return _last_known(reports, wanted, ["security_id", "fy", "rank"], ["modified"])


def _year_end_profit(reports: pd.DataFrame, rows: pd.DataFrame, fy: pd.Series) -> pd.Series:
    """The whole-year profit of fiscal year `fy` known at each row's session: its annual report, else its
    fourth quarter."""
    wanted = rows[["session_date", "security_id"]].assign(fy=fy.to_numpy())
    year_end = reports[reports["rank"] >= YEAR_END_RANK]
    return _last_known(year_end, wanted, ["security_id", "fy"], ["rank", "modified"])


def _last_known(reports: pd.DataFrame, wanted: pd.DataFrame, on: list[str], order: list[str]) -> pd.Series:
    """The profit of the report matching each `wanted` row on `on`, known at its session, the last by
    `order`; on `wanted`'s index."""
    columns = list(dict.fromkeys([*on, *order, "known", "profit"]))
    positions = wanted.assign(row=np.arange(len(wanted)))
    candidates = positions.merge(reports[columns], on=on, how="inner")
    candidates = candidates[candidates["known"] <= candidates["session_date"]]
    candidates = candidates.sort_values(["row", *order], na_position="first")
    last = candidates.drop_duplicates("row", keep="last").set_index("row")["profit"]
    return pd.Series(last.reindex(np.arange(len(wanted))).to_numpy(float), index=wanted.index)
