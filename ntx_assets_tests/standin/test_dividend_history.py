"""The stand-in's dividend record (dividend_history.py): six fiscal years of declarations for most active
equity companies, served by the corporate-actions and dividend endpoints beside the 13 seeded events, and
an AGM notice per declaration with its book-close date (`GET /api/nots/application/agm/{id}`).

Runs against the suite's session stand-in (seed 7, 365 days ending on the pinned today, 2026-11-20).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from ntx_assets.prices.sessions import is_session
from ntx_assets_tests.standin.salter import SalterClient
from ntx_assets_tests.tools.standin import StandinConfig, StandinServer, holidays
from ntx_assets_tests.tools.standin.book_closures import (
    BookClosure,
    corporate_action_row,
    dividend_notice_row,
)
from ntx_assets_tests.tools.standin.data import StandinData
from ntx_assets_tests.tools.standin.dividend_history import Declaration
from ntx_assets_tests.tools.standin.reports import fiscal_year_start

AGM = "/api/nots/application/agm/{}"
AGM_KEYS = [
    "id", "activeStatus", "applicationType", "applicationStatus", "fiscalReport",
    "applicationDocumentDetailsList", "companyNews",
]  # fmt: skip
NEWS_KEYS = [
    "id", "newsSource", "newsHeadline", "newsBody", "newsType", "expiryDate", "addedDate", "dividendsNotice",
    "bookCloseNotice", "agmNotice",
]  # fmt: skip
# agmNotice: the keys, in order, of the AGM row a public probe recorded in 2026-09 (public-captures/README.md)
NOTICE_KEYS = [
    "id", "activeStatus", "agmType", "agmDate", "agmNo", "bookCloseDate", "cashDividend", "bonusShare",
    "agenda", "venue", "remarks",
]  # fmt: skip


@pytest.fixture(scope="module")
def salter(standin: StandinServer) -> Iterator[SalterClient]:
    client = SalterClient(standin.base_url)
    yield client
    client.close()


def _history(data: StandinData) -> list[Declaration]:
    return [d for d in data.dividend_history if not d.seeded]


def _payers(data: StandinData) -> list[int]:
    """Active equity companies that trade: the ones the history covers."""
    listings = data.universe.by_id
    return [
        c["id"] for c in data.universe.active_equity() if c["id"] in listings and listings[c["id"]].trades
    ]


def _start_year(fiscal_year: str) -> int:
    """Gregorian start year of a Nepali fiscal year name (2081-2082 -> 2024)."""
    return int(fiscal_year[:4]) - 57


# --- the record ----------------------------------------------------------------------------------------


def test_most_companies_declared_in_most_of_the_six_years(standin: StandinServer) -> None:
    data = standin.data
    current = fiscal_year_start(data.end_date)
    payers = _payers(data)
    history = _history(data)
    assert {d.security_id for d in history} <= set(payers)
    assert {_start_year(d.fiscal_year) for d in history} == set(range(current - 6, current))
    # 2077-2078 .. 2081-2082 are wholly announced by the end date (2082-2083 only in part)
    complete = range(current - 6, current - 1)
    declared = {(d.security_id, _start_year(d.fiscal_year)) for d in data.dividend_history}
    share = sum((s, y) in declared for s in payers for y in complete) / (len(payers) * len(complete))
    assert 0.6 <= share <= 0.8, share
    never = [s for s in payers if not any((s, y) in declared for y in range(current - 6, current))]
    assert 0.08 <= len(never) / len(payers) <= 0.25
    # one declaration per company and fiscal year, the seeded event's year included
    pairs = Counter((d.security_id, d.fiscal_year) for d in data.dividend_history)
    assert max(pairs.values()) == 1
    seeded = {(e.security_id, e.fiscal_year) for e in data.book_closures}
    assert seeded <= set(pairs)
    assert len(data.dividend_history) == len(history) + 13 and len(history) > 800


def test_declarations_are_announced_three_to_eight_months_after_the_year(standin: StandinServer) -> None:
    data = standin.data
    for d in _history(data):
        start = _start_year(d.fiscal_year)
        assert d.fy_name == f"{start}-{start + 1}"
        assert 92 <= (d.announced - date(start + 1, 7, 16)).days <= 243, d
        assert d.announced <= data.end_date  # the record is what was announced by the end date
        assert d.kind in ("cash", "bonus") and d.right_pct == 0 and d.right_price is None
        if d.cash_pct:
            # 2-35%, or the cash part that pays the 5% tax on a bonus (b x 5 / 95)
            tax_part = d.bonus_pct and d.cash_pct == round(d.bonus_pct * 5 / 95, 2)
            assert tax_part or 2 <= d.cash_pct <= 35, d
            assert round(d.cash_pct, 2) == d.cash_pct
        if d.bonus_pct:
            assert 5 <= d.bonus_pct <= 25
        assert d.cash_pct or d.bonus_pct
    # most declarations of a year fall in the following one
    following = [fiscal_year_start(d.announced) == _start_year(d.fiscal_year) + 1 for d in _history(data)]
    assert all(following)


def test_inside_the_window_and_for_the_seeded_companies_only_cash(standin: StandinServer) -> None:
    data = standin.data
    first = data.sessions[0]
    seeded_companies = {e.security_id for e in data.book_closures}
    inside = [d for d in _history(data) if d.announced >= first or d.book_close_date >= first]
    assert len(inside) > 100
    for d in inside:
        assert d.bonus_pct == 0 and d.right_pct == 0 and d.kind == "cash", d
    for d in _history(data):
        if d.security_id in seeded_companies:
            assert d.bonus_pct == 0 and d.right_pct == 0, d
    # before the window, any mix: cash only, bonus only, both
    before = [d for d in _history(data) if d.book_close_date < first]
    assert {(bool(d.cash_pct), bool(d.bonus_pct)) for d in before} == {
        (True, False),
        (False, True),
        (True, True),
    }


def test_no_history_cash_figure_passes_for_a_seeded_rebasing(standin: StandinServer) -> None:
    """The product's explainer takes cash dividends as `base = MP - c`, announced up to 400 days before
    the ex date, within max(1 paisa, 0.1%): none of the history comes near any seeded re-basing."""
    data = standin.data
    for event in data.book_closures:
        if not event.rebases:
            continue
        gap = event.prior_close - event.adjusted_base
        for d in _history(data):
            if d.security_id != event.security_id or not d.cash_pct:
                continue
            if event.ex_date - timedelta(days=400) <= d.announced <= event.ex_date:
                assert abs(gap - d.cash_pct) > max(0.01, 0.001 * event.adjusted_base), (event, d)


def test_book_closures_and_agm_notices_keep_their_order(standin: StandinServer) -> None:
    data = standin.data
    calendar = holidays.holiday_dates()
    sessions = set(data.sessions)
    events = {e.security_id: e for e in data.book_closures}
    for d in data.dividend_history:
        assert is_session(d.book_close_date, calendar), d
        if data.sessions[0] <= d.book_close_date <= data.sessions[-1]:
            assert d.book_close_date in sessions
        assert d.book_close_date - d.announced >= timedelta(days=10)
        # published on or after the announcement, 7-20 days before the book closure
        assert d.announced <= d.agm_published
        assert timedelta(days=7) <= d.book_close_date - d.agm_published <= timedelta(days=20)
        assert timedelta(days=1) <= d.agm_date - d.book_close_date <= timedelta(days=5)
        if d.seeded:
            event = events[d.security_id]
            assert (d.book_close_date, d.announced, d.sd_id, d.notice_id) == (
                event.book_close_date,
                event.announced,
                event.sd_id,
                event.notice_id,
            )
            assert (d.bonus_pct, d.right_pct, d.cash_pct, d.fiscal_year) == (
                event.bonus_pct,
                event.right_pct,
                event.cash_pct,
                event.fiscal_year,
            )
    assert sum(d.seeded for d in data.dividend_history) == len(events) == 13


def test_ids_never_collide(standin: StandinServer) -> None:
    data = standin.data
    seeded_sd = {e.sd_id for e in data.book_closures}
    seeded_notices = {e.notice_id for e in data.book_closures} - {None}
    sd_ids = [d.sd_id for d in data.dividend_history]
    notice_ids = [d.notice_id for d in data.dividend_history if d.notice_id is not None]
    agm_ids = [d.agm_notice_id for d in data.dividend_history]
    assert len(set(sd_ids)) == len(sd_ids) and len(set(notice_ids)) == len(notice_ids)
    assert len(set(agm_ids)) == len(agm_ids)
    for d in _history(data):
        assert not min(seeded_sd) <= d.sd_id <= max(seeded_sd)
        assert d.notice_id is not None and not min(seeded_notices) <= d.notice_id <= max(seeded_notices)
    # the companyNews ids of every served dividend and AGM row are distinct too
    news = [
        row["companyNews"]["id"]
        for c in data.companies
        for row in data.dividend_notices(c["id"]) + data.agm_notices(c["id"])
    ]
    assert len(set(news)) == len(news) > 1500


# --- the served rows -------------------------------------------------------------------------------------


def _notice_row(data: StandinData, d: Declaration | BookClosure) -> dict[str, Any] | None:
    name = data.universe.company_by_id[d.security_id]["companyName"].strip()
    return dividend_notice_row(d, name, security=data.objects.security(d.security_id), seed=data.seed)


def test_both_endpoints_serve_the_record_in_the_captured_order(standin: StandinServer) -> None:
    """Corporate actions oldest announcement first, dividend notices newest first."""
    data = standin.data
    by_company: dict[int, list[Declaration]] = {}
    for d in data.dividend_history:
        by_company.setdefault(d.security_id, []).append(d)
    for security_id, declarations in by_company.items():
        oldest_first = sorted(declarations, key=lambda d: (d.announced, d.sd_id))
        assert data.corporate_actions(security_id) == [corporate_action_row(d) for d in oldest_first]
        notices = [row for d in oldest_first[::-1] if (row := _notice_row(data, d)) is not None]
        assert data.dividend_notices(security_id) == notices
        dates = [row["submittedDate"] for row in data.corporate_actions(security_id)]
        assert dates == sorted(dates)
        added = [row["companyNews"]["addedDate"] for row in data.dividend_notices(security_id)]
        assert added == sorted(added, reverse=True)
    # the seeded rows are what book_closures.py made of the events
    for event in data.book_closures:
        assert corporate_action_row(event) in data.corporate_actions(event.security_id)
        notice = _notice_row(data, event)
        assert notice is None or notice in data.dividend_notices(event.security_id)
    # mixed: a seeded company's rows hold its history too, most of them
    assert sum(len(data.corporate_actions(e.security_id)) > 1 for e in data.book_closures) >= 8


def test_agm_rows_are_served_with_their_book_close_dates(
    standin: StandinServer, salter: SalterClient
) -> None:
    data = standin.data
    published = [d for d in data.dividend_history if d.agm_published <= data.end_date]
    assert len(published) < len(data.dividend_history)  # the newest notices are not out yet
    historical = next(
        d.security_id
        for d in _history(data)
        if d.security_id not in {e.security_id for e in data.book_closures}
    )
    companies = sorted({e.security_id for e in data.book_closures} | {historical})
    for security_id in companies:
        response = salter.get(AGM.format(security_id))
        assert response.status_code == 200
        rows = response.json()
        assert rows == data.agm_notices(security_id)
        expected = sorted(
            (d for d in published if d.security_id == security_id),
            key=lambda d: (d.agm_published, d.agm_notice_id),
            reverse=True,
        )
        assert [row["id"] for row in rows] == [d.agm_notice_id for d in expected] and rows
        company = data.universe.company_by_id[security_id]
        for row, d in zip(rows, expected, strict=True):
            assert list(row) == AGM_KEYS and list(row["companyNews"]) == NEWS_KEYS
            news = row["companyNews"]
            notice = news["agmNotice"]
            assert list(notice) == NOTICE_KEYS and "financialYear" not in notice
            assert notice["bookCloseDate"] == d.book_close_date.isoformat()
            assert notice["agmDate"] == d.agm_date.isoformat() == news["expiryDate"]
            assert notice["agmType"] == "AGM" and notice["agmNo"] == d.agm_no
            assert type(notice["id"]) is int and type(notice["agmNo"]) is int and notice["remarks"] is None
            # the declaration's terms as numbers, 0.0 for a term not declared
            assert (notice["cashDividend"], notice["bonusShare"]) == (d.cash_pct, d.bonus_pct)
            assert type(notice["cashDividend"]) is float and type(notice["bonusShare"]) is float
            assert notice["venue"] == d.venue and d.fiscal_year in notice["agenda"]
            assert news["addedDate"].startswith(d.agm_published.isoformat() + "T")
            assert len(news["addedDate"]) == len("2026-09-06T14:02:26.493")
            assert news["newsType"] == "Annual General Meeting" and news["newsSource"] == "Letter/Newspaper"
            assert news["dividendsNotice"] is None and news["bookCloseNotice"] is None
            name, symbol = company["companyName"].strip(), company["symbol"]
            assert news["newsHeadline"] == f"Notice of the annual general meeting of {name} ({symbol})"
            assert isinstance(row["applicationType"], int) and isinstance(row["applicationStatus"], int)
            assert row["fiscalReport"] is None and row["applicationDocumentDetailsList"] == []
        added = [row["companyNews"]["addedDate"] for row in rows]
        assert added == sorted(added, reverse=True)  # newest first
    # the seeded events, the right issue included, close their books on the served date
    for event in data.book_closures:
        dates = {
            row["companyNews"]["agmNotice"]["bookCloseDate"] for row in data.agm_notices(event.security_id)
        }
        assert event.book_close_date.isoformat() in dates, event
    assert salter.http.get(AGM.format(companies[0])).status_code == 401  # the Salter token is needed
    assert salter.get(AGM.format(999_999)).json() == []


def test_agm_numbers_count_each_company_s_meetings(standin: StandinServer) -> None:
    """agmNo: one meeting a fiscal year, counted from the year the company listed in (or its record's
    first year when that is earlier): a company's numbers rise with the fiscal year and never repeat."""
    data = standin.data
    by_company: dict[int, list[Declaration]] = {}
    for d in data.dividend_history:
        by_company.setdefault(d.security_id, []).append(d)
    for security_id, declarations in by_company.items():
        listed = data.facts.securities[security_id].listing_date.year
        first = min(listed, *(_start_year(d.fiscal_year) for d in declarations))
        for d in declarations:
            assert d.agm_no == _start_year(d.fiscal_year) - first + 1 >= 1, d
        numbers = [d.agm_no for d in declarations]
        assert len(set(numbers)) == len(numbers), security_id
    # served: the AGM rows of a company carry distinct numbers, the newest notice the highest
    nabil = data.agm_notices(131)
    numbers = [row["companyNews"]["agmNotice"]["agmNo"] for row in nabil]
    assert (
        len(numbers) >= 3 and numbers == sorted(numbers, reverse=True) and len(set(numbers)) == len(numbers)
    )
    assert max(d.agm_no for d in data.dividend_history) > 30  # long-listed companies count decades


