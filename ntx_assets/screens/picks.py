"""A saved screen's picks on a stored session, and who entered and left since the previous one.

The picks are the rows the screener command prints for the same `--where/--sort/--limit` (ties broken by
symbol): the stored screen of that session, computed with only what was known at its close.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from ntx_assets.screener.history import changes
from ntx_assets.screener.query import order_by, where_clause
from ntx_assets.screens.file import SavedScreen
from ntx_assets.warehouse.schema import screener

# Always shown in a screen's table; then the columns its `where` and `sort` name.
LEAD_COLUMNS = ("symbol", "sector", "close", "change_pct")
MAX_TABLE_COLUMNS = 10


@dataclass
class SessionPicks:
    """One session's picks of a screen, and the change against the previous stored session."""

    session: dt.date
    rows: list[dict[str, Any]]
    previous: dt.date | None = None
    entered: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)

    @property
    def symbols(self) -> list[str]:
        return [row["symbol"] for row in self.rows]

    @property
    def changed(self) -> bool:
        return bool(self.entered or self.left)


def shown_columns(screen: SavedScreen) -> list[str]:
    """The table's columns: the lead ones, then every column the screen's where and sort name."""
    named = [node.id for node in ast.walk(ast.parse(screen.where, mode="eval")) if isinstance(node, ast.Name)]
    named += [part.strip().lstrip("+-") for part in screen.sort.split(",") if part.strip()]
    out: list[str] = []
    for name in (*LEAD_COLUMNS, *named):
        if name in screener.c and name not in out:
            out.append(name)
    return out[:MAX_TABLE_COLUMNS]


def picks_on(conn: Connection, screen: SavedScreen, session: dt.date, names: Sequence[str]) -> list[dict]:
    """The screen's rows of `session`, with the columns `names` (plus security_id), in the screen's order."""
    selected = [screener.c[name] for name in dict.fromkeys([*names, "symbol", "security_id"])]
    query = (
        select(*selected)
        .where(screener.c.session_date == session)
        .where(where_clause(screen.where, screener))
        .order_by(*order_by(screen.sort, screener), screener.c.symbol)
    )
    if screen.limit:
        query = query.limit(screen.limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def session_picks(
    conn: Connection, screen: SavedScreen, session: dt.date, stored: Sequence[dt.date]
) -> SessionPicks:
    """The picks of `session` and, when a stored session precedes it, who entered and left since then."""
    rows = picks_on(conn, screen, session, shown_columns(screen))
    earlier = [day for day in stored if day < session]
    if not earlier:
        return SessionPicks(session, rows)
    previous = earlier[-1]
    before = [row["symbol"] for row in picks_on(conn, screen, previous, ["symbol"])]
    entered, left = changes(before, (row["symbol"] for row in rows))
    return SessionPicks(session, rows, previous, entered, left)
