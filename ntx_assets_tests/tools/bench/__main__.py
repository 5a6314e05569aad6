"""Run the benchmark: `make bench` (or `python -m ntx_assets_tests.tools.bench --help`).

Measures, in one run, each figure against its bound:
  1. warehouse load: the product's upsert vs raw COPY into the same table (SQLite and PostgreSQL);
  2. a REAL Dagster backfill (webserver + daemon, the UI's mutation) of --dates calendar dates x every
     symbol of daily_prices + indicators, against the stand-in limited to --rate requests/s:
     API calls made / minimum needed, prices time / (calls / rate), indicator compute seconds, and
     Dagster's overhead (runs, launch -> last run's success against the pacing bound calls / rate);
     and the same year through `dagster asset materialize --partition-range`, whole process; then both
     again at the product's default rate (--live-rate), against a stand-in limited to it;
  3. a daily update (one new session, all symbols: prices then indicators, one in-process run) on
     SQLite and PostgreSQL;
  4. the screener: a year's sessions in one run and one session, in-asset (no API call);
  5. the daily path as deployed: NEPSE publishes a session's close at T; sensors and automation take it
     to the prices, the screener and its export;
  6. fifteen years of history (history.py): a synthetic price archive imported (rows/s, vs raw COPY),
     the backfill of indicators and screener over its years, and backtests of one screen over them;
  7. the NRB ratios read from one quarter's report documents of every financial institution (ratios.py).
`--only NAME[,NAME]` runs only the named parts (see --help).
Its last line is `BENCH {json}`, so runs can be compared over time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from ntx_assets_tests.tools.bench import warehouse

BACKENDS = ("sqlite", "postgresql")
# The parts `--only` can name; the first two are the figures of the earlier rounds.
PARTS = (
    "warehouse_load",
    "pipeline",
    "archive_import",
    "history_backfill",
    "history_ui_backfill",
    "backtest",
    "ratio_reading",
)
STARTED = time.perf_counter()


def say(line: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.1f} s] {line}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ntx_assets_tests.tools.bench",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    load = parser.add_argument_group("warehouse load (synthetic rows, no Dagster)")
    load.add_argument("--load-symbols", type=int, default=264, help="companies in the synthetic load")
    load.add_argument("--load-sessions", type=int, default=1500, help="sessions per company in the load")
    load.add_argument("--skip-warehouse-load", action="store_true", help="skip the upsert vs COPY figures")

    pipe = parser.add_argument_group("backfill and daily update (the stand-in, Dagster)")
    span = pipe.add_mutually_exclusive_group()
    span.add_argument(
        "--dates",
        type=int,
        default=365,
        help="calendar dates backfilled (partitions; about 2/3 of them are sessions)",
    )
    span.add_argument(
        "--sessions", type=int, default=None, help="backfill the dates holding this many sessions instead"
    )
    pipe.add_argument(
        "--rate",
        type=float,
        default=10.0,
        help="requests/s: the stand-in's limit (429 beyond) and NTX_REQUESTS_PER_SECOND",
    )
    pipe.add_argument("--seed", type=int, default=7, help="the stand-in's seed")
    pipe.add_argument(
        "--end-date",
        type=dt.date.fromisoformat,
        default=None,
        help="the stand-in's last date, YYYY-MM-DD (default: today in Nepal); pins the measured window",
    )
    pipe.add_argument(
        "--backfill-backend",
        choices=(*BACKENDS, "both"),
        default="both",
        help="warehouse(s) the backfill runs on (a year costs ~3 min each on 2 cores); a daily-update "
        "warehouse without its own backfill is seeded by copying the first one's rows",
    )
    pipe.add_argument("--skip-backfill", action="store_true", help="load the history in-process instead")
    pipe.add_argument("--skip-daily", action="store_true", help="skip the daily update")
    pipe.add_argument(
        "--daily-backend",
        choices=(*BACKENDS, "both"),
        default="both",
        help="warehouse(s) the daily update is measured on",
    )
    pipe.add_argument(
        "--fast-daemon",
        action="store_true",
        help="shorten the backfill daemon's 30 s pass to 2 s (patches a private Dagster constant); the "
        "default measures the stock daemon",
    )
    pipe.add_argument(
        "--live-rate",
        type=float,
        default=2.0,
        help="requests/s of the second UI backfill: the product's default NTX_REQUESTS_PER_SECOND",
    )
    pipe.add_argument(
        "--live-rate-dates",
        type=int,
        default=None,
        help="calendar dates of the live-rate backfill and CLI run (the window's last ones; default: the "
        "whole window, the same backfill as at --rate)",
    )
    pipe.add_argument("--skip-live-rate", action="store_true", help="skip the live-rate UI backfill")
    pipe.add_argument("--skip-cli", action="store_true", help="skip the CLI --partition-range runs")
    pipe.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for a backfill")
    pipe.add_argument(
        "--skip-screener", action="store_true", help="skip the screener's year and daily figures"
    )
    pipe.add_argument(
        "--skip-daily-path",
        action="store_true",
        help="skip the daily path through a deployment (close -> prices -> screener -> export)",
    )
    history = parser.add_argument_group("fifteen years of history (a synthetic archive, no stand-in)")
    history.add_argument("--history-companies", type=int, default=260, help="companies in the archive")
    history.add_argument(
        "--import-workers",
        type=int,
        default=2,
        help="writer processes of the PostgreSQL archive import (NTX_PRICE_ARCHIVE_WORKERS' default)",
    )
    history.add_argument("--history-years", type=int, default=15, help="years in the archive from 2011-01-02")
    history.add_argument(
        "--history-spans",
        default="15",
        help="comma-separated years of the indicators/screener backfills, each from 2011-01-02 on an "
        "emptied indicators and screener (e.g. 3,6,15 to see how they grow); the last one feeds the backtest",
    )
    history.add_argument(
        "--history-backend",
        choices=BACKENDS,
        default="sqlite",
        help="warehouse of the backfills and backtests (the import is measured on both)",
    )
    history.add_argument(
        "--history-timeout", type=float, default=3600.0, help="seconds allowed to one backfill run"
    )
    parser.add_argument(
        "--only",
        default=None,
        help=f"comma-separated parts to run, of: {', '.join(PARTS)} (default: all). history_backfill and "
        "backtest import the archive into --history-backend first when archive_import is not named",
    )
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("NTX_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL URL whose user may CREATE DATABASE (env NTX_BENCH_PG_URL)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (Dagster home, logs)")
    parser.add_argument(
        "--scratch",
        type=Path,
        default=None,
        help="use and keep this folder for the scratch state (the SQLite warehouse is warehouse.db in it)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    figures: dict[str, Any] = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": dt.date.today().isoformat(),
    }
    parts = set(PARTS) if args.only is None else {name.strip() for name in args.only.split(",")}
    if unknown := parts - set(PARTS):
        raise SystemExit(f"--only: unknown part(s) {', '.join(sorted(unknown))}; parts: {', '.join(PARTS)}")
    figures["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    if "warehouse_load" in parts and not args.skip_warehouse_load:
        figures.update(warehouse_load(args))
    if "pipeline" in parts and not (args.skip_backfill and args.skip_daily):
        figures.update(pipeline(args))
    if parts & {"archive_import", "history_backfill", "history_ui_backfill", "backtest"}:
        figures.update(history(args, parts))
    if "ratio_reading" in parts:
        figures["ratio_reading"] = ratio_reading(args)
    figures["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    say(f"total {time.perf_counter() - STARTED:.0f} s")
    figures["bench_seconds"] = round(time.perf_counter() - STARTED, 1)
    print("BENCH " + json.dumps(figures, sort_keys=True), flush=True)


def warehouse_load(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    rows = warehouse.synthetic_prices(args.load_symbols, args.load_sessions)
    say(
        f"warehouse load: {len(rows):,} OHLCV rows "
        f"({args.load_symbols} companies x {args.load_sessions} sessions)"
    )
    with tempfile.TemporaryDirectory() as scratch:
        sqlite = warehouse.measure(f"sqlite:///{Path(scratch) / 'bench.db'}", rows)
    with warehouse.scratch_postgres(args.pg_admin_url) as url:
        postgres = warehouse.measure(url, rows)
    for load in (sqlite, postgres):
        ratio = (
            f", {load.upsert_vs_copy:.2f} x raw COPY ({load.raw_copy_rows_per_s:,.0f} rows/s)"
            if load.raw_copy_rows_per_s
            else ""
        )
        say(
            f"  {load.backend:<10} upsert {load.upsert_rows_per_s:>10,.0f} rows/s{ratio}; "
            f"unchanged re-run {load.rerun_rows_per_s:,.0f} rows/s"
        )
        out[f"warehouse_{load.backend}"] = {
            "rows": load.rows,
            "upsert_rows_per_s": round(load.upsert_rows_per_s),
            "rerun_rows_per_s": round(load.rerun_rows_per_s),
            "raw_copy_rows_per_s": round(load.raw_copy_rows_per_s) if load.raw_copy_rows_per_s else None,
            "upsert_vs_raw_copy": round(load.upsert_vs_copy, 3) if load.upsert_vs_copy else None,
        }
    return out


def history(args: argparse.Namespace, parts: set[str]) -> dict[str, Any]:
    """The archive's import (both warehouses when named, else only --history-backend's, untimed as a
    figure), then the spans' backfills and the backtests on --history-backend."""
    from ntx_assets_tests.tools.bench import history as h

    out: dict[str, Any] = {}
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="ntx_bench_history_"))
    scratch.mkdir(parents=True, exist_ok=True)
    folder = scratch / "price-archive"
    days = h.sessions(h.HISTORY_START, args.history_years)
    if folder.exists():
        shutil.rmtree(folder)
    started = time.perf_counter()
    rows = h.write_archive(folder, args.history_companies, days)
    say(
        f"archive: {args.history_companies} companies x {len(days)} sessions ({days[0]}..{days[-1]}) = "
        f"{rows:,} rows written in {time.perf_counter() - started:.1f} s to {folder}"
    )
    imports_on = list(BACKENDS) if "archive_import" in parts else [args.history_backend]
    urls: dict[str, str] = {}
    with warehouse.scratch_postgres(args.pg_admin_url) as pg_url:
        for backend in imports_on:
            url = pg_url if backend == "postgresql" else f"sqlite:///{scratch / 'history.db'}"
            if backend == "sqlite":
                (scratch / "history.db").unlink(missing_ok=True)
            urls[backend] = url
            workers = args.import_workers if backend == "postgresql" else 1
            f = h.measure_import(url, folder, args.history_companies, rows, workers)
            ratio = (
                f"; {f.rows_per_s / f.raw_copy_rows_per_s:.2f} x a raw COPY of the same rows into "
                f"daily_prices' shape with its key and indexes ({f.raw_copy_rows_per_s:,.0f} rows/s; goal "
                f">= {h.IMPORT_VS_COPY_GOAL}), {f.rows_per_s / f.bare_copy_rows_per_s:.2f} x one into a bare "
                f"table ({f.bare_copy_rows_per_s:,.0f} rows/s)"
                if f.raw_copy_rows_per_s and f.bare_copy_rows_per_s
                else ""
            )
            say(
                f"  import_archive on {backend} ({workers} writer process(es)): {f.rows_written:,} rows in "
                f"{f.seconds:.1f} s = {f.rows_per_s:,.0f} rows/s{ratio}; {f.failures} failures"
            )
            if "archive_import" in parts:
                out[f"archive_import_{backend}"] = {
                    "companies": args.history_companies,
                    "sessions": len(days),
                    "workers": workers,
                    "rows_in_archive": f.rows_in_archive,
                    "rows_written": f.rows_written,
                    "failures": f.failures,
                    "seconds": round(f.seconds, 1),
                    "rows_per_s": round(f.rows_per_s),
                    **_copy_ratios(f),
                }
        url = urls[args.history_backend]
        if "history_backfill" in parts:
            out["history_backfill"] = history_backfill(h, args, url, days, scratch)
        if "history_ui_backfill" in parts:
            h.clear_derived(url)
            say(f"  indicators + screener over {days[0]}..{days[-1]}: one backfill launched as the UI does")
            ui = h.measure_ui_backfill(url, h.HISTORY_START, days[-1], scratch / "ui", args.history_timeout)
            say(
                f"    {ui['partitions']} partitions x 2 assets: launch -> success "
                f"{ui['launch_to_success_seconds']} s "
                f"against a goal of {h.UI_BACKFILL_GOAL_SECONDS:g} s = {ui['seconds_vs_goal']:.2f}; "
                f"{len(ui['runs'])} run(s): {ui['runs']}"
            )
            out["history_ui_backfill"] = ui
        if "backtest" in parts:
            if "history_backfill" not in parts:
                for asset in ("indicators", "screener"):
                    h.run_backfill(url, asset, days[0], days[-1], scratch / "backfill", args.history_timeout)
            backtests = h.measure_backtests(url)
            for name, b in backtests.items():
                say(
                    f"  backtest {name} (every {b['every']}, hold {b['hold']}): {b['periods']} periods "
                    f"{b['first']}..{b['last']} in {b['seconds']:.2f} s against a goal of "
                    f"{b['goal_seconds']:g} s = {b['seconds_vs_goal']:.3f}"
                )
            out["backtest"] = backtests
    return out


