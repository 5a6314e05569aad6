"""automation_sensor: evaluates every asset's automation condition (ntx_assets.orchestration.conditions)."""

import dagster as dg

automation_sensor = dg.AutomationConditionSensorDefinition(
    "automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Declarative automation of every asset with an automation condition: a date's indicators "
        "re-compute when that date's prices are materialized (later dates: later_indicators_sensor). "
        "Requests are emitted as backfills, so a range of indicators partitions is one run (single-run "
        "policy)."
    ),
)
