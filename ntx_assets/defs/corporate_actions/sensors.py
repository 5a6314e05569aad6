"""rebasing_sensor: price_adjustments re-derives after new prices only when they hold a re-basing.

A new session without a bonus, right or cash-dividend re-basing changes no row of price_adjustments, so the
daily path does not re-derive it (it reads every stored price: the larger the history, the more it costs).
Each daily_prices materialization reports `rebasings` (re-basings its dates show against the row stored
before them); this sensor reads the materializations since its cursor and requests ONE price_adjustments
run when a finished run reports one (or reports no count: deciding wrong costs a cheap run, not a wrong
basis). Announcements and archive imports re-derive it through its automation condition.
"""

from collections.abc import Mapping

import dagster as dg

from ntx_assets.defs.corporate_actions.assets import price_adjustments
from ntx_assets.defs.prices.assets import REBASINGS_METADATA, daily_prices
from ntx_assets.orchestration.run_requests import materializations_since

REBASING_SENSOR_INTERVAL_SECONDS = 30
EVENTS_PER_TICK = 5000

price_adjustments_job = dg.define_asset_job(
    "price_adjustments_job",
    selection=[price_adjustments],
    description="Re-derive price_adjustments (launched by rebasing_sensor after prices with a re-basing).",
)


def holds_rebasing(metadata: Mapping[str, dg.MetadataValue]) -> bool:
    value = metadata.get(REBASINGS_METADATA)
    return value is None or int(value.value or 0) > 0  # type: ignore[arg-type]


@dg.sensor(
    job=price_adjustments_job,
    minimum_interval_seconds=REBASING_SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Reads the daily_prices materializations since its cursor; when a finished run's prices hold a "
        "re-basing, requests one price_adjustments run. Cursor: the last event storage id read."
    ),
)
def rebasing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    records = materializations_since(context, daily_prices.key, EVENTS_PER_TICK)
    if not records:
        return dg.SkipReason("no daily_prices materialization since the last tick")
    cursor = context.cursor
    found: list[str] = []
    for record in records:
        run = context.instance.get_run_by_id(record.run_id)
        if run is not None and not run.is_finished:
            break
        materialization = record.asset_materialization
        if materialization is not None and holds_rebasing(materialization.metadata):
            found.append(materialization.partition or "-")
        cursor = str(record.storage_id)
    if cursor == context.cursor:
        return dg.SkipReason("waiting for the daily_prices run in progress to finish")
    if not found:
        return dg.SensorResult(skip_reason="the new prices hold no re-basing", cursor=cursor)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=f"rebasing-{cursor}", tags={"ntx/rebasing_dates": ",".join(found[:20])})
        ],
        cursor=cursor,
    )
