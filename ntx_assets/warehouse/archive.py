"""Reads and writes of a price archive import: archive_files, archive_set_aside and its daily_prices rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, delete, func, select

from ntx_assets.archive.company_csv import SetAside
from ntx_assets.archive.sources import FileState
from ntx_assets.prices.daily_rows import NEPSE_SOURCE
from ntx_assets.warehouse.schema import (
    archive_files,
    archive_set_aside,
    companies,
    company_symbols,
    daily_prices,
)
from ntx_assets.warehouse.upsert import UpsertCounts, upsert

_P = daily_prices.c


def known_symbols(conn: Connection) -> dict[str, int]:
    """Every symbol the warehouse has seen -> its security id (renamed companies: each of their symbols),
    whatever the company's status now (delisted, suspended and merged companies included), in the order
    the symbols were first seen (a renamed company's older symbol first)."""
    s = company_symbols.c
    query = select(s.security_id, s.symbol).order_by(s.first_seen, s.symbol)
    found = {symbol: int(sid) for sid, symbol in conn.execute(query)}
    for sid, symbol in conn.execute(select(companies.c.security_id, companies.c.symbol)):
        found.setdefault(symbol, int(sid))
    return found


def file_states(conn: Connection, source: str) -> dict[str, FileState]:
    a = archive_files.c
    query = select(a.symbol, a.sha256, a.etag, a.last_modified).where(a.source == source)
    return {symbol: FileState(sha, etag, modified) for symbol, sha, etag, modified in conn.execute(query)}


def nepse_rows(conn: Connection, security_id: int) -> dict[dt.date, Mapping[str, Any]]:
    """NEPSE's own stored rows of one company, by session."""
    query = select(_P.business_date, _P.close, _P.high, _P.low, _P.volume).where(
        _P.security_id == security_id, _P.source == NEPSE_SOURCE
    )
    return {row.business_date: row._mapping for row in conn.execute(query)}


@dataclass(frozen=True)
class CompanyWrite:
    prices: UpsertCounts
    removed: int
    set_aside: int


def write_company(
    conn: Connection,
    *,
    source: str,
    security_id: int,
    rows: pd.DataFrame,
    set_aside: Sequence[SetAside],
    files: Mapping[str, FileState],
    imported_at: dt.datetime,
) -> CompanyWrite:
    """Make the warehouse hold exactly these rows for (source, company), in the caller's transaction: upsert
    them (the caller left out the sessions NEPSE serves), delete this source's rows of the company that are
    no longer in its files, replace the set-aside rows of its symbols, and record each file's state.
    `files`: symbol -> state of every file of the company (a renamed company has one per symbol)."""
    counts = upsert(conn, daily_prices, rows)
    removed = _delete_stale(conn, source, security_id, rows["business_date"])
    s = archive_set_aside.c
    conn.execute(delete(archive_set_aside).where(and_(s.source == source, s.symbol.in_(list(files)))))
    if set_aside:
        conn.execute(
            archive_set_aside.insert(),
            [
                {
                    "source": source, "symbol": item.symbol, "line": item.line, "reason": item.reason,
                    "business_date": item.business_date, "detail": item.detail, "raw": item.raw,
                }
                for item in set_aside
            ],
        )  # fmt: skip
    for symbol, state in files.items():
        own = rows.loc[rows["symbol"] == symbol, "business_date"]
        first, last = (own.min(), own.max()) if len(own) else (None, None)
        upsert(
            conn,
            archive_files,
            [
                {
                    "source": source, "symbol": symbol, "security_id": security_id, "sha256": state.sha256,
                    "etag": state.etag, "last_modified": state.last_modified, "rows": len(own),
                    "first_date": first, "last_date": last,
                    "imported_at": imported_at,
                }
            ],
        )  # fmt: skip
    return CompanyWrite(counts, removed, len(set_aside))


def _delete_stale(conn: Connection, source: str, security_id: int, dates: pd.Series) -> int:
    """Delete this source's rows of the company whose session is not in `dates` (just upserted); return how
    many. The upsert left every one of `dates` stored under this source (and locked by this transaction), so
    a count of the company's rows equal to len(dates) proves nothing is stale: the common case (a first
    import, a file that only grew) then costs one indexed count instead of a NOT IN over ~3,500 dates."""
    mine = and_(_P.security_id == security_id, _P.source == source)
    if len(dates):
        stored = conn.execute(select(func.count()).select_from(daily_prices).where(mine)).scalar_one()
        if stored <= len(dates):
            return 0
    stale = delete(daily_prices).where(mine)
    if len(dates):
        stale = stale.where(_P.business_date.not_in(dates.tolist()))
    return conn.execute(stale).rowcount or 0


def archive_row_count(conn: Connection, source: str) -> int:
    return int(
        conn.execute(select(func.count()).select_from(daily_prices).where(_P.source == source)).scalar_one()
    )
