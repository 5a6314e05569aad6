"""What one company's archive file becomes in the warehouse (pure): daily_prices rows, and how they meet
NEPSE's own rows.

An archive row becomes a daily_prices row with `source` = the archive's name, for a session NEPSE has no
row of (NEPSE's row wins: it is never overwritten, and `daily_prices` overwrites an archive row when NEPSE
serves that session). Its `previous_close` is the rules' (`CleanRow.previous_close`): NEPSE's adjusted base
only where `per_change` shows a re-basing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ntx_assets.archive.rules import TICK, CleanFile
from ntx_assets.prices.rebasings import find_rebasings

PRICE_COLUMNS = (
    "security_id", "business_date", "symbol", "open", "high", "low", "close", "previous_close", "volume",
    "turnover", "source",
)  # fmt: skip


def archive_prices(clean: CleanFile, security_id: int, source: str) -> pd.DataFrame:
    """The daily_prices rows of one company's cleaned file (PRICE_COLUMNS, NaN where a value is NULL)."""
    frame = clean.frame
    rows = len(frame)
    constant = {
        "security_id": np.full(rows, security_id, dtype=np.int64),
        # Plain object arrays: pandas' string dtype would build an Arrow array per company for two constants.
        "symbol": np.full(rows, clean.symbol, dtype=object),
        "source": np.full(rows, source, dtype=object),
    }
    return pd.DataFrame(
        {name: constant[name] if name in constant else frame[name].to_numpy() for name in PRICE_COLUMNS}
    )


def file_rebasings(clean: CleanFile) -> pd.DataFrame:
    """The re-basings the file alone shows (exchange_base or unexplained: announcements need the
    warehouse), with `find_rebasings`' columns."""
    return find_rebasings(archive_prices(clean, 0, "archive"))


@dataclass(frozen=True)
class Disagreement:
    symbol: str
    business_date: dt.date
    column: str
    archive: float
    nepse: float

    def __str__(self) -> str:
        return (
            f"{self.symbol} {self.business_date}: {self.column} archive {self.archive:g}, "
            f"NEPSE {self.nepse:g}"
        )


COMPARED = ("close", "high", "low", "volume")


def disagreements(
    archive: pd.DataFrame, nepse_rows: Mapping[dt.date, Mapping[str, Any]]
) -> list[Disagreement]:
    """Every value of an archive row (`archive_prices`' frame) that differs from NEPSE's row of the same
    session by more than a tick (prices) or by any share (volume)."""
    if not nepse_rows:
        return []
    shared = archive[archive["business_date"].isin(list(nepse_rows))]
    found: list[Disagreement] = []
    for row in shared.to_dict("records"):
        theirs = nepse_rows[row["business_date"]]
        for column in COMPARED:
            ours, nepse = row[column], theirs[column]
            if ours is None or nepse is None or ours != ours:
                continue
            limit = 0.5 if column == "volume" else TICK + 1e-9
            if abs(float(ours) - float(nepse)) > limit:
                found.append(
                    Disagreement(row["symbol"], row["business_date"], column, float(ours), float(nepse))
                )
    return found
