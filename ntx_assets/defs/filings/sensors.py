"""new_documents_sensor: `artifacts` follows `filings`, for the symbols whose documents appeared.

Every filings materialization (one per symbol partition, also in a range run) carries
`new_documents_by_symbol`, the documents that landed new in that run. The sensor reads the materializations
recorded since its cursor (an event storage id), takes the symbols with new documents, and requests
`artifacts` over contiguous ranges of them (at most ARTIFACTS_PER_RUN symbols a run). A refresh that
finds no new document requests nothing. Events are only recorded after the rows are committed, so the run
finds the documents it was requested for.
"""

import dagster as dg

from ntx_assets.defs.filings.assets import ARTIFACTS_PER_RUN, NEW_DOCUMENTS_BY_SYMBOL, artifacts, filings
from ntx_assets.defs.partitions import symbol_partitions
from ntx_assets.filings.reports import changed_symbol_groups
from ntx_assets.orchestration.run_requests import materializations_since, range_tags

NEW_DOCUMENTS_INTERVAL_SECONDS = 60
# Materialization events read per tick; a longer backlog is read over the next ticks.
EVENTS_PER_TICK = 1000

artifacts_job = dg.define_asset_job(
    "artifacts_job",
    selection=[artifacts],
    description="Download the filing documents of a range of symbols (launched by new_documents_sensor).",
)


def symbols_with_new_documents(materializations: list[dg.AssetMaterialization]) -> set[str]:
    """The partitions of `materializations` whose metadata counts new documents for that symbol."""
    symbols: set[str] = set()
    for materialization in materializations:
        symbol = materialization.partition
        counts = materialization.metadata.get(NEW_DOCUMENTS_BY_SYMBOL)
        if symbol and counts is not None and int(counts.value.get(symbol, 0)) > 0:  # type: ignore[union-attr]
            symbols.add(symbol)
    return symbols


@dg.sensor(
    job=artifacts_job,
    minimum_interval_seconds=NEW_DOCUMENTS_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Every minute, reads the filings materializations since its cursor and requests artifacts for the "
        f"symbols whose filings landed new documents, in runs of at most {ARTIFACTS_PER_RUN} contiguous "
        "symbols. Cursor: the last event storage id read (clear it to re-read every filings "
        "materialization; artifacts runs of stored documents cost no API call)."
    ),
)
def new_documents_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    records = materializations_since(context, filings.key, EVENTS_PER_TICK)
    if not records:
        return dg.SkipReason("no filings materialization since the last tick")
    cursor = str(records[-1].storage_id)
    changed = symbols_with_new_documents(
        [r.asset_materialization for r in records if r.asset_materialization]
    )
    symbols = context.instance.get_dynamic_partitions(symbol_partitions.name)
    # A symbol that left the universe since has no partition to run (its rows stay).
    groups = changed_symbol_groups(symbols, changed, max_per_group=ARTIFACTS_PER_RUN)
    if not groups:
        return dg.SensorResult(
            skip_reason=f"{len(records)} filings materializations read, no new documents", cursor=cursor
        )
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"new-documents-{cursor}:{group[0]}..{group[-1]}",
                tags=range_tags(group[0], group[-1]),
            )
            for group in groups
        ],
        cursor=cursor,
    )
