"""Reads and writes of the nepse_index table: NEPSE's own indices by session (ntx_assets.prices.nepse_index
makes the rows)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, func, select

from ntx_assets.warehouse.queries import read_frame
from ntx_assets.warehouse.schema import nepse_index
from ntx_assets.warehouse.upsert import UpsertCounts, upsert

_I = nepse_index.c


@dataclass(frozen=True)
class StoredSpan:
    rows: int
    first: dt.date | None
    last: dt.date | None


def write_index(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> UpsertCounts:
    """Upsert on (index_id, business_date): a row NEPSE serves again unchanged is left alone."""
    return upsert(conn, nepse_index, rows)


def stored_span(conn: Connection, index_id: int) -> StoredSpan:
    rows, first, last = conn.execute(
        select(func.count(), func.min(_I.business_date), func.max(_I.business_date)).where(
            _I.index_id == index_id
        )
    ).one()
    return StoredSpan(int(rows), _as_date(first), _as_date(last))


def index_dates(conn: Connection, index_id: int) -> list[dt.date]:
    query = select(_I.business_date).where(_I.index_id == index_id).order_by(_I.business_date)
    return [_as_date(day) for day in conn.execute(query).scalars()]  # type: ignore[misc]


def index_closes(conn: Connection, index_id: int) -> pd.Series:
    """The close of index `index_id` by date (datetime.date), oldest first; empty when none is stored."""
    frame = read_frame(conn, select(_I.business_date, _I.close).where(_I.index_id == index_id))
    if frame.empty:
        return pd.Series(dtype=float)
    dates = [_as_date(day) for day in frame["business_date"]]
    return pd.Series(frame["close"].astype(float).to_numpy(), index=dates).sort_index()


def _as_date(value: object) -> dt.date | None:
    """A date column's value as datetime.date (SQLite may hand back text)."""
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value  # type: ignore[return-value]
    if isinstance(value, dt.datetime):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])
