"""The demo end to end: the stand-in, the environment, the Dagster instance, the phases, the summary.

`run_demo` starts the NEPSE stand-in on loopback (unless NTX_NEPSE_BASE_URL is set), points NTX_* at it
for its own duration, loads the code location's definitions, opens the instance of $DAGSTER_HOME, runs
the phases (`ntx_assets_tests.tools.demo.phases`) and renders the summary
(`ntx_assets_tests.tools.demo.summary`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TextIO

import dagster as dg

from ntx_assets.common.clock import NEPAL_TZ, nepal_now
from ntx_assets.settings import Settings, definitions_settings, load_settings
from ntx_assets.warehouse import create_warehouse_engine, migrate
from ntx_assets_tests.pinned import pinned
from ntx_assets_tests.tools.demo import environment
from ntx_assets_tests.tools.demo.backtest import run_demo_backtest
from ntx_assets_tests.tools.demo.options import Options
from ntx_assets_tests.tools.demo.phases import Phases
from ntx_assets_tests.tools.demo.progress import Progress
from ntx_assets_tests.tools.demo.runner import Graph
from ntx_assets_tests.tools.demo.summary import (
    PAST_SCREEN,
    DemoReport,
    calls_by_label,
    data_calls,
    included_count,
    past_screen,
    rebasings,
    render,
    screener,
    table_rows,
)
from ntx_assets_tests.tools.standin import StandinConfig, StandinServer, running_standin

END_OF_DAY = dt.time(23, 59)


def run_demo(
    options: Options, out: TextIO | None = None, cwd: Path | None = None, started: float | None = None
) -> DemoReport:
    """Run the demo against os.environ's settings; print progress and the summary to `out`.

    `started` (time.monotonic()) is when the wall time starts; by default, now.
    """
    stream = out or sys.stdout
    started = time.monotonic() if started is None else started
    with ExitStack() as stack:
        if options.today is not None:
            # The end of that day: its session is over, and runs decide as they would have then.
            stack.enter_context(pinned(dt.datetime.combine(options.today, END_OF_DAY, tzinfo=NEPAL_TZ)))
        stack.enter_context(_quiet_dagster_warnings())
        stack.enter_context(_restored_environment())
        home = environment.dagster_home(os.environ, cwd or Path.cwd(), environment.project_dagster_yaml())
        stack.enter_context(environment.one_demo_at_a_time(home))
        server: StandinServer | None = None
        if not os.environ.get(environment.BASE_URL_VAR):
            # The stand-in's year ends on the demo's today, so what it serves follows that day alone.
            config = StandinConfig(seed=options.seed, end_date=nepal_now().date())
            server = stack.enter_context(running_standin(config, port=options.port))
            environment.apply_defaults(
                os.environ, environment.standin_defaults(server.base_url, options.requests_per_second)
            )
        if options.history:
            environment.apply_defaults(os.environ, environment.history_defaults())
        settings = load_settings()
        from ntx_assets.definitions import defs as load_definitions  # reads the NTX_* set above

        # A demo loads the code location afresh, as a reload does: the settings it set above, not the
        # ones an earlier demo in this process was loaded with.
        definitions_settings.cache_clear()
        defs = load_definitions()
        graph = Graph.of(defs)
        instance = stack.enter_context(dg.DagsterInstance.get())
        progress = Progress(stream, (lambda: data_calls(server.request_counts())) if server else None)
        progress.message(_banner(settings, server, instance))
        abandoned = environment.fail_abandoned_demo_runs(instance)
        if abandoned:
            progress.message(
                f"marked failed {len(abandoned)} run(s) left by a killed demo, and freed their pool "
                f"slots: {', '.join(abandoned)}"
            )
        if options.fresh:
            _fresh(settings, instance, graph, progress)
        engine = create_warehouse_engine(settings.warehouse_url)
        stack.callback(engine.dispose)
        migrate(engine)
        previous = _read_previous(settings)

        demo = Phases(options, settings, graph, instance, engine, server, progress, defs)
        interrupted = False
        try:
            demo.universe()
            demo.prices()
            demo.filings()
            demo.derived()
            demo.history()
            demo.screens()
        except KeyboardInterrupt:
            interrupted = True
            demo.notes.append("interrupted (Ctrl-C): the next demo carries on from what is materialized")

        date, rows = screener(engine)
        report = DemoReport(
            universe_count=included_count(engine),
            universe_target=settings.universe_target,
            universe_check_passed=demo.universe_check(),
            table_rows=table_rows(engine),
            runs=demo.runs,
            skipped=demo.skipped,
            calls=calls_by_label(server.request_counts()) if server else None,
            minimum_calls=demo.accounting.minimum,
            minimum_notes=demo.accounting.notes,
            wall_seconds=time.monotonic() - started,
            screener_date=date,
            screener=rows,
            base_url=settings.nepse_base_url,
            previous=previous,
            notes=demo.notes,
            interrupted=interrupted,
            rebasings=rebasings(engine),
            past_screen=past_screen(engine, settings.warehouse_url),
            backtest=None
            if interrupted
            else run_demo_backtest(engine, settings.warehouse_url, settings.export_root, PAST_SCREEN),
        )
        _write_previous(settings, report)
    stream.write(render(report) + "\n")
    stream.flush()
    return report


def _fresh(settings: Settings, instance: dg.DagsterInstance, graph: Graph, progress: Progress) -> None:
    wiped = environment.wipe_warehouse(settings)
    names = [graph.symbol_partitions.name] if graph.symbol_partitions and graph.symbol_partitions.name else []
    state = environment.wipe_dagster_state(instance, graph.all_keys, names)
    progress.message(f"--fresh: removed {', '.join(wiped) or 'no warehouse files'}; wiped {state}")


def _banner(settings: Settings, server: StandinServer | None, instance: dg.DagsterInstance) -> str:
    source = (
        f"stand-in (seed {server.config.seed}) at {server.base_url}"
        if server
        else f"{settings.nepse_base_url} (NTX_NEPSE_BASE_URL)"
    )
    home = instance.root_directory if instance.is_persistent else "ephemeral"
    return (
        f"NEPSE: {source}; universe target {settings.universe_target}; "
        f"{settings.requests_per_second:g} requests/s\n"
        f"warehouse: {settings.warehouse_url}\nDagster instance: {home}"
    )


def _read_previous(settings: Settings) -> dict[str, Any] | None:
    path = settings.data_dir / environment.LAST_DEMO_FILE
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _write_previous(settings: Settings, report: DemoReport) -> None:
    path = settings.data_dir / environment.LAST_DEMO_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "finished": nepal_now().strftime("%Y-%m-%d %H:%M NPT"),
        "api_calls": report.total_calls,
        "wall_seconds": round(report.wall_seconds, 1),
        "runs": len(report.runs),
    }
    path.write_text(json.dumps(record) + "\n")


@contextmanager
def _restored_environment() -> Iterator[None]:
    """Whatever the demo sets in os.environ (DAGSTER_HOME, NTX_*) is undone when it returns."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        for name in set(os.environ) - set(saved):
            del os.environ[name]
        os.environ.update(saved)


@contextmanager
def _quiet_dagster_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        for category in (dg.BetaWarning, dg.PreviewWarning, dg.SupersessionWarning):
            warnings.simplefilter("ignore", category)
        yield
