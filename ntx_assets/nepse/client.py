"""NepseClient: the one object the Dagster assets use to talk to NEPSE (or the stand-in).

Each public method is one logical NEPSE call (all pages of it, where paged) and returns typed rows.
The machinery lives next door: pacing.py (rate), transport.py (HTTP, retries), auth.py (tokens),
session.py (401 ladder, POST variants), paging.py, downloads.py, payload_id.py.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Hashable
from datetime import date
from types import TracebackType
from typing import Any, BinaryIO, Self, TypeVar

from pydantic import BaseModel

from ntx_assets.nepse import defaults
from ntx_assets.nepse.auth import DEFAULT_TOKEN_MAX_AGE_SECONDS, Authenticator, Token
from ntx_assets.nepse.downloads import Download
from ntx_assets.nepse.downloads import download as _download
from ntx_assets.nepse.models import (
    AgmApplication,
    Company,
    CorporateAction,
    DividendApplication,
    Holiday,
    IndexHistoryRow,
    MarketStatus,
    PriceHistoryRow,
    Report,
    Security,
    SecurityDetail,
    SecurityProfile,
    SecurityShares,
    TodayPrice,
)
from ntx_assets.nepse.pacing import Pacer
from ntx_assets.nepse.paging import MAX_PAGE_SIZE, PAGE_SIZE, collect_pages
from ntx_assets.nepse.parsing import parse_one, parse_rows
from ntx_assets.nepse.payload_id import Variant, nepal_today, payload_id
from ntx_assets.nepse.session import ApiSession, BodyFactory
from ntx_assets.nepse.stats import CallStats
from ntx_assets.nepse.transport import Call, RetryPolicy, Transport

M = TypeVar("M", bound=BaseModel)
# A holiday list read by a client is reused for this long (a run's steps and checks share one client).
HOLIDAYS_MAX_AGE_SECONDS = 3600.0

# docs/NEPSE_API.md section 1: the clients disagree on today-price's variant; B first, C as the fallback.
TODAY_PRICE_VARIANTS: tuple[Variant, ...] = (Variant.B, Variant.C)


class NepseClient:
    """Thread-safe client for NEPSE's web API. Use as a context manager, or call `close()`.

    `verify` is True (certifi's roots plus the intermediates the package ships: ntx_assets/nepse/trust.py),
    False, a CA bundle path that replaces them (NTX_NEPSE_CA_BUNDLE), or an SSL context.
    Pacing: `requests_per_second` with a burst of `burst`, at most `max_concurrent_requests` in flight;
    every request counts, retries and token renewals included. Retries: up to `max_attempts` per
    request, exponential backoff with jitter from `backoff_base_seconds` to `backoff_max_seconds`, or the
    server's Retry-After capped at `max_retry_after_seconds`. Tokens are renewed after
    `token_max_age_seconds`. Paged endpoints are read `page_size` rows at a time (NEPSE caps at 2000).
    """

    def __init__(
        self,
        base_url: str,
        *,
        verify: bool | str | ssl.SSLContext = True,
        requests_per_second: float = defaults.REQUESTS_PER_SECOND,
        max_concurrent_requests: int = defaults.MAX_CONCURRENT_REQUESTS,
        timeout_seconds: float = defaults.TIMEOUT_SECONDS,
        max_attempts: int = defaults.MAX_ATTEMPTS,
        max_retry_after_seconds: float = defaults.MAX_RETRY_AFTER_SECONDS,
        backoff_base_seconds: float = defaults.BACKOFF_BASE_SECONDS,
        backoff_max_seconds: float = defaults.BACKOFF_MAX_SECONDS,
        token_max_age_seconds: float = DEFAULT_TOKEN_MAX_AGE_SECONDS,
        burst: int = defaults.BURST,
        page_size: int = PAGE_SIZE,
        holidays_max_age_seconds: float = HOLIDAYS_MAX_AGE_SECONDS,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must lie in 1..{MAX_PAGE_SIZE} (NEPSE caps pages at 2000)")
        self._page_size = page_size
        self.stats = CallStats()
        self._transport = Transport(
            base_url,
            verify=verify,
            timeout_seconds=timeout_seconds,
            pacer=Pacer(requests_per_second, max_concurrent_requests, burst=burst),
            stats=self.stats,
            policy=RetryPolicy(
                max_attempts=max_attempts,
                max_retry_after_seconds=max_retry_after_seconds,
                backoff_base_seconds=backoff_base_seconds,
                backoff_max_seconds=backoff_max_seconds,
            ),
            max_connections=max_concurrent_requests,
        )
        auth = Authenticator(self._transport, max_age_seconds=token_max_age_seconds)
        self._session = ApiSession(self._transport, auth)
        self._lock = threading.Lock()
        self._market_id: tuple[date, int] | None = None  # (Nepal date, market-open id)
        self._today_price_variant: dict[date, Variant] = {}  # Nepal date -> variant NEPSE accepted
        self._holidays: dict[int, tuple[float, list[Holiday]]] = {}  # year -> (monotonic read time, list)
        self._holidays_max_age = holidays_max_age_seconds
        self._observers: list[Callable[[Call, Any], None]] = []

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- companies and securities --------------------------------------------------------------------

    def company_list(self) -> list[Company]:
        """Every listed company incl. delisted (status D); no promoter shares."""
        call = Call("GET", "/api/nots/company/list")
        return self._rows(call, Company, self._session.get_json(call))

    def security_list(self) -> list[Security]:
        """Active and suspended securities, promoter shares included."""
        call = Call("GET", "/api/nots/security", params={"nonDelisted": "true"})
        return self._rows(call, Security, self._session.get_json(call))

    def promoters(self) -> list[SecurityDetail]:
        return self._paged_get("/api/nots/security/promoters", SecurityDetail, key=_field("id"))

    def classification(self) -> list[SecurityDetail]:
        """Share-group classification: full security objects (listingDate included) of active equities."""
        return self._paged_get("/api/nots/security/classification", SecurityDetail, key=_field("id"))

    def security_profile(self, security_id: int) -> SecurityProfile:
        call = Call(
            "GET",
            f"/api/nots/security/profile/{int(security_id)}",
            template="/api/nots/security/profile/{id}",
        )
        return self._one(call, SecurityProfile, self._session.get_json(call))

    def security_shares(self, security_id: int) -> SecurityShares:
        """Listed shares and paid-up capital (the security detail; POST with the raw payload id)."""
        call = Call("POST", f"/api/nots/security/{int(security_id)}", template="/api/nots/security/{id}")
        body = [self._body(Variant.RAW)]
        return self._one(
            call, SecurityShares, self._session.post_json(call, body, on_all_empty=self._reread_market_id)
        )

    # --- prices --------------------------------------------------------------------------------------

    def today_prices(self, business_date: date) -> list[TodayPrice]:
        """Every security that traded on `business_date` (all pages)."""
        day_text = business_date.isoformat()

        def call_for_page(page: int) -> Call:
            return Call(
                "POST",
                "/api/nots/nepse-data/today-price",
                params={"size": self._page_size, "businessDate": day_text, "page": page},
            )

        rows = collect_pages(call_for_page, self._post_today_price, key=_field("securityId"))
        return self._rows(call_for_page(0), TodayPrice, rows)

    def price_history(self, security_id: int, start: date, end: date) -> list[PriceHistoryRow]:
        """Daily bars, newest first, without an open price; NEPSE serves only about one year back."""
        path = f"/api/nots/market/history/security/{int(security_id)}"

        def call_for_page(page: int) -> Call:
            return Call(
                "GET",
                path,
                template="/api/nots/market/history/security/{id}",
                params={
                    "startDate": start.isoformat(),
                    "endDate": end.isoformat(),
                    "size": self._page_size,
                    "page": page,
                },
            )

        rows = collect_pages(call_for_page, self._session.get_json, key=_field("businessDate"))
        return self._rows(call_for_page(0), PriceHistoryRow, rows)

    def index_history(self, index_id: int = 58, *, since: date | None = None) -> list[IndexHistoryRow]:
        """Daily values of index `index_id` (58: the NEPSE index), newest first; NEPSE serves about one year.

        With `since` (e.g. the last date already stored) the paging stops after the first page that
        reaches a row dated on or before it, so a daily refresh costs one call; the rows of every page
        read are returned, the already-stored ones included (re-writing them changes nothing). Pages are
        `page_size` rows, as for the other paged calls: whether NEPSE accepts a larger size here is
        unverified.
        """
        path = f"/api/nots/index/history/{int(index_id)}"

        def call_for_page(page: int) -> Call:
            return Call(
                "GET",
                path,
                template="/api/nots/index/history/{indexId}",
                params={"page": page, "size": self._page_size},
            )

        enough = None if since is None else _reaches(since)
        rows = collect_pages(call_for_page, self._session.get_json, key=_field("businessDate"), enough=enough)
        return self._rows(call_for_page(0), IndexHistoryRow, rows)

    # --- calendar ------------------------------------------------------------------------------------

    def market_status(self) -> MarketStatus:
        call = Call("GET", "/api/nots/nepse-data/market-open")
        status = self._one(call, MarketStatus, self._session.get_json(call))
        with self._lock:
            self._market_id = (nepal_today(), status.id)
        return status

    def holidays(self, year: int) -> list[Holiday]:
        """NEPSE's holiday list of `year`, read at most once per holidays_max_age_seconds by this client: the
        steps and checks of one run (one client) ask for it several times; NEPSE can announce a holiday at
        short notice, so a long-lived client reads it again after that age."""
        held = self._holidays.get(int(year))
        if held is not None and time.monotonic() - held[0] < self._holidays_max_age:
            return list(held[1])
        call = Call("GET", "/api/nots/holiday/list", params={"year": int(year)})
        rows = self._rows(call, Holiday, self._session.get_json(call))
        self._holidays[int(year)] = (time.monotonic(), rows)
        return list(rows)

    # --- filings -------------------------------------------------------------------------------------

    def reports(self, security_id: int) -> list[Report]:
        """Quarterly and annual reports with their attached documents."""
        call = Call(
            "GET",
            f"/api/nots/application/reports/{int(security_id)}",
            template="/api/nots/application/reports/{id}",
        )
        return self._rows(call, Report, self._session.get_json(call))

    # --- corporate actions ---------------------------------------------------------------------------

    def corporate_actions(self, security_id: int) -> list[CorporateAction]:
        """Approved bonus, right and cash-dividend actions of one security."""
        call = Call(
            "GET",
            f"/api/nots/security/corporate-actions/{int(security_id)}",
            template="/api/nots/security/corporate-actions/{id}",
        )
        return self._rows(call, CorporateAction, self._session.get_json(call))

    def dividend_notices(self, security_id: int) -> list[DividendApplication]:
        """Dividend declarations (cash, bonus and right percentages per fiscal year) of one security."""
        call = Call(
            "GET",
            f"/api/nots/application/dividend/{int(security_id)}",
            template="/api/nots/application/dividend/{id}",
        )
        return self._rows(call, DividendApplication, self._session.get_json(call))

    def agm_notices(self, security_id: int) -> list[AgmApplication]:
        """AGM notices of one security, with the book-close date each announces."""
        call = Call(
            "GET",
            f"/api/nots/application/agm/{int(security_id)}",
            template="/api/nots/application/agm/{id}",
        )
        return self._rows(call, AgmApplication, self._session.get_json(call))

    def download(
        self,
        *,
        file_path: str | None = None,
        encrypted_id: str | None = None,
        max_bytes: int,
        sink: BinaryIO,
    ) -> Download:
        """Stream one document into `sink` (by `file_path` or by `encrypted_id`).

        Raises UnsafePath before any request for a suspicious path, and DownloadTooLarge once the
        declared or streamed size passes `max_bytes` (a seekable sink is rewound, so no partial file).
        """
        return _download(
            self._session, file_path=file_path, encrypted_id=encrypted_id, max_bytes=max_bytes, sink=sink
        )

    def observe(self, observer: Callable[[Call, Any], None]) -> None:
        """Call `observer(call, payload)` with every answer's decoded JSON before it is parsed (all pages
        of a paged call together): what `python -m ntx_assets.nepse.check` reports and saves."""
        self._observers.append(observer)

    # --- helpers -------------------------------------------------------------------------------------

    def _rows(self, call: Call, model: type[M], data: Any) -> list[M]:
        for observer in self._observers:
            observer(call, data)
        return parse_rows(call, model, data)

    def _one(self, call: Call, model: type[M], data: Any) -> M:
        for observer in self._observers:
            observer(call, data)
        return parse_one(call, model, data)

    def _paged_get(
        self, path: str, model: type[M], *, key: Callable[[Any], Hashable] | None = None
    ) -> list[M]:
        def call_for_page(page: int) -> Call:
            return Call("GET", path, params={"page": page, "size": self._page_size})

        rows = collect_pages(call_for_page, self._session.get_json, key=key)
        return self._rows(call_for_page(0), model, rows)

    def _current_market_id(self) -> int:
        """The market-open id, fetched once per Nepal calendar day (it feeds every POST payload id)."""
        today = nepal_today()
        with self._lock:
            cached = self._market_id
        if cached is not None and cached[0] == today:
            return cached[1]
        return self.market_status().id

    def _body(self, variant: Variant) -> BodyFactory:
        def body(token: Token) -> dict[str, Any]:
            # NEPSE wants today's day of month in Kathmandu, even for a past businessDate.
            market_id = self._current_market_id()
            return {"id": payload_id(variant, market_id=market_id, day=nepal_today().day, salts=token.salts)}

        return body

    def _post_today_price(self, call: Call) -> Any:
        today = nepal_today()
        with self._lock:
            known = self._today_price_variant.get(today)
        order = list(TODAY_PRICE_VARIANTS)
        if known is not None:
            order.remove(known)
            order.insert(0, known)

        def remember(index: int) -> None:
            with self._lock:
                self._today_price_variant[today] = order[index]

        return self._session.post_json(
            call,
            [self._body(variant) for variant in order],
            on_accepted=remember,
            on_all_empty=self._reread_market_id,
        )

    def _reread_market_id(self) -> str:
        """Every variant came back empty: the market id the ids were signed with may have changed since it
        was cached for the day, so read it again (once per call; session.post_json)."""
        with self._lock:
            before = self._market_id[1] if self._market_id is not None else None
        after = self.market_status().id
        if before == after:
            return f"re-reading the market id: unchanged ({after})"
        return f"re-reading the market id: {before} -> {after}"


def _field(name: str) -> Callable[[Any], Hashable]:
    def key(row: Any) -> Hashable:
        return row.get(name) if isinstance(row, dict) else None

    return key


def _reaches(since: date) -> Callable[[list[Any]], bool]:
    """True for a page holding a row dated on or before `since` (dates are yyyy-MM-dd text, which sorts as
    the dates do; a row without a date does not stop the paging, its model refuses it later)."""
    day_text = since.isoformat()

    def enough(rows: list[Any]) -> bool:
        dates = (row.get("businessDate") for row in rows if isinstance(row, dict))
        return any(isinstance(day, str) and day <= day_text for day in dates)

    return enough
