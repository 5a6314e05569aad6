"""Nepal time and the trading-session calendar."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta

from ntx_assets.common.clock import NEPAL_TZ
from ntx_assets.prices.sessions import is_trading_weekday

# Nepal time and the trading week have one home, the product (ntx_assets.common.clock,
# ntx_assets.prices.sessions).
NPT = NEPAL_TZ


def now_npt() -> datetime:
    return datetime.now(NPT)


def today_npt() -> date:
    return now_npt().date()


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
