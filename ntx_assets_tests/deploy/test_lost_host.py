"""A lost host heals, under `make dev`'s topology (webserver + daemon, the repository's dagster.yaml, the
code server a child of the daemon) and production's (ntx_assets/deploy/dagster.yaml, a separate code
server, PostgreSQL): the code server AND the run worker of a running prices backfill are killed with
SIGKILL (the machine is gone), and

- the run is marked FAILURE by run monitoring's maximum runtime, the bound the run set for itself from its
  plan (ntx_assets/orchestration/run_bounds.py: its `dagster/max_runtime` tag, planned calls / rate x 3 +
  what it had taken + NTX_RUN_START_SECONDS), and only by it: with the DefaultRunLauncher nothing checks a run
  worker's health (Dagster 1.13: ``supports_check_run_worker_health`` is False), so the dead run stays
  STARTED until its bound, then fails within one monitoring poll;
- its ``nepse_api`` pool slot is freed ``free_slots_after_run_end_seconds`` later (same poll);
- re-executing the backfill from failure completes, and the warehouse equals a clean load's.

NTX_RUN_START_SECONDS is 20 here (120 by default) so the bound falls within the test; the harness's
test-speed monitoring poll (2 s) and slot delay (1 s) replace the profiles' 30 s. With the defaults, a
daily run at 2 requests/s is bounded at about 2 min 20 s and a year's prices backfill at about 8 min.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest

from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.orchestration.run_bounds import MARGIN, MAX_RUNTIME_TAG, PLANNED_TAG
from ntx_assets_tests.conftest import PG_ADMIN_URL
from ntx_assets_tests.deploy.support import (
    backfill_dates,
    clean_load,
    production_env,
    resources,
    standin_config,
    stored_dates,
)
from ntx_assets_tests.tools.bench.warehouse import scratch_postgres
from ntx_assets_tests.tools.harness.checksum import checksum_of
from ntx_assets_tests.tools.harness.deployment import (
    TEST_FREE_SLOTS_AFTER_RUN_END_SECONDS,
    TEST_RUN_MONITORING_POLL_INTERVAL_SECONDS,
    DagsterDeployment,
)
from ntx_assets_tests.tools.harness.production import ProductionDeployment, alive
from ntx_assets_tests.tools.standin import running_standin

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

DATES = 30  # ~21 sessions
RATE = 2.0  # requests/s: the prices step spends >= 10 s on its sessions, time enough to catch it mid-run
RUN_START_SECONDS = 20.0
# The daemon's monitoring pass can start late on a busy machine; the bound itself is the run's own tag.
SLACK_SECONDS = 20
ASSETS = ["daily_prices", "indicators"]


@contextmanager
def deployment_of(topology: str, home: Path, env: dict[str, str]) -> Iterator[DagsterDeployment]:
    """`make dev`'s topology on the repository's dagster.yaml (Dagster's storage in SQLite under the home),
    or production's on its own dagster.yaml (PostgreSQL)."""
    common = {"automation": False, "backfill_interval_seconds": 2.0}
    if topology == "make dev":
        with DagsterDeployment(module="ntx_assets.definitions", dagster_home=home, env=env, **common) as made:
            yield made
        return
    with ProductionDeployment(home, env, **common) as made:  # env: production_env, DAGSTER_PG_* included
        yield made


@pytest.mark.parametrize("topology", ["make dev", "production"])
def test_a_lost_host_is_failed_by_its_own_max_runtime_frees_the_pool_and_resumes_to_a_clean_load(
    topology: str, tmp_path: Path
) -> None:
    with (
        running_standin(standin_config(DATES)) as server,
        scratch_postgres(PG_ADMIN_URL) as dagster_db,
        scratch_postgres(PG_ADMIN_URL) as warehouse,
        scratch_postgres(PG_ADMIN_URL) as reference,
        ThreadPoolExecutor(max_workers=1) as background,
    ):
        dates = backfill_dates(server, DATES)
        sessions = [d for d in server.data.sessions if dates[0] <= d.isoformat() <= dates[-1]]
        env = {**production_env(server, dagster_db, warehouse, rate=RATE)}
        env["NTX_RUN_START_SECONDS"] = f"{RUN_START_SECONDS:g}"
        with deployment_of(topology, tmp_path / "home", env) as deployment:
            instance = deployment.instance
            assert dg.materialize(
                [company_universe], instance=instance, resources=resources(server, warehouse)
            ).success
            first = deployment.launch_partition_backfill(asset_keys=ASSETS, partition_names=dates)

            # Lose the host once the prices run has stored some sessions, but not all.
            deadline = time.monotonic() + 240
            while stored_dates(warehouse) == 0:
                assert time.monotonic() < deadline, f"the prices run stored nothing\n{deployment.log_tails()}"
                time.sleep(0.1)
            (run,) = [run for run in deployment.runs(first) if run.status == "STARTED"]
            tags = instance.get_run_by_id(run.run_id).tags
            bound = int(tags[MAX_RUNTIME_TAG])  # set by daily_prices from its plan
            planned = int(tags[PLANNED_TAG])
            assert planned == len(sessions)
            assert planned / RATE * MARGIN + RUN_START_SECONDS <= bound <= planned / RATE * MARGIN + 120
            worker = deployment.run_worker_pid(run.run_id)
            killed = deployment.lose_host(run.run_id)
            killed_at = time.time()
            assert worker in killed and not any(alive(pid) for pid in killed)
            at_kill = stored_dates(warehouse)
            assert 0 < at_kill < len(sessions), f"lost the host after {at_kill} of {len(sessions)} sessions"
            started_at = instance.get_run_record_by_id(run.run_id).start_time
            assert started_at is not None
            # The dead run still holds the pool's only slot.
            assert run.run_id in instance.event_log_storage.get_concurrency_info("nepse_api").active_run_ids

            if topology == "production":
                deployment.start_code_server()  # the host (or its replacement) comes back
            # Meanwhile the reference load, in-process (in this test's context: the pinned clock).
            reference_load = background.submit(
                contextvars.copy_context().run, clean_load, server, dates, reference
            )

            failed_at = freed_at = None
            deadline = time.monotonic() + bound + 120
            while failed_at is None or freed_at is None:
                now = time.time()
                status = instance.get_run_by_id(run.run_id).status
                if failed_at is None:
                    if status == dg.DagsterRunStatus.FAILURE:
                        failed_at = now
                    else:
                        # Nothing notices the dead worker: the run stays STARTED until its max runtime.
                        assert status in {dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING}, status
                if failed_at is not None and freed_at is None:
                    slots = instance.event_log_storage.get_concurrency_info("nepse_api")
                    if run.run_id not in slots.active_run_ids:
                        freed_at = now
                assert time.monotonic() < deadline, f"run {run.run_id} is {status}\n{deployment.log_tails()}"
                time.sleep(0.25)

            record = instance.get_run_record_by_id(run.run_id)
            runtime = record.end_time - record.start_time
            print(
                f"lost host ({topology}, bound {bound} s for {planned} planned calls): run started"
                f" {killed_at - started_at:.1f} s before the kill; FAILURE"
                f" {failed_at - killed_at:.1f} s after the kill ({runtime:.1f} s after its start); pool slot"
                f" freed {freed_at - killed_at:.1f} s after the kill ({freed_at - failed_at:.1f} s after"
                " FAILURE)",
                flush=True,
            )
            # Failed by its own bound (not before it) within one monitoring poll (+ slack for a busy host).
            assert bound <= runtime <= bound + TEST_RUN_MONITORING_POLL_INTERVAL_SECONDS + SLACK_SECONDS
            messages = [
                event.event_log_entry.message or ""
                for event in instance.get_records_for_run(run.run_id, limit=1000).records
            ]
            assert any("maximum runtime" in message for message in messages), messages[-10:]
            assert freed_at - failed_at <= (
                TEST_FREE_SLOTS_AFTER_RUN_END_SECONDS
                + 2 * TEST_RUN_MONITORING_POLL_INTERVAL_SECONDS
                + SLACK_SECONDS
            )

            crashed = deployment.wait_for_backfill(first, timeout=120)
            assert crashed.status != "COMPLETED_SUCCESS", crashed.describe()
            retry = deployment.reexecute_backfill(first, strategy="FROM_FAILURE")
            result = deployment.wait_for_backfill(retry, timeout=240)
            assert result.status == "COMPLETED_SUCCESS", result.describe()
            for asset in ASSETS:
                materialized = instance.get_materialized_partitions(dg.AssetKey(asset))
                assert set(dates) <= materialized, f"{asset}: missing {sorted(set(dates) - materialized)}"
            assert instance.event_log_storage.get_concurrency_info("nepse_api").active_slot_count == 0

        checksum = checksum_of(warehouse)
        for name, table in checksum.items():
            assert table.rows == table.distinct_keys, f"{name}: duplicated rows"
        assert checksum == reference_load.result(timeout=120)
