"""Nepal time and the trading-session calendar."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta, timezone

# Nepal has kept UTC+05:45 without daylight saving since 1986, so a fixed offset is exact
# and spares a dependency on the tz database.
NPT = timezone(timedelta(hours=5, minutes=45), "Asia/Kathmandu")

# The trading week was Sunday-Thursday through 2026-04-05 and Monday-Friday from 2026-04-06.
MONDAY_FRIDAY_FROM = date(2026, 4, 6)
_SUNDAY_THURSDAY = frozenset({6, 0, 1, 2, 3})
_MONDAY_FRIDAY = frozenset({0, 1, 2, 3, 4})


def now_npt() -> datetime:
    return datetime.now(NPT)


def today_npt() -> date:
    return now_npt().date()


def is_trading_weekday(day: date) -> bool:
    weekdays = _MONDAY_FRIDAY if day >= MONDAY_FRIDAY_FROM else _SUNDAY_THURSDAY
    return day.weekday() in weekdays


def session_days(start: date, end: date, holidays: Collection[date]) -> list[date]:
    """Trading sessions in [start, end], oldest first."""
    sessions: list[date] = []
    day = start
    while day <= end:
        if is_trading_weekday(day) and day not in holidays:
            sessions.append(day)
        day += timedelta(days=1)
    return sessions


def window(end: date, days: int) -> tuple[date, date]:
    """The `days` calendar days ending at `end`, inclusive."""
    return end - timedelta(days=days - 1), end
