"""The trading calendar (regimes, real holidays, real NABIL sessions) and the price-fetch planner."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ntx_assets.nepse.models import Holiday, MarketStatus
from ntx_assets.prices import sessions
from ntx_assets.prices.sessions import (
    holiday_dates,
    is_session,
    is_trading_weekday,
    next_trading_weekday,
)
from ntx_assets_tests.tools.standin.snapshots import SNAPSHOT_DIR

# Decides by the calendar: rerun under faketime with `make test-calendar` (pytest -m calendar).
pytestmark = pytest.mark.calendar

D = dt.date
SNAPSHOT = SNAPSHOT_DIR  # the real 2025-12-04 NEPSE answers the stand-in serves
DATA = Path(__file__).resolve().parents[1] / "data"


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def holidays() -> set[dt.date]:
    rows = [*_load(SNAPSHOT / "static__holidays_2024.json"), *_load(SNAPSHOT / "static__holidays_2025.json")]
    return holiday_dates(Holiday.model_validate(row) for row in rows)


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
    "row",
    [{"holidayDescription": "x"}, {"holidayDate": None}, "2025-12-04", {"holidayDate": "04/12/2025"}],
)
def test_a_malformed_holiday_row_is_refused_by_the_client_model(row: Any) -> None:
    """A silently skipped holiday would plan a call for a closed market: the client's Holiday model
    refuses the row (NepseRowError names it), so holiday_dates only ever sees dates."""
    with pytest.raises(ValidationError):
        Holiday.model_validate(row)


def test_holiday_dates_accepts_a_timestamp_and_merges_years() -> None:
    rows = [
        {"holidayDate": "2025-12-04T00:00:00"},
        {"holidayDate": "2025-12-04"},
        {"holidayDate": "2024-12-15"},
    ]
    assert holiday_dates(Holiday.model_validate(row) for row in rows) == {D(2025, 12, 4), D(2024, 12, 15)}
    assert holiday_dates([]) == set()


def test_the_next_trading_weekday_follows_the_week_of_its_regime() -> None:
    assert next_trading_weekday(dt.date(2026, 11, 20)) == dt.date(2026, 11, 23)  # Friday -> Monday
    assert next_trading_weekday(dt.date(2026, 11, 23)) == dt.date(2026, 11, 24)
    assert next_trading_weekday(dt.date(2026, 3, 19)) == dt.date(2026, 3, 22)  # Thursday -> Sunday (Sun-Thu)


def test_a_session_can_have_closed_only_from_its_close_on_by_the_clock_alone() -> None:
    friday = D(2026, 11, 20)

    def at(day: dt.date, hour: int, minute: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute))

    assert not sessions.session_can_have_closed(friday, at(friday, 14, 59))
    assert sessions.session_can_have_closed(friday, at(friday, 15, 0))
    assert sessions.session_can_have_closed(friday, at(D(2026, 11, 21), 9, 0))
    assert not sessions.session_can_have_closed(D(2026, 11, 23), at(friday, 23, 59))


def test_todays_session_is_closed_once_nepse_says_so_and_nepse_is_asked_only_after_the_close() -> None:
    friday = D(2026, 11, 20)
    asked: list[int] = []

    def status(state: str, as_of: str) -> Any:
        def ask() -> MarketStatus:
            asked.append(1)
            return MarketStatus.model_validate({"isOpen": state, "asOf": as_of, "id": 1})

        return ask

    before_close = dt.datetime.combine(friday, dt.time(14, 30))
    after_close = dt.datetime.combine(friday, dt.time(15, 5))
    assert sessions.close_rule(friday, before_close, status("CLOSE", "2026-11-20T15:00:00"), None) is None
    assert asked == []
    assert (
        sessions.close_rule(D(2026, 11, 19), before_close, status("OPEN", "2026-11-20T11:00:00"), None)
        == sessions.EARLIER_DATE
    )
    assert asked == []
    assert sessions.close_rule(friday, after_close, status("OPEN", "2026-11-20T14:59:00"), None) is None
    assert sessions.close_rule(friday, after_close, status("CLOSE", "2026-11-19T15:00:00"), None) is None
    assert (
        sessions.close_rule(friday, after_close, status("CLOSE", "2026-11-20T15:00:00"), None)
        == sessions.NEPSE_CLOSE_FLAG
    )
    assert len(asked) == 3
