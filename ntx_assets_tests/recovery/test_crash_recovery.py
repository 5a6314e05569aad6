"""A backfill whose run is killed (SIGKILL) and re-executed from failure leaves exactly a clean load's
warehouse: nothing duplicated, nothing lost.

The prices run of a real deployment's backfill is killed, worker and step processes, after some sessions
have landed; run monitoring marks it failed and frees its nepse_api pool slot; the backfill is then
re-executed from failure as the backfill page's "Re-execute" menu does.
"""

from __future__ import annotations

import time
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import func, select

from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.warehouse import create_warehouse_engine
from ntx_assets.warehouse.schema import daily_prices as prices_table
from ntx_assets_tests.conftest import PG_ADMIN_URL
from ntx_assets_tests.recovery.support import (
    ASSETS,
    assert_every_partition_materialized,
    deployment_for,
    nepse_resources,
)
from ntx_assets_tests.tools.bench.warehouse import scratch_postgres
from ntx_assets_tests.tools.harness.checksum import TableChecksum, checksum_of
from ntx_assets_tests.tools.standin import StandinServer

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_a_killed_backfill_re_executed_from_failure_equals_a_clean_load(
    server: StandinServer, dates: list[str], clean_checksum: dict[str, TableChecksum], tmp_path: Path
) -> None:
    sessions = [d for d in server.data.sessions if dates[0] <= d.isoformat() <= dates[-1]]
    # 3 requests/s: the prices run spends ~14 s on its sessions, time enough to kill it halfway.
    with (
        scratch_postgres(PG_ADMIN_URL) as url,
        deployment_for(server, url, tmp_path / "home", rate=3) as deployment,
    ):
        assert dg.materialize(
            [company_universe], instance=deployment.instance, resources=nepse_resources(server, url)
        ).success
        engine = create_warehouse_engine(url)
        first = deployment.launch_partition_backfill(asset_keys=ASSETS, partition_names=dates)

        # Kill the prices run once some of its sessions are in the warehouse, but not all.
        deadline = time.monotonic() + 300
        stored_dates = 0
        while stored_dates == 0:
            assert time.monotonic() < deadline, "the prices run stored nothing within 300 s"
            with engine.connect() as conn:
                stored_dates = conn.execute(
                    select(func.count(func.distinct(prices_table.c.business_date)))
                ).scalar_one()
            time.sleep(0.1)
        (run,) = [run for run in deployment.runs(first) if run.status == "STARTED"]
        killed = deployment.kill_run_processes(run.run_id)
        assert killed
        with engine.connect() as conn:
            at_kill = conn.execute(
                select(func.count(func.distinct(prices_table.c.business_date)))
            ).scalar_one()
        assert 0 < at_kill < len(sessions), f"killed after {at_kill} of {len(sessions)} sessions"

        crashed = deployment.wait_for_backfill(first, timeout=300)
        assert crashed.status != "COMPLETED_SUCCESS", crashed.describe()
        assert deployment.instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE

        retry = deployment.reexecute_backfill(first, strategy="FROM_FAILURE")
        result = deployment.wait_for_backfill(retry, timeout=600)
        assert result.status == "COMPLETED_SUCCESS", result.describe()
        assert_every_partition_materialized(deployment, dates)

        checksum = checksum_of(url)
        engine.dispose()
        for name, table in checksum.items():
            assert table.rows == table.distinct_keys, f"{name}: duplicated rows"
        assert checksum == clean_checksum
