"""python -m ntx_assets.screener.backtest: how a screen did, point in time, against the market.

    python -m ntx_assets.screener.backtest --where "pe < 15 and roe > 0.1" --sort -turnover --limit 10 \\
        --from 2026-07-01 --to 2026-11-20 --every 5 --hold 5 --costs nepse --plot screen.png

On every --every-th stored screener session from --from, the picks are that session's stored screen (the
screener command's --where/--sort/--limit), held with equal weights for --hold sessions on adjusted prices.
docs/backtest.md says how returns, dividends, costs and the price band are counted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ntx_assets.screener.__main__ import _attach_sort
from ntx_assets.screener.backtest.engine import BacktestError
from ntx_assets.screener.backtest.plot import plot_cumulative
from ntx_assets.screener.backtest.run import (
    BENCHMARKS,
    COSTS,
    RETURNS,
    BacktestResult,
    BacktestSpec,
    run_backtest,
)
from ntx_assets.screener.number_kinds import Kind, readable
from ntx_assets.screener.query import QueryError
from ntx_assets.settings import SettingsError, load_settings
from ntx_assets.warehouse import create_warehouse_engine


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ntx_assets.screener.backtest", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--where", help='the screen\'s filter, e.g. "pe < 15 and rsi_14 < 35" (default: all)')
    parser.add_argument("--sort", default="-turnover", help="columns, '-' for descending (default -turnover)")
    parser.add_argument("--limit", type=int, default=20, help="picks per rebalance (default 20; 0 for all)")
    parser.add_argument(
        "--from", dest="start", type=dt.date.fromisoformat, help="YYYY-MM-DD (default: first)"
    )
    parser.add_argument("--to", dest="end", type=dt.date.fromisoformat, help="YYYY-MM-DD (default: last)")
    parser.add_argument(
        "--every", type=int, default=20, help="rebalance every N stored sessions (default 20)"
    )
    parser.add_argument("--hold", type=int, default=20, help="hold each period N sessions (default 20)")
    parser.add_argument("--costs", choices=COSTS, default="none", help="none (default) or nepse")
    parser.add_argument("--returns", choices=RETURNS, default="total", help="total (default) or price")
    parser.add_argument("--benchmark", choices=BENCHMARKS, default="universe", help="universe (default)")
    parser.add_argument(
        "--capital", type=float, default=1_000_000.0, help="NPR traded at each rebalance (default 1000000)"
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help="write the cumulative return as a PNG")
    parser.add_argument(
        "--database-url", help="the warehouse (default: from NTX_DATABASE_URL / NTX_DATA_DIR)"
    )
    args = parser.parse_args(_attach_sort(sys.argv[1:] if argv is None else list(argv)))
    try:
        spec = BacktestSpec(
            where=args.where,
            sort=args.sort,
            limit=args.limit,
            start=args.start,
            end=args.end,
            every=args.every,
            hold=args.hold,
            costs=args.costs,
            returns=args.returns,
            benchmark=args.benchmark,
            capital=args.capital,
        )
        engine = create_warehouse_engine(args.database_url or load_settings().warehouse_url)
        try:
            result = run_backtest(engine, spec)
        finally:
            engine.dispose()
    except (QueryError, BacktestError, SettingsError, LookupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.plot:
        args.plot.write_bytes(plot_cumulative(result))
    if args.format == "json":
        json.dump(result.as_json(), out, indent=1)
        out.write("\n")
    else:
        write_table(result, out)
    if args.plot:
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


_PERIOD_COLUMNS = ("start", "end", "picks", "return", "benchmark", "excess", "turnover", "costs")


def write_table(result: BacktestResult, out: TextIO) -> None:
    """The periods, one line each (returns as percent with two decimals), their notes, then the summary."""
    spec = result.spec
    out.write(
        f"backtest of {spec.where or 'every company'} (sort {spec.sort}, limit {spec.limit or 'all'}), "
        f"every {spec.every} sessions, hold {spec.hold}, costs {spec.costs}, returns {spec.returns}, "
        f"benchmark {spec.benchmark}\n"
    )
    rows = []
    for p in result.periods:
        rows.append(
            [
                p.start.isoformat(),
                p.end.isoformat(),
                str(len(p.picks)),
                _pct(p.return_),
                _pct(p.benchmark_return),
                _pct(p.excess),
                _pct(p.turnover),
                _pct(p.costs),
            ]
        )
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(_PERIOD_COLUMNS)]
    out.write("  ".join(n.ljust(w) for n, w in zip(_PERIOD_COLUMNS, widths, strict=True)) + "\n")
    for row in rows:
        out.write("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) + "\n")
    for p in result.periods:
        notes = []
        if p.band_delayed:
            notes.append(f"at the upper band, bought the next session: {', '.join(p.band_delayed)}")
        if p.carried:
            carried = ", ".join(f"{c['symbol']} (last trade {c['last_trade']})" for c in p.carried)
            notes.append(f"no trade at the end, carried at the last price: {carried}")
        if p.unpriced:
            notes.append(f"never traded, left out: {', '.join(p.unpriced)}")
        if p.unknown_factor:
            notes.append(f"a re-basing of unknown factor inside, left out: {', '.join(p.unknown_factor)}")
        if notes:
            out.write(f"{p.start}: " + "; ".join(notes) + "\n")
    if result.incomplete:
        out.write(
            f"({len(result.incomplete)} rebalance(s) from {result.incomplete[0]} left out: their period ends "
            "after the last stored session or --to)\n"
        )
    out.write(_summary_text(result.summary))


_SUMMARY = (
    ("annualized_return", "annualized return", Kind.FRACTION),
    ("benchmark_annualized_return", "benchmark annualized", Kind.FRACTION),
    ("excess_annualized_return", "excess annualized", Kind.FRACTION),
    ("total_return", "total return (chained)", Kind.FRACTION),
    ("benchmark_total_return", "benchmark total", Kind.FRACTION),
    ("volatility", "volatility (annualized)", Kind.FRACTION),
    ("max_drawdown", "max drawdown", Kind.FRACTION),
    ("beat_benchmark_share", "periods beating the benchmark", Kind.FRACTION),
    ("mean_return", "mean period return", Kind.FRACTION),
    ("mean_benchmark_return", "mean benchmark return", Kind.FRACTION),
    ("average_picks", "average picks", Kind.RATIO),
    ("turnover", "turnover per rebalance", Kind.FRACTION),
    ("annual_turnover", "turnover per year", Kind.FRACTION),
    ("cost_drag", "cost drag (annualized)", Kind.FRACTION),
    ("band_delayed", "picks at the upper band", Kind.COUNT),
    ("carried", "picks carried at a last price", Kind.COUNT),
    ("unknown_factor", "picks left out: unknown factor", Kind.COUNT),
    ("periods", "periods", Kind.COUNT),
    ("chained_periods", "non-overlapping periods", Kind.COUNT),
)


def _summary_text(summary: dict[str, Any]) -> str:
    width = max(len(label) for _, label, _ in _SUMMARY)
    lines = [f"summary ({summary.get('first')} to {summary.get('last')}):"]
    lines += [f"  {label.ljust(width)}  {readable(summary.get(key), kind)}" for key, label, kind in _SUMMARY]
    return "\n".join(lines) + "\n"


def _pct(value: float | None) -> str:
    return readable(value, Kind.FRACTION)


if __name__ == "__main__":
    raise SystemExit(main())
