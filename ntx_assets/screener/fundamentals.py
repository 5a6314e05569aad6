"""The reports a session's screen may use, and their year-on-year growth (pure).

A report is known from the day it became public: `filings.known_on` (its documents' earliest
submittedDate, else its modifiedDate's day), else the day a filings refresh first stored it
(`first_fetched_on`, for a report NEPSE dated nowhere). The latest report known at t is the one of the
highest fiscal year, then period (an annual report ranks after the fourth quarter), among those known on or
before t; a later modification of the same period wins.

Growth compares that report with the same period of the previous fiscal year, also known at t:
`eps_growth_yoy` (epsValue, annualized by NEPSE), `profit_growth_yoy` (profitAmount, which is
year-to-date: NABIL's live 2025-2026 reports give 6.76 bn at the third quarter and 7.91 bn at the fourth,
and 33.02 = 6.76 bn x 4/3 / 270.6 m shares is the third quarter's annualized EPS) and `bvps_growth_yoy`
(netWorthPerShare): current / base - 1, NULL when either is missing or the base is <= 0. The warehouse
keeps one version of a report: figures NEPSE corrected later are used as corrected from the report's
first day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ntx_assets.common.fiscal import parse_fiscal_year

ANNUAL_RANK = 5  # an annual report ranks after the fourth quarter of its fiscal year
GROWTH = {"eps_growth_yoy": "eps", "profit_growth_yoy": "profit", "bvps_growth_yoy": "net_worth_per_share"}
REPORT_FIELDS = (
    "fiscal_year",
    "quarter",
    "report_type",
    "eps",
    "net_worth_per_share",
    "paid_up_capital",
    "profit",
)


def dated_reports(reports: pd.DataFrame) -> pd.DataFrame:
    """Reports with `fy` (the Nepali start year), `rank` (quarter, 5 for annual) and `known` (the day they
    became public, as a timestamp); reports with neither a date nor a fiscal year are left out."""
    if reports.empty:
        # The same columns as below: a session with dividends announced but no report known yet (the
        # archive's years) reads `modified` too.
        return reports.assign(
            fy=pd.Series(dtype=float),
            rank=pd.Series(dtype=float),
            known=pd.Series(dtype="datetime64[ns]"),
            modified=pd.Series(dtype="datetime64[ns]"),
        )
    fy = (
        reports["fiscal_year_nepali"]
        .map(parse_fiscal_year)
        .fillna(reports["fiscal_year"].map(parse_fiscal_year))
    )
    rank = np.where(reports["report_type"] == "annual", ANNUAL_RANK, reports["quarter"].astype(float))
    known = pd.to_datetime(reports["known_on"]).fillna(pd.to_datetime(reports["first_fetched_on"]))
    out = reports.assign(
        fy=fy.astype(float), rank=rank, known=known, modified=pd.to_datetime(reports["modified_at"])
    )
    return out[out["fy"].notna() & out["known"].notna() & ~np.isnan(out["rank"])].reset_index(drop=True)


def latest_known(reports: pd.DataFrame, grid: pd.DataFrame) -> pd.DataFrame:
    """For each grid row (session_date, security_id): the latest report known at its session (REPORT_FIELDS,
    `report_known_on`, `fy`, `rank`) and the growth columns; NaN where none is known."""
    out = grid[["session_date", "security_id"]].copy()
    fields = [*REPORT_FIELDS, "report_known_on", "fy", "rank", *GROWTH]
    if reports.empty or grid.empty:
        return out.assign(**dict.fromkeys(fields, np.nan))
    ordered = reports.sort_values(["security_id", "known", "fy", "rank", "modified"], na_position="first")
    ordered = ordered.reset_index(drop=True)
    key = ordered["fy"] * 10 + ordered["rank"]
    # The best report among those known so far: the running maximum of (fiscal year, period); a report of
    # an older period published later does not displace it.
    best_key = key.groupby(ordered["security_id"]).cummax()
    position = pd.Series(np.where(key >= best_key, ordered.index, np.nan))
    ordered["best"] = position.groupby(ordered["security_id"]).ffill()
    picked = pd.merge_asof(
        out.reset_index().sort_values("session_date", kind="stable"),
        ordered[["security_id", "known", "best"]].sort_values("known", kind="stable"),
        left_on="session_date",
        right_on="known",
        by="security_id",
        direction="backward",
    ).set_index("index")
    best = picked["best"].reindex(out.index).fillna(-1).astype(int)
    chosen = ordered.reindex(best.to_numpy())  # -1: no report known yet, a row of NaN
    for field in (*REPORT_FIELDS, "fy", "rank"):
        out[field] = chosen[field].to_numpy()
    out["report_known_on"] = chosen["known"].dt.date.to_numpy()
    base = _base_reports(ordered, out)
    for column, field in GROWTH.items():
        current, previous = out[field].astype(float), base[field].astype(float)
        out[column] = (current / previous - 1.0).where(previous > 0)
    return out


def _base_reports(reports: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """The same period of the previous fiscal year, known at each row's session (the latest modified)."""
    wanted = current[["session_date", "security_id", "fy", "rank"]].reset_index()
    wanted["fy"] = wanted["fy"] - 1
    candidates = wanted.merge(reports, on=["security_id", "fy", "rank"], how="inner")
    candidates = candidates[candidates["known"] <= candidates["session_date"]]
    candidates = candidates.sort_values(["index", "modified"], na_position="first")
    return candidates.drop_duplicates("index", keep="last").set_index("index").reindex(current.index)


def year_end_eps(reports: pd.DataFrame, grid: pd.DataFrame, fiscal_year: pd.Series) -> pd.Series:
    """EPS of fiscal year `fiscal_year` (per grid row) known at each row's session: the annual report's,
    else the fourth quarter's (annualized by NEPSE, so a whole year's either way)."""
    wanted = grid[["session_date", "security_id"]].assign(fy=fiscal_year.astype(float)).reset_index()
    year_end = reports[reports["rank"] >= 4]
    candidates = wanted.merge(year_end, on=["security_id", "fy"], how="inner")
    candidates = candidates[candidates["known"] <= candidates["session_date"]]
    candidates = candidates.sort_values(["index", "rank", "modified"], na_position="first")
    last = candidates.drop_duplicates("index", keep="last").set_index("index")
    return last["eps"].reindex(grid.index).astype(float)
