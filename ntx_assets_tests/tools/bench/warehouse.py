"""Warehouse load throughput: the product's upsert against raw COPY, on the same database, same rows."""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from ntx_assets.warehouse import create_warehouse_engine, migrate, upsert
from ntx_assets.warehouse.schema import daily_prices


@dataclass(frozen=True)
class LoadFigures:
    backend: str
    rows: int
    upsert_rows_per_s: float
    rerun_rows_per_s: float
    raw_copy_rows_per_s: float | None

    @property
    def upsert_vs_copy(self) -> float | None:
        return self.upsert_rows_per_s / self.raw_copy_rows_per_s if self.raw_copy_rows_per_s else None


def synthetic_prices(symbols: int, sessions: int, seed: int = 1) -> list[dict[str, Any]]:
    """OHLCV rows shaped like NEPSE's (0.1 tick, big volumes), deterministic for a seed."""
    rng = random.Random(seed)
    start = dt.date(2025, 1, 1)
    rows = []
    for security_id in range(1, symbols + 1):
        close = rng.uniform(100, 2000)
        for day in range(sessions):
            close = round(max(1.0, close * rng.uniform(0.95, 1.05)), 1)
            low, high = round(close * 0.98, 1), round(close * 1.02, 1)
            volume = rng.randint(0, 3_000_000_000)
            rows.append(
                {
                    "security_id": security_id,
                    "business_date": start + dt.timedelta(days=day),
                    "symbol": f"S{security_id:04d}",
                    "open": close,
                    "high": high,
                    "low": low,
                    "close": close,
                    "previous_close": close,
                    "volume": volume,
                    "turnover": round(volume * close, 2),
                    "trades": rng.randint(1, 5000),
                    "average_traded_price": close,
                    "fifty_two_week_high": high,
                    "fifty_two_week_low": low,
                }
            )
    return rows


def measure(url: str, rows: list[dict[str, Any]]) -> LoadFigures:
    engine = create_warehouse_engine(url)
    try:
        migrate(engine)
        with engine.begin() as conn:
            conn.execute(daily_prices.delete())
        first = _timed(lambda: _upsert(engine, rows))
        rerun = _timed(lambda: _upsert(engine, rows))
        raw = raw_copy_rows_per_s(engine, rows) if engine.dialect.name == "postgresql" else None
    finally:
        engine.dispose()
    return LoadFigures(
        backend=engine.dialect.name,
        rows=len(rows),
        upsert_rows_per_s=len(rows) / first,
        rerun_rows_per_s=len(rows) / rerun,
        raw_copy_rows_per_s=raw,
    )


def _upsert(engine: Any, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        upsert(conn, daily_prices, rows)


def raw_copy_rows_per_s(engine: Any, rows: list[dict[str, Any]], *, indexes: bool = True) -> float:
    """The ceiling: plain COPY of the same rows, in their order, into an empty table of daily_prices'
    shape and indexes (its key and both indexes), or with `indexes=False` into a bare one (no key, no
    index: what the server's parsing alone allows)."""
    columns = list(rows[0])
    like = "LIKE daily_prices INCLUDING ALL" if indexes else "LIKE daily_prices"
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_raw_copy")
        conn.exec_driver_sql(f"CREATE TABLE bench_raw_copy ({like})")
    try:
        with engine.begin() as conn:
            cursor = conn.connection.driver_connection.cursor()
            started = time.perf_counter()
            statement = sql.SQL("COPY bench_raw_copy ({}) FROM STDIN").format(
                sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
        elapsed = time.perf_counter() - started
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS bench_raw_copy")
    return len(rows) / elapsed


def _timed(action: Any) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@contextmanager
def scratch_postgres(admin_url: str) -> Iterator[str]:
    """A throwaway database on the local PostgreSQL, dropped afterwards."""
    name = f"ntx_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+psycopg://{admin_url.split('://', 1)[1].rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
