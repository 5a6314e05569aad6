"""nepsepy 1.0.4, a public NEPSE client written by others for the live site, against our stand-in.

The stand-in and our client were written from the same notes (docs/NEPSE_API.md), so a mistake in the notes is
made on both sides. nepsepy was not: it runs the served css.wasm with its own argument orders, signs POST
bodies with its own DUMMY table and salting rules ("verified against live traffic", its checksum.py says),
and builds its own URLs. Each test below has it call one endpoint the product reads, then checks that the
answer parses with our models (ntx_assets.nepse.models) and is what the stand-in's data holds.

nepsepy is a test-only dependency (pyproject's `dev` extra); the product never imports it. Its payload ids
use the machine's real Nepal day, as the stand-in does, so the pinned clock plays no part here.
FINDINGS.md (beside this file) records which source confirms each endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from nepsepy import NepseClient as PeerClient
from pydantic import BaseModel

from ntx_assets.common.clock import NEPAL_TZ
from ntx_assets.nepse import NepseClient
from ntx_assets.nepse.models import (
    Company,
    CorporateAction,
    DividendApplication,
    Holiday,
    MarketStatus,
    PriceHistoryRow,
    Report,
    Security,
    SecurityDetail,
    SecurityProfile,
    TodayPrice,
)
from ntx_assets.nepse.payload_id import DUMMY, base_id
from ntx_assets_tests.pinned import PINNED_TODAY
from ntx_assets_tests.tools.standin import StandinConfig, StandinServer, running_standin

pytestmark = pytest.mark.peer

PROVE = "GET /api/authenticate/prove"
REFRESH = "POST /api/authenticate/refresh-token"
WASM = "GET /assets/prod/css.wasm"
MARKET_OPEN = "GET /api/nots/nepse-data/market-open"
TODAY_PRICE = "POST /api/nots/nepse-data/today-price"
TODAYS_PRICE = "POST /api/nots/nepse-data/todays-price/"
NABIL, SCB = 131, 133  # SCB's profile is the one real capture the stand-in serves verbatim


def _nepal_day() -> int:
    return datetime.now(NEPAL_TZ).day


def _market_id_where_variants_differ(day: int) -> int:
    """A market-open id for which today-price's variants B and C give different ids today, so a server
    that wanted C would refuse nepsepy's B (they agree whenever base % 10 != 4)."""
    return next(m for m in range(len(DUMMY)) if base_id(m, day) % 10 == 4)


@pytest.fixture(scope="module")
def standin() -> Iterator[StandinServer]:
    """The session stand-in's data (seed 7, window ending on the pinned today) with the default payload-id
    variant, and a market id that makes today a day where B and C disagree. Its own server, so request
    counts and token expiry stay inside this module."""
    market_id = _market_id_where_variants_differ(_nepal_day())
    config = StandinConfig(seed=7, end_date=PINNED_TODAY, market_id=market_id)
    with running_standin(config) as server:
        yield server


@pytest.fixture(scope="module")
def peer(standin: StandinServer) -> Iterator[PeerClient]:
    """nepsepy as shipped, pointed at the loopback stand-in (its base_url override; plain http, no TLS
    involved). Only its politeness delay is zeroed: the stand-in has no rate limit."""
    with PeerClient(base_url=standin.base_url, min_interval=0.0) as client:
        yield client


@pytest.fixture
def counts(standin: StandinServer) -> StandinServer:
    standin.reset_counts()
    return standin


def _parse(model: type[BaseModel], rows: Any) -> list[Any]:
    assert isinstance(rows, list), f"expected a JSON array, got {type(rows).__name__}"
    return [model.model_validate(row) for row in rows]


def _dumped(records: list[Any]) -> list[dict[str, Any]]:
    return [record.model_dump(by_alias=True) for record in records]


def _session_with_trades(standin: StandinServer) -> date:
    for day in reversed(standin.data.sessions):
        if standin.data.today_prices(day):
            return day
    raise AssertionError("the stand-in has no session with trades")


