"""The pipeline measured end to end: a real Dagster backfill of a year of prices and indicators, and a daily
update, against the NEPSE stand-in with a server-side rate limit.

What runs where:
- the stand-in (`ntx_assets_tests.tools.standin`) serves a seeded year on loopback, answering at most
  `rate` requests per second (429 + Retry-After beyond that), in this process;
- `company_universe` is materialized in-process first (it is not date-partitioned), at the same rate;
- the backfill is launched through a real dagster-webserver + dagster-daemon (`DagsterDeployment`) with
  the UI's `launchPartitionBackfill` mutation, over the repo's dagster.yaml unchanged and the stock
  daemon (its 30 s backfill passes are part of what a deployment pays), sensors and schedules off so
  that nothing else calls NEPSE;
- the daily update is an in-process `materialize` of `daily_prices` then `indicators` for one new
  session date (the same asset code a sensor-launched run executes, without the daemon's latencies).

Calls are counted by the stand-in (every request it received, auth included) between the backfill's
launch and its completion; only the backfill's runs talk to it then.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from sqlalchemy import Engine, select

from ntx_assets.prices.sessions import minimum_calls
from ntx_assets.warehouse import create_warehouse_engine, migrate, upsert
from ntx_assets.warehouse.schema import companies, company_symbols, daily_prices, indicators
from ntx_assets_tests.pinned import history_days_reaching
from ntx_assets_tests.tools.harness.deployment import BackfillResult, DagsterDeployment
from ntx_assets_tests.tools.harness.resources import QUIET, STANDIN_UNIVERSE_TARGET, run_resources
from ntx_assets_tests.tools.standin import StandinServer

TODAY_PRICE = "POST /api/nots/nepse-data/today-price"
HOLIDAYS = "GET /api/nots/holiday/list"
MARKET_OPEN = "GET /api/nots/nepse-data/market-open"
AUTH = ("GET /api/authenticate/prove", "GET /assets/prod/css.wasm")
# Tables a year of history lives in; copied as they are to seed another warehouse.
HISTORY_TABLES = (companies, company_symbols, daily_prices, indicators)


@dataclass(frozen=True)
class Window:
    """The backfilled dates (calendar days, first..last) and the new session of the daily update."""

    first: dt.date
    last: dt.date
    daily: dt.date
    sessions: tuple[dt.date, ...]  # sessions in first..last

    @property
    def dates(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def plan_window(
    sessions: Sequence[dt.date], end_date: dt.date, *, dates: int | None, session_count: int | None
) -> Window:
    """The daily update takes the stand-in's last session before its end date (today, which may not have
    closed yet); the backfill takes the `dates` calendar days, or the `session_count` sessions, before it."""
    earlier = [d for d in sessions if d < end_date]
    if len(earlier) < 2:
        raise ValueError("the stand-in window holds fewer than two sessions")
    daily = earlier[-1]
    last = daily - dt.timedelta(days=1)
    if session_count is not None:
        before = [d for d in earlier if d <= last]
        if session_count > len(before):
            raise ValueError(f"the stand-in holds only {len(before)} sessions before {daily}")
        first = before[-session_count]
    else:
        first = last - dt.timedelta(days=(dates or 1) - 1)
    return Window(first, last, daily, tuple(d for d in sessions if first <= d <= last))


def fixed_calls(years: int) -> dict[str, int]:
    """The calls a price run needs besides today-price: one handshake (the WASM module and `prove`), one
    holiday list per year spanned, one market-open (its id feeds every POST payload id)."""
    return {"auth": len(AUTH), "holiday_lists": years, "market_open": 1}


def window_minimum(server: StandinServer, window: Window) -> dict[str, int]:
    """The calls a price run over the window needs at the least: today-price pages per session (the
    stand-in's own rows), plus the fixed calls."""
    rows = [len(server.data.today_prices(d)) for d in window.sessions]
    years = len({d.year for d in window.dates})
    return {"today_price": minimum_calls(len(window.sessions), rows), **fixed_calls(years)}


@dataclass(frozen=True)
class StepTiming:
    step: str
    seconds: float


@dataclass(frozen=True)
class RunFigures:
    run_id: str
    assets: tuple[str, ...]
    created_at: float  # epoch seconds: the daemon created the run
    ended_at: float  # epoch seconds: the run ended
    queued_seconds: float  # created -> started (queue, launch, process start)
    wall_seconds: float  # started -> ended
    in_asset_seconds: float  # the assets' own `seconds` metadata
    steps: tuple[StepTiming, ...]
    metadata: dict[str, dict[str, Any]]  # asset -> its materialization metadata (first partition's)

    @property
    def overhead_seconds(self) -> float:
        return self.wall_seconds - self.in_asset_seconds


def run_figures(instance: dg.DagsterInstance, run_id: str) -> RunFigures:
    record = instance.get_run_record_by_id(run_id)
    if record is None or record.start_time is None or record.end_time is None:
        raise RuntimeError(f"run {run_id} has no start/end time")
    metadata: dict[str, dict[str, Any]] = {}
    for event in instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=100_000
    ).records:
        materialization = event.asset_materialization
        if materialization is None:
            continue
        key = materialization.asset_key.to_user_string()
        metadata.setdefault(key, {name: value.value for name, value in materialization.metadata.items()})
    starts: dict[str, float] = {}
    steps: list[StepTiming] = []
    for event in instance.get_records_for_run(run_id, limit=100_000).records:
        entry = event.event_log_entry
        kind = entry.dagster_event_type
        if kind == dg.DagsterEventType.STEP_START and entry.step_key:
            starts[entry.step_key] = entry.timestamp
        elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE) and (
            entry.step_key in starts
        ):
            steps.append(StepTiming(entry.step_key, entry.timestamp - starts[entry.step_key]))
    in_asset = sum(float(values.get("seconds", 0.0)) for values in metadata.values())
    return RunFigures(
        run_id=run_id,
        assets=tuple(sorted(metadata)),
        created_at=record.create_timestamp.timestamp(),
        ended_at=record.end_time,
        queued_seconds=record.start_time - record.create_timestamp.timestamp(),
        wall_seconds=record.end_time - record.start_time,
        in_asset_seconds=in_asset,
        steps=tuple(steps),
        metadata=metadata,
    )


