"""The prices family's sensors and the jobs they launch.

- `new_session_sensor` polls NEPSE's market status; once a session has closed it requests that date's
  `daily_prices` and `indicators` partition, with a `company_universe` refresh first, as ONE run.
- `later_indicators_sensor`: after prices changed, recomputes the later indicators whose lookback holds
  them (below).
"""

import datetime as dt
from collections.abc import Mapping, Sequence

import dagster as dg

from ntx_assets.common.clock import SESSION_CLOSE, nepal_now
from ntx_assets.defs.partitions import session_date_partitions
from ntx_assets.defs.prices.assets import daily_prices, indicators
from ntx_assets.defs.screener.assets import screener
from ntx_assets.defs.screens.assets import GROUP as SCREENS_GROUP
from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.orchestration.run_requests import materializations_since, range_tags
from ntx_assets.prices.indicators import LOOKBACK_DAYS, later_dates, stale_later_dates
from ntx_assets.prices.session_requests import (
    closed_session_to_request,
    read_attempts,
    read_cursor,
    write_cursor,
)
from ntx_assets.prices.sessions import (
    HolidayLists,
    is_session,
    is_trading_weekday,
    next_trading_weekday,
    session_can_have_closed,
)
from ntx_assets.resources import NepseResource

# company_universe is unpartitioned and the others are date-partitioned: one asset job may mix them
# (Dagster 1.13 asks for "the same or no partitions definition"), and a run of one date partition runs
# the universe step first because daily_prices depends on it. The screener is in the same run (the daily
# path is one run, its exports written by it: no wait for automation's evaluation and the backfill
# daemon's pass), and automation does not screen the session again afterwards: the screener's update in
# the run handles its deps' updates (test_daily_path_run). The job also runs the checks of the four assets,
# daily_prices_fresh included, so freshness turns green in the run that loads the session.
NEW_SESSION_ASSETS = (company_universe, daily_prices, indicators, screener)
# How often the sensor looks. It asks NEPSE only when a session can have closed since the last one it
# requested (from 15:00 of the next trading weekday on): a tick that cannot find anything new costs no call,
# so a short interval costs a few market-status calls a day and takes at most this long off the daily path.
NEW_SESSION_INTERVAL_SECONDS = 30
# A requested session whose prices did not land (NEPSE had not published its closing prices yet, or the run
# failed) is requested again at the next tick after its run ended, up to this many runs in all: an hour
# of 5-minute ticks.
MAX_ATTEMPTS = 12

new_session_job = dg.define_asset_job(
    "new_session_job",
    # partitioned by session_date_partitions, inferred; the saved screens (NTX_SCREENS_FILE) too, so the
    # session's picks and alerts come in the same run.
    selection=dg.AssetSelection.assets(*NEW_SESSION_ASSETS) | dg.AssetSelection.groups(SCREENS_GROUP),
    description=(
        "One session date: refresh company_universe, then that date's daily_prices, indicators, "
        "screener (with the exports) and saved screens for every symbol, in one run (launched by "
        "new_session_sensor; launch it by hand for one date)."
    ),
)


