"""filings_refresh_schedule: every symbol's filings and corporate actions daily, never-fetched first."""

import datetime as dt
from collections.abc import Sequence

import dagster as dg
from sqlalchemy import Engine

from ntx_assets.defs.filings.assets import FILINGS_PER_RUN, filings
from ntx_assets.defs.partitions import symbol_partitions
from ntx_assets.filings.reports import RefreshGroup, refresh_groups
from ntx_assets.orchestration.run_requests import RANGE_END_TAG, RANGE_START_TAG
from ntx_assets.resources import WarehouseResource
from ntx_assets.warehouse.filings import symbols_with_filings

PRIORITY_TAG = "dagster/priority"

filings_refresh_job = dg.define_asset_job(
    "filings_refresh_job",
    # By key: corporate_actions (defs/corporate_actions/assets.py) builds on the filings family. Both are
    # partitioned by symbol with the same runs of 25, so one run refreshes a group's reports and
    # announcements together.
    selection=dg.AssetSelection.assets(filings, "corporate_actions"),
    description=(
        "Refresh the filings and corporate actions of a range of symbols (launched in groups by "
        "filings_refresh_schedule)."
    ),
)


@dg.schedule(
    job=filings_refresh_job,
    cron_schedule="30 18 * * *",
    execution_timezone="Asia/Kathmandu",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        f"Every symbol's filings and corporate actions, in runs of at most {FILINGS_PER_RUN} symbols; runs "
        "of never-fetched symbols carry dagster/priority 10 (the others 0), so the run queue starts them "
        "first."
    ),
)
def filings_refresh_schedule(
    context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource
) -> list[dg.RunRequest] | dg.SkipReason:
    symbols = context.instance.get_dynamic_partitions(symbol_partitions.name)
    if not symbols:
        return dg.SkipReason("no symbol partitions yet: materialize company_universe first")
    never = never_fetched_symbols(context.instance, warehouse.engine, symbols)
    groups = refresh_groups(symbols, never, max_per_group=FILINGS_PER_RUN)
    when = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    return refresh_run_requests(groups, run_key_prefix=f"filings-refresh-{when:%Y%m%dT%H%M}")


def never_fetched_symbols(instance: dg.DagsterInstance, engine: Engine, symbols: Sequence[str]) -> set[str]:
    """Symbols with no row in `filings` whose `filings` partition was never materialized either."""
    materialized = instance.get_materialized_partitions(filings.key)
    with engine.connect() as conn:
        with_rows = symbols_with_filings(conn, symbols)
    return {symbol for symbol in symbols if symbol not in materialized and symbol not in with_rows}


def refresh_run_requests(groups: Sequence[RefreshGroup], *, run_key_prefix: str) -> list[dg.RunRequest]:
    """One run per group, over its partition range, tagged with the group's priority."""
    return [
        dg.RunRequest(
            run_key=f"{run_key_prefix}:{group.first}..{group.last}",
            tags={
                PRIORITY_TAG: str(group.priority),
                RANGE_START_TAG: group.first,
                RANGE_END_TAG: group.last,
            },
        )
        for group in groups
    ]