class CallCounts:
    """Requests made (endpoint -> count, as the stand-in counted them) next to the minimum needed."""

    calls: dict[str, int]
    minimum: dict[str, int]

    @property
    def calls_made(self) -> int:
        return sum(self.calls.values())

    @property
    def calls_minimum(self) -> int:
        return sum(self.minimum.values())


@dataclass
class BackfillFigures(CallCounts):
    backend: str
    window: Window
    rate: float
    universe_calls: int
    universe_seconds: float
    backfill_id: str
    status: str
    backfill_seconds: float  # launch -> terminal status seen
    launched_at: float  # epoch seconds of the launch mutation
    calls: dict[str, int]  # endpoint -> requests the stand-in received during the backfill
    minimum: dict[str, int]
    runs: list[RunFigures] = field(default_factory=list)

    @property
    def data_wall_seconds(self) -> float:
        """Launch -> the last run's end: when the data is in the warehouse (the backfill's own
        COMPLETED_SUCCESS comes at the daemon's next 30 s pass)."""
        return max(run.ended_at for run in self.runs) - self.launched_at

    @property
    def pickup_seconds(self) -> float:
        """Launch -> the daemon created the first run (its backfill pass; 0-30 s after a launch)."""
        return min(run.created_at for run in self.runs) - self.launched_at

    def run_of(self, asset: str) -> RunFigures:
        return next(run for run in self.runs if asset in run.assets)

    def runs_of(self, asset: str) -> list[RunFigures]:
        return [run for run in self.runs if asset in run.assets]


def universe_resources(server: StandinServer, database_url: str, rate: float) -> dict[str, Any]:
    """The resources of an in-process run against `server`, whose history it reaches whatever the date."""
    from ntx_assets.resources import NepseResource

    nepse = NepseResource(
        base_url=server.base_url,
        requests_per_second=rate,
        history_days=history_days_reaching(server.data.start_date),
    )
    return run_resources(nepse, database_url)


