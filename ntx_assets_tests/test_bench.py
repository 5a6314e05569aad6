"""`make bench` keeps working: its window planning, and a small end-to-end run that must end with a BENCH
line whose figures are counts and ratios consistent with each other (never timings asserted)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from ntx_assets.bench.pipeline import plan_window
from ntx_assets.devtools.deployment import REPO_ROOT
from ntx_assets_tests.conftest import PG_ADMIN_URL

# Mon 2026-11-02 .. Fri 2026-11-20, weekdays only, and "today" Monday 2026-11-23.
SESSIONS = [
    dt.date(2026, 11, 2) + dt.timedelta(days=i)
    for i in range(19)
    if (dt.date(2026, 11, 2) + dt.timedelta(days=i)).weekday() < 5
]
TODAY = dt.date(2026, 11, 23)


def test_the_daily_update_takes_the_last_closed_session_and_the_backfill_the_dates_before_it() -> None:
    window = plan_window([*SESSIONS, TODAY], TODAY, dates=7, session_count=None)
    assert window.daily == dt.date(2026, 11, 20)
    assert (window.first, window.last) == (dt.date(2026, 11, 13), dt.date(2026, 11, 19))
    assert len(window.dates) == 7
    assert window.sessions == tuple(d for d in SESSIONS if window.first <= d <= window.last)


def test_a_session_count_backfills_exactly_that_many_sessions() -> None:
    window = plan_window(SESSIONS, TODAY, dates=None, session_count=6)
    assert len(window.sessions) == 6 and window.first == window.sessions[0]
    assert window.last == dt.date(2026, 11, 19)


def test_asking_for_more_sessions_than_the_standin_holds_names_the_limit() -> None:
    with pytest.raises(ValueError, match=r"holds only 14 sessions before 2026-11-20"):
        plan_window(SESSIONS, TODAY, dates=None, session_count=50)


@pytest.mark.slow
@pytest.mark.postgres
def test_a_small_bench_prints_consistent_figures_as_its_last_line() -> None:
    command = [
        sys.executable,
        "-m",
        "ntx_assets.bench",
        "--load-symbols=5",
        "--load-sessions=40",
        "--dates=10",
        "--rate=50",
        "--backfill-backend=sqlite",
        "--daily-backend=both",
        "--fast-daemon",
        "--timeout=300",
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

    backfill = figures["backfill_sqlite"]
    assert backfill["dates"] == 10 and backfill["runs"] >= 2  # prices, then indicators
    assert backfill["calls_made"] == sum(backfill["calls_by_endpoint"].values())
    assert backfill["calls_minimum"] == sum(backfill["calls_minimum_parts"].values())
    assert backfill["calls_minimum_parts"]["today_price"] == backfill["sessions"]
    # daily_prices itself: the minimum, plus at most one call while the client learns the payload-id variant.
    assert backfill["calls_minimum"] <= backfill["prices_asset_calls"] <= backfill["calls_minimum"] + 1
    assert backfill["calls_vs_minimum"] == round(backfill["calls_made"] / backfill["calls_minimum"], 3)
    assert backfill["indicators_rows"] == backfill["prices_rows_inserted"] > 0

    assert figures["indicators_compute"]["rows"] >= backfill["prices_rows_inserted"]
    for backend in ("sqlite", "postgresql"):
        daily = figures[f"daily_{backend}"]
        assert daily["calls_made"] >= daily["calls_minimum"] > 0 and daily["prices_rows"] > 0
