"""NepseClient against the stand-in server over real loopback HTTP.

Retry and pacing settings are shrunk through the constructor so the suite stays fast; nothing inside
the client is replaced.
"""

from __future__ import annotations

import hashlib
import io
import threading
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from ntx_assets.nepse import (
    DownloadTooLarge,
    NepseAuthError,
    NepseClient,
    NepseHTTPError,
    UnsafePath,
)

# Payload ids are salted with the day of month on NEPSE's (here: the machine's) real clock, not the pinned
# one: the variant tests below are about the machine's today, whatever date that is.
from ntx_assets.nepse.payload_id import DUMMY
from ntx_assets.nepse.payload_id import nepal_today as server_today
from ntx_assets_tests.pinned import PINNED_TODAY
from ntx_assets_tests.tools.standin import FaultConfig, StandinConfig, running_standin

# Decides by the calendar: rerun under faketime with `make test-calendar` (pytest -m calendar).
pytestmark = pytest.mark.calendar

TODAY_PRICE = "POST /api/nots/nepse-data/today-price"
PROVE = "GET /api/authenticate/prove"
REFRESH = "POST /api/authenticate/refresh-token"
WASM = "GET /assets/prod/css.wasm"
MARKET_OPEN = "GET /api/nots/nepse-data/market-open"
COMPANY_LIST = "GET /api/nots/company/list"


def fast_client(base_url: str, **overrides: Any) -> NepseClient:
    settings: dict[str, Any] = {
        "requests_per_second": 200.0,
        "max_concurrent_requests": 4,
        "timeout_seconds": 5.0,
        "max_attempts": 12,
        "max_retry_after_seconds": 0.05,
        "backoff_base_seconds": 0.005,
        "backoff_max_seconds": 0.02,
    }
    settings.update(overrides)
    return NepseClient(base_url, **settings)


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    # Variant "either": whether B and C differ depends on the machine's day of month, so a server that took
    # only C would cost one extra call on some days and not others. The fallback has its own tests below,
    # with a market id chosen so that the variants differ.
    with running_standin(
        StandinConfig(seed=7, end_date=PINNED_TODAY, token_ttl_seconds=60.0, today_price_variant="either")
    ) as running:
        yield running


@pytest.fixture
def standin(server: Any) -> Iterator[Any]:
    """The shared server, fault-free and with zeroed counters for each test."""
    server.set_faults(FaultConfig())
    server.reset_counts()
    yield server
    server.set_faults(FaultConfig())


def _count(server: Any, key: str) -> int:
    return int(server.request_counts().get(key, 0))


def _session_with_trades(server: Any) -> date:
    for day in reversed(server.data.sessions):
        if server.data.today_prices(day):
            return day
    raise AssertionError("the stand-in has no session with trades")


def _document(server: Any) -> tuple[int, dict[str, Any]]:
    """A regular (neither escaping nor oversize) document of some company with reports."""
    hostile = {server.data.escaping_document_symbol, server.data.oversize_document_symbol}
    for company in server.data.companies:
        if company["symbol"] in hostile or company["status"] != "A" or company["instrumentType"] != "Equity":
            continue
        reports = server.data.reports(company["id"])
        if reports:
            return company["id"], reports[0]["applicationDocumentDetailsList"][0]
    raise AssertionError("no company with a report document")


# --- handshake and tokens ---------------------------------------------------------------------------


def test_handshake_round_trip(standin: Any) -> None:
    with fast_client(standin.base_url) as client:
        status = client.market_status()
        status_again = client.market_status()
    assert status.id == standin.data.market_id == status_again.id
    # one WASM download, one prove, then plain authorized calls
    assert _count(standin, WASM) == 1
    assert _count(standin, PROVE) == 1
    assert _count(standin, MARKET_OPEN) == 2
    assert client.stats.calls == {WASM: 1, PROVE: 1, MARKET_OPEN: 2}


def test_expired_token_is_refreshed_and_the_call_retried(standin: Any) -> None:
    with fast_client(standin.base_url) as client:
        client.market_status()
        standin.expire_tokens()
        companies = client.company_list()
    assert len(companies) == len(standin.data.companies)
    assert _count(standin, REFRESH) == 1
    assert _count(standin, PROVE) == 1
    assert _count(standin, COMPANY_LIST) == 2  # the 401, then the resend
    assert client.stats.total_retries == 0  # a token renewal is not a retry


