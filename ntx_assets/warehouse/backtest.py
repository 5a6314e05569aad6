"""The backtest's reads (and the screener command's forward return, `closes_in_one_basis`): the stored screen
of each rebalance session, its universe, adjusted prices (the `adjusted_prices` view's rule, cut at
re-basings of unknown factor), the raw closes of the rebalance sessions (for the price band), cash
dividends of book closures, and the NEPSE index's closes (the `nepse_index` table). Nothing here computes a
return (`ntx_assets.screener.backtest.engine` does)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Connection, and_, func, inspect, select, union_all

from ntx_assets.prices.nepse_index import NEPSE_INDEX_ID
from ntx_assets.screener.query import order_by, where_clause
from ntx_assets.warehouse.nepse_index import index_closes
from ntx_assets.warehouse.queries import read_frame
from ntx_assets.warehouse.schema import (
    book_closures,
    corporate_actions,
    daily_prices,
    nepse_index,
    price_adjustments,
    screener,
)

NEPSE_INDEX_TABLE = nepse_index.name


def screen_picks(
    conn: Connection, session: dt.date, where: str | None, sort: str, limit: int
) -> list[tuple[int, str]]:
    """(security_id, symbol) of the stored screen of `session`, by the screener command's rule: that
    session's rows only, filtered by `where`, ordered by `sort` then symbol, the first `limit` (0: all)."""
    query = select(screener.c.security_id, screener.c.symbol).where(screener.c.session_date == session)
    if where:
        query = query.where(where_clause(where, screener))
    query = query.order_by(*order_by(sort, screener), screener.c.symbol)
    if limit:
        query = query.limit(limit)
    return [(int(security_id), str(symbol)) for security_id, symbol in conn.execute(query)]


def screener_sessions_between(conn: Connection, first: dt.date, last: dt.date) -> list[dt.date]:
    """The sessions with stored screener rows in [first, last], oldest first."""
    s = screener.c.session_date
    return list(conn.execute(select(s).where(s >= first, s <= last).distinct().order_by(s)).scalars())


def universes(conn: Connection, sessions: Sequence[dt.date]) -> dict[dt.date, list[int]]:
    """Every company with a stored screener row of each session: the session's whole universe."""
    out: dict[dt.date, list[int]] = {day: [] for day in sessions}
    if not sessions:
        return out
    query = select(screener.c.session_date, screener.c.security_id).where(
        screener.c.session_date.in_(list(sessions))
    )
    for day, security_id in conn.execute(query):
        out[day].append(int(security_id))
    return out