def _copy_ratios(f: Any) -> dict[str, Any]:
    """The import against its bounds: a raw COPY into daily_prices' shape (key and indexes), and into a
    bare table (None on SQLite)."""
    if not (f.raw_copy_rows_per_s and f.bare_copy_rows_per_s):
        return {"raw_copy_rows_per_s": None, "vs_raw_copy": None}
    return {
        "raw_copy_rows_per_s": round(f.raw_copy_rows_per_s),
        "vs_raw_copy": round(f.rows_per_s / f.raw_copy_rows_per_s, 3),
        "bare_copy_rows_per_s": round(f.bare_copy_rows_per_s),
        "vs_bare_copy": round(f.rows_per_s / f.bare_copy_rows_per_s, 3),
    }


def history_backfill(h: Any, args: argparse.Namespace, url: str, days: list, scratch: Path) -> dict[str, Any]:
    goals = {"indicators": h.INDICATORS_GOAL_SECONDS, "screener": h.SCREENER_GOAL_SECONDS}
    spans = [int(years) for years in args.history_spans.split(",")]
    out: dict[str, Any] = {}
    for years in spans:
        last = min(dt.date(h.HISTORY_START.year + years, 1, 1), days[-1])
        h.clear_derived(url)
        for asset in ("indicators", "screener"):
            say(f"  {asset} over {years} years ({h.HISTORY_START}..{last}), one in-process run in a child")
            r = h.run_backfill(
                url, asset, h.HISTORY_START, last, scratch / f"backfill_{years}", args.history_timeout
            )
            meta = r["metadata"]
            overhead = r["wall_seconds"] - float(meta["seconds"])
            per_partition = overhead / r["partitions"]
            say(
                f"    {r['partitions']} partitions ({meta.get('sessions', '-')} sessions): in-asset "
                f"{meta['seconds']} s (compute {meta.get('compute_seconds')} s) against a goal of "
                f"{goals[asset]:g} s = {float(meta['seconds']) / goals[asset]:.2f}; run wall "
                f"{r['wall_seconds']:.1f} s, Dagster's part (wall - asset) {overhead:.1f} s = "
                f"{per_partition * 1000:.1f} ms/partition (run start -> step start "
                f"{r['run_start_to_step_start_seconds']:.1f} s, materialization events "
                f"{r['materialization_events_seconds']:.1f} s); peak RSS "
                f"{r['peak_rss_bytes'] / 2**30:.2f} GiB = "
                f"{r['peak_rss_bytes'] / h.PEAK_GOAL_BYTES:.2f} x 3 GiB"
            )
            out[f"{asset}_{years}y"] = {
                **r,
                "dagster_overhead_seconds": round(overhead, 1),
                "dagster_ms_per_partition": round(per_partition * 1000, 1),
                "goal_seconds": goals[asset],
                "seconds_vs_goal": round(float(meta["seconds"]) / goals[asset], 3),
                "peak_vs_goal": round(r["peak_rss_bytes"] / h.PEAK_GOAL_BYTES, 3),
            }
    return out


