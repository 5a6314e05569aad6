"""The screener's reads and writes: what the point-in-time rows of a run's sessions are computed from, and
the rows of those sessions replaced in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, delete, func, select, union_all

from ntx_assets.warehouse.queries import read_frame
from ntx_assets.warehouse.schema import (
    REPORT_RATIO_COLUMNS,
    book_closures,
    companies,
    corporate_actions,
    daily_prices,
    filings,
    indicators,
    price_adjustments,
    report_ratios,
    screener,
    security_shares,
)
from ntx_assets.warehouse.upsert import UpsertCounts, upsert

# Calendar days of prices read before a run's first session: 20 sessions for the liquidity window and the
# 20-session return, plus the longest closure of the market (Dashain-Tihar, about ten days).
LOOKBACK_DAYS = 60

_RATIO_COLUMNS = ("security_id", "document_id", "report_type", "fiscal_year", "quarter", "known_on", "status")
_PRICE_COLUMNS = (
    "security_id",
    "business_date",
    "close",
    "previous_close",
    "volume",
    "turnover",
    "trades",
    "market_capitalization",
)


def read_screener_inputs(conn: Connection, dates: Sequence[dt.date]) -> dict[str, Any]:
    """The inputs of `ntx_assets.screener.table.ScreenerInputs` for sessions among `dates`, by field name."""
    start, end = min(dates) - dt.timedelta(days=LOOKBACK_DAYS), max(dates)
    p = daily_prices
    in_window = and_(p.c.business_date >= start, p.c.business_date <= end)
    # Each company's last row before the window: its latest trade for a company idle since, and the stored
    # close a re-basing on the window's first row is measured against.
    before = (
        select(p.c.security_id, func.max(p.c.business_date).label("business_date"))
        .where(p.c.business_date < start)
        .group_by(p.c.security_id)
        .subquery()
    )
    on_before = and_(p.c.security_id == before.c.security_id, p.c.business_date == before.c.business_date)
    price_columns = [p.c[name] for name in _PRICE_COLUMNS]
    prices = read_frame(
        conn,
        union_all(select(*price_columns).where(in_window), select(*price_columns).join(before, on_before)),
    )
    i = indicators
    on_before_indicators = and_(
        i.c.security_id == before.c.security_id, i.c.business_date == before.c.business_date
    )
    indicator_rows = read_frame(
        conn,
        union_all(
            select(i).where(i.c.business_date >= start, i.c.business_date <= end),
            select(i).join(before, on_before_indicators),
        ),
    )
    sessions = list(
        conn.execute(
            select(p.c.business_date).where(in_window).distinct().order_by(p.c.business_date)
        ).scalars()
    )
    c = companies
    return {
        "companies": read_frame(
            conn,
            select(
                c.c.security_id,
                c.c.symbol,
                c.c.name,
                c.c.sector,
                c.c.listing_date,
                c.c.website,
                c.c.description,
                c.c.logo_path,
                c.c.included,
                c.c.reason,
                c.c.last_seen,
            ),
        ),
        "prices": prices,
        "sessions": sessions,
        "indicators": indicator_rows,
        "reports": read_frame(
            conn,
            select(
                filings.c.security_id,
                filings.c.fiscal_year,
                filings.c.fiscal_year_nepali,
                filings.c.quarter,
                filings.c.report_type,
                filings.c.modified_at,
                filings.c.known_on,
                filings.c.first_fetched_on,
                filings.c.eps,
                filings.c.net_worth_per_share,
                filings.c.paid_up_capital,
                filings.c.profit,
            ).where(func.coalesce(filings.c.known_on, filings.c.first_fetched_on) <= end),
        ),
        "actions": read_frame(
            conn,
            select(
                corporate_actions.c.security_id,
                corporate_actions.c.fiscal_year,
                corporate_actions.c.announced_on,
                corporate_actions.c.bonus_pct,
                corporate_actions.c.right_pct,
                corporate_actions.c.cash_dividend_pct,
            ).where(corporate_actions.c.announced_on <= end),
        ),
        "closures": read_frame(
            conn,
            select(
                book_closures.c.security_id, book_closures.c.announced_on, book_closures.c.book_close_date
            ).where(book_closures.c.announced_on <= end),
        ),
        "shares": read_frame(conn, select(security_shares).where(security_shares.c.fetched_on <= end)),
        "history_starts": read_frame(
            conn,
            select(p.c.security_id, func.min(p.c.business_date).label("first_date")).group_by(
                p.c.security_id
            ),
        ),
        "restarts": read_frame(
            conn,
            select(price_adjustments.c.security_id, price_adjustments.c.ex_date).where(
                price_adjustments.c.factor.is_(None), price_adjustments.c.ex_date <= end
            ),
        ),
        "report_ratios": read_frame(
            conn,
            select(
                *(report_ratios.c[name] for name in _RATIO_COLUMNS),
                *(report_ratios.c[n] for n in REPORT_RATIO_COLUMNS),
            ).where(report_ratios.c.known_on <= end),
        ),
    }


def replace_screener_rows(
    conn: Connection, dates: Sequence[dt.date], rows: Sequence[dict[str, Any]]
) -> UpsertCounts:
    """The stored rows of `dates` become exactly `rows` (a company that left a session's universe loses its
    row there). The caller owns the transaction."""
    conn.execute(delete(screener).where(screener.c.session_date.in_(list(dates))))
    return upsert(conn, screener, rows)


def latest_screener(conn: Connection) -> pd.DataFrame:
    """The rows of the latest stored session, by symbol: what the `screener_latest` view holds (read from
    the table, whose column types SQLAlchemy knows)."""
    return read_frame(
        conn,
        select(*screener.c)
        .select_from(screener)
        .where(screener.c.session_date == select(func.max(screener.c.session_date)).scalar_subquery())
        .order_by(screener.c.symbol),
    )


def screener_sessions(conn: Connection) -> list[dt.date]:
    """Every session with stored screener rows, oldest first."""
    return list(
        conn.execute(select(screener.c.session_date).distinct().order_by(screener.c.session_date)).scalars()
    )


def stored_sessions_after(conn: Connection, day: dt.date, count: int) -> list[dt.date]:
    """The first `count` sessions with stored prices after `day` (fewer when the warehouse ends sooner)."""
    p = daily_prices
    query = select(p.c.business_date).where(p.c.business_date > day).distinct().order_by(p.c.business_date)
    return list(conn.execute(query.limit(count)).scalars())
