"""The one automation condition of the derived assets (indicators, price_adjustments)."""

import dagster as dg


def when_upstream_updates(label: str, ignore: dg.AssetSelection | None = None) -> dg.AutomationCondition:
    """Run after any dependency (partition) was materialized since this asset last handled it, once none
    of them is still running and this asset is not running already: a backfill upstream is one request
    when it ends, not one per partition. `ignore`: dependencies whose updates do not count (another rule
    requests the asset after them)."""
    updated = dg.AutomationCondition.any_deps_updated()
    if ignore is not None:
        updated = updated.ignore(ignore)
    return (
        updated.since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label(label)
