"""Every run that takes the nepse_api pool bounds itself by its own plan (dagster/max_runtime): the rule,
and the tag a real run carries, in-process."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from ntx_assets.defs.prices.assets import daily_prices
from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.orchestration.run_bounds import MARGIN, MAX_RUNTIME_TAG, PLANNED_TAG, max_runtime_seconds
from ntx_assets.resources import NepseResource
from ntx_assets_tests.prices.test_daily_prices import last_dates, range_tags
from ntx_assets_tests.tools.harness.resources import QUIET, run_resources
from ntx_assets_tests.tools.standin import StandinServer


def test_the_bound_is_elapsed_plus_paced_calls_times_the_margin_plus_run_start() -> None:
    assert MARGIN == 3.0
    # A daily run at the product's rate: ~6 calls at 2/s with the default 120 s: 129 s from its start.
    assert max_runtime_seconds(0.0, 6, 2.0, 120.0) == 129
    # A year of prices (232 calls) at 2/s, 12.3 s into the run: 12.3 + 348 + 120, rounded up.
    assert max_runtime_seconds(12.3, 232, 2.0, 120.0) == 481
    assert max_runtime_seconds(-5.0, -1, 10.0, 0.0) == 0
    with pytest.raises(ValueError, match="requests_per_second"):
        max_runtime_seconds(0.0, 1, 0.0, 120.0)


def run_tags(result: dg.ExecuteInProcessResult, instance: dg.DagsterInstance) -> dict[str, str]:
    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    return dict(run.tags)


def test_a_prices_run_carries_the_bound_of_its_plan_and_a_launchers_bound_stands(
    standin: StandinServer, sqlite_database_url: str
) -> None:
    nepse = NepseResource(base_url=standin.base_url, requests_per_second=50.0, run_start_seconds=30.0)
    resources = run_resources(nepse, sqlite_database_url)
    first, last = last_dates(standin, 10)
    sessions = [d for d in standin.data.sessions if first <= d <= last]
    with dg.instance_for_test() as instance:
        assert dg.materialize([company_universe], instance=instance, resources=resources).success
        result = dg.materialize(
            [daily_prices],
            instance=instance,
            resources=resources,
            tags=range_tags(first, last),
            run_config=QUIET,
        )
        assert result.success
        tags = run_tags(result, instance)
        planned = int(tags[PLANNED_TAG])
        assert planned == len(sessions)  # one today-price call per session (one page each)
        bound = int(tags[MAX_RUNTIME_TAG])
        paced = planned / 50.0 * MARGIN + 30.0
        assert paced <= bound <= paced + 30  # plus the seconds the run had taken when the plan was known
        meta = result.asset_materializations_for_node("daily_prices")[0].metadata
        assert meta["run_max_runtime_seconds"].value == bound

        # A max runtime set by whoever launched the run is left as it is.
        mine = {**range_tags(first, first + dt.timedelta(days=2)), MAX_RUNTIME_TAG: "7200"}
        again = dg.materialize(
            [daily_prices], instance=instance, resources=resources, tags=mine, run_config=QUIET
        )
        assert again.success
        assert run_tags(again, instance)[MAX_RUNTIME_TAG] == "7200"
        assert PLANNED_TAG not in run_tags(again, instance)
