"""The stand-in's book closures (docs/NEPSE_API.md section 8): bonus and right issues re-base the price on the
company's next traded session, cash dividends do not, and every served series tells the same story.

Runs against the suite's session stand-in (seed 7, window ending on the pinned today).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from ntx_assets.nepse import NepseClient
from ntx_assets.nepse.models import CorporateAction, DividendApplication, PriceHistoryRow, TodayPrice
from ntx_assets_tests.standin.salter import SalterClient
from ntx_assets_tests.tools.demo.options import Options
from ntx_assets_tests.tools.standin import StandinConfig, StandinServer
from ntx_assets_tests.tools.standin.book_closures import BookClosure
from ntx_assets_tests.tools.standin.data import StandinData
from ntx_assets_tests.tools.standin.prices import TICKS_PER_RUPEE

CORPORATE_ACTIONS = "/api/nots/security/corporate-actions/{}"
DIVIDEND = "/api/nots/application/dividend/{}"
AGM = "/api/nots/application/agm/{}"


@pytest.fixture(scope="module")
def salter(standin: StandinServer) -> Iterator[SalterClient]:
    client = SalterClient(standin.base_url)
    yield client
    client.close()


def _formula(event: BookClosure, mp: float) -> float:
    """NEPSE's published formulas, bonus and right combined as (MP + P r) / (1 + b + r)."""
    b, r = event.bonus_pct / 100, event.right_pct / 100
    return (mp + (event.right_price or 0.0) * r) / (1 + b + r)


def _exact_base(event: BookClosure, mp: float) -> float:
    """The same in decimal arithmetic, rounded half-up to the paisa."""
    b, r = Decimal(str(event.bonus_pct)) / 100, Decimal(str(event.right_pct)) / 100
    value = (Decimal(str(mp)) + Decimal(str(event.right_price or 0)) * r) / (1 + b + r)
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _row(rows: list[dict[str, Any]], security_id: int) -> dict[str, Any] | None:
    return next((row for row in rows if row["securityId"] == security_id), None)


def _served_today(salter: SalterClient, day: date) -> list[dict[str, Any]]:
    page = salter.today_price(size=2000, businessDate=day.isoformat()).json()
    assert page["totalElements"] == len(page["content"])
    return page["content"]


# --- the events ---------------------------------------------------------------------------------------


def test_the_year_has_every_kind_of_event_inside_the_window(standin: StandinServer) -> None:
    data = standin.data
    events = data.book_closures
    assert 10 <= len(events) <= 20
    kinds = [e.kind for e in events]
    assert kinds.count("bonus") >= 3 and kinds.count("cash") >= 1
    bonuses = {e.bonus_pct for e in events if e.kind == "bonus"}
    assert all(5 <= pct <= 30 for pct in bonuses) and {10.0, 12.5, 20.0} <= bonuses
    (right,) = [e for e in events if e.kind == "right"]
    assert (right.right_pct, right.right_price, right.bonus_pct) == (100.0, 100.0, 0.0)
    (both,) = [e for e in events if e.kind == "bonus_right"]
    assert both.bonus_pct > 0 and both.right_pct > 0 and both.right_price == 100.0
    assert len({e.security_id for e in events}) == len(events)
    for e in events:
        assert data.sessions[0] <= e.book_close_date < e.ex_date <= data.sessions[-1]
        assert timedelta(days=10) <= e.book_close_date - e.announced <= timedelta(days=40)
        assert e.rebases == (e.kind != "cash")
        assert e.share_factor == pytest.approx(1 + (e.bonus_pct + e.right_pct) / 100)
    # one company does not trade for 2-4 sessions after its book closure
    gaps = [data.sessions.index(e.ex_date) - data.sessions.index(e.book_close_date) - 1 for e in events]
    assert sorted(gaps)[-1] in (2, 3, 4) and sorted(gaps)[-2] == 0


def test_at_least_three_rebasings_fall_in_the_demos_default_window(standin: StandinServer) -> None:
    # The demo loads the last Options().sessions closed sessions; the last session may not be closed yet.
    sessions = standin.data.sessions
    window = set(sessions[-Options().sessions - 1 : -1])
    recent = [e for e in standin.data.book_closures if {e.book_close_date, e.ex_date} <= window]
    assert sum(e.rebases for e in recent) >= 3