def ratio_reading(args: argparse.Namespace) -> dict[str, Any]:
    from ntx_assets_tests.tools.bench import ratios

    r = ratios.measure(seed=args.seed, end_date=args.end_date)
    say(
        f"ratio reading: {r['documents']} documents of FY {r['fiscal_year_start']} Q{r['quarter']} "
        f"({r['with_text_layer']} with a text layer, ratios read from {r['documents_with_ratios_read']}, "
        f"{r['text_documents_read_as_printed']} exactly as printed): {r['seconds']:.1f} s on "
        f"{r['workers']} workers against a goal of {r['goal_seconds']:g} s = {r['seconds_vs_goal']:.2f} "
        f"(one at a time {r['serial_seconds']:.1f} s; rendering by the stand-in {r['render_seconds']:.1f} s)"
    )
    return r


def pipeline(args: argparse.Namespace) -> dict[str, Any]:
    # Imported here: the pipeline pulls in Dagster, the stand-in and (later, once NTX_* are set) the defs.
    import dagster as dg

    from ntx_assets_tests.tools.bench import pipeline as p
    from ntx_assets_tests.tools.harness.deployment import patched_environ
    from ntx_assets_tests.tools.standin import StandinConfig, running_standin

    # The defs' beta parameters (backfill_policy, ...) would warn on every in-process load.
    for category in (dg.BetaWarning, dg.PreviewWarning, dg.SupersessionWarning):
        warnings.simplefilter("ignore", category)

    backfill_on = [] if args.skip_backfill else _backends(args.backfill_backend)
    daily_on = [] if args.skip_daily else _backends(args.daily_backend)
    days = (args.dates + 20) if args.sessions is None else int(args.sessions * 1.6) + 30
    out: dict[str, Any] = {"rate_per_s": args.rate, "seed": args.seed}
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="ntx_bench_"))
    scratch.mkdir(parents=True, exist_ok=True)
    config = StandinConfig(seed=args.seed, end_date=args.end_date, days=days, rate_limit_per_second=args.rate)
    with running_standin(config) as server, warehouse.scratch_postgres(args.pg_admin_url) as pg_url:
        window = p.plan_window(
            server.data.sessions, server.data.end_date, dates=args.dates, session_count=args.sessions
        )
        urls = {"sqlite": f"sqlite:///{scratch / 'warehouse.db'}", "postgresql": pg_url}
        say(
            f"stand-in {server.base_url}: seed {args.seed}, limit {args.rate:g} req/s; backfill "
            f"{window.first}..{window.last} ({len(window.dates)} dates, {len(window.sessions)} sessions), "
            f"daily update {window.daily}; scratch {scratch}"
        )
        env = p.deployment_env(server.base_url, urls["sqlite"], args.rate, window, scratch / "data")
        with patched_environ({k: v for k, v in env.items() if k != "NTX_DATABASE_URL"}):
            history_on: str | None = None
            for backend in backfill_on:
                say(f"backfill on {backend} (real webserver + daemon, the UI's launchPartitionBackfill)")
                result = p.measure_backfill(
                    server,
                    urls[backend],
                    window,
                    rate=args.rate,
                    home=scratch / f"dagster_home_{backend}",
                    env={**env, "NTX_DATABASE_URL": urls[backend]},
                    backfill_interval_seconds=2.0 if args.fast_daemon else None,
                    timeout=args.timeout,
                    progress=say,
                )
                out[f"backfill_{backend}"] = report_backfill(result)
                history_on = history_on or backend
            if history_on is not None and not args.skip_cli:
                out["cli_backfill_sqlite"] = cli_backfill(
                    p, server, window, args.rate, scratch / "cli", env, urls[history_on], args.timeout
                )
            if history_on is not None and not args.skip_live_rate:
                out.update(live_rate_backfill(args, p, window, urls[history_on], scratch))
            if daily_on and history_on is None:
                history_on = daily_on[0]
                say(f"loading the history in-process on {history_on} (--skip-backfill)")
                load_in_process(server, urls[history_on], window, args.rate)
            if history_on is not None:
                out["indicators_compute"] = report_compute(p, urls[history_on], window)
            if history_on is not None and not args.skip_screener:
                out["screener_backfill"] = screener_backfill(
                    config, urls[history_on], window, scratch, server.base_url
                )
            if history_on is not None and not args.skip_daily_path:
                out["daily_path"] = daily_path(server, urls[history_on], window, scratch, env, args.timeout)
            # Seed every other warehouse of the daily update before any daily update writes its day.
            for backend in daily_on:
                if history_on is not None and backend not in backfill_on and backend != history_on:
                    copied = p.copy_tables(
                        urls[history_on], urls[backend], p.HISTORY_TABLES, until=window.last
                    )
                    say(
                        f"{backend}: seeded with the {history_on} warehouse's {copied:,} rows "
                        "(same stand-in data)"
                    )
            for backend in daily_on:
                daily = p.measure_daily(server, urls[backend], window.daily, args.rate)
                out[f"daily_{backend}"] = report_daily(daily)
            if history_on in daily_on and not args.skip_screener:
                out["screener_daily"] = screener_daily(urls[history_on], window, scratch, server.base_url)
                out["saved_screen_daily"] = saved_screen_daily(urls[history_on], window)
    if args.keep or args.scratch:
        say(f"kept {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


def live_rate_backfill(
    args: argparse.Namespace, p: Any, window: Any, universe_from: str, scratch: Path
) -> dict[str, Any]:
    """The same UI backfill at the product's default rate (over the window's last --live-rate-dates
    dates, all of them by default), against a second stand-in (same seed and window) limited to that
    rate; then the same dates through the CLI at that rate."""
    from ntx_assets_tests.tools.standin import StandinConfig, running_standin

    dates = min(args.live_rate_dates or len(window.dates), len(window.dates))
    first = window.last - dt.timedelta(days=dates - 1)
    live = p.Window(first, window.last, window.daily, tuple(d for d in window.sessions if d >= first))
    days = (args.dates + 20) if args.sessions is None else int(args.sessions * 1.6) + 30
    config = StandinConfig(
        seed=args.seed, end_date=args.end_date, days=days, rate_limit_per_second=args.live_rate
    )
    out: dict[str, Any] = {}
    url = f"sqlite:///{scratch / 'warehouse_live_rate.db'}"
    with running_standin(config) as slow:
        say(
            f"backfill at the live rate {args.live_rate:g} req/s on sqlite: {live.first}..{live.last} "
            f"({len(live.dates)} dates, {len(live.sessions)} sessions), stand-in {slow.base_url}"
        )
        env = p.deployment_env(slow.base_url, url, args.live_rate, live, scratch / "data_live")
        result = p.measure_backfill(
            slow,
            url,
            live,
            rate=args.live_rate,
            home=scratch / "dagster_home_live_rate",
            env=env,
            backfill_interval_seconds=2.0 if args.fast_daemon else None,
            timeout=args.timeout,
            progress=say,
            universe_from=universe_from,
        )
        out["backfill_live_rate"] = report_backfill(result)
        if not args.skip_cli:
            out["cli_backfill_live_rate"] = cli_backfill(
                p, slow, live, args.live_rate, scratch / "cli_live_rate", env, universe_from, args.timeout
            )
    return out


def cli_backfill(
    p: Any,
    server: Any,
    window: Any,
    rate: float,
    folder: Path,
    env: dict[str, str],
    universe_from: str,
    timeout: float,
) -> dict[str, Any]:
    """`dagster asset materialize --partition-range` over the window at `rate`, into a new warehouse and
    Dagster home under `folder`."""
    say(f"CLI at {rate:g} req/s: dagster asset materialize --partition-range over the same dates")
    folder.mkdir(parents=True, exist_ok=True)
    cli = p.measure_cli(
        server,
        f"sqlite:///{folder / 'warehouse.db'}",
        window,
        rate=rate,
        home=folder / "dagster_home",
        env=env,
        universe_from=universe_from,
        timeout=timeout,
    )
    return report_cli(cli)


def report_cli(c: Any) -> dict[str, Any]:
    bound = c.calls_made / c.rate
    in_asset = sum(run.in_asset_seconds for run in c.runs)
    costs = c.costs
    # Dagster's own fixed part: what the run would cost beyond its pacing if the assets took no time.
    fixed = costs.startup_seconds + costs.planned_events_seconds + costs.materialization_events_seconds
    say(
        f"  CLI --partition-range {c.window.first}..{c.window.last} at {c.rate:g} req/s: whole process "
        f"{c.wall_seconds:.1f} s / (its {c.calls_made} calls / rate = {bound:.1f} s) = "
        f"{c.wall_seconds / bound:.2f}; {len(c.runs)} run(s), in-asset {in_asset:.1f} s; calls "
        f"{c.calls_made} / minimum {c.calls_minimum}"
    )
    say(
        f"    Dagster's part: process start -> first event {costs.startup_seconds:.1f} s, "
        f"{costs.planned_events} planned events {costs.planned_events_seconds:.1f} s, "
        f"{costs.materialization_events} materialization events {costs.materialization_events_seconds:.1f} s"
        f" = {fixed:.1f} s: pacing plus these alone = {(bound + fixed) / bound:.2f} x the bound"
    )
    return {
        "dates": len(c.window.dates),
        "sessions": len(c.window.sessions),
        "rate_per_s": c.rate,
        "runs": len(c.runs),
        "calls_made": c.calls_made,
        "calls_by_endpoint": dict(sorted(c.calls.items())),
        "calls_minimum": c.calls_minimum,
        "calls_vs_minimum": round(c.calls_made / c.calls_minimum, 3),
        "pacing_bound_seconds": round(bound, 1),
        "wall_seconds": round(c.wall_seconds, 1),
        "wall_vs_pacing": round(c.wall_seconds / bound, 2),
        "wall_vs_minimum_pacing": round(c.wall_seconds / (c.calls_minimum / c.rate), 2),
        "in_asset_seconds": round(in_asset, 1),
        "overhead_seconds": round(c.wall_seconds - in_asset, 1),
        "startup_seconds": round(costs.startup_seconds, 1),
        "planned_events": costs.planned_events,
        "planned_events_seconds": round(costs.planned_events_seconds, 1),
        "materialization_events": costs.materialization_events,
        "materialization_events_seconds": round(costs.materialization_events_seconds, 1),
        # The wall this run could not go below with Dagster's storage as it is: pacing + the above.
        "floor_vs_pacing": round((bound + fixed) / bound, 2),
    }


def _backends(choice: str) -> list[str]:
    return list(BACKENDS) if choice == "both" else [choice]


def load_in_process(server: Any, url: str, window: Any, rate: float) -> None:
    import dagster as dg

    from ntx_assets.defs.prices.assets import daily_prices, indicators
    from ntx_assets.defs.universe.assets import company_universe
    from ntx_assets_tests.tools.bench.pipeline import QUIET, universe_resources

    resources = universe_resources(server, url, rate)
    tags = {
        "dagster/asset_partition_range_start": window.first.isoformat(),
        "dagster/asset_partition_range_end": window.last.isoformat(),
    }
    with dg.DagsterInstance.ephemeral() as instance:
        if not dg.materialize(
            [company_universe], instance=instance, resources=resources, run_config=QUIET
        ).success:
            raise RuntimeError("company_universe failed")
        for asset in (daily_prices, indicators):
            run = dg.materialize([asset], instance=instance, resources=resources, tags=tags, run_config=QUIET)
            if not run.success:
                raise RuntimeError(f"{asset.key.to_user_string()} failed")


# Goals of the screener's in-asset time on 2 cores (issue 26): a year's sessions, and one session.
SCREENER_YEAR_GOAL_SECONDS = 30.0
SCREENER_DAILY_GOAL_SECONDS = 2.0


def screener_backfill(config: Any, url: str, window: Any, scratch: Path, base_url: str) -> dict[str, Any]:
    from ntx_assets_tests.tools.bench import screener as s

    loaded = s.load_announcements(config, url, scratch / "exports")
    say(f"screener: filings, announcements and share counts of every company loaded in {loaded:.1f} s")
    run = s.measure(url, window.first, window.last, scratch / "exports", base_url)
    say(
        f"  screener over {run.dates} dates ({run.sessions} sessions, {run.rows:,} rows): {run.runs} run, "
        f"in-asset {run.seconds:.1f} s (read {run.read_seconds:.1f}, compute {run.compute_seconds:.1f}, "
        f"write {run.seconds - run.read_seconds - run.compute_seconds:.1f}) against a goal of "
        f"{SCREENER_YEAR_GOAL_SECONDS:g} s = {run.seconds / SCREENER_YEAR_GOAL_SECONDS:.2f}; run wall "
        f"{run.wall_seconds:.1f} s"
    )
    return {"load_seconds": round(loaded, 1), **s.report(run, SCREENER_YEAR_GOAL_SECONDS)}


def screener_daily(url: str, window: Any, scratch: Path, base_url: str) -> dict[str, Any]:
    from ntx_assets_tests.tools.bench import screener as s

    run = s.measure(url, window.daily, window.daily, scratch / "exports", base_url)
    say(
        f"screener for the daily session {window.daily} ({run.rows} rows): in-asset {run.seconds:.2f} s "
        f"against a goal of {SCREENER_DAILY_GOAL_SECONDS:g} s = "
        f"{run.seconds / SCREENER_DAILY_GOAL_SECONDS:.2f}"
    )
    return s.report(run, SCREENER_DAILY_GOAL_SECONDS)


SAVED_SCREEN_GOAL_SECONDS = 2.0


def saved_screen_daily(url: str, window: Any) -> dict[str, Any]:
    from ntx_assets_tests.tools.bench import screener as s

    run = s.measure_saved_screen(url, window.daily)
    say(
        f"saved screen {run.screen} for {run.session} ({run.picks} picks, backtest to date of "
        f"{run.backtest_periods} periods): in-asset {run.seconds:.2f} s against a goal of "
        f"{SAVED_SCREEN_GOAL_SECONDS:g} s = {run.seconds / SAVED_SCREEN_GOAL_SECONDS:.2f}; run wall "
        f"{run.wall_seconds:.1f} s"
    )
    return {
        "screen": run.screen,
        "session": run.session,
        "picks": run.picks,
        "backtest_periods": run.backtest_periods,
        "seconds": run.seconds,
        "run_wall_seconds": round(run.wall_seconds, 2),
        "goal_seconds": SAVED_SCREEN_GOAL_SECONDS,
        "seconds_vs_goal": round(run.seconds / SAVED_SCREEN_GOAL_SECONDS, 2),
    }


def daily_path(
    server: Any, url: str, window: Any, scratch: Path, env: dict[str, str], timeout: float
) -> dict[str, Any]:
    from ntx_assets_tests.tools.bench import daily_path as d

    say(f"daily path through a deployment (sensors and automation on): session {window.daily}")
    figures = d.measure(server, url, window.daily, scratch=scratch, env=env, timeout=timeout, progress=say)
    return d.report(figures, say)


def report_backfill(b: Any) -> dict[str, Any]:
    prices, indicators = b.run_of("daily_prices"), b.run_of("indicators")
    bound = b.calls_made / b.rate
    pm, im = prices.metadata["daily_prices"], indicators.metadata["indicators"]
    in_asset_total = sum(run.in_asset_seconds for run in b.runs)
    if b.universe_calls:
        say(
            f"  company_universe first (in-process): {b.universe_calls} calls in {b.universe_seconds:.1f} s "
            f"({b.universe_calls / b.universe_seconds:.1f} req/s of {b.rate:g})"
        )
    data_wall = b.data_wall_seconds
    say(
        f"  launch -> last run's success: {data_wall:.1f} s / (the backfill's {b.calls_made} calls / "
        f"rate {b.rate:g} = {bound:.1f} s) = {data_wall / bound:.2f}; {len(b.runs)} run(s); daemon pickup "
        f"{b.pickup_seconds:.1f} s; overhead (wall - in-asset) {data_wall - in_asset_total:.1f} s"
    )
    asset_calls = int(pm.get("api_calls", 0))
    say(
        f"  API calls, prices run: {b.calls_made} made / {b.calls_minimum} minimum = "
        f"{b.calls_made / b.calls_minimum:.3f} (daily_prices itself {asset_calls} = "
        f"{asset_calls / b.calls_minimum:.3f} x; the rest: the run's other steps, e.g. checks)"
    )
    say(f"    made {dict(sorted(b.calls.items()))}; minimum {b.minimum}")
    asset_bound = asset_calls / b.rate
    say(
        f"  pacing: daily_prices in-asset {pm['seconds']:.1f} s / (its {asset_calls} calls / rate = "
        f"{asset_bound:.1f} s) = {pm['seconds'] / asset_bound:.2f}; prices run wall "
        f"{prices.wall_seconds:.1f} s / (the run's {b.calls_made} calls / rate = {bound:.1f} s) = "
        f"{prices.wall_seconds / bound:.2f}"
    )
    say(
        f"  indicators run: compute_seconds {im['compute_seconds']} s, asset {im['seconds']} s for "
        f"{im['companies']} companies x {im['dates']} dates ({im['history_rows_read']:,} history rows)"
    )
    say(
        f"  Dagster: {len(b.runs)} runs for 1 backfill; backfill wall {b.backfill_seconds:.1f} s (launch -> "
        f"{b.status}) / in-asset {in_asset_total:.1f} s = {b.backfill_seconds / in_asset_total:.1f}"
    )
    for run in b.runs:
        steps = ", ".join(f"{s.step} {s.seconds:.1f} s" for s in run.steps)
        say(
            f"    run {run.run_id[:8]} {'+'.join(run.assets)}: queued {run.queued_seconds:.1f} s, wall "
            f"{run.wall_seconds:.1f} s, in-asset {run.in_asset_seconds:.1f} s, overhead "
            f"{run.overhead_seconds:.1f} s (steps: {steps})"
        )
    return {
        "dates": len(b.window.dates),
        "sessions": len(b.window.sessions),
        "first": b.window.first.isoformat(),
        "last": b.window.last.isoformat(),
        "universe_calls": b.universe_calls,
        "universe_seconds": round(b.universe_seconds, 1),
        "calls_made": b.calls_made,
        "calls_by_endpoint": dict(sorted(b.calls.items())),
        "calls_minimum": b.calls_minimum,
        "calls_minimum_parts": b.minimum,
        "calls_vs_minimum": round(b.calls_made / b.calls_minimum, 3),
        "prices_asset_calls": asset_calls,
        "prices_asset_calls_vs_minimum": round(asset_calls / b.calls_minimum, 3),
        "prices_rows_inserted": pm.get("rows_inserted"),
        "pacing_bound_seconds": round(bound, 1),
        "prices_asset_seconds": pm["seconds"],
        "prices_asset_pacing_bound_seconds": round(asset_bound, 1),
        "prices_asset_vs_pacing": round(pm["seconds"] / asset_bound, 2),
        "prices_run_wall_seconds": round(prices.wall_seconds, 1),
        "prices_run_wall_vs_pacing": round(prices.wall_seconds / bound, 2),
        "indicators_compute_seconds": im["compute_seconds"],
        "indicators_asset_seconds": im["seconds"],
        # Summed over every run that computed indicators: the daemon may split a backfill's indicators.
        "indicators_rows": sum(
            int(run.metadata["indicators"].get("rows_inserted") or 0) for run in b.runs_of("indicators")
        ),
        "indicators_runs": len(b.runs_of("indicators")),
        "runs": len(b.runs),
        "rate_per_s": b.rate,
        "data_wall_seconds": round(data_wall, 1),
        "data_wall_vs_pacing": round(data_wall / bound, 2),
        # Against the calls the backfill needed: retries (a 429 is a call, and waits its Retry-After)
        # raise calls_made, so they lower data_wall_vs_pacing while they lengthen the wall.
        "data_wall_vs_minimum_pacing": round(data_wall / (b.calls_minimum / b.rate), 2),
        "overhead_seconds": round(data_wall - in_asset_total, 1),
        "pickup_seconds": round(b.pickup_seconds, 1),
        "backfill_wall_seconds": round(b.backfill_seconds, 1),
        "in_asset_seconds": round(in_asset_total, 1),
        "backfill_wall_vs_in_asset": round(b.backfill_seconds / in_asset_total, 2),
        "per_run": [
            {
                "assets": list(run.assets),
                "queued_seconds": round(run.queued_seconds, 1),
                "wall_seconds": round(run.wall_seconds, 1),
                "in_asset_seconds": round(run.in_asset_seconds, 1),
                "overhead_seconds": round(run.overhead_seconds, 1),
                "steps": {s.step: round(s.seconds, 1) for s in run.steps},
            }
            for run in b.runs
        ],
    }


def report_compute(p: Any, url: str, window: Any) -> dict[str, Any]:
    from ntx_assets.warehouse import create_warehouse_engine

    engine = create_warehouse_engine(url)
    try:
        c = p.time_indicator_compute(engine, window.last)
    finally:
        engine.dispose()
    say(
        f"indicators on the loaded history, {c.rows:,} rows x {c.companies} companies: compute alone "
        f"{c.seconds:.2f} s ({c.rows / c.seconds:,.0f} rows/s); with framing as warehouse rows (the "
        f"asset's indicator_rows) {c.rows_seconds:.2f} s ({c.rows / c.rows_seconds:,.0f} rows/s)"
    )
    return {
        "rows": c.rows,
        "companies": c.companies,
        "seconds": round(c.seconds, 3),
        "with_rows_seconds": round(c.rows_seconds, 3),
    }


def report_daily(d: Any) -> dict[str, Any]:
    pm, im = d.prices, d.indicators
    say(
        f"daily update {d.day} on {d.backend} (in-process run, prices then indicators): "
        f"{d.wall_seconds:.1f} s wall; calls {d.calls_made} made / {d.calls_minimum} minimum = "
        f"{d.calls_made / d.calls_minimum:.2f}; "
        f"prices {pm['seconds']} s ({pm.get('rows_inserted')} rows), indicators {im['seconds']} s (compute "
        f"{im['compute_seconds']} s over {im['history_rows_read']:,} history rows)"
    )
    return {
        "day": d.day.isoformat(),
        "wall_seconds": round(d.wall_seconds, 2),
        "calls_made": d.calls_made,
        "calls_by_endpoint": dict(sorted(d.calls.items())),
        "calls_minimum": d.calls_minimum,
        "calls_vs_minimum": round(d.calls_made / d.calls_minimum, 2),
        "prices_seconds": pm["seconds"],
        "prices_rows": pm.get("rows_inserted"),
        "indicators_seconds": im["seconds"],
        "indicators_compute_seconds": im["compute_seconds"],
        "indicators_history_rows": im["history_rows_read"],
    }


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
