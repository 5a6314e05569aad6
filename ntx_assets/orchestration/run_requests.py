"""What the sensors and schedules that request runs share: the partition-range run tags, and reading an
asset's materializations since a cursor (an event storage id)."""

import dagster as dg

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def range_tags(first: str, last: str) -> dict[str, str]:
    """Tags that make a run cover the partition range first..last."""
    return {RANGE_START_TAG: first, RANGE_END_TAG: last}


def materializations_since(
    context: dg.SensorEvaluationContext, asset_key: dg.AssetKey, limit: int
) -> list[dg.EventLogRecord]:
    """The asset's materialization records after the sensor's cursor, oldest first, at most `limit`."""
    after = int(context.cursor) if context.cursor else None
    return list(
        context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key, after_storage_id=after),
            limit=limit,
            ascending=True,
        ).records
    )
