"""The warehouse reads more than one part of the product needs: one home for each, so "the included
companies" means the same thing in the universe asset, prices, filings and the tools."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import pandas as pd
from sqlalchemy import Connection, Select, func, select

from ntx_assets.warehouse.schema import companies, daily_prices


def included_companies(conn: Connection, symbols: Collection[str] | None = None) -> dict[int, str]:
    """Security id -> symbol of every company in the universe (`included`), or of those of `symbols`."""
    query = select(companies.c.security_id, companies.c.symbol).where(companies.c.included)
    if symbols is not None:
        query = query.where(companies.c.symbol.in_(list(symbols)))
    return {int(security_id): str(symbol) for security_id, symbol in conn.execute(query)}


def included_listing_dates(conn: Connection) -> dict[int, dt.date | None]:
    """Security id -> listing date (None when unknown) of every company in the universe."""
    query = select(companies.c.security_id, companies.c.listing_date).where(companies.c.included)
    return {int(security_id): listing for security_id, listing in conn.execute(query)}


def read_frame(conn: Connection, query: Select) -> pd.DataFrame:
    """A query's rows as a DataFrame with the query's column names (also when there are no rows)."""
    # Plain tuples: given Row objects, pandas probes each one's attributes (0.5 s for a year's prices).
    rows = [tuple(row) for row in conn.execute(query)]
    return pd.DataFrame.from_records(rows, columns=list(query.selected_columns.keys()))


def included_symbols(conn: Connection) -> set[str]:
    return set(included_companies(conn).values())


def included_count(conn: Connection) -> int:
    return int(
        conn.execute(select(func.count()).select_from(companies).where(companies.c.included)).scalar_one()
    )


def price_sessions_between(conn: Connection, first: dt.date, last: dt.date) -> list[dt.date]:
    """The sessions with stored daily_prices rows in [first, last], oldest first (the backtest's holding
    periods and the NEPSE index's check both count in them)."""
    d = daily_prices.c.business_date
    return list(conn.execute(select(d).where(d >= first, d <= last).distinct().order_by(d)).scalars())
