from __future__ import annotations

from datetime import date, timedelta

import pytest

from ntx_assets_tests.standin.salter import SalterClient
from ntx_assets_tests.tools.standin import StandinServer, snapshots
from ntx_assets_tests.tools.standin.holidays import holiday_dates
from ntx_assets_tests.tools.standin.sessions import session_days

# docs/NEPSE_API.md section 4: the last Sunday session was 2026-04-05, Monday-Friday from 2026-04-06.
MONDAY_FRIDAY_FROM = date(2026, 4, 6)

# Decides by the calendar: rerun under faketime with `make test-calendar` (pytest -m calendar).
pytestmark = pytest.mark.calendar


def test_rule_reproduces_nabils_real_sessions() -> None:
    real = snapshots.load("historical__securities__security_131_extended")["content"]
    real_dates = sorted(date.fromisoformat(row["businessDate"]) for row in real)
    assert session_days(real_dates[0], real_dates[-1], holiday_dates()) == real_dates


def test_sunday_sessions_before_the_switch_and_friday_sessions_after(server: StandinServer) -> None:
    sessions = server.data.sessions
    assert any(d.weekday() == 6 and d < MONDAY_FRIDAY_FROM for d in sessions)
    assert not any(d.weekday() == 6 and d >= MONDAY_FRIDAY_FROM for d in sessions)
    assert any(d.weekday() == 4 and d >= MONDAY_FRIDAY_FROM for d in sessions)
    assert not any(d.weekday() == 4 and d < MONDAY_FRIDAY_FROM for d in sessions)
    assert date(2026, 4, 5) in sessions and date(2026, 4, 10) in sessions
    assert not any(d.weekday() == 5 for d in sessions)


def test_holidays_are_not_sessions(server: StandinServer, client: SalterClient) -> None:
    sessions = set(server.data.sessions)
    start, end = server.data.start_date, server.data.end_date
    in_window = [d for d in holiday_dates() if start <= d <= end]
    assert in_window and not sessions & set(in_window)
    weekday_holiday = next(d for d in sorted(in_window) if d.weekday() in (0, 1, 2, 3))
    page = client.today_price(businessDate=weekday_holiday.isoformat()).json()
    assert page["totalElements"] == 0 and page["content"] == []


def test_window_is_the_configured_calendar_days(server: StandinServer) -> None:
    data = server.data
    assert data.end_date - data.start_date == timedelta(days=364)
    assert data.start_date <= data.sessions[0] and data.sessions[-1] <= data.end_date