def test_token_is_renewed_proactively_before_expiry(standin: Any) -> None:
    with fast_client(standin.base_url, token_max_age_seconds=0.3) as client:
        client.market_status()
        time.sleep(0.4)
        client.market_status()
    assert _count(standin, PROVE) == 2
    assert _count(standin, MARKET_OPEN) == 2  # no 401 on the way


def test_persistent_401_raises_auth_error_after_refresh_and_prove(standin: Any) -> None:
    standin.set_faults(FaultConfig(expire_token_every=1))
    with fast_client(standin.base_url) as client, pytest.raises(NepseAuthError) as caught:
        client.company_list()
    message = str(caught.value)
    assert message.startswith("NEPSE GET /api/nots/company/list failed after 1 attempt: HTTP 401")
    assert caught.value.endpoint == COMPANY_LIST and caught.value.attempts == 1
    assert _count(standin, COMPANY_LIST) == 3  # first try, after refresh, after a fresh prove
    assert _count(standin, REFRESH) == 1
    assert _count(standin, PROVE) == 2


def test_threads_share_one_token(standin: Any) -> None:
    results: list[int] = []
    errors: list[BaseException] = []
    with fast_client(standin.base_url, max_concurrent_requests=4) as client:

        def work() -> None:
            try:
                for _ in range(3):
                    results.append(client.market_status().id)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors
    assert results == [standin.data.market_id] * 18
    assert _count(standin, PROVE) == 1 and _count(standin, WASM) == 1


# --- faults -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "faults",
    [
        FaultConfig(rate_429=0.4, retry_after_seconds=0, seed=1),
        FaultConfig(rate_500=0.4, seed=2),
        FaultConfig(rate_502=0.4, seed=3),
        FaultConfig(rate_drop=0.4, seed=4),
        FaultConfig(rate_empty_200=0.4, seed=5),
        FaultConfig(rate_truncated_json=0.4, seed=7),
    ],
    ids=["429", "500", "502", "drop", "empty-200", "truncated-json"],
)
def test_each_fault_class_is_retried_to_success(standin: Any, faults: FaultConfig) -> None:
    day = _session_with_trades(standin)
    with fast_client(standin.base_url, page_size=100) as client:
        client.market_status()
        standin.set_faults(faults)
        standin.reset_counts()
        prices = client.today_prices(day)
        companies = client.company_list()
        promoters = client.promoters()
        with_faults, injected = sum(standin.request_counts().values()), standin.injected_faults()
        # A POST whose every variant came back empty reads the market id again, once for that call.
        reread = standin.request_counts().get(MARKET_OPEN, 0)
        # The same calls again without faults: what they cost when nothing goes wrong.
        standin.set_faults(FaultConfig())
        standin.reset_counts()
        client.today_prices(day), client.company_list(), client.promoters()
        without_faults = sum(standin.request_counts().values())
    assert sorted(row.security_id for row in prices) == sorted(
        r["securityId"] for r in standin.data.today_prices(day)
    )
    assert [c.model_dump(by_alias=True) for c in companies] == standin.data.companies
    assert len(promoters) == len(standin.data.promoters)
    # The fault class was really served, and each fault cost exactly one more request: a retry, or for an
    # empty 200 the next payload-id variant (plus, when all of a call's variants were empty, one re-read
    # of the market id: never more than the empty answers, and none for the other faults).
    assert sum(injected.values()) >= 1, injected
    assert reread <= injected.get("empty_200", 0), (reread, injected)
    assert with_faults == without_faults + sum(injected.values()) + reread, (
        with_faults,
        without_faults,
        injected,
    )


def test_retry_after_is_honoured_but_capped(standin: Any) -> None:
    standin.set_faults(FaultConfig(rate_429=1.0, retry_after_seconds=1))
    with fast_client(standin.base_url, max_attempts=2, max_retry_after_seconds=5.0) as client:
        started = time.monotonic()
        with pytest.raises(NepseHTTPError, match="failed after 2 attempts: HTTP 429"):
            client.company_list()
        honoured = time.monotonic() - started
    assert honoured >= 0.9  # waited the server's 1 s
    standin.set_faults(FaultConfig(rate_429=1.0, retry_after_seconds=30))
    with fast_client(standin.base_url, max_attempts=3, max_retry_after_seconds=0.1) as client:
        started = time.monotonic()
        with pytest.raises(NepseHTTPError, match="failed after 3 attempts: HTTP 429"):
            client.company_list()
        assert time.monotonic() - started < 10  # two waits capped at 0.1 s, not 30 s


