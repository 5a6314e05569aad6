"""The screener's figures: a year's screener backfill and one session's, in-process on a loaded warehouse,
and one saved screen's daily materialization on it (its picks, changes and backtest to date).

The warehouse holds the backfill's year of prices and indicators; the filings and announcements of every
company are loaded first from a stand-in of the same seed and window without a rate limit (the figures are
the screener's own time, which makes no API call: `seconds` is the asset's in-asset time, its metadata).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from ntx_assets.defs.corporate_actions.assets import corporate_actions, price_adjustments
from ntx_assets.defs.filings.assets import filings
from ntx_assets.defs.prices.assets import daily_prices, indicators
from ntx_assets.defs.screener.assets import screener
from ntx_assets.defs.screens.assets import screen_asset
from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.resources import AlertsResource, ExportResource, NepseResource, WarehouseResource
from ntx_assets.screens.file import load_screens
from ntx_assets_tests.tools.harness.resources import QUIET, run_resources
from ntx_assets_tests.tools.standin import StandinConfig, running_standin

SAMPLE_SCREENS = Path(__file__).resolve().parents[3] / "screens.sample.toml"
BENCH_SCREEN = "value_vs_sector"
ASSETS = [company_universe, daily_prices, indicators, filings, corporate_actions, price_adjustments, screener]
UNLIMITED_RATE = 100.0  # the NEPSE client's fastest setting, against a stand-in without a rate limit


@dataclass(frozen=True)
class ScreenerRun:
    dates: int
    sessions: int
    rows: int
    seconds: float  # in-asset (the asset's `seconds` metadata)
    read_seconds: float
    compute_seconds: float
    wall_seconds: float  # the whole in-process run
    runs: int


def load_announcements(config: StandinConfig, url: str, exports: Path) -> float:
    """filings, corporate_actions and price_adjustments for every symbol, from an unlimited stand-in of the
    same data; returns the seconds it took."""
    started = time.perf_counter()
    unlimited = StandinConfig(seed=config.seed, end_date=config.end_date, days=config.days)
    with running_standin(unlimited) as fast, dg.instance_for_test() as instance:
        resources = _resources(fast.base_url, url, exports)
        _materialize([company_universe], instance, resources)
        symbols = instance.get_dynamic_partitions("symbol")
        tags = {
            "dagster/asset_partition_range_start": symbols[0],
            "dagster/asset_partition_range_end": symbols[-1],
        }
        _materialize([filings, corporate_actions], instance, resources, tags=tags)
        _materialize([price_adjustments], instance, resources)
    return time.perf_counter() - started


def measure(url: str, first: dt.date, last: dt.date, exports: Path, base_url: str) -> ScreenerRun:
    """One in-process run of `screener` over first..last (a range run: one run for the whole range)."""
    with dg.instance_for_test() as instance:
        tags = {
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        }
        started = time.perf_counter()
        result = _materialize([screener], instance, _resources(base_url, url, exports), tags=tags)
        wall = time.perf_counter() - started
        meta = result.asset_materializations_for_node("screener")[0].metadata
        runs = len(instance.get_run_records())
    value = {name: entry.value for name, entry in meta.items()}
    return ScreenerRun(
        dates=int(value["dates"]),
        sessions=int(value["sessions"]),
        rows=int(value["rows"]),
        seconds=float(value["seconds"]),
        read_seconds=float(value["read_seconds"]),
        compute_seconds=float(value["compute_seconds"]),
        wall_seconds=wall,
        runs=runs,
    )


def report(run: ScreenerRun, goal_seconds: float) -> dict[str, Any]:
    return {
        "dates": run.dates,
        "sessions": run.sessions,
        "rows": run.rows,
        "seconds": run.seconds,
        "read_seconds": run.read_seconds,
        "compute_seconds": run.compute_seconds,
        "write_seconds": round(run.seconds - run.read_seconds - run.compute_seconds, 2),
        "run_wall_seconds": round(run.wall_seconds, 2),
        "runs": run.runs,
        "goal_seconds": goal_seconds,
        "seconds_vs_goal": round(run.seconds / goal_seconds, 2),
    }


def _resources(base_url: str, url: str, exports: Path) -> dict[str, Any]:
    nepse = NepseResource(base_url=base_url, requests_per_second=UNLIMITED_RATE, max_concurrent_requests=8)
    return run_resources(nepse, url, exports=ExportResource(directory=str(exports), logo_base_url=base_url))


def _materialize(
    selection: list, instance: dg.DagsterInstance, resources: dict[str, Any], **kwargs: Any
) -> dg.ExecuteInProcessResult:
    result = dg.materialize(
        ASSETS, selection=selection, instance=instance, resources=resources, run_config=QUIET, **kwargs
    )
    if not result.success:
        names = "+".join(asset.key.to_user_string() for asset in selection)
        raise RuntimeError(f"{names} failed in the screener bench")
    return result


@dataclass(frozen=True)
class SavedScreenRun:
    screen: str
    session: str
    picks: int
    backtest_periods: int
    seconds: float  # in-asset (the screen asset's `seconds` metadata)
    wall_seconds: float


def measure_saved_screen(url: str, day: dt.date) -> SavedScreenRun:
    """The sample saved screen BENCH_SCREEN's partition of `day`, in process: what automation runs once
    `screener` of the session landed (no webhook: the alert is skipped, not timed)."""
    # value_vs_sector has picks on the bench's warehouse (cheap_banks needs report ratios it does not load).
    screen = next(screen for screen in load_screens(SAMPLE_SCREENS) if screen.name == BENCH_SCREEN)
    asset = screen_asset(screen, str(SAMPLE_SCREENS))
    resources = {"warehouse": WarehouseResource(database_url=url), "alerts": AlertsResource(webhook_url=None)}
    with dg.instance_for_test() as instance:
        started = time.perf_counter()
        result = dg.materialize(
            [asset], instance=instance, resources=resources, partition_key=day.isoformat(), run_config=QUIET
        )
        wall = time.perf_counter() - started
    if not result.success:
        raise RuntimeError(f"the saved screen {screen.name} failed in the screener bench")
    meta = {
        k: v.value for k, v in result.asset_materializations_for_node(asset.key.path[-1])[0].metadata.items()
    }
    return SavedScreenRun(
        screen=screen.name,
        session=str(meta.get("session")),
        picks=int(meta.get("picks", 0)),
        backtest_periods=int(meta.get("backtest_periods", 0) or 0),
        seconds=float(meta["seconds"]),
        wall_seconds=wall,
    )
