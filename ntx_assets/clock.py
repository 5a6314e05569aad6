"""Nepal time: NEPSE's calendar days and session close are in Asia/Kathmandu (UTC+05:45)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

NEPAL_TZ = ZoneInfo("Asia/Kathmandu")
SESSION_CLOSE = dt.time(15, 0)


def nepal_now() -> dt.datetime:
    return dt.datetime.now(NEPAL_TZ)


def nepal_today() -> dt.date:
    return nepal_now().date()
