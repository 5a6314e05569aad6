"""python -m ntx_assets.screener: query the screener table without the app.

    python -m ntx_assets.screener --where "pe < 15 and rsi_14 < 35" --sort -turnover --limit 20
    python -m ntx_assets.screener --format csv --columns symbol,close,pe > cheap.csv

Reads the warehouse the settings point at (NTX_DATABASE_URL, or the SQLite file under NTX_DATA_DIR), or
--database-url. The table is written by the `screener` asset.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from sqlalchemy import inspect, select

from ntx_assets.screener.query import QueryError, columns, order_by, where_clause
from ntx_assets.settings import SettingsError, load_settings
from ntx_assets.warehouse import create_warehouse_engine
from ntx_assets.warehouse.schema import screener

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


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m ntx_assets.screener", description=__doc__.split("\n")[0])
    parser.add_argument("--where", help='a filter, e.g. "pe < 15 and rsi_14 < 35"')
    parser.add_argument("--sort", default="-turnover", help="columns, '-' for descending (default -turnover)")
    parser.add_argument("--limit", type=int, default=20, help="rows to show (default 20; 0 for all)")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument("--columns", help="comma-separated columns (default: a summary for table, all else)")
    parser.add_argument(
        "--database-url", help="the warehouse (default: from NTX_DATABASE_URL / NTX_DATA_DIR)"
    )
    args = parser.parse_args(_attach_sort(sys.argv[1:] if argv is None else list(argv)))
    try:
        rows, names = run(args)
    except (QueryError, SettingsError, LookupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    _write(rows, names, args.format, out)
    return 0


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


def run(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[str]]:
    url = args.database_url or load_settings().warehouse_url
    engine = create_warehouse_engine(url)
    try:
        if not inspect(engine).has_table(screener.name):
            raise LookupError(
                "the warehouse has no screener table yet: materialize the `screener` asset "
                "(dagster asset materialize -m ntx_assets.definitions --select screener)"
            )
        wanted = (
            args.columns.split(",") if args.columns else (TABLE_COLUMNS if args.format == "table" else None)
        )
        selected = columns(screener, wanted)
        query = select(*selected)
        if args.where:
            query = query.where(where_clause(args.where, screener))
        query = query.order_by(*order_by(args.sort, screener), screener.c.symbol)
        if args.limit:
            query = query.limit(args.limit)
        with engine.connect() as conn:
            rows = [dict(row) for row in conn.execute(query).mappings()]
    finally:
        engine.dispose()
    return rows, [column.key for column in selected]


def _write(rows: list[dict[str, Any]], names: list[str], kind: str, out: TextIO) -> None:
    if kind == "json":
        json.dump(rows, out, default=_iso, indent=1)
        out.write("\n")
    elif kind == "csv":
        writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        cells = [[_cell(row[name]) for name in names] for row in rows]
        widths = [max([len(name), *(len(r[i]) for r in cells)]) for i, name in enumerate(names)]
        out.write("  ".join(name.ljust(width) for name, width in zip(names, widths, strict=True)) + "\n")
        for row in cells:
            out.write("  ".join(value.rjust(width) for value, width in zip(row, widths, strict=True)) + "\n")
        out.write(f"({len(rows)} rows)\n")


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


def _iso(value: object) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


if __name__ == "__main__":
    raise SystemExit(main())
