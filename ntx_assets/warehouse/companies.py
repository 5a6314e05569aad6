"""Reads and writes of the company tables: companies, company_symbols and security_shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from ntx_assets.warehouse.queries import included_companies
from ntx_assets.warehouse.schema import companies, company_symbols, price_adjustments, security_shares
from ntx_assets.warehouse.upsert import UpsertCounts, upsert


class UnknownSymbols(LookupError):
    """Symbols asked for that no included company carries."""


def write_universe(
    conn: Connection,
    company_rows: Sequence[Mapping[str, Any]],
    symbol_rows: Sequence[Mapping[str, Any]],
    *,
    not_listed_reason: str,
    today: dt.date,
) -> tuple[UpsertCounts, list[str]]:
    """Store a refresh of the universe: every security seen (first_seen kept, last_seen set to `today`),
    its symbols, and the securities no list carries any more taken out of the universe with
    `not_listed_reason`. Returns the companies' upsert counts and the symbols that left."""
    # last_seen is bumped below for every row seen, so it neither counts as a change nor rewrites rows.
    counts = upsert(conn, companies, company_rows, insert_only={"first_seen", "last_seen"})
    seen_ids = [row["security_id"] for row in company_rows]
    conn.execute(update(companies).where(companies.c.security_id.in_(seen_ids)).values(last_seen=today))
    # A security absent from every NEPSE list is no longer listed: it leaves the universe, and its rows,
    # prices and filings stay under its security id.
    left = (
        conn.execute(
            update(companies)
            .where(companies.c.included, companies.c.security_id.not_in(seen_ids))
            .values(included=False, reason=not_listed_reason)
            .returning(companies.c.symbol)
        )
        .scalars()
        .all()
    )
    upsert(conn, company_symbols, symbol_rows, insert_only={"first_seen"})
    return counts, list(left)


def companies_without_profile(conn: Connection) -> list[int]:
    """Included companies whose profile was never fetched (profiles rarely change: once per company)."""
    query = select(companies.c.security_id).where(
        companies.c.included, companies.c.profile_fetched_at.is_(None)
    )
    return sorted(conn.execute(query).scalars())


def store_profiles(conn: Connection, profiles: Sequence[Mapping[str, Any]]) -> None:
    """Complete the stored companies with their profiles (`security_id`, `description`, `logo_path`,
    `fetched_at`): an UPDATE, not an upsert, since a profile only completes a row the refresh wrote."""
    if not profiles:
        return
    conn.execute(
        update(companies)
        .where(companies.c.security_id == bindparam("p_security_id"))
        .values(
            description=bindparam("p_description"),
            logo_path=bindparam("p_logo_path"),
            profile_fetched_at=bindparam("p_fetched_at"),
        ),
        [{f"p_{key}": value for key, value in profile.items()} for profile in profiles],
    )


def included_not_ordinary(conn: Connection) -> list[tuple[str, str, str]]:
    """(symbol, instrument type, status) of included rows that are not active ordinary shares."""
    c = companies.c
    rows = conn.execute(
        select(c.symbol, c.instrument_type, c.status).where(
            c.included,
            (c.instrument_type != "Equity")
            | (c.status != "A")
            | (c.reason != "included")
            | c.name.ilike("%promot_r share%"),
        )
    ).all()
    return [(str(symbol), str(kind), str(status)) for symbol, kind, status in rows]


def included_symbol_list(conn: Connection) -> list[str]:
    """The symbol of every included row, repeats kept (what a uniqueness check counts)."""
    return list(conn.execute(select(companies.c.symbol).where(companies.c.included)).scalars())


def symbol_security_ids(conn: Connection, symbols: Sequence[str]) -> dict[str, int]:
    """Each symbol's security id among the included companies; UnknownSymbols names any other."""
    found = {symbol: security_id for security_id, symbol in included_companies(conn, symbols).items()}
    missing = [symbol for symbol in symbols if symbol not in found]
    if missing:
        raise UnknownSymbols(
            f"No included company in the warehouse has the symbol(s) {', '.join(missing)}: materialize "
            "company_universe first (dagster asset materialize -m ntx_assets.definitions --select "
            "company_universe); a symbol that left the universe keeps no partition to run."
        )
    return found


def share_count_dates(conn: Connection, security_ids: Sequence[int]) -> dict[int, dt.datetime | None]:
    """When each company's share counts were last fetched (None: never)."""
    c = companies.c
    query = select(c.security_id, c.shares_fetched_at).where(c.security_id.in_(list(security_ids)))
    return {int(security_id): fetched_at for security_id, fetched_at in conn.execute(query)}


def last_rebasings(conn: Connection, security_ids: Sequence[int]) -> dict[int, dt.date]:
    """Each company's latest re-basing (price_adjustments), for those that have one."""
    a = price_adjustments.c
    query = (
        select(a.security_id, func.max(a.ex_date))
        .where(a.security_id.in_(list(security_ids)))
        .group_by(a.security_id)
    )
    return {int(security_id): ex_date for security_id, ex_date in conn.execute(query)}


def store_share_counts(conn: Connection, row: Mapping[str, Any], fetched_at: dt.datetime) -> None:
    """A company's current counts on `companies`, and one more row of their history (one per day)."""
    conn.execute(
        update(companies)
        .where(companies.c.security_id == row["security_id"])
        .values(
            listed_shares=row["listed_shares"],
            paid_up_capital=row["paid_up_capital"],
            shares_fetched_at=fetched_at,
        )
    )
    upsert(conn, security_shares, [row])
