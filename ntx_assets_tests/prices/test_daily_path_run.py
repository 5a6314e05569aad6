"""The daily path is one run: the sensor's job loads a session's prices, indicators and screen and writes
the exports, and automation then does none of it again (issue 37 item 5)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import pytest

from ntx_assets.definitions import defs as project_defs
from ntx_assets.defs.prices.assets import daily_prices, indicators
from ntx_assets.defs.prices.sensors import new_session_job
from ntx_assets.defs.screener.assets import screener
from ntx_assets.resources import ExportResource, NepseResource
from ntx_assets_tests.pinned import PINNED_NOW, pinned
from ntx_assets_tests.prices.test_sensors import (  # noqa: F401 (fixtures)
    market,
    past_sessions,
    sensor_instance,
    universe_db,
    warehouse_url,
)
from ntx_assets_tests.tools.harness.resources import run_resources
from ntx_assets_tests.tools.standin import StandinServer

pytestmark = pytest.mark.calendar

DERIVED = dg.AssetSelection.assets(daily_prices, indicators, screener)


def test_the_sensors_run_screens_the_session_and_automation_adds_nothing(
    market: StandinServer, nepse_resource: NepseResource, warehouse_url: str, tmp_path: Path
) -> None:
    day = past_sessions(market)[-1]
    key = day.isoformat()
    exports = ExportResource(directory=str(tmp_path / "exports"), logo_base_url=market.base_url)
    job = project_defs().resolve_job_def(new_session_job.name)
    with dg.instance_for_test() as instance, pinned(PINNED_NOW) as now:
        before = dg.evaluate_automation_conditions(
            defs=project_defs(), instance=instance, asset_selection=DERIVED, evaluation_time=now
        )
        result = job.execute_in_process(
            partition_key=key,
            instance=instance,
            resources=run_resources(nepse_resource, warehouse_url, exports=exports),
        )
        assert result.success
        made = [event.asset_key for event in result.get_asset_materialization_events()]
        assert [k for k in made if k != dg.AssetKey("company_universe")] == [
            daily_prices.key,
            indicators.key,
            screener.key,
        ]
        latest = json.loads((tmp_path / "exports" / "screener.json").read_text())
        assert latest and {row["session_date"] for row in latest["rows"]} == {key}
        after = dg.evaluate_automation_conditions(
            defs=project_defs(),
            instance=instance,
            asset_selection=DERIVED,
            evaluation_time=now + dt.timedelta(minutes=1),
            cursor=before.cursor,
        )
    assert key not in set(after.get_requested_partitions(screener.key))
    assert key not in set(after.get_requested_partitions(indicators.key))
