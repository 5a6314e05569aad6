"""python -m ntx_assets_tests.tools.demo [--sessions 20] [--seed 7] [--port 0] [--fresh] [--today DATE]"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Sequence

from ntx_assets_tests.tools.demo.environment import HISTORY_START


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ntx_assets_tests.tools.demo",
        description=(
            "Start the NEPSE stand-in on loopback (unless NTX_NEPSE_BASE_URL is set), materialize "
            "company_universe, then daily_prices + indicators over the last N closed sessions as one range "
            "run, then filings (+ artifacts) in groups of symbols, through the Dagster instance of "
            "$DAGSTER_HOME (./.dagster_home when unset), and print a summary. Partitions already "
            "materialized are skipped, so a second run makes only a handful of API calls."
        ),
    )
    parser.add_argument("--sessions", type=_positive, default=20, help="closed sessions to load (default 20)")
    parser.add_argument("--seed", type=int, default=7, help="the stand-in's data seed (default 7)")
    parser.add_argument(
        "--port", type=int, default=0, help="the stand-in's loopback port (default: a free one)"
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="first wipe the warehouse, the artifact store and the demo's Dagster state",
    )
    parser.add_argument(
        "--symbols",
        type=_positive,
        default=None,
        help="filings/artifacts for the first N symbols only (default: every symbol)",
    )
    parser.add_argument(
        "--rps",
        type=_pace,
        default=50.0,
        help="NTX_REQUESTS_PER_SECOND against the stand-in, unless set (default 50; the product's is 2)",
    )
    parser.add_argument("--verbose", action="store_true", help="show Dagster's INFO logs of every run")
    parser.add_argument(
        "--history",
        action="store_true",
        help=(
            "also import the shipped sample of a public price archive (20 real companies, their prices "
            f"since 2005) and backfill indicators and the screener from {HISTORY_START} (NTX_HISTORY_START)"
        ),
    )
    parser.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        default=None,
        help=(
            "YYYY-MM-DD: the day the demo takes as today, at its end (default: today in Nepal). The "
            "stand-in's year ends on it and the sessions loaded are the last N closed by then, so a demo "
            "with --today is the same whatever day it runs."
        ),
    )
    return parser.parse_args(argv)


def _pace(text: str) -> float:
    value = float(text)
    if not 0 < value <= 100:  # what NTX_REQUESTS_PER_SECOND accepts
        raise argparse.ArgumentTypeError(f"must lie in (0, 100], got {value:g}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    started = time.monotonic()  # the wall time includes loading Dagster and the definitions
    args = parse_args(argv)
    from ntx_assets_tests.tools.demo.environment import DemoAlreadyRunning
    from ntx_assets_tests.tools.demo.flow import run_demo
    from ntx_assets_tests.tools.demo.options import Options

    options = Options(
        sessions=args.sessions,
        seed=args.seed,
        port=args.port,
        fresh=args.fresh,
        symbols=args.symbols,
        requests_per_second=args.rps,
        verbose=args.verbose,
        today=args.today,
        history=args.history,
    )
    try:
        report = run_demo(options, started=started)
    except DemoAlreadyRunning as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    if report.interrupted:
        return 130
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
