"""Sensors and schedules: a new session's prices, declarative automation, and the freshness check.

- `new_session_sensor` polls NEPSE's market status; once a session has closed it requests that date's
  `daily_prices` and `indicators` partition, with a `company_universe` refresh first, as ONE run.
- `automation_sensor` evaluates the assets' automation conditions (a date's `indicators` follow that
  date's `daily_prices`); the later indicators whose 400-day lookback holds a changed price follow through
  `later_indicators_sensor` (later_indicators.py); `artifacts` follows `filings` through
  `new_documents_sensor` (new_documents.py).
- `daily_prices_freshness_schedule` runs the `daily_prices_fresh` check daily after the deadline.
"""

import datetime as dt
import json

import dagster as dg

from ntx_assets.clock import SESSION_CLOSE, nepal_now
from ntx_assets.defs.company_universe import company_universe
from ntx_assets.defs.daily_prices import daily_prices
from ntx_assets.defs.freshness import daily_prices_freshness_job
from ntx_assets.defs.indicators import indicators
from ntx_assets.defs.partitions import session_date_partitions
from ntx_assets.nepse import MarketStatus
from ntx_assets.policies import freshness_grace
from ntx_assets.resources import NepseResource
from ntx_assets.sessions import holiday_dates, is_session, is_trading_weekday, next_trading_weekday

# company_universe is unpartitioned and the other two are date-partitioned: one asset job may mix them
# (Dagster 1.13 asks for "the same or no partitions definition"), and a run of one date partition runs
# the universe step first because daily_prices depends on it. The job also runs the checks of the three
# assets, daily_prices_fresh included, so freshness turns green in the run that loads the session.
NEW_SESSION_ASSETS = (company_universe, daily_prices, indicators)
# How often the sensor looks. It asks NEPSE only when a session can have closed since the last one it
# requested (from 15:00 of the next trading weekday on): a tick that cannot find anything new costs no call,
# so a short interval costs a few market-status calls a day and takes at most this long off the daily path.
NEW_SESSION_INTERVAL_SECONDS = 30
CURSOR_KEY = "last_requested_session"
ATTEMPTS_KEY = "attempts"
# A requested session whose prices did not land (NEPSE had not published its closing prices yet, or the run
# failed) is requested again at the next tick after its run ended, up to this many runs in all: an hour
# of 5-minute ticks.
MAX_ATTEMPTS = 12

new_session_job = dg.define_asset_job(
    "new_session_job",
    selection=list(NEW_SESSION_ASSETS),  # partitioned by session_date_partitions, inferred
    description=(
        "One session date: refresh company_universe, then that date's daily_prices and indicators for "
        "every symbol, in one run (launched by new_session_sensor; launch it by hand for one date)."
    ),
)


def read_cursor(cursor: str | None) -> dt.date | None:
    """The last requested session date of a cursor `{"last_requested_session": "YYYY-MM-DD"}`.

    A bare date is accepted too (what an operator may type under "Set cursor" in the UI).
    """
    if not cursor:
        return None
    try:
        value = json.loads(cursor)
        text = value[CURSOR_KEY] if isinstance(value, dict) else cursor
        return dt.date.fromisoformat(str(text))
    except (ValueError, KeyError, TypeError):
        try:
            return dt.date.fromisoformat(cursor.strip())
        except ValueError:
            raise ValueError(
                f"new_session_sensor's cursor {cursor!r} is not {{{CURSOR_KEY!r}: 'YYYY-MM-DD'}}: set it to "
                "the last session already requested (Automation -> new_session_sensor -> Set cursor), or "
                "clear it to request NEPSE's latest session"
            ) from None


def read_attempts(cursor: str | None) -> int:
    """How many runs the cursor's session has been requested in (1 for a cursor without the count)."""
    try:
        value = json.loads(cursor) if cursor else None
    except ValueError:
        return 1
    return int(value.get(ATTEMPTS_KEY, 1)) if isinstance(value, dict) else 1


def write_cursor(session: dt.date, attempts: int = 1) -> str:
    return json.dumps({CURSOR_KEY: session.isoformat(), ATTEMPTS_KEY: attempts})


