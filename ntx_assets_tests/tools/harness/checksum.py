"""A checksum of every warehouse table, to prove two loads of the same NEPSE data left the same rows.

Used by the fault and crash tests: a backfill that survived faults, or was killed and re-executed, must
leave a warehouse whose checksum equals a clean run's.

What is compared: every table of the schema's metadata, every row, ordered by primary key, every column
except those that record *when* we fetched something (they differ between two loads of the same data by
design). Floats are compared to 12 significant digits: indicators computed over a different run grouping
(the backfill daemon may split a range into several runs) may differ in the last bits of a rolling sum.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Table, func, select

from ntx_assets.warehouse import create_warehouse_engine
from ntx_assets.warehouse.schema import metadata

# Columns holding the time of our own fetch, not NEPSE's data.
FETCH_TIME_COLUMNS = frozenset({"profile_fetched_at", "downloaded_at"})
FLOAT_DIGITS = 12


@dataclass(frozen=True)
class TableChecksum:
    rows: int
    distinct_keys: int  # rows with distinct primary keys: equal to `rows` unless a row is duplicated
    sha256: str


def _normalized(value: Any) -> str:
    if value is None:
        return "\N{EMPTY SET}"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float | decimal.Decimal):
        return f"{float(value):.{FLOAT_DIGITS}g}"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def table_checksum(engine: Engine, table: Table) -> TableChecksum:
    columns = [column for column in table.columns if column.name not in FETCH_TIME_COLUMNS]
    key = list(table.primary_key.columns)
    digest = hashlib.sha256()
    rows = 0
    with engine.connect() as conn:
        for row in conn.execute(select(*columns).order_by(*key)):
            digest.update("\x1f".join(_normalized(value) for value in row).encode())
            digest.update(b"\x1e")
            rows += 1
        distinct = conn.execute(
            select(func.count()).select_from(select(*key).distinct().subquery())
        ).scalar_one()
    return TableChecksum(rows=rows, distinct_keys=int(distinct), sha256=digest.hexdigest())


def warehouse_checksum(engine: Engine, tables: Iterable[Table] | None = None) -> dict[str, TableChecksum]:
    """Table name -> its checksum, for every table of the warehouse schema (or those given)."""
    return {table.name: table_checksum(engine, table) for table in (tables or metadata.sorted_tables)}


def checksum_of(database_url: str) -> dict[str, TableChecksum]:
    """`warehouse_checksum` of the warehouse at `database_url`."""
    engine = create_warehouse_engine(database_url)
    try:
        return warehouse_checksum(engine)
    finally:
        engine.dispose()