def deployment_env(
    base_url: str, database_url: str, rate: float, window: Window, data_dir: Path
) -> dict[str, str]:
    return {
        "NTX_NEPSE_BASE_URL": base_url,
        "NTX_DATABASE_URL": database_url,
        "NTX_REQUESTS_PER_SECOND": f"{rate:g}",
        "NTX_UNIVERSE_TARGET": str(STANDIN_UNIVERSE_TARGET),
        "NTX_HISTORY_START": window.first.isoformat(),
        "NTX_API_HISTORY_DAYS": str(history_days_reaching(window.first)),
        "NTX_DATA_DIR": str(data_dir),
    }


def measure_backfill(
    server: StandinServer,
    database_url: str,
    window: Window,
    *,
    rate: float,
    home: Path,
    env: Mapping[str, str],
    backfill_interval_seconds: float | None,
    timeout: float,
    progress: Callable[[str], None],
    universe_from: str | None = None,
) -> BackfillFigures:
    """company_universe in-process (or its tables copied from `universe_from`, a warehouse of the same
    stand-in data), then ONE UI backfill of daily_prices + indicators over the window.

    The universe is loaded before the deployment starts, so the backfill is launched as soon as the
    webserver is up and the daemon's first backfill pass (once it has loaded the code location) takes
    it: the figures measure the daemon's load, not where a launch happens to fall in its 30 s cycle."""
    from ntx_assets.defs.universe.assets import company_universe

    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    before = server.request_counts()
    started = time.perf_counter()
    if universe_from is None:
        with dg.DagsterInstance.ephemeral() as instance:
            result = dg.materialize(
                [company_universe],
                instance=instance,
                resources=universe_resources(server, database_url, rate),
                run_config=QUIET,
            )
        if not result.success:
            raise RuntimeError("company_universe failed")
    else:
        copy_tables(universe_from, database_url, UNIVERSE_TABLES)
    universe_seconds = time.perf_counter() - started
    universe_calls = _delta(before, server.request_counts())
    progress(
        f"company_universe: {sum(universe_calls.values())} calls in {universe_seconds:.1f} s"
        + (" (tables copied from the first warehouse)" if universe_from else "")
    )
    with DagsterDeployment(
        module="ntx_assets.definitions",
        dagster_home=home,
        env=env,
        test_settings=False,
        automation=False,
        backfill_interval_seconds=backfill_interval_seconds,
    ) as deployment:
        progress(f"deployment up at {deployment.url} (stopped: {', '.join(deployment.stopped_instigators)})")
        before = server.request_counts()
        names = [d.isoformat() for d in window.dates]
        launched = time.perf_counter()
        launched_at = time.time()
        backfill_id = deployment.launch_partition_backfill(
            asset_keys=["daily_prices", "indicators"], partition_names=names, title="bench"
        )
        progress(f"backfill {backfill_id}: {len(names)} dates x 2 assets launched")
        outcome = _wait(deployment, backfill_id, timeout, launched, progress)
        backfill_seconds = time.perf_counter() - launched
        calls = _delta(before, server.request_counts())
        if outcome.status != "COMPLETED_SUCCESS":
            raise RuntimeError(f"the bench backfill did not succeed:\n{outcome.describe()}")
        runs = [run_figures(deployment.instance, run.run_id) for run in outcome.runs]

    minimum = window_minimum(server, window)
    return BackfillFigures(
        backend=backend,
        window=window,
        rate=rate,
        universe_calls=sum(universe_calls.values()),
        universe_seconds=universe_seconds,
        backfill_id=backfill_id,
        status=outcome.status,
        backfill_seconds=backfill_seconds,
        launched_at=launched_at,
        calls=calls,
        minimum=minimum,
        runs=runs,
    )


