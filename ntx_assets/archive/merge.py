"""What one company's archive file becomes in the warehouse (pure): daily_prices rows, and how they meet
NEPSE's own rows.

An archive row becomes a daily_prices row with `source` = the archive's name, for a session NEPSE has no
row of (NEPSE's row wins: it is never overwritten, and `daily_prices` overwrites an archive row when NEPSE
serves that session). Its `previous_close` carries NEPSE's adjusted base only where `per_change` shows a
re-basing (the implied base differs from the previous stored close by more than per_change's rounding
allows); elsewhere it is the previous close, and before 2018-02-18 (no base in the data) it is NULL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ntx_assets.archive.rules import CleanFile, CleanRow
from ntx_assets.prices.rebasings import find_rebasings

TICK = 0.1
# per_change has two decimals: the base it implies is known to within half of 0.01%, plus the close's tick.
_PER_CHANGE_ROUNDING = 0.005


def archive_previous_closes(rows: Sequence[CleanRow]) -> list[float | None]:
    """Each row's previous_close as the warehouse stores it (see the module's docstring)."""
    out: list[float | None] = []
    for position, row in enumerate(rows):
        if position == 0 or row.exchange_base is None or row.per_change is None:
            out.append(None)
            continue
        previous = rows[position - 1].close
        low = row.close / (1 + (row.per_change + _PER_CHANGE_ROUNDING) / 100) - TICK
        high = row.close / (1 + (row.per_change - _PER_CHANGE_ROUNDING) / 100) + TICK
        out.append(previous if low <= previous <= high else round(row.exchange_base, 2))
    return out


def archive_price_rows(clean: CleanFile, security_id: int, source: str) -> list[dict[str, Any]]:
    """The daily_prices rows of one company's cleaned file."""
    previous = archive_previous_closes(clean.rows)
    return [
        {
            "security_id": security_id,
            "business_date": row.business_date,
            "symbol": clean.symbol,
            "open": row.open,
            "high": row.high,
            "low": row.low,
            "close": row.close,
            "previous_close": previous_close,
            "volume": row.volume,
            "turnover": row.turnover,
            "source": source,
        }
        for row, previous_close in zip(clean.rows, previous, strict=True)
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
