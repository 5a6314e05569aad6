"""The one bulk upsert every asset writes through: rows in, (inserted, updated, unchanged) out.

Rows are keyed on the table's primary key (NEPSE's natural keys), so a re-run, a retry or a resumed
backfill converges to the same rows. An existing row is rewritten only when a compared column really
differs, which is what makes "unchanged" countable and keeps a re-run from touching anything.

- PostgreSQL: COPY the rows into a temporary table, then one
  `INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE ... WHERE (cols) IS DISTINCT FROM (excluded cols)`.
  COPY is the only loading path in the ~100k rows/s class (row-at-a-time inserts run at ~1k rows/s,
  executemany at ~20k rows/s on this machine).
- SQLite: executemany into a temporary table, then the same INSERT ... SELECT ... ON CONFLICT. The staging
  table is what lets one statement count inserted against updated rows; it costs one extra pass in memory.

The caller owns the transaction (`with engine.begin() as conn:`), so several tables of one partition are
written atomically.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table, text

_staging_ids = itertools.count()


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def rows(self) -> int:
        return self.inserted + self.updated + self.unchanged

    @property
    def changed(self) -> int:
        return self.inserted + self.updated

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted, self.updated + other.updated, self.unchanged + other.unchanged
        )

    def as_metadata(self, prefix: str = "rows") -> dict[str, int]:
        return {
            f"{prefix}_inserted": self.inserted,
            f"{prefix}_updated": self.updated,
            f"{prefix}_unchanged": self.unchanged,
        }


def upsert(
    conn: Connection,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    *,
    insert_only: Collection[str] = (),
) -> UpsertCounts:
    """Insert or update `rows` into `table` on its primary key; return what changed.

    `insert_only` columns are written when a row is new and never overwritten (e.g. `first_seen`).
    Every row must carry the same columns, including the whole primary key; two rows with the same key
    in one call are refused, because which one should win is the caller's decision, not the warehouse's.
    """
    batch = list(rows)
    if not batch:
        return UpsertCounts()
    columns = _columns_of(table, batch)
    key = [c.name for c in table.primary_key.columns]
    _check_keys(table, batch, key)
    compared = [c for c in columns if c not in key and c not in insert_only]

    staging = _staging_table(table, columns)
    staging.create(conn)
    try:
        if conn.dialect.name == "postgresql":
            _copy_into(conn, staging, columns, batch)
        else:
            conn.execute(staging.insert(), batch)
        inserted, updated = _merge(conn, table, staging, columns, key, compared, total=len(batch))
    finally:
        staging.drop(conn)
    return UpsertCounts(inserted=inserted, updated=updated, unchanged=len(batch) - inserted - updated)


def _columns_of(table: Table, batch: Sequence[Mapping[str, Any]]) -> list[str]:
    columns = list(batch[0].keys())
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise ValueError(
            f"upsert into {table.name}: unknown columns {unknown}; the table has {list(table.c.keys())}"
        )
    expected = set(columns)
    for index, row in enumerate(batch):
        if set(row.keys()) != expected:
            raise ValueError(
                f"upsert into {table.name}: row {index} has columns {sorted(row.keys())}, "
                f"the first row has {sorted(expected)}; give every row the same columns"
            )
    return columns


def _check_keys(table: Table, batch: Sequence[Mapping[str, Any]], key: Sequence[str]) -> None:
    missing = [k for k in key if k not in batch[0]]
    if missing:
        raise ValueError(f"upsert into {table.name}: rows lack the key columns {missing}")
    seen: set[tuple[Any, ...]] = set()
    for row in batch:
        values = tuple(row[k] for k in key)
        if any(v is None for v in values):
            raise ValueError(
                f"upsert into {table.name}: a row has an empty key {dict(zip(key, values, strict=True))}"
            )
        if values in seen:
            raise ValueError(
                f"upsert into {table.name}: key {dict(zip(key, values, strict=True))} appears twice in "
                "one batch; deduplicate the rows before writing"
            )
        seen.add(values)


def _staging_table(table: Table, columns: Sequence[str]) -> Table:
    # Same column types as the target, so bind processing (dates on SQLite) and COPY parsing match it;
    # no constraints, so a partial column set (e.g. without insert-only columns) still loads.
    name = f"ntx_stage_{table.name}_{next(_staging_ids)}"
    return Table(
        name,
        MetaData(),
        *(Column(c, table.c[c].type) for c in columns),
        prefixes=["TEMPORARY"],
    )


def _copy_into(
    conn: Connection, staging: Table, columns: Sequence[str], batch: Sequence[Mapping[str, Any]]
) -> None:
    raw = conn.connection.driver_connection
    column_list = ", ".join(_quote(c) for c in columns)
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {_quote(staging.name)} ({column_list}) FROM STDIN") as copy,
    ):
        for row in batch:
            copy.write_row([row[c] for c in columns])


def _merge(
    conn: Connection,
    table: Table,
    staging: Table,
    columns: Sequence[str],
    key: Sequence[str],
    compared: Sequence[str],
    *,
    total: int,
) -> tuple[int, int]:
    target = _quote(table.name)
    column_list = ", ".join(_quote(c) for c in columns)
    key_list = ", ".join(_quote(k) for k in key)
    source = f"SELECT {column_list} FROM {_quote(staging.name)}"
    if compared:
        assignments = ", ".join(f"{_quote(c)} = excluded.{_quote(c)}" for c in compared)
        conflict = f"DO UPDATE SET {assignments} WHERE {_differs(target, compared, conn.dialect.name)}"
    else:
        conflict = "DO NOTHING"

    if conn.dialect.name == "postgresql":
        # xmax = 0 marks a freshly inserted tuple; an updated one carries the updating transaction id.
        statement = (
            f"WITH merged AS (INSERT INTO {target} ({column_list}) {source} "
            f"ON CONFLICT ({key_list}) {conflict} RETURNING (xmax = 0) AS inserted) "
            "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged"
        )
        inserted, updated = conn.execute(text(statement)).one()
        return int(inserted), int(updated)

    join = " AND ".join(f"t.{_quote(k)} = s.{_quote(k)}" for k in key)
    existing = conn.execute(
        text(f"SELECT count(*) FROM {_quote(staging.name)} s JOIN {target} t ON {join}")
    ).scalar_one()
    # "WHERE true" resolves SQLite's parsing ambiguity between a join's ON and the upsert's ON CONFLICT.
    conn.execute(
        text(f"INSERT INTO {target} ({column_list}) {source} WHERE true ON CONFLICT ({key_list}) {conflict}")
    )
    changed = conn.execute(text("SELECT changes()")).scalar_one()
    inserted = total - int(existing)
    return inserted, int(changed) - inserted


def _differs(target: str, compared: Sequence[str], dialect: str) -> str:
    if dialect == "postgresql":
        mine = ", ".join(f"{target}.{_quote(c)}" for c in compared)
        theirs = ", ".join(f"excluded.{_quote(c)}" for c in compared)
        return f"({mine}) IS DISTINCT FROM ({theirs})"
    return " OR ".join(f"{target}.{_quote(c)} IS NOT excluded.{_quote(c)}" for c in compared)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
