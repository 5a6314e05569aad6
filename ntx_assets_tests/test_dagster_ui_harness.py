"""The DagsterDeployment harness against a toy code location: a real webserver + daemon, a UI backfill."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from ntx_assets_tests.tools.harness.deployment import DagsterDeployment, DagsterDeploymentError

TOY_MODULE = "ntx_assets_tests.toy_location.definitions"
DATES = ["2024-01-08", "2024-01-09", "2024-01-10", "2024-01-11", "2024-01-12"]


@pytest.mark.slow
def test_single_run_backfill_of_five_dates_through_webserver_and_daemon(tmp_path: Path) -> None:
    with DagsterDeployment(module=TOY_MODULE, dagster_home=tmp_path / "home") as deployment:
        assert deployment.url.startswith("http://127.0.0.1:")
        backfill_id = deployment.launch_partition_backfill(asset_keys=["toy_daily"], partition_names=DATES)

        result = deployment.wait_for_backfill(backfill_id, timeout=600)

        assert result.status == "COMPLETED_SUCCESS", result.describe()
        assert result.run_statuses == ["SUCCESS"], result.describe()  # BackfillPolicy.single_run(): ONE run
        (run,) = deployment.runs(backfill_id)
        assert run.tags["dagster/backfill"] == backfill_id
        assert run.tags["dagster/asset_partition_range_start"] == DATES[0]
        assert run.tags["dagster/asset_partition_range_end"] == DATES[-1]
        records = deployment.instance.fetch_materializations(dg.AssetKey("toy_daily"), limit=100).records
        assert sorted(record.partition_key for record in records) == DATES
        assert {record.run_id for record in records} == {run.run_id}


@pytest.mark.slow
def test_a_module_that_fails_to_import_is_a_clear_startup_error(tmp_path: Path) -> None:
    deployment = DagsterDeployment(
        module="ntx_assets_tests.toy_location.broken", dagster_home=tmp_path / "home"
    )
    with pytest.raises(DagsterDeploymentError, match="failed to load") as raised:
        deployment.__enter__()
    assert "NTX_TOY_SETTING is not set (raised on purpose" in str(raised.value)
    assert deployment.url == f"http://127.0.0.1:{deployment.port}"
