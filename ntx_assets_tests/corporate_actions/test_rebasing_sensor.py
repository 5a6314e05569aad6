"""price_adjustments re-derives after new prices only when they hold a re-basing (issue 37 item 5)."""

from __future__ import annotations

import dagster as dg

from ntx_assets.defs.corporate_actions.assets import corporate_actions, price_adjustments
from ntx_assets.defs.corporate_actions.sensors import rebasing_sensor
from ntx_assets.defs.prices.assets import daily_prices


def _prices_event(instance: dg.DagsterInstance, day: str, **metadata: int) -> None:
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key=daily_prices.key, partition=day, metadata=metadata)
    )


def test_prices_without_a_rebasing_request_nothing_and_with_one_request_one_run() -> None:
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("symbol", [])
        context = dg.build_sensor_context(instance=instance)
        assert isinstance(rebasing_sensor(context), dg.SkipReason)
        _prices_event(instance, "2026-11-19", rebasings=0)
        quiet = rebasing_sensor(context)
        assert quiet.run_requests == [] and "no re-basing" in quiet.skip_reason.skip_message
        context.update_cursor(quiet.cursor)
        _prices_event(instance, "2026-11-20", rebasings=2)
        requested = rebasing_sensor(context)
        assert len(requested.run_requests) == 1
        assert requested.run_requests[0].tags["ntx/rebasing_dates"] == "2026-11-20"
        context.update_cursor(requested.cursor)
        # Nothing new since: nothing requested twice.
        assert isinstance(rebasing_sensor(context), dg.SkipReason)


def test_a_materialization_without_the_count_is_taken_as_holding_one() -> None:
    with dg.instance_for_test() as instance:
        _prices_event(instance, "2026-11-20")
        assert len(rebasing_sensor(dg.build_sensor_context(instance=instance)).run_requests) == 1


def test_automation_ignores_new_prices_but_follows_announcements() -> None:
    none = dg.ResourceDefinition.none_resource()
    assets = dg.Definitions(
        assets=[daily_prices, corporate_actions, price_adjustments],
        resources={"nepse": none, "warehouse": none},
    )
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("symbol", ["NABIL"])
        first = dg.evaluate_automation_conditions(defs=assets, instance=instance)
        _prices_event(instance, "2026-11-20", rebasings=0)
        after_prices = dg.evaluate_automation_conditions(defs=assets, instance=instance, cursor=first.cursor)
        assert after_prices.get_num_requested(price_adjustments.key) == 0
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=corporate_actions.key, partition="NABIL")
        )
        after_news = dg.evaluate_automation_conditions(
            defs=assets, instance=instance, cursor=after_prices.cursor
        )
        assert after_news.get_num_requested(price_adjustments.key) == 1