@dg.sensor(
    job=new_session_job,
    minimum_interval_seconds=NEW_SESSION_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Every 30 s once a session can have closed (from 15:00 of the next trading weekday after the last "
        "requested session), reads NEPSE's market status. When a session has closed (CLOSE, asOf newer than "
        "the cursor's last requested session, a session per NEPSE's calendar), requests ONE run: "
        "company_universe, then that date's daily_prices, indicators and screener (and the exports) for "
        "every symbol. A requested session whose prices did not land (closing prices not published yet) "
        f"is requested again once its run ended, up to {MAX_ATTEMPTS} runs. "
        'Cursor: {"last_requested_session": "YYYY-MM-DD", "attempts": N}.'
    ),
)
def new_session_sensor(
    context: dg.SensorEvaluationContext, nepse: NepseResource
) -> dg.SensorResult | dg.SkipReason:
    first = dt.date.fromisoformat(str(session_date_partitions.get_first_partition_key()))
    last = dt.date.fromisoformat(str(session_date_partitions.get_last_partition_key()))
    requested = read_cursor(context.cursor)
    now = nepal_now()
    # A requested session whose run ended without its prices is asked for again; a new session comes first.
    attempts = read_attempts(context.cursor)
    again = _request_again(context, requested, attempts)
    if again is None and _gave_up(context, requested, attempts):
        # The cap reached without the prices: every skip below says so (they return `again` first), or it
        # would read like a loaded session; a newer session is still requested as usual.
        again = dg.SkipReason(
            f"gave up on {requested}: {attempts} runs ended without its prices (the cap, MAX_ATTEMPTS). "
            f"Launch new_session_job for {requested} once NEPSE serves its closing prices; a newer session "
            "is still requested when it closes."
        )
    if requested is not None:
        earliest = next_trading_weekday(requested)
        if not session_can_have_closed(earliest, now):
            return again or dg.SkipReason(
                f"{requested} was requested; no session can close before {earliest} "
                f"{SESSION_CLOSE:%H:%M} Nepal time (it is {now:%Y-%m-%d %H:%M}): NEPSE not asked"
            )
    flag_grace = dt.timedelta(minutes=nepse.close_flag_grace_minutes)
    decision = closed_session_to_request(
        nepse.client.market_status(), requested, now, first, last, flag_grace
    )
    if isinstance(decision, str):
        return again or dg.SkipReason(decision)
    session = decision

    holidays = HolidayLists(nepse.client.holidays)
    if not is_session(session, holidays.dates(session.year)):
        if not is_trading_weekday(session):
            why = f"a {session:%A}, not a trading day of its week"
        else:
            names = {h.holiday_date: h.holiday_description for h in holidays.records(session.year)}
            why = f"a NEPSE holiday ({names.get(session) or 'no description'})"
        return dg.SkipReason(
            f"NEPSE reports a close on {session}, but {session} is {why}: nothing requested. If NEPSE did "
            "trade that day, the calendar is wrong (ntx_assets.prices.sessions or NEPSE's holiday list): "
            "fix it, then launch new_session_job for that date."
        )

    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=f"session-{session.isoformat()}", partition_key=session.isoformat())
        ],
        cursor=write_cursor(session),
    )


def _gave_up(context: dg.SensorEvaluationContext, session: dt.date | None, attempts: int) -> bool:
    return (
        session is not None
        and attempts >= MAX_ATTEMPTS
        and session.isoformat() not in context.instance.get_materialized_partitions(daily_prices.key)
    )


def _request_again(
    context: dg.SensorEvaluationContext, session: dt.date | None, attempts: int
) -> dg.SensorResult | dg.SkipReason | None:
    """The last requested session again when its runs ended without its prices landing (NEPSE had not
    published its closing prices yet, or the run failed); None when there is nothing to retry (loaded, no
    run made yet, or MAX_ATTEMPTS runs already)."""
    if session is None or attempts >= MAX_ATTEMPTS:
        return None
    key = session.isoformat()
    if key in context.instance.get_materialized_partitions(daily_prices.key):
        return None
    runs = context.instance.get_run_records(
        filters=dg.RunsFilter(job_name=new_session_job.name, tags={"dagster/partition": key})
    )
    if not runs:
        return None  # requested, and the daemon has not made its run: nothing failed yet
    if any(not record.dagster_run.is_finished for record in runs):
        return dg.SkipReason(f"{key} was requested and its run has not finished yet")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"session-{key}-attempt-{attempts + 1}", partition_key=key)],
        cursor=write_cursor(session, attempts + 1),
    )


# --- later_indicators_sensor ----------------------------------------------------------------------
# later_indicators_sensor: after prices changed, recompute the later indicators whose lookback holds them.
#
# `indicators` depends on its own date's prices in Dagster's graph (so a backfill of prices + indicators
# over any range is one run computing exactly its dates), while the indicators of date t read every price
# up to t: a corrected or newly inserted price of date d changes the indicators of d's own date (the
# automation condition, or the same run, recomputes it) and of every date in (d, d + LOOKBACK_DAYS].
#
# This sensor reads the `daily_prices` materializations recorded since its cursor (an event storage id). A
# run whose materializations report no inserted or updated row changed nothing and is skipped. For the
# others, the later dates are those after the run's last date, up to LOOKBACK_DAYS after it, whose
# indicators were materialized BEFORE the prices changed (a date never computed is not stale: it gets
# computed when its prices arrive; one computed after the change already read the new prices). It requests
# ONE indicators run over those dates (first..last stale date), or nothing. Materializations of a run still
# in progress are left for a later tick, so a backfill that computes its own indicators is never
# duplicated.

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