def _company_with_reports(standin: StandinServer) -> tuple[int, list[dict[str, Any]]]:
    hostile = {standin.data.escaping_document_symbol, standin.data.oversize_document_symbol}
    for company in standin.data.companies:
        if company["symbol"] in hostile:
            continue
        reports = standin.data.reports(company["id"])
        if reports:
            return company["id"], reports
    raise AssertionError("no company with reports")


# --- handshake ----------------------------------------------------------------------------------------


def test_bootstrap_cleans_both_tokens_with_the_served_wasm(counts: StandinServer) -> None:
    # A fresh client: prove, download css.wasm, cut with nepsepy's own argument orders.
    with PeerClient(base_url=counts.base_url, min_interval=0.0) as fresh:
        fresh.bootstrap()
        status = MarketStatus.model_validate(fresh.market_status())  # accepted: the access token is clean
        fresh._refresh_once()  # accepted: the refresh token is clean too (its cuts come from salt1)
        again = MarketStatus.model_validate(fresh.market_status())  # the refreshed access token works
    assert status.id == again.id == counts.data.market_id
    calls = counts.request_counts()
    assert calls[PROVE] == 1 and calls[WASM] == 1 and calls[REFRESH] == 1 and calls[MARKET_OPEN] == 2


def test_expired_access_token_is_refreshed_not_reproven(peer: PeerClient, counts: StandinServer) -> None:
    peer.market_status()  # bootstrapped
    counts.reset_counts()
    counts.expire_tokens()
    MarketStatus.model_validate(peer.market_status())
    calls = counts.request_counts()
    # 401, then nepsepy's one normal refresh (POST refresh-token), then the retried call
    assert calls[MARKET_OPEN] == 2 and calls[REFRESH] == 1 and PROVE not in calls


# --- calendar -----------------------------------------------------------------------------------------


def test_market_open(peer: PeerClient, standin: StandinServer) -> None:
    status = MarketStatus.model_validate(peer.market_status())
    assert status.id == standin.data.market_id
    assert status.business_date == standin.data.last_session
    assert status.closed


@pytest.mark.parametrize("year", [PINNED_TODAY.year - 1, PINNED_TODAY.year])
def test_holiday_list(peer: PeerClient, standin: StandinServer, year: int) -> None:
    holidays = _parse(Holiday, peer.holidays(year))
    assert holidays, f"no holidays for {year}"
    assert _dumped(holidays) == standin.data.holiday_rows(year)
    assert {h.holiday_date.year for h in holidays} == {year}


# --- companies and securities ---------------------------------------------------------------------------


def test_company_list(peer: PeerClient, standin: StandinServer) -> None:
    companies = _parse(Company, peer.companies_list())
    assert _dumped(companies) == standin.data.companies
    assert len(companies) == 612


def test_security_list_non_delisted(peer: PeerClient, standin: StandinServer) -> None:
    securities = _parse(Security, peer.companies())  # nepsepy's default is ?nonDelisted=true
    assert _dumped(securities) == standin.data.securities
    assert {s.active_status for s in securities} <= {"A", "S"}


def test_classification(peer: PeerClient, standin: StandinServer) -> None:
    page = peer.classification(size=2000)
    rows = _parse(SecurityDetail, page["content"])
    assert page["totalElements"] == len(rows) == len(standin.data.classification)
    assert _dumped(rows) == standin.data.classification
    # nepsepy's 1-based pages land on Spring's 0-based ones
    second = peer.classification(page=2, size=100)
    assert second["number"] == 1 and second["content"] == standin.data.classification[100:200]


def test_promoters(peer: PeerClient, standin: StandinServer) -> None:
    page = peer.promoters(size=2000)
    rows = _parse(SecurityDetail, page["content"])
    assert page["totalElements"] == len(rows) == len(standin.data.promoters)
    assert _dumped(rows) == standin.data.promoters
    assert {row.is_promoter for row in rows} == {"Y"}


@pytest.mark.parametrize("security_id", [NABIL, SCB])
def test_security_profile(peer: PeerClient, standin: StandinServer, security_id: int) -> None:
    profile = SecurityProfile.model_validate(peer.security_profile(security_id))
    assert profile.model_dump(by_alias=True) == standin.data.profile(security_id)


