"""The daily path as deployed: from the instant NEPSE publishes a session's closing prices to the export.

A real `dagster-webserver` + `dagster-daemon` on the repository's dagster.yaml with every sensor and
automation on, over a warehouse holding the sessions before the measured one (and every company's filings
and announcements). The stand-in serves the measured session in NEPSE's intraday shape (no close, no market
capitalization) with the market OPEN; at a known instant T it publishes the close (the rows, then CLOSE as
of 15:00). From T on, nothing is launched by hand: `new_session_sensor` requests the session (universe,
prices, indicators: one run), declarative automation then runs `price_adjustments` and that session's
`screener`, whose run rewrites `screener.json`.

The measured session is the stand-in's last (a past date on the machine's clock, so the sensor requests it
as soon as NEPSE says CLOSE; on the day itself it also waits for 15:00 Nepal time, which the close is).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from ntx_assets.warehouse.schema import (
    book_closures,
    companies,
    company_symbols,
    corporate_actions,
    daily_prices,
    filing_documents,
    filings,
    indicators,
    price_adjustments,
    security_shares,
)
from ntx_assets_tests.tools.bench.pipeline import copy_tables
from ntx_assets_tests.tools.harness.deployment import DagsterDeployment
from ntx_assets_tests.tools.standin import StandinServer

# What the daily path reads besides the session it loads.
WAREHOUSE_TABLES = (
    companies,
    company_symbols,
    daily_prices,
    indicators,
    filings,
    filing_documents,
    corporate_actions,
    book_closures,
    security_shares,
    price_adjustments,
)
# The new session's run: the universe's four lists, this year's holiday list and one today-price page; the
# sensor's market-status call that sees the close.
MINIMUM_CALLS = {"universe lists": 4, "holiday list": 1, "today-price": 1, "market-open": 1}
GOAL_SECONDS = 30.0  # issue 37: close -> screener.json under 30 s through the daemon
FOLLOWED = ("daily_prices", "indicators", "screener")


@dataclass(frozen=True)
class DailyPathFigures:
    session: dt.date
    close_to_prices_seconds: float
    close_to_indicators_seconds: float
    close_to_screener_seconds: float
    close_to_export_seconds: float
    materializations: dict[str, list[dict[str, Any]]]
    runs: list[dict[str, Any]]
    calls: dict[str, int]
    sensor_interval_seconds: int
    automation_interval_seconds: int

    @property
    def calls_made(self) -> int:
        return sum(self.calls.values())

    @property
    def calls_minimum(self) -> int:
        return sum(MINIMUM_CALLS.values())


def measure(
    server: StandinServer,
    history_url: str,
    session: dt.date,
    *,
    scratch: Path,
    env: Mapping[str, str],
    timeout: float,
    progress: Callable[[str], None],
) -> DailyPathFigures:
    from ntx_assets.defs.automation import automation_sensor
    from ntx_assets.defs.prices.sensors import NEW_SESSION_INTERVAL_SECONDS

    url = f"sqlite:///{scratch / 'daily_path.db'}"
    exports = scratch / "exports_daily_path"
    copied = copy_tables(history_url, url, WAREHOUSE_TABLES, until=session - dt.timedelta(days=1))
    progress(f"daily path: warehouse seeded with {copied:,} rows before {session}")
    _intraday(server, session)
    deployment_env = {**env, "NTX_DATABASE_URL": url, "NTX_EXPORT_DIR": str(exports)}
    try:
        with DagsterDeployment(
            module="ntx_assets.definitions",
            dagster_home=scratch / "dagster_home_daily_path",
            env=deployment_env,
            test_settings=False,
            automation=True,
        ) as deployment:
            # Let the daemon make its first passes (sensors, automation) against an open market.
            time.sleep(max(NEW_SESSION_INTERVAL_SECONDS, 5))
            before = server.request_counts()
            published = time.time()
            # The same instant on the filesystem's clock, which file times use (the real one, also when
            # the processes run under faketime): the export's time is read against it.
            marker = scratch / "daily_path_published"
            marker.write_text(f"{published}\n")
            server.data.restore_today_prices(session)
            server.set_market_status("CLOSE", dt.datetime.combine(session, dt.time(15, 0)))
            progress(f"  T = {dt.datetime.now():%H:%M:%S}: NEPSE publishes {session}'s close")
            figures = _follow(
                deployment.instance, session, exports, published, marker.stat().st_mtime, timeout, progress
            )
            calls = {key: value - before.get(key, 0) for key, value in server.request_counts().items()}
            records = _settled_runs(deployment.instance, published, timeout)
            runs = [_run(deployment.instance, record, published) for record in records]
            materializations = _materialized_by(deployment.instance, session, published)
    finally:
        server.data.restore_today_prices(session)
        server.set_market_status(None)
    return DailyPathFigures(
        session=session,
        **figures,
        materializations=materializations,
        runs=sorted(runs, key=lambda run: run["created_after_close_seconds"]),
        calls={key: value for key, value in calls.items() if value},
        sensor_interval_seconds=NEW_SESSION_INTERVAL_SECONDS,
        automation_interval_seconds=automation_sensor.minimum_interval_seconds or 30,
    )


def _intraday(server: StandinServer, session: dt.date) -> None:
    """Before the close: the market open, and the session's rows without a close (NEPSE's intraday shape)."""
    server.set_market_status("OPEN", dt.datetime.combine(session, dt.time(11, 0)))
    for row in server.data.today_rows(session):
        server.data.amend_today_price(session, row["securityId"], closePrice=None, marketCapitalization=None)


def _follow(
    instance: dg.DagsterInstance,
    session: dt.date,
    exports: Path,
    published: float,
    published_on_disk: float,
    timeout: float,
    progress: Callable[[str], None],
) -> dict[str, float]:
    """T -> each asset's FIRST materialization of the session after T (its event's own timestamp, so a
    slow poll or a later re-materialization cannot move it) and T -> the export file's modification (file
    times against T's marker file: both on the filesystem's clock)."""
    key = session.isoformat()
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < len(FOLLOWED) + 1:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the daily path of {session} did not finish within {timeout:.0f} s: {seen}")
        for name in FOLLOWED:
            if name not in seen:
                found = _materializations(instance, name, key, published, limit=1)
                if found:
                    seen[name] = found[0].timestamp - published
                    progress(f"  +{seen[name]:6.1f} s  {name} {key} materialized")
        if "export" not in seen and _exported(exports / "screener.json", key):
            seen["export"] = (exports / "screener.json").stat().st_mtime - published_on_disk
            progress(f"  +{seen['export']:6.1f} s  screener.json holds {key}")
        time.sleep(0.25)
    return {
        "close_to_prices_seconds": round(seen["daily_prices"], 1),
        "close_to_indicators_seconds": round(seen["indicators"], 1),
        "close_to_screener_seconds": round(seen["screener"], 1),
        "close_to_export_seconds": round(seen["export"], 1),
    }


def _materializations(
    instance: dg.DagsterInstance, name: str, key: str, published: float, limit: int | None = None
) -> list[Any]:
    """The asset's materializations of partition `key` recorded after `published`, oldest first."""
    return list(
        instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey(name), asset_partitions=[key], after_timestamp=published
            ),
            limit=limit or 100,
            ascending=True,
        ).records
    )


