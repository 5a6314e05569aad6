"""Command line: `python -m ntx_assets_tests.tools.standin --port 8765 --seed 7 [--fault-500 0.1 ...]`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from ntx_assets_tests.tools.standin.config import (
    DIVIDEND_NOTICE_SHAPES,
    DRIFTS,
    TODAY_PRICE_VARIANTS,
    FaultConfig,
    StandinConfig,
)
from ntx_assets_tests.tools.standin.server import StandinServer

# (flag, FaultConfig field, type, help)
_FAULT_FLAGS: tuple[tuple[str, str, type, str], ...] = (
    ("--fault-429", "rate_429", float, "probability of a 429 with Retry-After"),
    ("--retry-after", "retry_after_seconds", int, "Retry-After seconds on injected 429s (default 1)"),
    ("--fault-500", "rate_500", float, "probability of a 500"),
    ("--fault-502", "rate_502", float, "probability of an nginx 502 page"),
    ("--fault-drop", "rate_drop", float, "probability of closing the connection without an answer"),
    ("--fault-slow", "rate_slow", float, "probability of a slow answer"),
    ("--slow-seconds", "slow_seconds", float, "delay of a slow answer (default 2)"),
    ("--fault-empty-200", "rate_empty_200", float, "probability of an empty 200 to a POST"),
    ("--fault-truncated-json", "rate_truncated_json", float, "probability of a half JSON body"),
    (
        "--expire-token-every",
        "expire_token_every",
        int,
        "treat every Nth authorised request's token as stale",
    ),
    ("--fault-seed", "seed", int, "seed of the fault stream (default 0)"),
)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ntx_assets_tests.tools.standin", description="NEPSE API stand-in server"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=365, help="calendar days of generated history")
    parser.add_argument(
        "--end-date", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default today NPT)"
    )
    parser.add_argument("--token-ttl", type=float, default=60.0, help="access-token lifetime in seconds")
    parser.add_argument(
        "--today-price-variant", choices=TODAY_PRICE_VARIANTS, default=StandinConfig.today_price_variant
    )
    parser.add_argument("--rate-limit", type=float, default=None, help="requests per second before 429")
    parser.add_argument("--oversize-bytes", type=int, default=60 * 1024 * 1024)
    parser.add_argument(
        "--escaping-symbol", default=None, help="company that gets the path-escaping document"
    )
    parser.add_argument("--oversize-symbol", default=None, help="company that gets the oversize document")
    parser.add_argument(
        "--faults-on-auth", action="store_true", help="let faults hit /prove and css.wasm too"
    )
    parser.add_argument(
        "--announcements-reversed",
        action="store_true",
        help="reverse the order of corporate actions (default oldest first), dividend and AGM notices "
        "(default newest first)",
    )
    parser.add_argument(
        "--dividend-notice-shape",
        choices=DIVIDEND_NOTICE_SHAPES,
        default=StandinConfig.dividend_notice_shape,
        help="dividend rows as captured in 2026-09 (addedDate, default) or 2026-04 (modifiedDate)",
    )
    parser.add_argument(
        "--drift",
        type=_drift_names,
        default=(),
        metavar="NAME,NAME",
        help="serve changed shapes: " + "; ".join(f"{name}: {text}" for name, text in DRIFTS.items()),
    )
    parser.add_argument(
        "--archive-dir",
        type=Path,
        default=StandinConfig.archive_dir,
        help="folder of per-company archive CSVs served under /archive/data/company-wise/ and used as "
        "those companies' real prices (default: the 20 files of ntx_assets_tests/data/price-archive)",
    )
    parser.add_argument(
        "--no-archive", action="store_true", help="serve no archive; every company's prices synthetic"
    )
    parser.add_argument(
        "--archive-fail",
        type=_symbols,
        default=(),
        metavar="SYM,SYM",
        help="archive files of these symbols answer 500",
    )
    parser.add_argument(
        "--archive-disagree",
        type=_disagreement,
        action="append",
        default=[],
        metavar="SYM:YYYY-MM-DD:RUPEES",
        help="serve that archive row with its close moved by RUPEES (NEPSE's row stays real); repeatable",
    )
    for flag, field, kind, help_text in _FAULT_FLAGS:
        parser.add_argument(flag, dest=field, type=kind, default=None, help=help_text)
    return parser.parse_args(argv)


def _symbols(value: str) -> tuple[str, ...]:
    return tuple(symbol.strip() for symbol in value.split(",") if symbol.strip())


def _disagreement(value: str) -> tuple[str, str, float]:
    try:
        symbol, day, rupees = value.split(":")
        date.fromisoformat(day)
        return symbol.strip(), day, float(rupees)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not SYMBOL:YYYY-MM-DD:RUPEES") from None


def _drift_names(value: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = [name for name in names if name not in DRIFTS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown drift {', '.join(map(repr, unknown))}; the names are: {', '.join(DRIFTS)}"
        )
    return names


def config_from_args(args: argparse.Namespace) -> StandinConfig:
    fault_values = {field: getattr(args, field) for _, field, _, _ in _FAULT_FLAGS}
    faults = FaultConfig(
        **{k: v for k, v in fault_values.items() if v is not None}, apply_to_auth=args.faults_on_auth
    )
    return StandinConfig(
        seed=args.seed,
        end_date=args.end_date,
        days=args.days,
        token_ttl_seconds=args.token_ttl,
        today_price_variant=args.today_price_variant,
        faults=faults,
        rate_limit_per_second=args.rate_limit,
        oversize_bytes=args.oversize_bytes,
        escaping_document_symbol=args.escaping_symbol,
        oversize_document_symbol=args.oversize_symbol,
        announcements_reversed=args.announcements_reversed,
        dividend_notice_shape=args.dividend_notice_shape,
        drift=args.drift,
        archive_dir=None if args.no_archive else args.archive_dir,
        archive_failing_symbols=args.archive_fail,
        archive_disagreements=tuple(args.archive_disagree),
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    server = StandinServer(config_from_args(args), host=args.host, port=args.port)
    data = server.data
    print(server.base_url, flush=True)
    print(
        f"seed {args.seed}, sessions {data.sessions[0] if data.sessions else '-'}..{data.last_session}, "
        f"market id {data.market_id}; Ctrl-C to stop",
        flush=True,
    )
    if server.config.drift:
        print(f"drift: {', '.join(server.config.drift)}", flush=True)
    if server.config.archive_dir is not None:
        print(f"price archive: {server.archive_url} ({server.config.archive_dir})", flush=True)
    server.serve_forever()
