"""python -m ntx_assets.screener: run a screen on the stored screener, today's or any past session's.

    python -m ntx_assets.screener --where "pe < 15 and rsi_14 < 35" --sort -turnover --limit 20
    python -m ntx_assets.screener --as-of 2026-06-01 --where "pe < pe_sector_median" --forward 20 --changes
    python -m ntx_assets.screener --format csv --columns symbol,close,pe > cheap.csv

Reads the warehouse the settings point at (NTX_DATABASE_URL, or the SQLite file under NTX_DATA_DIR), or
--database-url. The rows are the `screener` asset's: the latest session's by default, or the session given
with --as-of, each computed with only what was known at that session's close. The picks are the rows the
command prints (after --where, --sort and --limit).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from sqlalchemy import Connection, inspect, select

from ntx_assets.screener.history import ForwardSummary, changes, forward_returns, summarize
from ntx_assets.screener.number_kinds import readable_cell
from ntx_assets.screener.query import QueryError, columns, order_by, where_clause
from ntx_assets.settings import SettingsError, load_settings
from ntx_assets.warehouse import create_warehouse_engine
from ntx_assets.warehouse.backtest import closes_in_one_basis
from ntx_assets.warehouse.schema import screener
from ntx_assets.warehouse.screener import screener_sessions, stored_sessions_after

TABLE_COLUMNS = (
    "symbol",
    "sector",
    "as_of",
    "close",
    "change_pct",
    "market_cap",
    "pe",
    "pb",
    "roe",
    "dividend_yield",
    "rsi_14",
    "pct_from_52w_high",
    "turnover",
)


@dataclass
class Screen:
    """What the command found: the rows it prints, their columns, and what --forward / --changes add."""

    session: dt.date
    rows: list[dict[str, Any]]
    names: list[str]
    forward: ForwardSummary | None = None
    entered: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    previous: dt.date | None = None


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m ntx_assets.screener", description=__doc__.split("\n")[0])
    parser.add_argument("--where", help='a filter, e.g. "pe < 15 and rsi_14 < 35"')
    parser.add_argument("--sort", default="-turnover", help="columns, '-' for descending (default -turnover)")
    parser.add_argument("--limit", type=int, default=20, help="rows to show (default 20; 0 for all)")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument("--columns", help="comma-separated columns (default: a summary for table, all else)")
    parser.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        help="YYYY-MM-DD: the session whose stored screen to run (default: the latest)",
    )
    parser.add_argument(
        "--forward",
        type=_positive,
        metavar="N",
        help="add each pick's adjusted return over the N sessions after the screen's session, and the "
        "screen's median and mean against the whole universe's median",
    )
    parser.add_argument(
        "--changes",
        action="store_true",
        help="list the companies that entered and left the screen since the previous stored session",
    )
    parser.add_argument(
        "--database-url", help="the warehouse (default: from NTX_DATABASE_URL / NTX_DATA_DIR)"
    )
    args = parser.parse_args(_attach_sort(sys.argv[1:] if argv is None else list(argv)))
    try:
        screen = run(args)
    except (QueryError, SettingsError, LookupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    _write(screen, args.format, out)
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _attach_sort(argv: list[str]) -> list[str]:
    """`--sort -turnover` as the README writes it: argparse would read "-turnover" as an option."""
    out: list[str] = []
    index = 0
    while index < len(argv):
        if argv[index] == "--sort" and index + 1 < len(argv):
            out.append(f"--sort={argv[index + 1]}")
            index += 2
            continue
        out.append(argv[index])
        index += 1
    return out


def run(args: argparse.Namespace) -> Screen:
    url = args.database_url or load_settings().warehouse_url
    engine = create_warehouse_engine(url)
    try:
        if not inspect(engine).has_table(screener.name):
            raise LookupError(
                "the warehouse has no screener table yet: materialize the `screener` asset "
                "(dagster asset materialize -m ntx_assets.definitions --select screener)"
            )
        with engine.connect() as conn:
            return _screen(conn, args)
    finally:
        engine.dispose()


def _screen(conn: Connection, args: argparse.Namespace) -> Screen:
    sessions = screener_sessions(conn)
    session = _session(sessions, args.as_of)
    wanted = args.columns.split(",") if args.columns else (TABLE_COLUMNS if args.format == "table" else None)
    selected = columns(screener, wanted)
    rows = _picks(conn, args, session, [*selected, screener.c.security_id])
    names = [column.key for column in selected]
    screen = Screen(session, rows, names)
    if args.forward:
        screen.forward = _forward(conn, screen, args.forward)
        names.append(f"forward_{args.forward}")
    if args.changes:
        earlier = [day for day in sessions if day < session]
        if earlier:
            screen.previous = earlier[-1]
            before = _picks(conn, args, screen.previous, [screener.c.symbol])
            now = _picks(conn, args, session, [screener.c.symbol])
            screen.entered, screen.left = changes((r["symbol"] for r in before), (r["symbol"] for r in now))
    return screen


def _session(sessions: list[dt.date], wanted: dt.date | None) -> dt.date:
    if not sessions:
        raise LookupError(
            "the screener holds no session yet: materialize the `screener` asset over the sessions you want "
            "(a backfill of its partitions; dagster asset materialize -m ntx_assets.definitions --select "
            "screener --partition-range FIRST...LAST)"
        )
    if wanted is None:
        return sessions[-1]
    if wanted in sessions:
        return wanted
    before = [day for day in sessions if day < wanted]
    after = [day for day in sessions if day > wanted]
    around = ", ".join(str(day) for day in (before[-1:] + after[:1])) or "none"
    raise LookupError(
        f"no screen is stored for {wanted} (not a session, or the screener was not materialized for it); "
        f"the stored sessions around it: {around}; {len(sessions)} stored from {sessions[0]} to "
        f"{sessions[-1]}. To fill it: dagster asset materialize -m ntx_assets.definitions --select screener "
        f"--partition {wanted}"
    )


def _picks(
    conn: Connection, args: argparse.Namespace, session: dt.date, selected: list
) -> list[dict[str, Any]]:
    query = select(*selected).where(screener.c.session_date == session)
    if args.where:
        query = query.where(where_clause(args.where, screener))
    query = query.order_by(*order_by(args.sort, screener), screener.c.symbol)
    if args.limit:
        query = query.limit(args.limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def _forward(conn: Connection, screen: Screen, sessions: int) -> ForwardSummary:
    after = stored_sessions_after(conn, screen.session, sessions)
    end = after[-1] if len(after) == sessions else None
    universe = [
        int(i)
        for i in conn.execute(
            select(screener.c.security_id).where(screener.c.session_date == screen.session)
        ).scalars()
    ]
    start, finish = closes_in_one_basis(conn, universe, screen.session, end) if end is not None else ({}, {})
    returns = forward_returns(start, finish, universe)
    name = f"forward_{sessions}"
    for row in screen.rows:
        row[name] = returns.get(row["security_id"])
    return summarize(sessions, end, [row[name] for row in screen.rows], list(returns.values()))


def _write(screen: Screen, kind: str, out: TextIO) -> None:
    rows = [{name: row.get(name) for name in screen.names} for row in screen.rows]
    # A machine-readable format keeps stdout to its rows; the summary lines go to stderr.
    notes = out if kind == "table" else sys.stderr
    if kind == "json":
        json.dump(rows, out, default=_iso, indent=1)
        out.write("\n")
    elif kind == "csv":
        writer = csv.DictWriter(out, fieldnames=screen.names, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        notes.write(f"screen of {screen.session}\n")
        cells = [[readable_cell(name, row[name]) for name in screen.names] for row in rows]
        widths = [max([len(name), *(len(r[i]) for r in cells)]) for i, name in enumerate(screen.names)]
        out.write(
            "  ".join(name.ljust(width) for name, width in zip(screen.names, widths, strict=True)) + "\n"
        )
        for row in cells:
            out.write("  ".join(value.rjust(width) for value, width in zip(row, widths, strict=True)) + "\n")
        out.write(f"({len(rows)} rows)\n")
    if screen.forward is not None:
        notes.write(screen.forward.describe(screen.session) + "\n")
    if screen.previous is not None:
        notes.write(
            f"since {screen.previous}: entered {', '.join(screen.entered) or 'none'}; "
            f"left {', '.join(screen.left) or 'none'}\n"
        )


def _iso(value: object) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


if __name__ == "__main__":
    raise SystemExit(main())