def _wait(
    deployment: DagsterDeployment,
    backfill_id: str,
    timeout: float,
    launched: float,
    progress: Callable[[str], None],
) -> BackfillResult:
    seen: dict[str, str] = {}
    deadline = launched + timeout
    while True:
        status = deployment.backfill_status(backfill_id)["status"]
        for run in deployment.runs(backfill_id):
            if seen.get(run.run_id) != run.status:
                seen[run.run_id] = run.status
                progress(f"  +{time.perf_counter() - launched:6.1f} s  run {run.run_id[:8]} {run.status}")
        if status not in {"REQUESTED"} or time.perf_counter() > deadline:
            break
        time.sleep(0.5)
    return deployment.wait_for_backfill(backfill_id, timeout=max(1.0, deadline - time.perf_counter()))


def _delta(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    return {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key, 0)}


@dataclass(frozen=True)
class ComputeFigures:
    rows: int
    companies: int
    seconds: float  # ntx_assets.prices.indicators.compute alone, on every stored row
    rows_seconds: float  # the asset's indicator_rows: compute plus framing every row for the warehouse


def time_indicator_compute(engine: Engine, last: dt.date) -> ComputeFigures:
    """`ntx_assets.prices.indicators.compute` on the whole loaded history, all companies at once, as the asset
    frames it (grouped by security id); then the asset's own `indicator_rows` over every stored date."""
    from ntx_assets.prices.indicators import compute, indicator_rows
    from ntx_assets.warehouse.prices import price_history

    with engine.connect() as conn:
        history = price_history(conn, daily_prices.c.business_date <= last)
    frame = history.drop(columns=["previous_close"]).rename(columns={"business_date": "date"})
    frame["date"] = pd.to_datetime(frame["date"])
    started = time.perf_counter()
    compute(frame, by="security_id")
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    indicator_rows(history, sorted(set(history["business_date"])))
    rows_seconds = time.perf_counter() - started
    return ComputeFigures(
        rows=len(frame),
        companies=int(frame["security_id"].nunique()),
        seconds=seconds,
        rows_seconds=rows_seconds,
    )


UNIVERSE_TABLES = (companies, company_symbols)


def copy_tables(source_url: str, target_url: str, tables: Sequence[Any], until: dt.date | None = None) -> int:
    """Seed a warehouse with another's rows of `tables` (the same stand-in data), through the product's
    upsert; with `until`, only rows of business dates up to it."""
    source, target = create_warehouse_engine(source_url), create_warehouse_engine(target_url)
    copied = 0
    try:
        migrate(target)
        for table in tables:
            query = select(table)
            if until is not None and "business_date" in table.c:
                query = query.where(table.c.business_date <= until)
            with source.connect() as conn:
                rows = [dict(row) for row in conn.execute(query).mappings()]
            if rows:
                with target.begin() as conn:
                    upsert(conn, table, rows)
                copied += len(rows)
    finally:
        source.dispose()
        target.dispose()
    return copied


@dataclass(frozen=True)
class EventCosts:
    """Where a CLI run's time goes besides its assets, read off its own event log: the process's start
    (interpreter, imports, code location, instance) until Dagster writes the run's first event; the
    ASSET_MATERIALIZATION_PLANNED events (one per partition and asset) written before the run starts;
    the ASSET_MATERIALIZATION events (one per partition and asset) written after each step's output."""

    startup_seconds: float
    planned_events: int
    planned_events_seconds: float
    materialization_events: int
    materialization_events_seconds: float


def event_costs(instance: dg.DagsterInstance, run_id: str, process_started_at: float) -> EventCosts:
    records = [r.event_log_entry for r in instance.get_records_for_run(run_id, limit=1_000_000).records]
    planned = [e.timestamp for e in records if e.dagster_event_type in PLANNED_EVENTS]
    # Per step: from its first output to its last materialization, the events Dagster writes one by one.
    first_output: dict[str, float] = {}
    last_materialization: dict[str, float] = {}
    materializations = 0
    for entry in records:
        step = entry.step_key or ""
        if entry.dagster_event_type == dg.DagsterEventType.STEP_OUTPUT:
            first_output.setdefault(step, entry.timestamp)
        elif entry.dagster_event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materializations += 1
            last_materialization[step] = entry.timestamp
    return EventCosts(
        startup_seconds=records[0].timestamp - process_started_at,
        planned_events=len(planned),
        planned_events_seconds=max(planned) - min(planned) if planned else 0.0,
        materialization_events=materializations,
        materialization_events_seconds=sum(
            end - first_output[step] for step, end in last_materialization.items() if step in first_output
        ),
    )