# --- prices -------------------------------------------------------------------------------------------


def test_the_next_traded_session_starts_from_the_adjusted_base(
    standin: StandinServer, salter: SalterClient
) -> None:
    data = standin.data
    for event in data.book_closures:
        closing = _row(_served_today(salter, event.book_close_date), event.security_id)
        opening = _row(_served_today(salter, event.ex_date), event.security_id)
        assert closing is not None and opening is not None, event
        mp = closing["closePrice"]
        assert mp == event.prior_close == data.close_price(event.security_id, event.book_close_date)
        base = opening["previousDayClosePrice"]
        assert base == event.adjusted_base == _exact_base(event, mp), event
        assert abs(base - round(_formula(event, mp), 2)) <= 0.005 + 1e-9
        if event.rebases:
            assert base < mp
        else:
            assert base == mp  # a cash dividend re-bases nothing
        # the session trades inside NEPSE's band around the base, not around MP
        for field in ("openPrice", "highPrice", "lowPrice", "closePrice"):
            assert base * 0.9 - 1e-9 <= opening[field] <= base * 1.1 + 1e-9, (event, field)
        # the history tells the same story: MP on the book closure, the new basis on the ex date
        history = {row["businessDate"]: row for row in data.history(event.security_id)}
        assert history[event.book_close_date.isoformat()]["closePrice"] == mp
        assert history[event.ex_date.isoformat()]["closePrice"] == opening["closePrice"]
        assert not any(event.book_close_date.isoformat() < day < event.ex_date.isoformat() for day in history)


def test_no_other_session_changes_the_previous_close(standin: StandinServer) -> None:
    data = standin.data
    ex_dates = {(e.security_id, e.ex_date) for e in data.book_closures if e.rebases}
    # The price archive's companies re-base where NEPSE really did (prices.py): those sessions too.
    table = data.prices
    ex_dates |= {
        (table.security_ids[r], table.sessions[t])
        for r, t in table.rebased
        if table.is_archived(r, t) and table.traded[r, :t].any()
    }
    last_close: dict[int, float] = {}
    checked = rebased = 0
    for day in data.sessions:
        for row in data.today_rows(day):
            security_id = row["securityId"]
            if security_id in last_close:
                differs = abs(row["previousDayClosePrice"] - last_close[security_id]) > 0.005
                assert differs == ((security_id, day) in ex_dates), (row["symbol"], day)
                checked += 1
                rebased += differs
            last_close[security_id] = row["closePrice"]
    assert rebased == len(ex_dates) and checked > 50_000


def test_history_and_today_price_agree_for_the_companies_with_events(standin: StandinServer) -> None:
    data = standin.data
    for event in data.book_closures:
        history = data.history(event.security_id)
        served = {
            day.isoformat(): row
            for day in data.sessions
            if (row := _row(data.today_rows(day), event.security_id)) is not None
        }
        assert [row["businessDate"] for row in history] == sorted(served, reverse=True)
        for row in history:
            today = served[row["businessDate"]]
            assert (row["closePrice"], row["highPrice"], row["lowPrice"]) == (
                today["closePrice"],
                today["highPrice"],
                today["lowPrice"],
            )


def test_the_idle_company_has_no_rows_between_book_closure_and_ex_date(standin: StandinServer) -> None:
    data = standin.data
    (event,) = [
        e
        for e in data.book_closures
        if data.sessions.index(e.ex_date) - data.sessions.index(e.book_close_date) > 1
    ]
    gap = [day for day in data.sessions if event.book_close_date < day < event.ex_date]
    assert 2 <= len(gap) <= 4
    for day in gap:
        assert _row(data.today_rows(day), event.security_id) is None
    history_days = {row["businessDate"] for row in data.history(event.security_id)}
    assert not history_days & {day.isoformat() for day in gap}
    assert event.ex_date.isoformat() in history_days and event.rebases


