"""Reads and writes of the price tables: daily_prices, indicators and price_adjustments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Connection, RowMapping, delete, func, select, tuple_

from ntx_assets.prices.adjustments import detect_adjustments
from ntx_assets.warehouse.queries import read_frame
from ntx_assets.warehouse.schema import (
    archive_files,
    book_closures,
    corporate_actions,
    daily_prices,
    indicators,
)
from ntx_assets.warehouse.schema import price_adjustments as adjustments
from ntx_assets.warehouse.upsert import UpsertCounts, upsert

_P = daily_prices.c


def price_history(conn: Connection, *conditions: ColumnElement[bool]) -> pd.DataFrame:
    """The daily_prices columns the indicators are computed from (previous_close: the re-basings are
    found from it), of the rows matching `conditions`."""
    query = select(
        _P.security_id, _P.symbol, _P.business_date, _P.open, _P.high, _P.low, _P.close, _P.previous_close,
        _P.volume, _P.source,
    ).where(*conditions)  # fmt: skip
    return read_frame(conn, query)


def histories_through(conn: Connection, dates: Sequence[dt.date]) -> pd.DataFrame:
    """The full stored history, up to the last of `dates`, of every company priced on one of `dates`."""
    priced = select(_P.security_id).where(_P.business_date.in_(dates)).distinct()
    return price_history(conn, _P.security_id.in_(priced), _P.business_date <= max(dates))


def stored_prices(conn: Connection, first: dt.date, last: dt.date) -> Sequence[RowMapping]:
    """Every daily_prices row from `first` to `last`, as mappings of column -> value."""
    return conn.execute(select(daily_prices).where(_P.business_date.between(first, last))).mappings().all()


def price_row_count(conn: Connection, dates: Sequence[dt.date]) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(daily_prices).where(_P.business_date.in_(dates))
        ).scalar_one()
    )


def rows_on(conn: Connection, day: dt.date) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(daily_prices).where(_P.business_date == day)
        ).scalar_one()
    )


def archived_sessions(conn: Connection, dates: Sequence[dt.date]) -> dict[dt.date, int]:
    """Of `dates`, those a price archive covers (between the first and last date of an imported file) ->
    how many rows are stored for each (0: the archive covers it and no company traded)."""
    if not dates:
        return {}
    f = archive_files.c
    first, last = conn.execute(select(func.min(f.first_date), func.max(f.last_date))).one()
    if first is None:
        return {}
    covered = [d for d in dates if first <= d <= last]
    counts = (
        dict(
            conn.execute(
                select(_P.business_date, func.count())
                .where(_P.business_date.in_(covered))
                .group_by(_P.business_date)
            ).all()
        )
        if covered
        else {}
    )
    return {d: int(counts.get(d, 0)) for d in covered}


def latest_session_loaded(conn: Connection) -> dt.date | None:
    return conn.execute(select(func.max(_P.business_date))).scalar_one()


def prices_without_indicators(conn: Connection, dates: Sequence[dt.date], limit: int) -> list[str]:
    """ "SYMBOL date" of daily_prices rows of `dates` with no indicators row, at most `limit`."""
    i = indicators.c
    joined = daily_prices.outerjoin(
        indicators, (i.security_id == _P.security_id) & (i.business_date == _P.business_date)
    )
    query = (
        select(_P.symbol, _P.business_date)
        .select_from(joined)
        .where(_P.business_date.in_(dates), i.security_id.is_(None))
        .limit(limit)
    )
    return [f"{symbol} {day}" for symbol, day in conn.execute(query)]


def rebasings_on(conn: Connection, dates: Sequence[dt.date]) -> int:
    """How many re-basings (ntx_assets.prices.adjustments.detect_adjustments) the rows of `dates` show
    against each company's stored row before them."""
    if not dates:
        return 0
    first = min(dates)
    before = (
        select(_P.security_id, func.max(_P.business_date).label("day"))
        .where(_P.business_date < first)
        .group_by(_P.security_id)
        .subquery()
    )
    previous = select(_P.security_id, _P.business_date, _P.close, _P.previous_close).join(
        before, (before.c.security_id == _P.security_id) & (before.c.day == _P.business_date)
    )
    rows = select(_P.security_id, _P.business_date, _P.close, _P.previous_close).where(
        _P.business_date.between(first, max(dates))
    )
    frame = pd.concat([read_frame(conn, previous), read_frame(conn, rows)], ignore_index=True)
    found = detect_adjustments(frame) if len(frame) else frame
    return int(found["ex_date"].isin(set(dates)).sum()) if len(found) else 0


def rebasing_inputs(conn: Connection) -> dict[str, pd.DataFrame]:
    """What price_adjustments is derived from: every stored price (its re-basing columns and source),
    every announced action and every book closure."""
    prices = select(_P.security_id, _P.business_date, _P.symbol, _P.close, _P.previous_close, _P.source)
    return {"prices": read_frame(conn, prices), **announcements(conn)}


def announcements(conn: Connection) -> dict[str, pd.DataFrame]:
    """Every announced action and book closure: what explains a move beyond the band."""
    return {
        "actions": read_frame(conn, select(corporate_actions)),
        "closures": read_frame(conn, select(book_closures)),
    }


def replace_adjustments(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> tuple[UpsertCounts, int]:
    """Make price_adjustments exactly `rows`: upsert them and delete the re-basings the prices no longer
    show (a corrected price). Returns the upsert counts and the number deleted."""
    counts = upsert(conn, adjustments, rows)
    keep = [(row["security_id"], row["ex_date"]) for row in rows]
    query = delete(adjustments)
    if keep:
        query = query.where(tuple_(adjustments.c.security_id, adjustments.c.ex_date).not_in(keep))
    return counts, conn.execute(query).rowcount or 0