def test_the_agm_endpoint_is_counted_as_its_own_route(standin: StandinServer, salter: SalterClient) -> None:
    security_id = standin.data.book_closures[0].security_id
    before = standin.request_counts().get("GET /api/nots/application/agm/{securityId}", 0)
    assert salter.get(AGM.format(security_id)).status_code == 200
    assert standin.request_counts()["GET /api/nots/application/agm/{securityId}"] == before + 1


# --- determinism ----------------------------------------------------------------------------------------


def test_the_record_is_deterministic_in_seed_and_window() -> None:
    def data(seed: int) -> StandinData:
        return StandinData(StandinConfig(seed=seed, end_date=date(2026, 11, 20)))

    first, again, other = data(7), data(7), data(8)
    assert first.dividend_history == again.dividend_history
    for c in first.universe.active_equity()[:40]:
        for rows in ("corporate_actions", "dividend_notices", "agm_notices"):
            assert getattr(first, rows)(c["id"]) == getattr(again, rows)(c["id"])
    assert [(d.symbol, d.fiscal_year, d.cash_pct) for d in other.dividend_history] != [
        (d.symbol, d.fiscal_year, d.cash_pct) for d in first.dividend_history
    ]
    # another window: the record ends at its end date
    earlier = StandinData(StandinConfig(seed=7, end_date=date(2026, 5, 15)))
    assert max(d.announced for d in earlier.dividend_history) <= date(2026, 5, 15)
    assert earlier.dividend_history != first.dividend_history
