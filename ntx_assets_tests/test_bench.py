"""`make bench` keeps working: its window planning, and a small end-to-end run that must end with a BENCH
line whose figures are counts and ratios consistent with each other (never timings asserted)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ntx_assets.warehouse import create_warehouse_engine
from ntx_assets.warehouse.schema import companies, indicators
from ntx_assets.warehouse.schema import daily_prices as prices
from ntx_assets_tests.conftest import PG_ADMIN_URL
from ntx_assets_tests.pinned import PINNED_TODAY
from ntx_assets_tests.tools.bench.pipeline import plan_window
from ntx_assets_tests.tools.harness.deployment import REPO_ROOT
from ntx_assets_tests.tools.standin import StandinConfig
from ntx_assets_tests.tools.standin.data import StandinData

# Mon 2026-11-02 .. Fri 2026-11-20, weekdays only, and "today" Monday 2026-11-23.
SESSIONS = [
    dt.date(2026, 11, 2) + dt.timedelta(days=i)
    for i in range(19)
    if (dt.date(2026, 11, 2) + dt.timedelta(days=i)).weekday() < 5
]
TODAY = dt.date(2026, 11, 23)


@pytest.mark.calendar
def test_the_daily_update_takes_the_last_closed_session_and_the_backfill_the_dates_before_it() -> None:
    window = plan_window([*SESSIONS, TODAY], TODAY, dates=7, session_count=None)
    assert window.daily == dt.date(2026, 11, 20)
    assert (window.first, window.last) == (dt.date(2026, 11, 13), dt.date(2026, 11, 19))
    assert len(window.dates) == 7
    assert window.sessions == tuple(d for d in SESSIONS if window.first <= d <= window.last)


@pytest.mark.calendar
def test_a_session_count_backfills_exactly_that_many_sessions() -> None:
    window = plan_window(SESSIONS, TODAY, dates=None, session_count=6)
    assert len(window.sessions) == 6 and window.first == window.sessions[0]
    assert window.last == dt.date(2026, 11, 19)


@pytest.mark.calendar
def test_asking_for_more_sessions_than_the_standin_holds_names_the_limit() -> None:
    with pytest.raises(ValueError, match=r"holds only 14 sessions before 2026-11-20"):
        plan_window(SESSIONS, TODAY, dates=None, session_count=50)


@pytest.mark.slow
@pytest.mark.postgres
def test_a_small_bench_reports_what_the_standin_served_and_the_warehouse_holds(tmp_path: Path) -> None:
    """Its figures are checked against what it cannot choose: the sessions the stand-in's data holds, the
    rows that reached the warehouse, and NEPSE's exact answers (never timings)."""
    dates, seed = 10, 7
    command = [
        sys.executable,
        "-m",
        "ntx_assets_tests.tools.bench",
        "--load-symbols=5",
        "--load-sessions=40",
        f"--dates={dates}",
        "--rate=50",
        f"--seed={seed}",
        f"--end-date={PINNED_TODAY}",
        f"--scratch={tmp_path}",
        "--backfill-backend=sqlite",
        "--daily-backend=both",
        "--fast-daemon",
        "--live-rate-dates=5",
        "--timeout=300",
        # The earlier rounds' parts: the 15-year history and the ratio reading run in their own minutes.
        "--only=warehouse_load,pipeline",
    ]
    env = {**os.environ, "NTX_BENCH_PG_URL": PG_ADMIN_URL}
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("BENCH "), last
    figures = json.loads(last.removeprefix("BENCH "))

    for backend in ("sqlite", "postgresql"):
        load = figures[f"warehouse_{backend}"]
        assert load["rows"] == 5 * 40 and load["upsert_rows_per_s"] > 0
    assert figures["warehouse_postgresql"]["upsert_vs_raw_copy"] > 0

    # The same stand-in data, built here: its sessions and rows are a pure function of seed and window.
    data = StandinData(StandinConfig(seed=seed, end_date=PINNED_TODAY, days=dates + 20))
    daily = max(d for d in data.sessions if d < PINNED_TODAY)
    backfilled = daily - dt.timedelta(days=dates), daily - dt.timedelta(days=1)
    sessions = [d for d in data.sessions if backfilled[0] <= d <= backfilled[1]]
    engine = create_warehouse_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    with engine.connect() as conn:
        universe = set(conn.execute(select(companies.c.security_id).where(companies.c.included)).scalars())
        stored = dict(
            conn.execute(select(prices.c.business_date, func.count()).group_by(prices.c.business_date)).all()
        )
        stored_indicators = dict(
            conn.execute(
                select(indicators.c.business_date, func.count()).group_by(indicators.c.business_date)
            ).all()
        )
    engine.dispose()
    served = {d: sum(r["securityId"] in universe for r in data.today_prices(d)) for d in [*sessions, daily]}
    assert len(universe) == 259 and all(served.values())

    backfill = figures["backfill_sqlite"]
    assert (backfill["first"], backfill["last"]) == tuple(d.isoformat() for d in backfilled)
    assert backfill["sessions"] == len(sessions) and backfill["calls_minimum_parts"]["today_price"] == len(
        sessions
    )
    # The stand-in counted the today-price requests: one per session, plus at most one while the client
    # learns the payload-id variant of the day.
    today_price_calls = backfill["calls_by_endpoint"]["POST /api/nots/nepse-data/today-price"]
    assert len(sessions) <= today_price_calls <= len(sessions) + 1
    # Every session's rows reached the warehouse, exactly NEPSE's rows for the universe, and each has its
    # indicators; the bench's row figures are those rows.
    assert {d: stored[d] for d in sessions} == {d: served[d] for d in sessions}
    assert backfill["prices_rows_inserted"] == sum(served[d] for d in sessions)
    assert {d: stored_indicators.get(d) for d in sessions} == {d: served[d] for d in sessions}
    assert backfill["indicators_rows"] == backfill["prices_rows_inserted"]
    assert figures["indicators_compute"]["rows"] == sum(served[d] for d in sessions)

    # ONE run for prices and indicators, and the wall from launch to its success against the pacing bound.
    assert backfill["runs"] == 1 and backfill["indicators_runs"] == 1
    assert backfill["data_wall_vs_pacing"] == pytest.approx(
        backfill["data_wall_seconds"] / (backfill["calls_made"] / backfill["rate_per_s"]), rel=0.01
    )
    assert backfill["overhead_seconds"] == pytest.approx(
        backfill["data_wall_seconds"] - backfill["in_asset_seconds"], abs=0.2
    )
    # The same UI backfill at the product's default rate, over the window's last 5 dates.
    live = figures["backfill_live_rate"]
    live_sessions = [d for d in sessions if d > backfilled[1] - dt.timedelta(days=5)]
    assert live["rate_per_s"] == 2.0 and live["runs"] == 1 and live["dates"] == 5
    assert live["sessions"] == len(live_sessions) and live["universe_calls"] == 0  # the universe was copied
    live_calls = live["calls_by_endpoint"]["POST /api/nots/nepse-data/today-price"]
    assert len(live_sessions) <= live_calls <= len(live_sessions) + 1
    # The CLI's --partition-range over the same dates, at R and at the live rate: one run, one call per
    # session, and Dagster's own events counted from the run's log: one planned and one materialization
    # per partition and asset (the checks add planned evaluations).
    for key, cli_dates, cli_sessions, rate in (
        ("cli_backfill_sqlite", dates, sessions, figures["rate_per_s"]),
        ("cli_backfill_live_rate", 5, live_sessions, 2.0),
    ):
        cli = figures[key]
        assert cli["runs"] == 1 and cli["dates"] == cli_dates and cli["sessions"] == len(cli_sessions)
        cli_calls = cli["calls_by_endpoint"]["POST /api/nots/nepse-data/today-price"]
        assert len(cli_sessions) <= cli_calls <= len(cli_sessions) + 1
        assert cli["rate_per_s"] == rate
        assert cli["wall_vs_pacing"] == pytest.approx(
            cli["wall_seconds"] / (cli["calls_made"] / rate), rel=0.02
        )
        assert cli["materialization_events"] == 2 * cli_dates and cli["planned_events"] > 2 * cli_dates
        dagster_part = (
            cli["startup_seconds"] + cli["planned_events_seconds"] + cli["materialization_events_seconds"]
        )
        assert 0 < dagster_part < cli["wall_seconds"]

    for backend in ("sqlite", "postgresql"):
        update = figures[f"daily_{backend}"]
        assert update["day"] == daily.isoformat() and update["prices_rows"] == served[daily]
        assert update["calls_by_endpoint"]["POST /api/nots/nepse-data/today-price"] in (1, 2)
    assert stored[daily] == stored_indicators[daily] == served[daily]

    # The screener: the backfill's sessions in one run, one row per company and session (the stand-in's
    # companies were all listed long before), and the daily session alone; in-asset seconds reported
    # against their goals, never asserted.
    year = figures["screener_backfill"]
    assert year["runs"] == 1 and year["dates"] == dates and year["sessions"] == len(sessions)
    assert year["rows"] == len(universe) * len(sessions)
    assert year["seconds_vs_goal"] == pytest.approx(year["seconds"] / year["goal_seconds"], abs=0.01)
    one = figures["screener_daily"]
    assert one["runs"] == 1 and one["sessions"] == 1 and one["rows"] == len(universe)

    # The daily path through a deployment: from the published close to the export, in order, by the
    # sensor's run (universe, prices, indicators) and automation's (the screener), with the run's calls.
    path = figures["daily_path"]
    assert path["session"] == daily.isoformat()
    # Each asset's first materialization of the session after the close, in the graph's order (a screen is
    # never built before its session's indicators), and the export written by the run that built the screen.
    assert (
        0
        < path["close_to_prices_seconds"]
        <= path["close_to_indicators_seconds"]
        <= path["close_to_screener_seconds"]
    ), path
    made = path["materializations"]
    assert all(made[name] for name in ("daily_prices", "indicators", "screener")), made
    assert [made[name][0]["after_close_seconds"] for name in ("daily_prices", "indicators", "screener")] == [
        path["close_to_prices_seconds"],
        path["close_to_indicators_seconds"],
        path["close_to_screener_seconds"],
    ]
    (screen_run,) = [run for run in path["per_run"] if run["run"] == made["screener"][0]["run"]]
    assert (
        screen_run["started_after_close_seconds"]
        <= path["close_to_export_seconds"]
        <= screen_run["ended_after_close_seconds"]
    ), path
    jobs = {run["job"] for run in path["per_run"]}
    # One run: the sensor's job screens the session and writes the exports, and automation adds nothing
    # after it in the bench's session.
    assert jobs == {"new_session_job"} and path["runs"] == 1
    assert all(run["status"] == "SUCCESS" for run in path["per_run"]), path["per_run"]
    assert path["calls_by_endpoint"]["POST /api/nots/nepse-data/today-price"] in (1, 2)
    assert path["calls_minimum"] == 7 and path["calls_made"] >= path["calls_minimum"]