def test_persistent_fault_fails_with_a_clear_error(standin: Any) -> None:
    day = _session_with_trades(standin)
    with fast_client(standin.base_url, max_attempts=4) as client:
        client.market_status()  # the payload id needs the market id; fetch it before the fault
        standin.reset_counts()
        standin.set_faults(FaultConfig(rate_502=1.0))
        with pytest.raises(NepseHTTPError) as caught:
            client.today_prices(day)
    assert str(caught.value) == (
        f"NEPSE POST /api/nots/nepse-data/today-price (businessDate={day.isoformat()}, page=0) "
        "failed after 4 attempts: HTTP 502"
    )
    assert (caught.value.attempts, caught.value.status_code) == (4, 502)
    assert caught.value.params == {"businessDate": day.isoformat(), "page": 0}
    assert _count(standin, TODAY_PRICE) == 4
    assert client.stats.retries == {TODAY_PRICE: 3}


def test_persistent_dropped_connection_names_the_cause(standin: Any) -> None:
    with fast_client(standin.base_url, max_attempts=3) as client:
        client.market_status()
        standin.set_faults(FaultConfig(rate_drop=1.0))
        with pytest.raises(NepseHTTPError) as caught:
            client.security_profile(131)
    message = str(caught.value)
    assert message.startswith("NEPSE GET /api/nots/security/profile/131 failed after 3 attempts: connection")
    assert caught.value.status_code is None
    assert client.stats.retries == {"GET /api/nots/security/profile/{id}": 2}


def test_no_retry_on_404(standin: Any) -> None:
    with fast_client(standin.base_url) as client, pytest.raises(NepseHTTPError) as caught:
        client.download(file_path="nobody_user/2026-01-01/missing.pdf", max_bytes=1000, sink=io.BytesIO())
    assert caught.value.status_code == 404 and caught.value.attempts == 1
    assert "failed after 1 attempt: HTTP 404" in str(caught.value)
    assert _count(standin, "GET /api/nots/security/fetchFiles") == 1
    assert client.stats.total_retries == 0


# --- payload id variants and paging -----------------------------------------------------------------


def _market_id_where_b_and_c_differ(day_of_month: int) -> int:
    return next(m for m in range(100) if (DUMMY[m] + m + 2 * day_of_month) % 10 == 4)