def test_security_detail_get(peer: PeerClient, standin: StandinServer) -> None:
    """GET /security/{id}: nepsepy's `security_detail`, no payload id, `{securityData, securityMcsData}`."""
    answer = peer.security_detail(NABIL)
    assert set(answer) == {"securityData", "securityMcsData"}
    summary = SecurityDetail.model_validate(answer["securityData"])
    full = standin.data.security_detail(NABIL)
    assert full is not None
    security = SecurityDetail.model_validate(full["security"])
    assert (summary.id, summary.symbol, summary.security_name) == (NABIL, "NABIL", security.security_name)
    assert summary.active_status == security.active_status
    assert summary.permitted_to_trade == security.permitted_to_trade
    assert answer["securityData"]["sector"] == security.sector_name
    assert answer["securityMcsData"] == full["securityDailyTradeDto"]


def test_security_detail_post_with_the_raw_id(peer: PeerClient, standin: StandinServer) -> None:
    """POST /security/{id} with nepsepy's unsalted base id (`_signed("raw")`): pins the DUMMY table."""
    answer = peer.company_info(NABIL)
    assert answer == standin.data.security_detail(NABIL)
    assert SecurityDetail.model_validate(answer["security"]).symbol == "NABIL"


# --- prices ---------------------------------------------------------------------------------------------


def test_today_price_accepts_nepsepys_variant_b(peer: PeerClient, counts: StandinServer) -> None:
    day = _session_with_trades(counts)
    peer.market_status()  # nepsepy caches the market id; count only the price call below
    counts.reset_counts()
    page = peer.today_price(size=2000, business_date=day.isoformat())
    rows = _parse(TodayPrice, page["content"])
    assert page["totalElements"] == len(rows) > 0
    assert _dumped(rows) == counts.data.today_prices(day)
    assert {row.business_date for row in rows} == {day}
    # one call, accepted: on this server's market id B and C differ today (unless the Nepal date turned
    # since the fixture started), so a server that wanted C would have answered an empty 200
    assert counts.request_counts() == {TODAY_PRICE: 1}


def test_our_client_needs_no_fallback_call(standin: StandinServer, counts: StandinServer) -> None:
    """B first: against the default stand-in our client's first today-price call is accepted."""
    day = _session_with_trades(standin)
    with NepseClient(standin.base_url, requests_per_second=1000.0, page_size=2000) as ours:
        rows = ours.today_prices(day)
    assert _dumped(rows) == standin.data.today_prices(day)
    assert counts.request_counts()[TODAY_PRICE] == 1


def test_todays_price_full_list(peer: PeerClient, standin: StandinServer, counts: StandinServer) -> None:
    """POST /todays-price/?businessDate= (nepsepy `today_price_all`): today-price's rows, one unpaged call."""
    day = _session_with_trades(standin)
    peer.market_status()
    counts.reset_counts()
    rows = _parse(TodayPrice, peer.today_price_all(business_date=day.isoformat()))
    assert _dumped(rows) == standin.data.today_prices(day)
    assert counts.request_counts() == {TODAYS_PRICE: 1}


def test_price_history(peer: PeerClient, standin: StandinServer) -> None:
    start, end = standin.data.start_date, standin.data.end_date
    page = peer.stock_trading_history(NABIL, size=2000, start=start.isoformat(), end=end.isoformat())
    rows = _parse(PriceHistoryRow, page["content"])
    assert rows and _dumped(rows) == standin.data.history(NABIL)
    dates = [row.business_date for row in rows]
    assert dates == sorted(dates, reverse=True)  # newest first
    assert all("openPrice" not in row for row in page["content"])


# --- filings --------------------------------------------------------------------------------------------