def test_shares_and_market_capitalisation_follow_the_issue(
    standin: StandinServer, salter: SalterClient
) -> None:
    data = standin.data
    for event in data.book_closures:
        before = data.listed_shares(event.security_id, event.book_close_date)
        after = data.listed_shares(event.security_id, event.ex_date)
        assert after == (round(before * event.share_factor) if event.rebases else before)
        detail = salter.security_detail(event.security_id).json()
        assert detail["stockListedShares"] == float(data.listed_shares(event.security_id, data.end_date))
        assert detail["paidUpCapital"] == detail["stockListedShares"] * 100.0
        assert detail["stockListedShares"] >= after
        for day, shares in ((event.book_close_date, before), (event.ex_date, after)):
            row = _row(data.today_rows(day), event.security_id)
            assert row is not None
            assert row["marketCapitalization"] == round(row["closePrice"] * shares / 1_000_000, 2)


def test_the_adjusted_base_is_paisa_exact_and_the_prices_stay_on_ticks(standin: StandinServer) -> None:
    for event in standin.data.book_closures:
        assert round(event.adjusted_base * 100) == pytest.approx(event.adjusted_base * 100, abs=1e-6)
        row = _row(standin.data.today_rows(event.ex_date), event.security_id)
        assert row is not None
        for field in ("openPrice", "highPrice", "lowPrice", "closePrice"):
            ticks = row[field] * TICKS_PER_RUPEE
            assert abs(ticks - round(ticks)) < 1e-6


# --- announcements ------------------------------------------------------------------------------------


def test_corporate_actions_are_served_and_parse(standin: StandinServer, salter: SalterClient) -> None:
    data = standin.data
    status = {
        "bonus": "BONUS_APPROVED",
        "right": "RIGHT_APPROVED",
        "bonus_right": "BONUS_RIGHT_APPROVED",
        "cash": "CASH_DIVIDEND_APPROVED",
    }
    sd_ids: set[int] = set()
    for event in data.book_closures:
        response = salter.get(CORPORATE_ACTIONS.format(event.security_id))
        assert response.status_code == 200
        rows = response.json()
        assert rows == data.corporate_actions(event.security_id)
        # the seeded event among the company's history (dividend_history.py), which is cash only
        (seeded,) = [row for row in rows if row["sdId"] == event.sd_id]
        assert all(
            row["bonusPercentage"] is None and row["rightPercentage"] is None for row in rows if row != seeded
        )
        action = CorporateAction.model_validate(seeded)
        assert action.sd_id == event.sd_id and action.sd_id not in sd_ids
        sd_ids.add(action.sd_id)
        assert action.active_status == status[event.kind]
        assert action.submitted_date is not None
        assert action.submitted_date.startswith(event.announced.isoformat() + "T")
        assert action.fiscal_year == event.fiscal_year and len(event.fiscal_year) == 9
        assert action.bonus_percentage == (event.bonus_pct or None)
        assert action.right_percentage == (event.right_pct or None)
        assert action.right_amount_per_share == event.right_price
        assert action.cash_dividend == (event.cash_pct or None)
        assert action.ratio_num is not None and action.ratio_den == 1_000_000
        assert action.ratio_num / action.ratio_den == pytest.approx((event.bonus_pct + event.right_pct) / 100)
        assert isinstance(seeded["authorizationComments"], str)
        # the captured row's keys in its order (public-captures/ca_pratap22.json; test_announcements.py)
        assert list(seeded) == [
            "activeStatus",
            "authorizationComments",
            "submittedDate",
            "filePath",
            "documentId",
            "ratioNum",
            "ratioDen",
            "cashDividend",
            "fiscalYear",
            "rightAmountPerShare",
            "bonusPercentage",
            "rightPercentage",
            "sdId",
        ]


def test_dividend_notices_are_served_and_parse(standin: StandinServer, salter: SalterClient) -> None:
    data = standin.data
    ids: set[int] = set()
    for event in data.book_closures:
        rows = salter.get(DIVIDEND.format(event.security_id)).json()
        assert rows == data.dividend_notices(event.security_id)
        history = {d.notice_id for d in data.dividend_history if d.security_id == event.security_id}
        assert {row["id"] for row in rows} == history - {None}
        if event.kind == "right":
            assert event.notice_id is None  # a right is no dividend
            continue
        seeded = [row for row in rows if row["id"] == event.notice_id]
        (notice,) = [DividendApplication.model_validate(row) for row in seeded]
        assert notice.id not in ids and notice.active_status == "A"
        ids.add(notice.id)
        # the 2026-09 shape: dated by companyNews.addedDate, no modifiedDate
        assert notice.modified_date is None and "modifiedDate" not in seeded[0]
        news = notice.company_news
        assert news is not None and news.news_type == "Dividend Declaration"
        assert news.added_date is not None and news.added_date.startswith(event.announced.isoformat() + "T")
        assert news.dividends_notice is not None
        terms = news.dividends_notice
        # a term not declared is 0.0, as the capture's rightShare
        assert (terms.bonus_share, terms.right_share, terms.cash_dividend) == (
            event.bonus_pct,
            event.right_pct,
            event.cash_pct,
        )
        assert terms.financial_year is not None and terms.financial_year.fy_name_nepali == event.fiscal_year
        raw = seeded[0]
        assert isinstance(raw["applicationType"], int) and isinstance(raw["applicationStatus"], int)
        assert len(raw["companyNews"]["addedDate"]) == len("2026-09-06T14:02:26.493")


