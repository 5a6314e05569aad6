"""One company's archive files become the rows to write (pure, no warehouse): each file read and cleaned,
a renamed company's files merged into one history under its one security id.

It runs in the import's reader process (importer.py), so its inputs and result are plain picklable data.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ntx_assets.archive.company_csv import SetAside, read_company_csv
from ntx_assets.archive.merge import archive_prices
from ntx_assets.archive.rules import clean

RENAME_OVERLAP = "rename_overlap"


@dataclass
class CompanyRead:
    """What one company's files hold, before the warehouse is touched."""

    prices: pd.DataFrame  # archive_prices' rows, sorted by date, one per session
    set_aside: list[SetAside] = field(default_factory=list)
    rules: Counter = field(default_factory=Counter)
    set_aside_counts: Counter = field(default_factory=Counter)


def read_company(texts: dict[str, str], security_id: int, source: str) -> CompanyRead:
    """`texts`: symbol -> file text of every file of the company, in the order it carried the symbols
    (where two files hold a session, the later symbol's row is kept and the overlap counted).

    Raises ArchiveFormatError for a file that is not the per-company format."""
    result = CompanyRead(pd.DataFrame())
    frames = []
    for symbol, text in texts.items():
        rows, unreadable = read_company_csv(text, symbol)
        cleaned = clean(symbol, rows, unreadable)
        result.rules.update({k: v for k, v in cleaned.counts.items() if v})
        result.set_aside_counts.update(cleaned.set_aside_counts())
        result.set_aside.extend(cleaned.set_aside)
        frames.append((archive_prices(cleaned, security_id, source), cleaned.frame["day"].to_numpy()))
    if len(frames) == 1:
        result.prices = frames[0][0]
        return result
    prices = pd.concat([frame for frame, _ in frames], ignore_index=True)
    days = np.concatenate([day for _, day in frames])
    overlap = pd.Series(days).duplicated(keep="last").to_numpy()
    if overlap.any():
        result.rules[RENAME_OVERLAP] += int(overlap.sum())
    kept = np.flatnonzero(~overlap)
    result.prices = prices.iloc[kept[np.argsort(days[kept], kind="stable")]].reset_index(drop=True)
    return result