def closed_session_to_request(
    status: MarketStatus,
    last_requested: dt.date | None,
    now: dt.datetime,
    first: dt.date,
    last: dt.date,
) -> dt.date | str:
    """The session to request from NEPSE's market status, or why nothing is requested.

    `now` is Nepal time; `first`..`last` are the dates of the `session_date_partitions` (history start to
    today). The calendar check (weekend, holiday) comes after this, because it costs a holiday call.
    """
    as_of = f"{status.as_of:%Y-%m-%d %H:%M}"
    if not status.closed:
        return f"NEPSE's market is {status.is_open} (as of {as_of} Nepal time): waiting for the close"
    session = status.business_date
    if last_requested is not None and session <= last_requested:
        return (
            f"no new session: NEPSE's latest close is {session} (as of {as_of}), and "
            f"{last_requested} was already requested"
        )
    if session < first:
        return f"NEPSE's latest session {session} is before the first partition {first} (NTX_HISTORY_START)"
    if session > last:
        return f"NEPSE's latest session {session} is after today's partition {last}: check the clocks"
    if session == now.date() and now.time() < SESSION_CLOSE:
        # daily_prices would only mark today "not closed yet"; wait for the 15:00 close.
        return f"NEPSE reports {session} closed as of {as_of}, before the {SESSION_CLOSE:%H:%M} close: wait"
    return session


@dg.sensor(
    job=new_session_job,
    minimum_interval_seconds=NEW_SESSION_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Every 30 s once a session can have closed (from 15:00 of the next trading weekday after the last "
        "requested session), reads NEPSE's market status. When a session has closed (CLOSE, asOf newer than "
        "the cursor's last requested session, a session per NEPSE's calendar), requests ONE run: "
        "company_universe, then that date's daily_prices and indicators partition for every symbol. A "
        "requested session whose prices did not land (closing prices not published yet) is requested again "
        f"once its run ended, up to {MAX_ATTEMPTS} runs. "
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
    again = _request_again(context, requested, read_attempts(context.cursor))
    if requested is not None:
        earliest = next_trading_weekday(requested)
        if earliest > now.date() or (earliest == now.date() and now.time() < SESSION_CLOSE):
            return again or dg.SkipReason(
                f"{requested} was requested; no session can close before {earliest} "
                f"{SESSION_CLOSE:%H:%M} Nepal time (it is {now:%Y-%m-%d %H:%M}): NEPSE not asked"
            )
    decision = closed_session_to_request(nepse.client.market_status(), requested, now, first, last)
    if isinstance(decision, str):
        return again or dg.SkipReason(decision)
    session = decision

    holidays = nepse.client.holidays(session.year)
    if not is_session(session, holiday_dates(holidays)):
        if not is_trading_weekday(session):
            why = f"a {session:%A}, not a trading day of its week"
        else:
            names = {h.holiday_date: h.holiday_description for h in holidays}
            why = f"a NEPSE holiday ({names.get(session) or 'no description'})"
        return dg.SkipReason(
            f"NEPSE reports a close on {session}, but {session} is {why}: nothing requested. If NEPSE did "
            "trade that day, the calendar is wrong (ntx_assets.sessions or NEPSE's holiday list): fix it, "
            "then launch new_session_job for that date."
        )

    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=f"session-{session.isoformat()}", partition_key=session.isoformat())
        ],
        cursor=write_cursor(session),
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


def _freshness_cron() -> str:
    # Five minutes after the deadline of a session that closed today.
    at = dt.datetime.combine(dt.date(2000, 1, 1), SESSION_CLOSE) + freshness_grace() + dt.timedelta(minutes=5)
    return f"{at.minute} {at.hour} * * *"


daily_prices_freshness_schedule = dg.ScheduleDefinition(
    name="daily_prices_freshness_schedule",
    job=daily_prices_freshness_job,
    cron_schedule=_freshness_cron(),
    execution_timezone="Asia/Kathmandu",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Every day, five minutes after the 15:00 close + NTX_PRICES_FRESHNESS_GRACE_HOURS (Nepal time), "
        "runs the daily_prices_fresh check."
    ),
)
