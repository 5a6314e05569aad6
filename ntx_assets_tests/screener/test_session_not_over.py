"""No screener partition of a session that has not closed is reported materialized (issue 37: automation
materialized screener for a Monday at 04:00 with no rows): neither by a run nor by automation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from ntx_assets.definitions import defs as project_defs
from ntx_assets.defs.filings.assets import filings
from ntx_assets.defs.prices.assets import daily_prices, indicators
from ntx_assets.defs.screener.assets import SCREENER_AUTOMATION, screener
from ntx_assets.resources import ExportResource
from ntx_assets.warehouse import create_warehouse_engine
from ntx_assets.warehouse.engine import migrate
from ntx_assets_tests.pinned import npt, pinned
from ntx_assets_tests.prices.test_daily_prices import range_tags
from ntx_assets_tests.tools.harness.resources import run_resources

pytestmark = pytest.mark.calendar

THURSDAY, FRIDAY = dt.date(2026, 11, 19), dt.date(2026, 11, 20)


@pytest.fixture
def resources(tmp_path: Path) -> dict[str, object]:
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    engine = create_warehouse_engine(url)
    migrate(engine)
    engine.dispose()
    exports = ExportResource(directory=str(tmp_path / "exports"), logo_base_url="http://127.0.0.1:9")
    return run_resources(None, url, exports=exports)


def _screen(
    resources: dict[str, object], instance: dg.DagsterInstance, at: dt.datetime, tags: dict[str, str]
):  # type: ignore[no-untyped-def]
    with pinned(at):
        return dg.materialize(
            [screener],
            instance=instance,
            resources={k: v for k, v in resources.items() if k in {"warehouse", "exports"}},
            tags=tags,
            raise_on_error=False,
        )


def test_a_range_run_before_the_close_lands_the_closed_dates_and_fails_today_alone(
    resources: dict[str, object],
) -> None:
    with dg.instance_for_test() as instance:
        result = _screen(resources, instance, npt(2026, 11, 20, 14, 0), range_tags(THURSDAY, FRIDAY))
        assert not result.success
        failure = result.get_step_failure_events()[0].step_failure_data.error
        assert failure is not None and "2026-11-20's session is not over" in failure.message
        assert instance.get_materialized_partitions(screener.key) == {THURSDAY.isoformat()}


@pytest.mark.parametrize(("hour", "lands"), [(14, False), (16, True)])
def test_todays_partition_lands_only_after_the_close(
    resources: dict[str, object], hour: int, lands: bool
) -> None:
    with dg.instance_for_test() as instance:
        result = _screen(resources, instance, npt(2026, 11, 20, hour, 0), range_tags(FRIDAY, FRIDAY))
        assert result.success is lands
        expected = {FRIDAY.isoformat()} if lands else set()
        assert instance.get_materialized_partitions(screener.key) == expected


def test_automation_never_requests_a_date_whose_prices_have_not_landed() -> None:
    assert "never before the session's prices landed" in str(SCREENER_AUTOMATION.label)
    with dg.instance_for_test() as instance, pinned(npt(2026, 11, 20, 16, 0)) as now:
        selection = dg.AssetSelection.assets(screener)
        # A first evaluation for a cursor: "updated" means since the previous evaluation.
        first = dg.evaluate_automation_conditions(
            defs=project_defs(), instance=instance, asset_selection=selection, evaluation_time=now
        )
        # Thursday's prices and indicators landed; Friday's (today's) have not, but a filings refresh did.
        for asset, partition in ((daily_prices, THURSDAY), (indicators, THURSDAY), (filings, None)):
            key = partition.isoformat() if partition else None
            if asset is filings:
                for symbol in ("NABIL", "ACLBSL"):
                    instance.add_dynamic_partitions("symbol", [symbol])
                    instance.report_runless_asset_event(dg.AssetMaterialization(asset.key, partition=symbol))
                continue
            instance.report_runless_asset_event(dg.AssetMaterialization(asset.key, partition=key))
        result = dg.evaluate_automation_conditions(
            defs=project_defs(),
            instance=instance,
            asset_selection=selection,
            evaluation_time=now + dt.timedelta(minutes=1),
            cursor=first.cursor,
        )
        requested = set(result.get_requested_partitions(screener.key))
        assert FRIDAY.isoformat() not in requested
        assert THURSDAY.isoformat() in requested
