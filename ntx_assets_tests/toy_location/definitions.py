"""Toy code location: a daily-partitioned single-run asset and a dynamic-partitioned asset.

Loaded by ``ntx_assets_tests/test_dagster_ui_harness.py`` through a real dagster-webserver and
dagster-daemon; it must import without network access or project settings. (No
``from __future__ import annotations``: Dagster inspects the ``context`` annotation at runtime.)
"""

import dagster as dg

TOY_DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-03-01")
TOY_SYMBOLS = dg.DynamicPartitionsDefinition(name="toy_symbol")


@dg.asset(partitions_def=TOY_DAILY, backfill_policy=dg.BackfillPolicy.single_run())
def toy_daily(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """One run covers a whole contiguous date range; one materialization is recorded per date."""
    keys = context.partition_keys
    context.log.info(f"toy_daily: {len(keys)} partitions {keys[0]}..{keys[-1]}")
    return dg.MaterializeResult(metadata={"partitions": len(keys), "first": keys[0], "last": keys[-1]})


@dg.asset(partitions_def=TOY_SYMBOLS)
def toy_symbol(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Fails for symbols starting with "FAIL", so a backfill's failure reporting can be exercised."""
    if context.partition_key.startswith("FAIL"):
        raise RuntimeError(f"toy_symbol: {context.partition_key} fails on purpose")
    return dg.MaterializeResult(metadata={"symbol": context.partition_key})


defs = dg.Definitions(assets=[toy_daily, toy_symbol])
