"""Each company placed within its sector on the same session (pure).

Over the rows of one session and one sector (the companies of that session's universe): the medians of
P/E, P/B and ROE (NULLs left out), `pe_vs_sector` = pe / pe_sector_median (NULL when the median is not
positive), and percentile ranks in (0, 1]: a value's average rank among the sector's non-NULL values,
ascending, divided by their count (pandas' rank(pct=True)); the lowest of n gets 1/n, the highest 1, ties
share their average rank, and a NULL value takes no rank. A company without a sector gets none of these.
"""

from __future__ import annotations

import pandas as pd

MEDIANS = {"pe_sector_median": "pe", "pb_sector_median": "pb", "roe_sector_median": "roe"}
RANKS = {
    "pe_rank_sector": "pe",
    "pb_rank_sector": "pb",
    "roe_rank_sector": "roe",
    "return_20d_rank_sector": "return_20d",
    "turnover_rank_sector": "turnover",
}


def sector_context(frame: pd.DataFrame) -> pd.DataFrame:
    """The MEDIANS, RANKS and `pe_vs_sector` columns of `frame` (session_date, sector, and the ranked
    columns), on its index."""
    groups = frame.groupby(["session_date", "sector"], dropna=True, sort=False)
    out = pd.DataFrame(index=frame.index)
    for name, column in MEDIANS.items():
        out[name] = groups[column].transform("median")
    out["pe_vs_sector"] = (frame["pe"] / out["pe_sector_median"]).where(out["pe_sector_median"] > 0)
    for name, column in RANKS.items():
        out[name] = groups[column].rank(method="average", pct=True)
    return out