def test_securities_without_events_and_unknown_ids_get_empty_lists(
    standin: StandinServer, salter: SalterClient
) -> None:
    declaring = {d.security_id for d in standin.data.dividend_history}
    # an active equity company that never paid (about 15% of them)
    quiet = next(c["id"] for c in standin.data.universe.active_equity() if c["id"] not in declaring)
    for security_id in (quiet, 999_999):
        for path in (CORPORATE_ACTIONS, DIVIDEND, AGM):
            response = salter.get(path.format(security_id))
            assert response.status_code == 200 and response.json() == []
    for path in (CORPORATE_ACTIONS, AGM):
        assert salter.get(path.format("NABIL")).json() == []


def test_the_announcements_need_the_salter_token(standin: StandinServer, salter: SalterClient) -> None:
    security_id = standin.data.book_closures[0].security_id
    for path in (CORPORATE_ACTIONS, DIVIDEND, AGM):
        assert salter.http.get(path.format(security_id)).status_code == 401


def test_the_product_client_reads_the_announcements_and_the_rebasing(standin: StandinServer) -> None:
    data = standin.data
    events = data.book_closures
    with NepseClient(
        standin.base_url, requests_per_second=200.0, backoff_base_seconds=0.005, backoff_max_seconds=0.02
    ) as client:
        for event in events:
            actions = client.corporate_actions(event.security_id)
            assert [a.model_dump(by_alias=True) for a in actions] == data.corporate_actions(event.security_id)
            notices = client.dividend_notices(event.security_id)
            assert [n.model_dump(by_alias=True) for n in notices] == data.dividend_notices(event.security_id)
        assert client.corporate_actions(999_999) == [] and client.dividend_notices(999_999) == []
        event = next(e for e in events if e.kind == "bonus_right")
        rows = client.today_prices(event.ex_date)
        (row,) = [r for r in rows if r.security_id == event.security_id]
        assert isinstance(row, TodayPrice)
        history = client.price_history(event.security_id, event.book_close_date, event.ex_date)
        assert all(isinstance(h, PriceHistoryRow) for h in history)
        assert {h.business_date: h.close_price for h in history}[event.book_close_date] == event.prior_close
    assert row.previous_day_close_price == event.adjusted_base


# --- determinism --------------------------------------------------------------------------------------


def test_book_closures_are_deterministic_in_the_seed() -> None:
    def data(seed: int) -> StandinData:
        return StandinData(StandinConfig(seed=seed, end_date=date(2026, 11, 20)))

    first, again, other = data(7), data(7), data(8)
    assert first.book_closures == again.book_closures
    for event in first.book_closures:
        assert first.corporate_actions(event.security_id) == again.corporate_actions(event.security_id)
        assert first.dividend_notices(event.security_id) == again.dividend_notices(event.security_id)
        assert first.today_rows(event.ex_date) == again.today_rows(event.ex_date)
    assert [(e.symbol, e.book_close_date) for e in other.book_closures] != [
        (e.symbol, e.book_close_date) for e in first.book_closures
    ]


def test_a_short_window_has_no_events_and_a_quarter_has_some() -> None:
    assert StandinData(StandinConfig(seed=7, end_date=date(2026, 11, 20), days=30)).book_closures == []
    quarter = StandinData(StandinConfig(seed=7, end_date=date(2026, 11, 20), days=90))
    assert 10 <= len(quarter.book_closures) <= 20
