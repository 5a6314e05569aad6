"""Sector medians and percentile ranks of further columns, by the rule of ntx_assets.screener.sector (pure).

Over the rows of one session and one sector: the median of the column's non-NULL values, and the value's
average rank among them, ascending, over their count (pandas' rank(pct=True): the lowest of n gets 1/n,
the highest 1, ties share their average rank, a NULL value takes no rank). A company without a sector
gets neither. The TTM figures (ntx_assets.screener.ttm) and the banks' NRB ratios
(ntx_assets.screener.bank_ratios) use it.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd


def within_sector(frame: pd.DataFrame, medians: Mapping[str, str], ranks: Mapping[str, str]) -> pd.DataFrame:
    """`{name: column}` medians and ranks of `frame` (session_date, sector, the columns), on its index."""
    groups = frame.groupby(["session_date", "sector"], dropna=True, sort=False)
    out = pd.DataFrame(index=frame.index)
    for name, column in medians.items():
        out[name] = groups[column].transform("median")
    for name, column in ranks.items():
        out[name] = groups[column].rank(method="average", pct=True)
    return out