def _materialized_by(
    instance: dg.DagsterInstance, session: dt.date, published: float
) -> dict[str, list[dict[str, Any]]]:
    """Every materialization of the session after T, per asset: when, and by which run (a second one is
    work done twice)."""
    key = session.isoformat()
    return {
        name: [
            {"after_close_seconds": round(record.timestamp - published, 1), "run": record.run_id[:8]}
            for record in _materializations(instance, name, key, published)
        ]
        for name in FOLLOWED
    }


def _settled_runs(instance: dg.DagsterInstance, published: float, timeout: float) -> list[Any]:
    """The runs created since `published`, once none of them is still queued or running."""
    created_after = dt.datetime.fromtimestamp(published, dt.UTC)
    deadline = time.monotonic() + timeout
    while True:
        records = instance.get_run_records(filters=dg.RunsFilter(created_after=created_after))
        if all(record.dagster_run.is_finished for record in records) or time.monotonic() > deadline:
            return list(records)
        time.sleep(0.5)


def _exported(path: Path, session: str) -> bool:
    try:
        return json.loads(path.read_text()).get("as_of") == session
    except (OSError, ValueError):
        return False


def _run(instance: dg.DagsterInstance, record: Any, published: float) -> dict[str, Any]:
    run = record.dagster_run
    stats = instance.get_run_stats(run.run_id)
    return {
        "run": run.run_id[:8],
        "job": run.job_name,
        "assets": sorted(key.to_user_string() for key in run.asset_selection or ()),
        "partition": run.tags.get("dagster/partition")
        or "..".join(
            filter(
                None,
                (
                    run.tags.get("dagster/asset_partition_range_start"),
                    run.tags.get("dagster/asset_partition_range_end"),
                ),
            )
        ),
        "status": run.status.value,
        "created_after_close_seconds": round(record.create_timestamp.timestamp() - published, 1),
        "started_after_close_seconds": round(stats.start_time - published, 1) if stats.start_time else None,
        "ended_after_close_seconds": round(stats.end_time - published, 1) if stats.end_time else None,
    }


def report(figures: DailyPathFigures, say: Callable[[str], None]) -> dict[str, Any]:
    say(
        f"daily path {figures.session}: close -> prices {figures.close_to_prices_seconds:.1f} s, "
        f"-> indicators {figures.close_to_indicators_seconds:.1f} s, "
        f"-> screener {figures.close_to_screener_seconds:.1f} s, "
        f"-> export {figures.close_to_export_seconds:.1f} s (goal < {GOAL_SECONDS:g} s: "
        f"{figures.close_to_export_seconds / GOAL_SECONDS:.2f}); {len(figures.runs)} runs; calls "
        f"{figures.calls_made} / minimum {figures.calls_minimum}"
    )
    for run in figures.runs:
        say(
            f"    {run['run']} {run['job']} {'+'.join(run['assets'])} [{run['partition']}]: created +"
            f"{run['created_after_close_seconds']} s, started +{run['started_after_close_seconds']} s, ended "
            f"+{run['ended_after_close_seconds']} s ({run['status']})"
        )
    for name, made in figures.materializations.items():
        say(
            f"    {name} {figures.session}: "
            + ", ".join(f"+{m['after_close_seconds']} s by {m['run']}" for m in made)
        )
    return {
        "session": figures.session.isoformat(),
        "close_to_prices_seconds": figures.close_to_prices_seconds,
        "close_to_indicators_seconds": figures.close_to_indicators_seconds,
        "close_to_screener_seconds": figures.close_to_screener_seconds,
        "close_to_export_seconds": figures.close_to_export_seconds,
        "export_vs_goal": round(figures.close_to_export_seconds / GOAL_SECONDS, 2),
        "materializations": figures.materializations,
        "runs": len(figures.runs),
        "per_run": figures.runs,
        "calls_made": figures.calls_made,
        "calls_by_endpoint": dict(sorted(figures.calls.items())),
        "calls_minimum": figures.calls_minimum,
        "calls_vs_minimum": round(figures.calls_made / figures.calls_minimum, 2),
        "sensor_interval_seconds": figures.sensor_interval_seconds,
        "automation_interval_seconds": figures.automation_interval_seconds,
    }
