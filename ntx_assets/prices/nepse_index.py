"""NEPSE index history records -> nepse_index rows, and the sessions a stored index series misses (pure:
no I/O).

A read is accepted whole or not at all: a row of another index, or a close that is not positive, raises
`BadIndexData` naming the date and the field, and the caller writes nothing of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from ntx_assets.nepse.models import IndexHistoryRow

# GET /api/nots/index lists 17 indices; 58 is the NEPSE index (all equities: docs/NEPSE_API.md section 2.3).
NEPSE_INDEX_ID = 58


class BadIndexData(ValueError):
    """NEPSE served an index row that cannot be stored as it is."""


def index_rows(records: Iterable[IndexHistoryRow], index_id: int) -> list[dict[str, Any]]:
    """nepse_index rows of `records`, oldest first; one row per date (the client already refused a date
    served twice across pages)."""
    rows = []
    for record in records:
        day = record.business_date
        if record.exchange_index_id != index_id:
            raise BadIndexData(
                f"NEPSE index history of index {index_id}: the row of {day} is of index "
                f"{record.exchange_index_id} (exchangeIndexId): nothing was stored; check the index id "
                "asked for"
            )
        if not record.closing_index > 0:
            raise BadIndexData(
                f"NEPSE index history of index {index_id}: the row of {day} has closingIndex "
                f"{record.closing_index}, not a positive value: nothing was stored; run again once NEPSE "
                "serves the close"
            )
        rows.append(
            {
                "index_id": index_id,
                "business_date": day,
                "open": record.open_index,
                "high": record.high_index,
                "low": record.low_index,
                "close": record.closing_index,
                "turnover_value": record.turnover_value,
                "turnover_volume": record.turnover_volume,
                "total_transactions": record.total_transaction,
                "abs_change": record.abs_change,
                "percentage_change": record.percentage_change,
            }
        )
    return sorted(rows, key=lambda row: row["business_date"])


def missing_sessions(index_dates: Collection[dt.date], sessions: Sequence[dt.date]) -> list[dt.date]:
    """The `sessions` (dates with stored prices) inside the index series' span, first to last stored
    date, that have no index row: a hole the backtest would bridge silently with the previous close."""
    if not index_dates:
        return []
    first, last = min(index_dates), max(index_dates)
    stored = set(index_dates)
    return [day for day in sessions if first <= day <= last and day not in stored]