PLANNED_EVENTS = (
    dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
    dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED,
)


@dataclass
class CliFigures(CallCounts):
    window: Window
    rate: float
    wall_seconds: float  # the whole `dagster asset materialize` process
    calls: dict[str, int]
    minimum: dict[str, int]
    runs: list[RunFigures]
    costs: EventCosts


def measure_cli(
    server: StandinServer,
    database_url: str,
    window: Window,
    *,
    rate: float,
    home: Path,
    env: Mapping[str, str],
    universe_from: str,
    timeout: float,
) -> CliFigures:
    """`dagster asset materialize --partition-range first...last` of daily_prices + indicators, as a user
    runs it from a shell: the whole process timed, on a warehouse seeded with the universe."""
    import os
    import shutil
    import subprocess
    import sys

    from ntx_assets_tests.tools.harness.deployment import REPO_DAGSTER_YAML, REPO_ROOT

    copy_tables(universe_from, database_url, UNIVERSE_TABLES)
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_DAGSTER_YAML, home / "dagster.yaml")
    command = [
        str(Path(sys.executable).parent / "dagster"),
        "asset",
        "materialize",
        "-m",
        "ntx_assets.definitions",
        "--select",
        "daily_prices,indicators",
        "--partition-range",
        f"{window.first.isoformat()}...{window.last.isoformat()}",
    ]
    child_env = {**os.environ, **env, "NTX_DATABASE_URL": database_url, "DAGSTER_HOME": str(home)}
    before = server.request_counts()
    started_at = time.time()
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=child_env, capture_output=True, text=True, timeout=timeout
    )
    wall = time.perf_counter() - started
    calls = _delta(before, server.request_counts())
    if done.returncode != 0:
        raise RuntimeError(f"dagster asset materialize failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        runs = [run_figures(instance, run.run_id) for run in instance.get_runs()]
        if len(runs) != 1:
            raise RuntimeError(f"dagster asset materialize made {len(runs)} runs, not one")
        costs = event_costs(instance, runs[0].run_id, started_at)
    finally:
        instance.dispose()
    minimum = window_minimum(server, window)
    return CliFigures(
        window=window, rate=rate, wall_seconds=wall, calls=calls, minimum=minimum, runs=runs, costs=costs
    )


@dataclass(frozen=True)
class DailyFigures(CallCounts):
    backend: str
    day: dt.date
    wall_seconds: float
    calls: dict[str, int]
    minimum: dict[str, int]
    prices: dict[str, Any]
    indicators: dict[str, Any]


def measure_daily(server: StandinServer, database_url: str, day: dt.date, rate: float) -> DailyFigures:
    """One new session, every symbol: daily_prices then indicators of `day`, in ONE in-process run."""
    from ntx_assets.defs.prices.assets import daily_prices as prices_asset
    from ntx_assets.defs.prices.assets import indicators as indicators_asset

    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    before = server.request_counts()
    with dg.DagsterInstance.ephemeral() as instance:
        started = time.perf_counter()
        result = dg.materialize(
            [prices_asset, indicators_asset],
            partition_key=day.isoformat(),
            instance=instance,
            resources=universe_resources(server, database_url, rate),
            run_config=QUIET,
        )
        wall = time.perf_counter() - started
    if not result.success:
        raise RuntimeError(f"the daily update of {day} failed on {backend}")
    metadata = {
        key: {
            name: value.value
            for name, value in result.asset_materializations_for_node(key)[0].metadata.items()
        }
        for key in ("daily_prices", "indicators")
    }
    minimum = {
        "today_price": minimum_calls(1, [len(server.data.today_prices(day))]),
        **fixed_calls(1),
    }
    return DailyFigures(
        backend=backend,
        day=day,
        wall_seconds=wall,
        calls=_delta(before, server.request_counts()),
        minimum=minimum,
        prices=metadata["daily_prices"],
        indicators=metadata["indicators"],
    )
