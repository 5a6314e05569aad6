"""The trading calendar (regimes, real holidays, real NABIL sessions) and the price-fetch planner."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from ntx_assets import sessions
from ntx_assets.sessions import (
    DatePlan,
    HistoryTooOldError,
    earliest_loadable,
    holiday_dates,
    is_session,
    is_trading_weekday,
    minimum_calls,
    plan_price_fetches,
)
from ntx_assets_tests.tools.standin.snapshots import SNAPSHOT_DIR

# Decides by the calendar: rerun under faketime with `make test-calendar` (pytest -m calendar).
pytestmark = pytest.mark.calendar

D = dt.date
SNAPSHOT = SNAPSHOT_DIR  # the real 2025-12-04 NEPSE answers the stand-in serves
DATA = Path(__file__).resolve().parent / "data"


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def holidays() -> set[dt.date]:
    return holiday_dates(
        [*_load(SNAPSHOT / "static__holidays_2024.json"), *_load(SNAPSHOT / "static__holidays_2025.json")]
    )


# --- trading weekdays -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "trades"),
    [
        (D(2026, 4, 5), True),  # Sunday: the last Sunday session
        (D(2026, 4, 2), True),  # Thursday, old regime
        (D(2026, 4, 3), False),  # Friday, old regime
        (D(2026, 4, 4), False),  # Saturday
        (D(2026, 4, 6), True),  # Monday: the first day of the new regime
        (D(2026, 4, 10), True),  # Friday: the first Friday session
        (D(2026, 4, 11), False),  # Saturday
        (D(2026, 4, 12), False),  # Sunday, new regime
        (D(2025, 12, 5), False),  # Friday, old regime
        (D(2025, 12, 7), True),  # Sunday, old regime
        (D(2025, 12, 6), False),  # Saturday, old regime
    ],
)
def test_regime_boundary(day: dt.date, trades: bool) -> None:
    assert is_trading_weekday(day) is trades


def raise_too_old(plan: sessions.PricePlan) -> None:
    error = plan.too_old_error()
    if error is not None:
        raise error


def test_regime_table_is_ascending_and_weekdays_are_valid() -> None:
    starts = [start for start, _ in sessions.TRADING_WEEK_REGIMES]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    for _, weekdays in sessions.TRADING_WEEK_REGIMES:
        assert weekdays and weekdays <= set(range(7))
    assert D(2026, 4, 6).weekday() == sessions.MONDAY


def test_a_new_regime_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    regimes = (*sessions.TRADING_WEEK_REGIMES, (D(2030, 1, 1), frozenset({sessions.SATURDAY})))
    monkeypatch.setattr(sessions, "TRADING_WEEK_REGIMES", regimes)
    assert is_trading_weekday(D(2030, 1, 5))  # Saturday
    assert not is_trading_weekday(D(2029, 12, 29))  # Saturday before the change
    assert not is_trading_weekday(D(2030, 1, 7))  # Monday after it


def test_datetime_is_refused() -> None:
    # datetime(2025, 12, 4) != date(2025, 12, 4): it would silently miss every holiday.
    with pytest.raises(TypeError, match=r"pass value\.date\(\)"):
        is_session(dt.datetime(2025, 12, 4, 11, 0), {D(2025, 12, 4)})


# --- holidays and sessions on real data ------------------------------------------------------------------


def test_real_holidays(holidays: set[dt.date]) -> None:
    assert len(holidays) == 37 + 46
    assert D(2025, 12, 4) in holidays  # Udhauli Parva and Yomari Punhi, a Thursday
    assert is_trading_weekday(D(2025, 12, 4))
    assert not is_session(D(2025, 12, 4), holidays)
    assert is_session(D(2025, 12, 3), holidays)
    assert not is_session(D(2025, 12, 5), holidays)  # Friday


@pytest.mark.parametrize(
    "history",
    [
        SNAPSHOT / "historical__securities__security_131_history.json",
        DATA / "nabil_history_2024-12-03_2025-12-03.json",
    ],
    ids=["dec-2024", "dec-2024-to-dec-2025"],
)
def test_calendar_reproduces_real_nabil_sessions(holidays: set[dt.date], history: Path) -> None:
    # NABIL trades every session, so its history is an independent list of session dates.
    traded = {D.fromisoformat(row["businessDate"]) for row in _load(history)["content"]}
    first, last = min(traded), max(traded)
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    assert {day for day in days if is_session(day, holidays)} == traded


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"holidayDescription": "x"}], "no holidayDate"),
        ([{"holidayDate": None}], "no holidayDate"),
        (["2025-12-04"], "no holidayDate"),
        ([{"holidayDate": "04/12/2025"}], "not a YYYY-MM-DD date"),
    ],
)
def test_holiday_dates_refuses_bad_rows(rows: list[Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        holiday_dates(rows)


def test_holiday_dates_accepts_a_timestamp_and_merges_years() -> None:
    rows = [
        {"holidayDate": "2025-12-04T00:00:00"},
        {"holidayDate": "2025-12-04"},
        {"holidayDate": "2024-12-15"},
    ]
    assert holiday_dates(rows) == {D(2025, 12, 4), D(2024, 12, 15)}
    assert holiday_dates([]) == set()


# --- the planner -----------------------------------------------------------------------------------------


def test_plan_for_a_mixed_range(holidays: set[dt.date]) -> None:
    # Wed 2025-12-03 .. Tue 2025-12-09, today Mon 2025-12-08.
    days = [D(2025, 12, 3) + dt.timedelta(days=n) for n in range(7)]
    plan = plan_price_fetches(reversed(days), holidays, today=D(2025, 12, 8))
    assert plan.dates == (
        DatePlan(D(2025, 12, 3), "session", 1),
        DatePlan(D(2025, 12, 4), "holiday", 0),
        DatePlan(D(2025, 12, 5), "weekend", 0),
        DatePlan(D(2025, 12, 6), "weekend", 0),
        DatePlan(D(2025, 12, 7), "session", 1),
        DatePlan(D(2025, 12, 8), "session", 1),  # today itself is fetched
        DatePlan(D(2025, 12, 9), "future", 0),
    )
    assert plan.sessions == (D(2025, 12, 3), D(2025, 12, 7), D(2025, 12, 8))
    assert plan.planned_calls == 3
    assert plan.future == (D(2025, 12, 9),)
    assert plan.too_old == ()
    assert plan.counts() == {"session": 3, "weekend": 2, "holiday": 1, "future": 1, "too_old": 0}
    assert plan.too_old_error() is None  # nothing too old


def test_plan_across_the_regime_change() -> None:
    days = [D(2026, 4, 3) + dt.timedelta(days=n) for n in range(10)]  # Fri 04-03 .. Sun 04-12
    plan = plan_price_fetches(days, set(), today=D(2026, 6, 1))
    weekends = [p.date for p in plan.dates if p.kind == "weekend"]
    assert weekends == [D(2026, 4, 3), D(2026, 4, 4), D(2026, 4, 11), D(2026, 4, 12)]
    assert plan.planned_calls == 6


def test_plan_deduplicates_dates() -> None:
    plan = plan_price_fetches([D(2025, 12, 3)] * 3, set(), today=D(2025, 12, 8))
    assert plan.dates == (DatePlan(D(2025, 12, 3), "session", 1),)


def test_too_old_and_future() -> None:
    today = D(2026, 11, 23)
    earliest = earliest_loadable(today)
    assert earliest == D(2025, 11, 23)
    days = [D(2024, 1, 5), D(2024, 1, 7), earliest - dt.timedelta(days=1), earliest, D(2026, 11, 24)]
    plan = plan_price_fetches(days, set(), today=today)
    assert [p.kind for p in plan.dates] == ["too_old", "too_old", "too_old", "session", "future"]
    assert plan.planned_calls == 1  # 2025-11-23 is a Sunday of the old regime
    # Age is decided first: 2024-01-05 is a Friday, yet it is too_old, not weekend.
    assert plan.too_old == (D(2024, 1, 5), D(2024, 1, 7), D(2025, 11, 22))
    with pytest.raises(HistoryTooOldError) as caught:
        raise_too_old(plan)
    message = str(caught.value)
    assert message.startswith("2024-01-05 (and 2 more, up to 2025-11-22) is older than the NEPSE API keeps")
    assert "(about 365 days before 2026-11-23)" in message
    assert "the earliest date that can be loaded is 2025-11-23" in message
    assert message.endswith("set NTX_HISTORY_START to a later date or drop these partitions")
    assert isinstance(caught.value, ValueError)


def test_too_old_single_date_message() -> None:
    plan = plan_price_fetches([D(2024, 1, 5)], set(), today=D(2026, 11, 23))
    with pytest.raises(
        HistoryTooOldError, match=r"^2024-01-05 is older than the NEPSE API keeps \(about 365"
    ):
        raise_too_old(plan)


def test_history_days_is_configurable() -> None:
    plan = plan_price_fetches([D(2025, 12, 1)], set(), today=D(2025, 12, 8), history_days=3)
    assert plan.too_old == (D(2025, 12, 1),)
    assert plan.earliest_loadable == D(2025, 12, 5)
    with pytest.raises(ValueError, match="history_days"):
        plan_price_fetches([], set(), today=D(2025, 12, 8), history_days=-1)


def test_empty_plan() -> None:
    plan = plan_price_fetches([], set(), today=D(2025, 12, 8))
    assert plan.dates == () and plan.planned_calls == 0 and plan.sessions == ()


# --- minimum_calls ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sessions_", "rows", "page_size", "calls"),
    [
        (0, [], 500, 0),
        (3, [], 500, 3),  # unknown counts: one call each
        (1, [0], 500, 1),  # an empty session still costs the call that finds it empty
        (1, [500], 500, 1),
        (1, [501], 500, 2),
        (2, [320, 1001], 500, 1 + 3),
        (4, [320, 1001], 500, 1 + 3 + 2),  # two sessions of unknown size
        (2, [320, 1001], 2000, 2),
    ],
)
def test_minimum_calls(sessions_: int, rows: list[int], page_size: int, calls: int) -> None:
    assert minimum_calls(sessions_, rows, page_size=page_size) == calls


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-1, []), "sessions must be >= 0"),
        ((1, [1, 2]), "2 row counts were given for 1 sessions"),
        ((1, [-5]), "row counts must be >= 0"),
        ((1, [5], 0), "page_size must be >= 1"),
    ],
)
def test_minimum_calls_refuses_bad_input(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        minimum_calls(*args)
