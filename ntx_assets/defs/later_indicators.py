"""later_indicators_sensor: after prices changed, recompute the later indicators whose lookback holds them.

`indicators` depends on its own date's prices in Dagster's graph (so a backfill of prices + indicators
over any range is one run computing exactly its dates), while the indicators of date t read every price
up to t: a corrected or newly inserted price of date d changes the indicators of d's own date (the
automation condition, or the same run, recomputes it) and of every date in (d, d + LOOKBACK_DAYS].

This sensor reads the `daily_prices` materializations recorded since its cursor (an event storage id). A
run whose materializations report no inserted or updated row changed nothing and is skipped. For the
others, the later dates are those after the run's last date, up to LOOKBACK_DAYS after it, whose
indicators were materialized BEFORE the prices changed (a date never computed is not stale: it gets
computed when its prices arrive; one computed after the change already read the new prices). It requests
ONE indicators run over those dates (first..last stale date), or nothing. Materializations of a run still
in progress are left for a later tick, so a backfill that computes its own indicators is never
duplicated.
"""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import dagster as dg

from ntx_assets.defs.daily_prices import daily_prices
from ntx_assets.defs.indicators import LOOKBACK_DAYS, indicators
from ntx_assets.defs.partitions import session_date_partitions
from ntx_assets.defs.requests import materializations_since, range_tags

LATER_INDICATORS_INTERVAL_SECONDS = 60
# Materialization events read per tick (a year's range run records 365); a longer backlog waits a tick.
EVENTS_PER_TICK = 5000
CHANGE_COUNTS = ("rows_inserted", "rows_updated")

later_indicators_job = dg.define_asset_job(
    "later_indicators_job",
    selection=[indicators],
    description=(
        "Recompute indicators over a range of dates (launched by later_indicators_sensor after prices in "
        "their lookback changed)."
    ),
)


def prices_changed(metadata: Mapping[str, dg.MetadataValue]) -> bool:
    """Whether a daily_prices materialization reports a changed row. One without counts (a date recorded
    by a partially failed run) is taken as changed: recomputing costs no API call, missing one is wrong."""
    counts = [metadata.get(name) for name in CHANGE_COUNTS]
    if any(count is None for count in counts):
        return True
    return any(int(count.value or 0) > 0 for count in counts if count is not None)  # type: ignore[arg-type]


def later_dates(last_changed: dt.date, newest: dt.date) -> list[dt.date]:
    """The dates after `last_changed` whose lookback holds it, up to the newest partition."""
    end = min(newest, last_changed + dt.timedelta(days=LOOKBACK_DAYS))
    return [last_changed + dt.timedelta(days=i) for i in range(1, (end - last_changed).days + 1)]


def stale_later_dates(
    changes: Iterable[tuple[dt.date, int]],
    newest: dt.date,
    materialized: set[str],
    computed_after: Mapping[str, int],
) -> list[dt.date]:
    """Given (last date of a run whose prices changed, storage id of that change), the later dates whose
    indicators were materialized before the change (`computed_after`: partition -> storage id of its
    newest indicators materialization, for those recomputed since)."""
    stale: set[dt.date] = set()
    for last_changed, storage_id in changes:
        for day in later_dates(last_changed, newest):
            key = day.isoformat()
            if key in materialized and computed_after.get(key, -1) < storage_id:
                stale.add(day)
    return sorted(stale)


def _indicators_computed_after(
    instance: dg.DagsterInstance, partitions: Sequence[str], after: int
) -> dict[str, int]:
    newest: dict[str, int] = {}
    cursor = None
    while True:
        result = instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=indicators.key, asset_partitions=list(partitions), after_storage_id=after
            ),
            limit=EVENTS_PER_TICK,
            cursor=cursor,
            ascending=True,
        )
        for record in result.records:
            if record.partition_key is not None:
                newest[record.partition_key] = max(newest.get(record.partition_key, -1), record.storage_id)
        if not result.has_more:
            return newest
        cursor = result.cursor


@dg.sensor(
    job=later_indicators_job,
    minimum_interval_seconds=LATER_INDICATORS_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Every minute, reads the daily_prices materializations since its cursor. When a finished run "
        "inserted or updated prices, requests ONE indicators run over the later dates (up to "
        f"{LOOKBACK_DAYS} days after the run's last date) whose indicators were computed before that "
        "change; nothing when no price changed or no later indicators exist. Cursor: the last event "
        "storage id read (clear it to re-read every prices materialization)."
    ),
)
def later_indicators_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    after = int(context.cursor) if context.cursor else None
    records = materializations_since(context, daily_prices.key, EVENTS_PER_TICK)
    if not records:
        return dg.SkipReason("no daily_prices materialization since the last tick")

    # Per run: its last date and newest event, if it changed prices; stop at a run still in progress.
    finished: dict[str, bool] = {}
    runs: dict[str, tuple[dt.date, int, bool]] = {}
    cursor = after
    for record in records:
        if record.run_id not in finished:
            run = context.instance.get_run_by_id(record.run_id)
            finished[record.run_id] = run is None or run.is_finished
        if not finished[record.run_id]:
            break
        materialization = record.asset_materialization
        if materialization is not None and materialization.partition:
            day = dt.date.fromisoformat(materialization.partition)
            last, _, changed = runs.get(record.run_id, (day, record.storage_id, False))
            runs[record.run_id] = (
                max(last, day),
                record.storage_id,
                changed or prices_changed(materialization.metadata),
            )
        cursor = record.storage_id
    if cursor == after:
        return dg.SkipReason("waiting for the daily_prices run in progress to finish")
    cursor_text = str(cursor)
    changes = [(last, storage_id) for last, storage_id, changed in runs.values() if changed]
    if not changes:
        return dg.SensorResult(
            skip_reason=f"{len(runs)} prices run(s) read: no price inserted or updated", cursor=cursor_text
        )

    newest = dt.date.fromisoformat(str(session_date_partitions.get_last_partition_key()))
    candidates = sorted({d.isoformat() for last, _ in changes for d in later_dates(last, newest)})
    materialized = context.instance.get_materialized_partitions(indicators.key) & set(candidates)
    computed_after = (
        _indicators_computed_after(context.instance, sorted(materialized), min(s for _, s in changes))
        if materialized
        else {}
    )
    stale = stale_later_dates(changes, newest, materialized, computed_after)
    if not stale:
        return dg.SensorResult(
            skip_reason=(
                f"prices changed up to {max(last for last, _ in changes)}; no later indicators were "
                "computed before the change"
            ),
            cursor=cursor_text,
        )
    first, last = stale[0].isoformat(), stale[-1].isoformat()
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"later-indicators-{cursor_text}",
                tags=range_tags(first, last),
            )
        ],
        cursor=cursor_text,
    )