def test_today_price_falls_back_from_variant_b_to_c_and_remembers() -> None:
    market_id = _market_id_where_b_and_c_differ(server_today().day)
    config = StandinConfig(seed=7, end_date=PINNED_TODAY, today_price_variant="C", market_id=market_id)
    with running_standin(config) as server, fast_client(server.base_url, page_size=100) as client:
        day = _session_with_trades(server)
        expected = server.data.today_prices(day)
        pages = -(-len(expected) // 100)
        first = client.today_prices(day)
        assert _count(server, TODAY_PRICE) == pages + 1  # B came back empty once, then C every page
        server.reset_counts()
        second = client.today_prices(day)
        assert _count(server, TODAY_PRICE) == pages  # C remembered for the day
    assert [row.model_dump(by_alias=True) for row in first] == expected
    assert second == first
    assert client.stats.total_retries == 0


def test_variant_b_server_needs_no_fallback() -> None:
    market_id = _market_id_where_b_and_c_differ(server_today().day)
    config = StandinConfig(seed=7, end_date=PINNED_TODAY, today_price_variant="B", market_id=market_id)
    with running_standin(config) as server, fast_client(server.base_url, page_size=100) as client:
        day = _session_with_trades(server)
        pages = -(-len(server.data.today_prices(day)) // 100)
        client.today_prices(day)
        assert _count(server, TODAY_PRICE) == pages


def test_all_pages_are_collected(standin: Any) -> None:
    day = _session_with_trades(standin)
    with fast_client(standin.base_url, page_size=50) as client:
        prices = client.today_prices(day)
        promoters = client.promoters()
        classification = client.classification()
        security_id = standin.data.companies[0]["id"]
        history = client.price_history(security_id, standin.data.start_date, standin.data.end_date)
    truth = standin.data.today_prices(day)
    assert [row.model_dump(by_alias=True) for row in prices] == truth
    assert _count(standin, TODAY_PRICE) == -(-len(truth) // 50)
    assert [row.model_dump(by_alias=True) for row in promoters] == standin.data.promoters
    assert [row.model_dump(by_alias=True) for row in classification] == standin.data.classification
    assert all(row.listing_date is not None for row in classification)
    assert [row.model_dump(by_alias=True) for row in history] == standin.data.history(security_id)
    assert len(history) > 50  # more than one page


def test_every_endpoint_parses_the_standin_answers(standin: Any) -> None:
    with fast_client(standin.base_url) as client:
        companies = client.company_list()
        securities = client.security_list()
        profile = client.security_profile(131)
        holidays = client.holidays(PINNED_TODAY.year)
        reports = client.reports(_document(standin)[0])
    assert [row.model_dump(by_alias=True) for row in companies] == standin.data.companies
    assert [row.model_dump(by_alias=True) for row in securities] == standin.data.securities
    assert profile.model_dump(by_alias=True) == standin.data.profile(131)
    assert holidays and all(h.holiday_date.year == PINNED_TODAY.year for h in holidays)
    assert reports and reports[0].documents and reports[0].fiscal_report is not None


def test_a_holiday_list_is_read_once_per_client_until_it_is_old(standin: Any) -> None:
    """The steps and checks of one run share one client and each asks for the year's holidays: one call.
    A client whose copy is older than its holidays_max_age_seconds (an hour by default) asks NEPSE again
    (a holiday announced at short notice)."""
    standin.reset_counts()
    with fast_client(standin.base_url) as client:
        first = client.holidays(PINNED_TODAY.year)
        assert client.holidays(PINNED_TODAY.year) == first
        assert _count(standin, "GET /api/nots/holiday/list") == 1
        client.holidays(PINNED_TODAY.year - 1)  # another year is its own list
        assert _count(standin, "GET /api/nots/holiday/list") == 2
    with fast_client(standin.base_url, holidays_max_age_seconds=0.0) as client:
        assert client.holidays(PINNED_TODAY.year) == client.holidays(PINNED_TODAY.year) == first
    assert _count(standin, "GET /api/nots/holiday/list") == 4


# --- pacing and stats -------------------------------------------------------------------------------


def test_pacing_holds_the_request_rate(standin: Any) -> None:
    with fast_client(standin.base_url, requests_per_second=5.0, burst=2) as client:
        started = time.monotonic()
        for _ in range(18):
            client.market_status()  # + WASM + prove = 20 requests
        elapsed = time.monotonic() - started
    assert client.stats.total_calls == 20
    assert elapsed >= 3.0  # 20 requests at 5/s with a burst of 2 need 3.6 s


def test_stats_count_calls_and_retries_by_endpoint(standin: Any) -> None:
    with fast_client(standin.base_url) as client:
        client.market_status()
        standin.set_faults(FaultConfig(rate_500=0.5, seed=11))
        for security_id in (131, 132, 133, 134):
            client.security_profile(security_id)
        client.company_list()
        stats = client.stats.as_dict()
    server_counts = {key: value for key, value in standin.request_counts().items() if value}
    profile_calls = sum(
        v for k, v in server_counts.items() if k.startswith("GET /api/nots/security/profile/")
    )
    assert stats["calls"]["GET /api/nots/security/profile/{id}"] == profile_calls
    assert stats["calls"][COMPANY_LIST] == server_counts[COMPANY_LIST]
    assert stats["total_calls"] == sum(server_counts.values())
    retries = stats["retries"]
    assert stats["total_retries"] == sum(retries.values()) >= 1
    assert retries.get("GET /api/nots/security/profile/{id}", 0) == profile_calls - 4
    assert retries.get(COMPANY_LIST, 0) == server_counts[COMPANY_LIST] - 1


# --- downloads --------------------------------------------------------------------------------------


def test_download_by_path_and_by_encrypted_id(standin: Any) -> None:
    _, document = _document(standin)
    expected = standin.data.document_bytes(document["filePath"])
    with fast_client(standin.base_url) as client:
        by_path = io.BytesIO()
        result = client.download(file_path=document["filePath"], max_bytes=10_000_000, sink=by_path)
        by_id = io.BytesIO()
        result_by_id = client.download(encrypted_id=document["encryptedId"], max_bytes=10_000_000, sink=by_id)
    assert by_path.getvalue() == expected == by_id.getvalue()
    assert result.byte_size == len(expected) == result_by_id.byte_size
    assert result.sha256 == hashlib.sha256(expected).hexdigest() == result_by_id.sha256
    assert result.content_type is not None and result.content_type.startswith("application/pdf")
    assert "fetchFiles?fileLocation=" in result.url and " " not in result.url


def test_download_retries_a_dropped_stream_without_duplicating_bytes(standin: Any) -> None:
    _, document = _document(standin)
    expected = standin.data.document_bytes(document["filePath"])
    with fast_client(standin.base_url) as client:
        client.market_status()
        standin.set_faults(FaultConfig(rate_drop=0.5, rate_500=0.2, seed=9))
        for _ in range(3):
            sink = io.BytesIO()
            result = client.download(file_path=document["filePath"], max_bytes=10_000_000, sink=sink)
            assert sink.getvalue() == expected and result.byte_size == len(expected)
    assert client.stats.retries.get("GET /api/nots/security/fetchFiles", 0) >= 1


def test_download_stops_at_max_bytes(standin: Any) -> None:
    _, document = _document(standin)
    size = len(standin.data.document_bytes(document["filePath"]))
    with fast_client(standin.base_url) as client:
        sink = io.BytesIO()
        with pytest.raises(DownloadTooLarge, match=f"max_bytes={size - 1}") as caught:
            client.download(file_path=document["filePath"], max_bytes=size - 1, sink=sink)
    assert caught.value.attempts == 1
    assert sink.getvalue() == b""  # a seekable sink is rewound: no half document left behind


def test_oversize_document_is_refused(standin: Any) -> None:
    symbol = standin.data.oversize_document_symbol
    company = next(c for c in standin.data.companies if c["symbol"] == symbol)
    documents = standin.data.reports(company["id"])[0]["applicationDocumentDetailsList"]
    # The one the stand-in padded: its size, not its name, makes it oversize.
    oversize = next(d for d in documents if standin.data.document(d["filePath"]).padded_size is not None)
    assert standin.data.document_size(standin.data.document(oversize["filePath"])) > 5_000_000
    with fast_client(standin.base_url) as client:
        started = time.monotonic()
        with pytest.raises(DownloadTooLarge):
            client.download(file_path=oversize["filePath"], max_bytes=5_000_000, sink=io.BytesIO())
    assert time.monotonic() - started < 10


def test_unsafe_paths_are_refused_before_any_request(standin: Any) -> None:
    symbol = standin.data.escaping_document_symbol
    company = next(c for c in standin.data.companies if c["symbol"] == symbol)
    documents = standin.data.reports(company["id"])[0]["applicationDocumentDetailsList"]
    escaping = next(d for d in documents if ".." in d["filePath"])
    with fast_client(standin.base_url) as client:
        for path in (escaping["filePath"], "/etc/passwd", "a\\b.pdf", "a/\x00.pdf"):
            with pytest.raises(UnsafePath):
                client.download(file_path=path, max_bytes=1000, sink=io.BytesIO())
    assert client.stats.total_calls == 0
    assert sum(standin.request_counts().values()) == 0


def test_handshake_survives_faults_on_the_auth_endpoints(standin: Any) -> None:
    standin.set_faults(
        FaultConfig(rate_502=0.3, rate_drop=0.2, rate_truncated_json=0.2, seed=3, apply_to_auth=True)
    )
    with fast_client(standin.base_url) as client:
        status = client.market_status()
    assert status.id == standin.data.market_id
    assert client.stats.total_retries >= 1
    assert client.stats.calls[PROVE] == _count(standin, PROVE) >= 1


def test_timeouts_are_retried(standin: Any) -> None:
    with fast_client(standin.base_url, timeout_seconds=0.3) as client:
        client.market_status()
        standin.set_faults(FaultConfig(rate_slow=0.5, slow_seconds=1.0, seed=2))
        for security_id in (131, 132, 133):
            assert client.security_profile(security_id).model_dump(by_alias=True) == standin.data.profile(
                security_id
            )
    assert client.stats.retries.get("GET /api/nots/security/profile/{id}", 0) >= 1
