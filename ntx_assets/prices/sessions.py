"""NEPSE's trading calendar and the plan of price fetches for a set of dates. Pure: no I/O, no Dagster.

A date is a session when it falls on a trading weekday of its regime and is not in NEPSE's holiday list
(`GET /api/nots/holiday/list?year=`, parsed by `holiday_dates`). The trading week changed in 2026 from
Sunday-Thursday to Monday-Friday (docs/NEPSE_API.md section 4: the last Sunday session was 2026-04-05, the
first Friday session 2026-04-10). No official notice was found, so the regimes are data in
`TRADING_WEEK_REGIMES`: another change is one more line there.

The price planner sorts dates into kinds. Only sessions cost API calls: one today-price call each
(`POST /api/nots/nepse-data/today-price?businessDate=`); further pages are discovered while fetching.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from ntx_assets.common.clock import NEPAL_TZ, SESSION_CLOSE
from ntx_assets.nepse.models import Holiday, MarketStatus
from ntx_assets.nepse.paging import PAGE_SIZE

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)  # date.weekday() numbering

SUNDAY_TO_THURSDAY: Final = frozenset({SUNDAY, MONDAY, TUESDAY, WEDNESDAY, THURSDAY})
MONDAY_TO_FRIDAY: Final = frozenset({MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY})

# (first date of the regime, its trading weekdays), ascending. A regime lasts until the next one starts.
TRADING_WEEK_REGIMES: Final[tuple[tuple[dt.date, frozenset[int]], ...]] = (
    (dt.date.min, SUNDAY_TO_THURSDAY),
    (dt.date(2026, 4, 6), MONDAY_TO_FRIDAY),
)

# How far back NEPSE's price endpoints answer (about a year); settings.api_history_days overrides it.
DEFAULT_HISTORY_DAYS: Final = 365
# The page size the client asks today-price for (the server caps larger requests at 2000).
DEFAULT_PAGE_SIZE: Final = PAGE_SIZE

Kind = Literal["session", "weekend", "holiday", "future", "too_old"]
SESSION: Final = "session"
WEEKEND: Final = "weekend"
HOLIDAY: Final = "holiday"
FUTURE: Final = "future"
TOO_OLD: Final = "too_old"
KINDS: Final[tuple[Kind, ...]] = (SESSION, WEEKEND, HOLIDAY, FUTURE, TOO_OLD)


class HistoryTooOldError(ValueError):
    """Dates were asked for that are older than the NEPSE API keeps."""


def trading_weekdays(day: dt.date) -> frozenset[int]:
    """The trading weekdays (date.weekday() numbers) of the regime `day` falls in."""
    _require_date(day)
    weekdays = TRADING_WEEK_REGIMES[0][1]
    for start, regime_weekdays in TRADING_WEEK_REGIMES:
        if start > day:
            break
        weekdays = regime_weekdays
    return weekdays


def is_trading_weekday(day: dt.date) -> bool:
    """True when `day` is a weekday NEPSE trades on under the regime of that date (holidays aside)."""
    return day.weekday() in trading_weekdays(day)


def next_trading_weekday(after: dt.date) -> dt.date:
    """The first trading weekday after `after` (holidays aside): the earliest day a new session can close."""
    day = after + dt.timedelta(days=1)
    while not is_trading_weekday(day):
        day += dt.timedelta(days=1)
    return day


def is_session(day: dt.date, holidays: Collection[dt.date]) -> bool:
    """True when `day` is a trading weekday and not a NEPSE holiday."""
    return is_trading_weekday(day) and day not in holidays


def holiday_dates(holidays: Iterable[Holiday]) -> set[dt.date]:
    """The dates of NEPSE's holiday records (`NepseClient.holidays(year)`, already typed: a malformed
    holidayDate was refused there, since a silently skipped holiday would plan a call for a closed
    market). Records of several years can be chained together."""
    return {holiday.holiday_date for holiday in holidays}


class HolidayLists:
    """NEPSE's holiday list of each year, fetched once per year asked (`fetch` is `NepseClient.holidays`):
    the one way a step or sensor reads the calendar."""

    def __init__(self, fetch: Callable[[int], Sequence[Holiday]]) -> None:
        self._fetch = fetch
        self._records: dict[int, Sequence[Holiday]] = {}

    def records(self, year: int) -> Sequence[Holiday]:
        if year not in self._records:
            self._records[year] = self._fetch(year)
        return self._records[year]

    def dates(self, *years: int) -> set[dt.date]:
        """The holiday dates of `years` together."""
        return holiday_dates(record for year in years for record in self.records(year))


def session_can_have_closed(day: dt.date, now: dt.datetime) -> bool:
    """Whether, by the clock alone, `day`'s session can be over at `now` (Nepal time): an earlier date, or
    today from the 15:00 close on. Before that, asking NEPSE would cost a request for nothing."""
    return day < now.date() or (day == now.date() and now.time() >= SESSION_CLOSE)


# Which rule decided that a session is over (close_rule); the prices materialization names it per date.
EARLIER_DATE = "earlier_date"
NEPSE_CLOSE_FLAG = "nepse_close_flag"
CLOSING_PRICES_PAST_GRACE = "closing_prices_past_grace"


def close_rule(
    day: dt.date,
    now: dt.datetime,
    market_status: Callable[[], MarketStatus],
    flag_grace: dt.timedelta | None,
) -> str | None:
    """The rule by which `day`'s session is over at `now` (Nepal time), or None while it may not be.

    An earlier date is over; today is over once NEPSE's market status says CLOSE as of today. When the
    flag (as of today) is still not CLOSE `flag_grace` after the scheduled close (when NEPSE flips it is
    unknown, and a flag that stays OPEN would hold every daily run), the session is over if its
    today-price rows all carry closing prices: CLOSING_PRICES_PAST_GRACE tells the caller to load them
    under that condition (a row in the intraday shape raises CloseNotPublished, and the session
    stays pending)."""
    if not session_can_have_closed(day, now):
        return None
    if day < now.date():
        return EARLIER_DATE
    status = market_status()
    if status.as_of.date() < day:
        return None  # NEPSE's status is not about this day yet
    if status.closed:
        return NEPSE_CLOSE_FLAG
    if (
        flag_grace is not None
        and now >= dt.datetime.combine(day, SESSION_CLOSE, tzinfo=now.tzinfo) + flag_grace
    ):
        return CLOSING_PRICES_PAST_GRACE
    return None


# How far back the due session is looked for: longer than any run of holidays, shorter than forever.
_MAX_DUE_LOOKBACK_DAYS = 60


def session_deadline(day: dt.date, grace: dt.timedelta) -> dt.datetime:
    """When `day`'s prices are due: its close plus the grace, in Nepal time."""
    return dt.datetime.combine(day, SESSION_CLOSE, tzinfo=NEPAL_TZ) + grace


