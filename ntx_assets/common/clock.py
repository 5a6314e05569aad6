"""Nepal time: NEPSE's calendar days and session close are in Asia/Kathmandu (UTC+05:45).

`nepal_now()` is the product's one notion of "now" (the session that is due, the latest partition a sensor
may request, the dates too old for NEPSE). `pinned_now()` evaluates it at another instant inside a block,
for tests and replays: sensor ticks and checks then decide as they would have at that instant. The pin lives
in a context variable, so it applies to code running in the same thread (Dagster's in-process execution,
`build_sensor_context`), never to other processes or threads.

What is not "now" in this sense: the day NEPSE's server salts its payload ids with
(`nepse.payload_id.nepal_today`), which follows the server's real clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from zoneinfo import ZoneInfo

NEPAL_TZ = ZoneInfo("Asia/Kathmandu")
SESSION_CLOSE = dt.time(15, 0)

_pinned: ContextVar[dt.datetime | None] = ContextVar("ntx_assets_pinned_now", default=None)


def nepal_now() -> dt.datetime:
    pinned = _pinned.get()
    if pinned is not None:
        return pinned
    return dt.datetime.now(NEPAL_TZ)


def nepal_today() -> dt.date:
    return nepal_now().date()


@contextmanager
def pinned_now(instant: dt.datetime) -> Iterator[dt.datetime]:
    """Make `nepal_now()` return `instant` (timezone-aware) inside the block; yields it in Nepal time."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(
            f"pinned_now needs a timezone-aware instant, got {instant!r}: "
            "pass e.g. datetime(2026, 11, 20, 16, 30, tzinfo=NEPAL_TZ)"
        )
    local = instant.astimezone(NEPAL_TZ)
    token = _pinned.set(local)
    try:
        yield local
    finally:
        _pinned.reset(token)
