"""`make prod-local` brings up the production topology (a gRPC code server, the webserver, the daemon;
Dagster's storage and the warehouse on PostgreSQL), a backfill launched through its webserver completes,
and Ctrl-C stops every process it started. `make dev` stops every process it started on Ctrl-C too."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import dagster as dg
import httpx
import pytest
from dagster._core.storage.tags import GRPC_INFO_TAG

from ntx_assets_tests.conftest import PG_ADMIN_URL
from ntx_assets_tests.deploy.support import backfill_dates, production_env, standin_config, stored_dates
from ntx_assets_tests.pinned import PINNED_TODAY
from ntx_assets_tests.tools.bench.warehouse import scratch_postgres
from ntx_assets_tests.tools.harness.deployment import (
    REPO_ROOT,
    WORKSPACE_QUERY,
    _free_loopback_port,
    process_tree,
)
from ntx_assets_tests.tools.harness.production import ProdLocalDeployment, alive, launch_backfill_by_assets
from ntx_assets_tests.tools.standin import running_standin

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

DATES = 5


def _command_lines(pids: list[int]) -> dict[int, str]:
    lines = {}
    for pid in pids:
        try:
            lines[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
    return lines


def test_make_prod_local_runs_a_backfill_through_the_code_server_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    with (
        running_standin(standin_config(DATES)) as server,
        scratch_postgres(PG_ADMIN_URL) as dagster_db,
        scratch_postgres(PG_ADMIN_URL) as warehouse,
    ):
        dates = backfill_dates(server, DATES)
        env = production_env(server, dagster_db, warehouse, rate=50)
        with ProdLocalDeployment(tmp_path / "home", env) as deployment:
            deployment.stop_automation()  # only the backfill below runs (the daemon is already up)
            processes = _command_lines(deployment.processes())
            started = " | ".join(processes.values())
            for part in ("dagster code-server start", "dagster-webserver", "dagster-daemon run"):
                assert part in started, started

            # The universe (unpartitioned), then a few dates of prices: one backfill, as in the UI.
            backfill = launch_backfill_by_assets(
                deployment, {"company_universe": None, "daily_prices": (dates[0], dates[-1])}
            )
            result = deployment.wait_for_backfill(backfill, timeout=240)
            assert result.status == "COMPLETED_SUCCESS", result.describe()
            assert result.succeeded and len(result.runs) == 2, result.describe()

            # Dagster's own storage is the scratch PostgreSQL database ...
            instance = deployment.instance
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
            assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
            # ... the runs were launched by the separate code server (the gRPC address they carry) ...
            for run in result.runs:
                grpc_info = json.loads(instance.get_run_by_id(run.run_id).tags[GRPC_INFO_TAG])
                assert grpc_info["port"] == deployment.code_server_port, grpc_info
            # ... and the prices landed in the PostgreSQL warehouse named by NTX_DATABASE_URL.
            sessions = [d for d in server.data.sessions if d.isoformat() in dates]
            assert sessions and stored_dates(warehouse) >= len(sessions)
            assert instance.get_materialized_partitions(dg.AssetKey("daily_prices")) >= set(dates)

            # Ctrl-C: make, the script, the three servers and their children all end.
            tree = deployment.processes()
            code = deployment.interrupt()
            assert code != 0  # make reports the interrupted recipe
            time.sleep(1)
            left = {pid: line for pid, line in _command_lines(tree).items() if alive(pid)}
            assert not left, f"still running after Ctrl-C: {left}\n{deployment.log_tails()}"


def _workspace_loaded(port: int) -> bool:
    try:
        response = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": WORKSPACE_QUERY}, timeout=10)
        entries = response.json()["data"]["workspaceOrError"]["locationEntries"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return False
    return bool(entries) and all(entry["loadStatus"] == "LOADED" for entry in entries)


def test_make_dev_stops_every_process_it_started_on_ctrl_c(tmp_path: Path) -> None:
    ui_port, standin_port = _free_loopback_port(), _free_loopback_port()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home")}
    with (tmp_path / "make-dev.log").open("wb") as log:
        make = subprocess.Popen(
            [
                "make",
                "-o",
                ".venv/.installed",
                "dev",
                f"UI_PORT={ui_port}",
                f"STANDIN_PORT={standin_port}",
                f"STANDIN_FLAGS=--end-date={PINNED_TODAY}",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        tree: list[int] = []
        try:
            deadline = time.monotonic() + 180
            while not _workspace_loaded(ui_port):
                assert make.poll() is None, (tmp_path / "make-dev.log").read_text()[-4000:]
                assert time.monotonic() < deadline, "make dev did not serve the location within 180 s"
                time.sleep(1)
            tree = process_tree(make.pid)
            started = " | ".join(_command_lines(tree).values())
            for part in (
                "ntx_assets_tests.tools.standin",
                "dagster dev",
                "dagster_webserver",
                "dagster._daemon",
            ):
                assert part in started, started
            os.killpg(make.pid, signal.SIGINT)  # Ctrl-C in the terminal
            make.wait(timeout=90)
            time.sleep(1)
            left = {pid: line for pid, line in _command_lines(tree).items() if alive(pid)}
            assert not left, f"still running after Ctrl-C: {left}"
        finally:
            if make.poll() is None:
                os.killpg(make.pid, signal.SIGKILL)
                make.wait(timeout=10)
            for pid in tree:
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)