def latest_due_session(
    now: dt.datetime,
    holidays_of: Callable[[int], Collection[dt.date]],
    grace: dt.timedelta,
    earliest: dt.date,
) -> dt.date | None:
    """The latest session on or after `earliest` whose deadline is at or before `now` (aware).

    `holidays_of(year)` gives NEPSE's holidays of a year; it is asked only for the years walked through.
    None when no session since `earliest` (or in the last 60 days) is due yet.
    """
    local = now.astimezone(NEPAL_TZ)
    day = local.date()
    stop = max(earliest, day - dt.timedelta(days=_MAX_DUE_LOOKBACK_DAYS))
    while day >= stop:
        if session_deadline(day, grace) <= local and is_session(day, holidays_of(day.year)):
            return day
        day -= dt.timedelta(days=1)
    return None


@dataclass(frozen=True)
class DatePlan:
    date: dt.date
    kind: Kind
    calls: int


@dataclass(frozen=True)
class PricePlan:
    """The kind and planned API calls of each requested date, in date order, without duplicates."""

    dates: tuple[DatePlan, ...]
    today: dt.date
    history_days: int = DEFAULT_HISTORY_DAYS

    def of_kind(self, kind: Kind) -> tuple[dt.date, ...]:
        return tuple(plan.date for plan in self.dates if plan.kind == kind)

    @property
    def earliest_loadable(self) -> dt.date:
        return earliest_loadable(self.today, self.history_days)

    @property
    def sessions(self) -> tuple[dt.date, ...]:
        return self.of_kind(SESSION)

    @property
    def too_old(self) -> tuple[dt.date, ...]:
        return self.of_kind(TOO_OLD)

    @property
    def future(self) -> tuple[dt.date, ...]:
        return self.of_kind(FUTURE)

    @property
    def planned_calls(self) -> int:
        return sum(plan.calls for plan in self.dates)

    def counts(self) -> dict[str, int]:
        """Dates per kind, every kind present (for asset metadata)."""
        found = Counter(plan.kind for plan in self.dates)
        return {kind: found[kind] for kind in KINDS}

    def too_old_error(self, dates: Sequence[dt.date] | None = None) -> HistoryTooOldError | None:
        """The error naming the dates older than the API keeps (all of them, or `dates`) and the fix, or
        None when there are none."""
        too_old = self.too_old if dates is None else tuple(sorted(dates))
        if not too_old:
            return None
        first, last = too_old[0], too_old[-1]
        more = f" (and {len(too_old) - 1} more, up to {last})" if len(too_old) > 1 else ""
        return HistoryTooOldError(
            f"{first}{more} is older than the NEPSE API keeps (about {self.history_days} days before "
            f"{self.today}); the earliest date that can be loaded is {self.earliest_loadable}; import a "
            "price archive for them (NTX_PRICE_ARCHIVE, then materialize price_archive), set "
            "NTX_HISTORY_START to a later date, or drop these partitions"
        )


