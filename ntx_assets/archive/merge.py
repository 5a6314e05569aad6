"""What one company's archive file becomes in the warehouse (pure): daily_prices rows, and how they meet
NEPSE's own rows.

An archive row becomes a daily_prices row with `source` = the archive's name, for a session NEPSE has no
row of (NEPSE's row wins: it is never overwritten, and `daily_prices` overwrites an archive row when NEPSE
serves that session). Its `previous_close` is the rules' (`CleanRow.previous_close`): NEPSE's adjusted base
only where `per_change` shows a re-basing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ntx_assets.archive.rules import TICK, CleanFile
from ntx_assets.prices.rebasings import find_rebasings


def archive_price_rows(clean: CleanFile, security_id: int, source: str) -> list[dict[str, Any]]:
    """The daily_prices rows of one company's cleaned file."""
    return [
        {
            "security_id": security_id,
            "business_date": row.business_date,
            "symbol": clean.symbol,
            "open": row.open,
            "high": row.high,
            "low": row.low,
            "close": row.close,
            "previous_close": row.previous_close,
            "volume": row.volume,
            "turnover": row.turnover,
            "source": source,
        }
        for row in clean.rows
    ]


def file_rebasings(clean: CleanFile) -> pd.DataFrame:
    """The re-basings the file alone shows (exchange_base or unexplained: announcements need the
    warehouse), with `find_rebasings`' columns."""
    rows = archive_price_rows(clean, 0, "archive")
    if not rows:
        return find_rebasings(
            pd.DataFrame(columns=["security_id", "business_date", "close", "previous_close"])
        )
    return find_rebasings(pd.DataFrame(rows))


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
    archive_rows: Sequence[Mapping[str, Any]], nepse_rows: Mapping[dt.date, Mapping[str, Any]]
) -> list[Disagreement]:
    """Every value of an archive row that differs from NEPSE's row of the same session by more than a tick
    (prices) or by any share (volume)."""
    found: list[Disagreement] = []
    for row in archive_rows:
        theirs = nepse_rows.get(row["business_date"])
        if theirs is None:
            continue
        for column in COMPARED:
            ours, nepse = row[column], theirs[column]
            if ours is None or nepse is None:
                continue
            limit = 0.5 if column == "volume" else TICK + 1e-9
            if abs(float(ours) - float(nepse)) > limit:
                found.append(
                    Disagreement(row["symbol"], row["business_date"], column, float(ours), float(nepse))
                )
    return found
