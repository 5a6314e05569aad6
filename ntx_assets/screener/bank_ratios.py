"""The NRB ratios of banks and other financial institutions in a session's screen (pure).

Banks, development banks, finance companies and microfinance institutions print, in every quarterly
report, the ratios Nepal Rastra Bank prescribes; `report_ratios` holds what was read from each document
(ntx_assets.filings.ratios). A row of the screen shows the ratios of **its own report**: the period of the
row's `fiscal_year` and `quarter` (the latest report known at t, ntx_assets.screener.fundamentals), so
the ratios and the fundamentals of a row are of one period. For an annual report, its documents' ratios,
else those of the same fiscal year's fourth quarter (the same year end). Only documents public on or
before t count (`report_ratios.known_on`, the document's submission date), and only those from which
something was read (status read or partial); of several such documents of the period, the latest public
(then the highest document id) is taken: a document published later replaces an earlier one from its day.
A ratio its document did not give stays NULL; nothing is taken from another period or document.

NULL for a company outside FINANCIAL_SECTORS (whatever was read), and where no document of the row's
period could be read. `cd_ratio_pct` of a microfinance institution is its "Credit to Deposit and
Borrowing Ratio" (what it prints instead), so it is compared within its own sector only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ntx_assets.common.fiscal import parse_fiscal_year
from ntx_assets.screener.fundamentals import ANNUAL_RANK

FINANCIAL_SECTORS = frozenset({"Commercial Banks", "Development Banks", "Finance", "Microfinance"})
# Screener column -> report_ratios column.
RATIOS = {
    "capital_adequacy_pct": "capital_fund_to_rwa_pct",
    "npl_pct": "npl_pct",
    "provision_to_npl_pct": "provision_to_npl_pct",
    "cost_of_funds_pct": "cost_of_funds_pct",
    "cd_ratio_pct": "cd_ratio_pct",
    "base_rate_pct": "base_rate_pct",
    "spread_pct": "spread_pct",
}
READABLE = ("read", "partial")
YEAR_END_RANK = 4
# Sector medians of every ratio; ranks (ascending, ntx_assets.screener.peers) of the three that grade a
# bank's soundness: a higher capital adequacy and loan-loss coverage rank is better, a lower NPL rank.
MEDIANS = {f"{column}_sector_median": column for column in RATIOS}
RANKS = {
    f"{column}_rank_sector": column for column in ("capital_adequacy_pct", "npl_pct", "provision_to_npl_pct")
}
COLUMNS = (*RATIOS, "ratios_known_on")


def dated_ratios(ratios: pd.DataFrame) -> pd.DataFrame:
    """The readable report_ratios rows with `fy` (the Nepali start year), `rank` (quarter, 5 for an annual
    report) and `known` (a timestamp); rows without a period or a date are left out."""
    needed = ("security_id", "document_id", "fiscal_year", "quarter", "report_type", "known_on", "status")
    if ratios.empty or not set(needed) <= set(ratios.columns):
        return pd.DataFrame(columns=[*needed, *RATIOS.values(), "fy", "rank", "known"])
    fy = ratios["fiscal_year"].map(parse_fiscal_year).astype(float)
    quarter = pd.to_numeric(ratios["quarter"], errors="coerce").astype(float)
    rank = np.where(ratios["report_type"] == "annual", float(ANNUAL_RANK), quarter)
    out = ratios.assign(fy=fy, rank=rank, known=pd.to_datetime(ratios["known_on"]))
    keep = out["status"].isin(READABLE) & out["fy"].notna() & out["known"].notna() & ~np.isnan(out["rank"])
    return out[keep].reset_index(drop=True)


def bank_ratios(ratios: pd.DataFrame, known: pd.DataFrame, sectors: pd.Series) -> pd.DataFrame:
    """COLUMNS for each row of `known` (fundamentals.latest_known's output: session_date, security_id, fy,
    rank), on its index; `ratios` is dated_ratios' output and `sectors` each row's sector."""
    out = pd.DataFrame(np.nan, index=known.index, columns=list(RATIOS))
    out["ratios_known_on"] = pd.Series(pd.NaT, index=known.index, dtype="datetime64[ns]")
    if ratios.empty or known.empty:
        return out
    wanted = known[["session_date", "security_id", "fy", "rank"]].assign(row=np.arange(len(known)))
    candidates = wanted.merge(
        ratios[["security_id", "fy", "document_id", "known", *RATIOS.values()]].assign(
            found=ratios["rank"].astype(float)
        ),
        on=["security_id", "fy"],
        how="inner",
    )
    same = candidates["found"] == candidates["rank"]
    year_end = (candidates["rank"] == ANNUAL_RANK) & (candidates["found"] == YEAR_END_RANK)
    candidates = candidates[(same | year_end) & (candidates["known"] <= candidates["session_date"])]
    candidates = candidates.assign(same=same[candidates.index])
    chosen = candidates.sort_values(["row", "same", "known", "document_id"]).drop_duplicates(
        "row", keep="last"
    )
    chosen = chosen.set_index("row").reindex(np.arange(len(known)))
    financial = sectors.reindex(known.index).isin(FINANCIAL_SECTORS).to_numpy()
    for column, field in RATIOS.items():
        out[column] = np.where(financial, chosen[field].to_numpy(float), np.nan)
    out["ratios_known_on"] = pd.to_datetime(chosen["known"]).where(financial).to_numpy()
    return out