def earliest_loadable(today: dt.date, history_days: int = DEFAULT_HISTORY_DAYS) -> dt.date:
    """The oldest date the price endpoints are expected to still answer for."""
    return today - dt.timedelta(days=history_days)


def plan_price_fetches(
    dates: Iterable[dt.date],
    holidays: Collection[dt.date],
    *,
    today: dt.date,
    history_days: int = DEFAULT_HISTORY_DAYS,
) -> PricePlan:
    """Sort `dates` into kinds and plan one today-price call per session.

    Kinds are decided in this order: `future` (after `today`), `too_old` (before `today - history_days`),
    then `weekend`, `holiday`, `session`. Age comes first because outside the API's window nothing can
    be loaded or checked, and the holiday list of old years may not have been fetched at all.
    `today` is the exchange's date (Asia/Kathmandu) and itself plans a call when it is a session.
    """
    _require_date(today)
    if history_days < 0:
        raise ValueError(f"history_days must be >= 0, got {history_days}")
    earliest = earliest_loadable(today, history_days)
    plans = []
    for day in sorted(set(dates)):
        _require_date(day)
        if day > today:
            kind: Kind = FUTURE
        elif day < earliest:
            kind = TOO_OLD
        elif not is_trading_weekday(day):
            kind = WEEKEND
        elif day in holidays:
            kind = HOLIDAY
        else:
            kind = SESSION
        plans.append(DatePlan(day, kind, 1 if kind == SESSION else 0))
    return PricePlan(tuple(plans), today=today, history_days=history_days)


def minimum_calls(sessions: int, rows_per_session: Sequence[int], page_size: int = DEFAULT_PAGE_SIZE) -> int:
    """The fewest today-price calls that fetch `sessions` sessions.

    `rows_per_session` holds the known row counts (e.g. from `totalElements` of a first page); each
    needs ceil(rows / page_size) pages, and at least one call even when empty (the empty page is how a
    session without trades is told apart from one not fetched). Sessions beyond the known counts cost one
    call each, the minimum.
    """
    if sessions < 0:
        raise ValueError(f"sessions must be >= 0, got {sessions}")
    if page_size < 1:
        raise ValueError(f"page_size must be >= 1, got {page_size}")
    if len(rows_per_session) > sessions:
        raise ValueError(
            f"{len(rows_per_session)} row counts were given for {sessions} sessions; "
            "give at most one per session"
        )
    if any(rows < 0 for rows in rows_per_session):
        raise ValueError(f"row counts must be >= 0, got {list(rows_per_session)}")
    known = sum(max(1, math.ceil(rows / page_size)) for rows in rows_per_session)
    return known + (sessions - len(rows_per_session))


def _require_date(day: object) -> None:
    # datetime is a date subclass, but datetime(2025, 12, 4) != date(2025, 12, 4), so a datetime would
    # silently miss every holiday; refuse it instead.
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise TypeError(f"expected a datetime.date, got {type(day).__name__} {day!r}; pass value.date()")
