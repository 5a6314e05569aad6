"""What new_session_sensor decides, pure (no I/O, no Dagster): its cursor, and which session NEPSE's market
status says to request."""

from __future__ import annotations

import datetime as dt
import json

from ntx_assets.common.clock import SESSION_CLOSE
from ntx_assets.nepse.models import MarketStatus
from ntx_assets.prices.sessions import CLOSING_PRICES_PAST_GRACE, close_rule

CURSOR_KEY = "last_requested_session"
ATTEMPTS_KEY = "attempts"


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
    flag_grace: dt.timedelta | None = None,
) -> dt.date | str:
    """The session to request from NEPSE's market status, or why nothing is requested.

    `now` is Nepal time; `first`..`last` are the dates of the `session_date_partitions` (history start to
    today). The calendar check (weekend, holiday) comes after this, because it costs a holiday call.
    A flag still not CLOSE `flag_grace` after today's close requests today all the same: the run loads it
    when its rows all carry closing prices (close_rule), else ends pending and is requested again.
    """
    as_of = f"{status.as_of:%Y-%m-%d %H:%M}"
    overdue = (
        flag_grace is not None
        and close_rule(now.date(), now, lambda: status, flag_grace) == CLOSING_PRICES_PAST_GRACE
    )
    if not status.closed and not overdue:
        return f"NEPSE's market is {status.is_open} (as of {as_of} Nepal time): waiting for the close"
    session = status.business_date if status.closed else now.date()
    if last_requested is not None and session <= last_requested:
        return (
            f"no new session: NEPSE's latest close is {session} (as of {as_of}), and "
            f"{last_requested} was already requested"
        )
    if session < first:
        return f"NEPSE's latest session {session} is before the first partition {first} (NTX_HISTORY_START)"
    if session > last:
        return f"NEPSE's latest session {session} is after today's partition {last}: check the clocks"
    if close_rule(session, now, lambda: status, flag_grace) is None:
        # daily_prices would only mark it "not closed yet"; wait for the 15:00 close.
        return f"NEPSE reports {session} closed as of {as_of}, before the {SESSION_CLOSE:%H:%M} close: wait"
    return session