def adjusted_prices(conn: Connection, first: dt.date, last: dt.date) -> pd.DataFrame:
    """Closes from `first` to `last` in each company's basis, with each company's last row before `first`
    (a company idle at the start is still priced): security_id, business_date, close, factor, basis.

    A company's history is cut at every re-basing of unknown factor (price_adjustments.factor NULL: the
    archive's years before NEPSE carried a base, or a jump nothing explains) into stretches of one `basis`
    (an integer: the number of such re-basings after the row, so 0 is the latest stretch). Within a
    stretch, a row's close is daily_prices' close times `factor`, the product of the factors of the
    re-basings after it up to the stretch's end: the `adjusted_prices` view's rule (close times
    factor_to_latest) on the latest stretch, and the same rule, to the stretch's own last basis, on an
    earlier one, where the view has no value (its factor to today is unknown). A return between two rows
    of one stretch is a ratio in one basis, and is the view's ratio wherever the view has both; between
    two stretches it is unknown, and the engine leaves it out rather than guess.
    """
    p = daily_prices
    before = (
        select(p.c.security_id.label("sid"), func.max(p.c.business_date).label("last"))
        .where(p.c.business_date < first)
        .group_by(p.c.security_id)
        .subquery()
    )
    wanted = [p.c.security_id, p.c.business_date, p.c.close]
    frame = read_frame(
        conn,
        union_all(
            select(*wanted).where(p.c.business_date >= first, p.c.business_date <= last),
            select(*wanted).join(
                before, and_(p.c.security_id == before.c.sid, p.c.business_date == before.c.last)
            ),
        ),
    )
    a = price_adjustments
    adjustments = read_frame(conn, select(a.c.security_id, a.c.ex_date, a.c.factor))
    columns = ["security_id", "business_date", "close", "factor", "basis"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame["security_id"] = frame["security_id"].astype("int64")
    frame["business_date"] = pd.to_datetime(frame["business_date"])
    frame["close"] = pd.to_numeric(frame["close"], errors="coerce").astype(float)
    frame = frame.sort_values("business_date", kind="stable")
    if adjustments.empty:
        frame["factor"], frame["basis"] = 1.0, 0
    else:
        rebasings = rebasing_bases(adjustments)
        frame = pd.merge_asof(
            frame,
            rebasings.sort_values("ex_date", kind="stable"),
            left_on="business_date",
            right_on="ex_date",
            by="security_id",
            direction="forward",
            allow_exact_matches=False,
        )
        # No later re-basing: the row is in the latest basis.
        later = frame["ex_date"].notna()
        frame["factor"] = frame["to_basis"].where(later, 1.0)
        frame["basis"] = frame["basis_before"].where(later, 0).astype("int64")
    frame["close"] = frame["close"] * frame["factor"]
    return frame[columns].reset_index(drop=True)


def closes_in_one_basis(
    conn: Connection, security_ids: Sequence[int], start: dt.date, end: dt.date
) -> tuple[dict[int, float], dict[int, float]]:
    """Each company's last close on or before `start` and on or before `end`, in one basis (adjusted_prices'
    rule): what the screener command's forward return divides. A company whose two closes lie on either
    side of a re-basing of unknown factor is left out of both (its return between them cannot be known);
    one whose unknown re-basing came after `end` is not (the ratio inside a stretch is known)."""
    prices = adjusted_prices(conn, start, end)
    prices = prices[prices["security_id"].isin(list(security_ids)) & prices["close"].notna()]
    if prices.empty:
        return {}, {}
    ordered = prices.sort_values("business_date", kind="stable")
    first = ordered[ordered["business_date"] <= pd.Timestamp(start)].groupby("security_id").last()
    last = ordered.groupby("security_id").last()
    both = first.merge(last, left_index=True, right_index=True, suffixes=("_start", "_end"))
    both = both[both["basis_start"] == both["basis_end"]]
    return (
        {int(i): float(c) for i, c in both["close_start"].items()},
        {int(i): float(c) for i, c in both["close_end"].items()},
    )


def rebasing_bases(adjustments: pd.DataFrame) -> pd.DataFrame:
    """For each re-basing (security_id, ex_date, factor: NULL when unknown), what a price row just before
    it needs: `to_basis`, the product of the factors from it to its stretch's end (1.0 for one of unknown
    factor: the row is the last of its stretch), and `basis_before`, the number of re-basings of unknown
    factor from it on (the row's stretch)."""
    out = adjustments.assign(
        security_id=adjustments["security_id"].astype("int64"),
        ex_date=pd.to_datetime(adjustments["ex_date"]),
        factor=pd.to_numeric(adjustments["factor"], errors="coerce").astype(float),
    ).sort_values(["security_id", "ex_date"], ascending=[True, False], kind="stable")
    unknown = out["factor"].isna()
    # Newest first: basis_before counts the unknown ones at or after each; a stretch is the rows between.
    out["basis_before"] = unknown.astype("int64").groupby(out["security_id"]).cumsum()
    known = out["factor"].fillna(1.0)
    stretch = out["basis_before"] - unknown.astype("int64")  # an unknown one ends the stretch after it
    out["to_basis"] = known.groupby([out["security_id"], stretch]).cumprod().where(~unknown, 1.0)
    return out[["security_id", "ex_date", "to_basis", "basis_before"]]


def raw_closes_on(conn: Connection, sessions: Sequence[dt.date]) -> pd.DataFrame:
    """daily_prices' own close and NEPSE's previous close on each of `sessions` (the price band's inputs)."""
    p = daily_prices
    if not sessions:
        return pd.DataFrame(columns=["security_id", "business_date", "close", "previous_close"])
    query = select(p.c.security_id, p.c.business_date, p.c.close, p.c.previous_close).where(
        p.c.business_date.in_(list(sessions))
    )
    return _dated(read_frame(conn, query), "business_date")


def cash_dividends(conn: Connection, first: dt.date, last: dt.date) -> pd.DataFrame:
    """Cash dividends of the book closures from `first` to `last` that were announced on or before their
    book-close date: security_id, book_close_date, cash_dividend_pct (of the par value of Rs 100).

    The rate is the AGM notice's own (`book_closures.cash_dividend_pct`); a notice without one takes the
    largest cash dividend NEPSE announced for the same company and fiscal year on or before the book close
    (`corporate_actions`). One row per company and book-close date (the largest rate when notices repeat).
    """
    b = book_closures
    closures = _dated(
        read_frame(
            conn,
            select(
                b.c.security_id, b.c.fiscal_year, b.c.announced_on, b.c.book_close_date, b.c.cash_dividend_pct
            )
            .where(b.c.book_close_date >= first, b.c.book_close_date <= last)
            .where(b.c.announced_on.is_not(None), b.c.announced_on <= b.c.book_close_date),
        ),
        "book_close_date",
    )
    empty = pd.DataFrame(columns=["security_id", "book_close_date", "cash_dividend_pct"])
    if closures.empty:
        return empty
    a = corporate_actions
    actions = read_frame(
        conn,
        select(a.c.security_id, a.c.fiscal_year, a.c.announced_on, a.c.cash_dividend_pct).where(
            a.c.security_id.in_(sorted({int(i) for i in closures["security_id"]})),
            a.c.announced_on.is_not(None),
            a.c.cash_dividend_pct.is_not(None),
        ),
    )
    rates = []
    for row in closures.itertuples(index=False):
        rate = row.cash_dividend_pct
        if rate is None or pd.isna(rate):
            same = actions[
                (actions["security_id"] == row.security_id)
                & (actions["fiscal_year"] == row.fiscal_year)
                & (pd.to_datetime(actions["announced_on"]).dt.date <= row.book_close_date)
            ]
            rate = float(same["cash_dividend_pct"].max()) if not same.empty else None
        rates.append(rate)
    closures = closures.assign(cash_dividend_pct=pd.to_numeric(pd.Series(rates, dtype=object)).to_numpy())
    closures = closures[closures["cash_dividend_pct"] > 0]
    if closures.empty:
        return empty
    grouped = closures.groupby(["security_id", "book_close_date"], as_index=False)["cash_dividend_pct"].max()
    return grouped[["security_id", "book_close_date", "cash_dividend_pct"]]


def nepse_index_closes(conn: Connection) -> pd.Series | None:
    """The NEPSE index's (id 58) close by date from the `nepse_index` table (the `nepse_index` asset's),
    oldest first; empty when no row is stored, None when the table does not exist (a warehouse not yet
    migrated to revision 0010). Closes that are not positive are left out."""
    if not inspect(conn).has_table(NEPSE_INDEX_TABLE):
        return None
    closes = index_closes(conn, NEPSE_INDEX_ID)
    return closes[closes > 0]


def _dated(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """`name` as datetime.date values (SQLite may hand back text)."""
    if frame.empty or all(type(value) is dt.date for value in frame[name]):
        return frame
    frame = frame.copy()
    frame[name] = [
        value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else _as_date(value)
        for value in frame[name]
    ]
    return frame


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])