def test_reports_and_their_documents(peer: PeerClient, standin: StandinServer) -> None:
    security_id, expected = _company_with_reports(standin)
    reports = _parse(Report, peer.financial_reports(security_id))
    assert _dumped(reports) == expected
    document = reports[0].documents[0]
    assert document.file_path and document.encrypted_id
    pdf = standin.data.document_bytes(document.file_path)
    assert pdf is not None and pdf.startswith(b"%PDF")
    assert peer.security_file(document.file_path) == pdf  # GET /security/fetchFiles?fileLocation=
    assert peer.fetch_application_file(document.encrypted_id) == pdf  # GET /application/fetchFiles


# --- corporate actions and dividends ----------------------------------------------------------------------


def test_corporate_actions(peer: PeerClient, standin: StandinServer) -> None:
    """nepsepy `corporate_actions` (GET /security/corporate-actions/{id}) for every kind of event the
    stand-in generates; the shapes come from go-nepse `types.go` and were never checked against the live
    site (FINDINGS.md)."""
    events = standin.data.book_closures
    assert {e.kind for e in events} == {"bonus", "right", "bonus_right", "cash"}
    for event in events:
        actions = _parse(CorporateAction, peer.corporate_actions(event.security_id))
        assert _dumped(actions) == standin.data.corporate_actions(event.security_id)
        # the seeded event among the company's cash-only history (dividend_history.py)
        (action,) = [a for a in actions if a.sd_id == event.sd_id]
        assert all(
            a.bonus_percentage is None and a.right_percentage is None for a in actions if a is not action
        )
        assert action.sd_id == event.sd_id and action.submitted_date is not None
        assert action.submitted_date.startswith(event.announced.isoformat() + "T")
        assert (action.bonus_percentage, action.right_percentage, action.cash_dividend) == (
            event.bonus_pct or None,
            event.right_pct or None,
            event.cash_pct or None,
        )
    assert peer.corporate_actions(999_999) == []


def test_dividends(peer: PeerClient, standin: StandinServer) -> None:
    """nepsepy `dividends` (GET /application/dividend/{id}): one notice per bonus or cash declaration (the
    seeded one among the company's history), none for a right issue alone."""
    for event in standin.data.book_closures:
        notices = _parse(DividendApplication, peer.dividends(event.security_id))
        assert _dumped(notices) == standin.data.dividend_notices(event.security_id)
        if event.kind == "right":
            assert event.notice_id is None and all(
                not n.company_news.dividends_notice.bonus_share for n in notices
            )
            continue
        (notice,) = [n for n in notices if n.id == event.notice_id]
        assert notice.company_news is not None and notice.company_news.dividends_notice is not None
        assert notice.modified_date is None and notice.company_news.added_date is not None  # 2026-09 shape
        terms = notice.company_news.dividends_notice
        assert (terms.bonus_share, terms.right_share, terms.cash_dividend) == (
            event.bonus_pct,
            event.right_pct,
            event.cash_pct,
        )
    assert peer.dividends(999_999) == []


def test_agm_notices(peer: PeerClient, standin: StandinServer) -> None:
    """nepsepy `agm` (GET /application/agm/{id}): one AGM notice per declaration, the right issue's too,
    newest first, each with the book-close date and the terms it approves (`agmNotice` keys as a public
    probe recorded them; the rest of the shape is ours)."""
    from ntx_assets.nepse.models import AgmApplication  # the product's model of the new endpoint

    data = standin.data
    for event in data.book_closures:
        rows = peer.agm(event.security_id)
        assert rows == data.agm_notices(event.security_id)
        notices = _parse(AgmApplication, rows)
        assert _dumped(notices) == rows
        (declaration,) = [d for d in data.dividend_history if d.seeded and d.security_id == event.security_id]
        (notice,) = [n for n in notices if n.id == declaration.agm_notice_id]
        assert notice.company_news is not None and notice.company_news.agm_notice is not None
        terms = notice.company_news.agm_notice
        assert terms.book_close_date == event.book_close_date
        assert (terms.cash_dividend, terms.bonus_share) == (event.cash_pct, event.bonus_pct)
        added = [row["companyNews"]["addedDate"] for row in rows]
        assert added == sorted(added, reverse=True)
    assert peer.agm(999_999) == []
