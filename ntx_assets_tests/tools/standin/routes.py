"""The NEPSE endpoints the stand-in serves, each answering in the real API's shape."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ntx_assets_tests.tools.standin import archive, drift, payload_id
from ntx_assets_tests.tools.standin.documents import Document
from ntx_assets_tests.tools.standin.paging import page_request, spring_page
from ntx_assets_tests.tools.standin.responses import empty_200, error, json_bytes, json_response
from ntx_assets_tests.tools.standin.sessions import now_npt
from ntx_assets_tests.tools.standin.state import StandinState

# A client may compute the payload id a moment before midnight and send it just after.
_DAY_TOLERANCE = timedelta(seconds=5)
# Bodies up to this size are built whole; larger documents are streamed.
_STREAM_ABOVE_BYTES = 1 << 20


def _state(request: Request) -> StandinState:
    return request.app.state.standin


def _security_id(request: Request, name: str = "id") -> int | None:
    try:
        return int(request.path_params[name])
    except ValueError:
        return None


def _date_param(request: Request, name: str) -> date | None:
    """A yyyy-MM-dd query parameter; raises ValueError when present but malformed."""
    raw = request.query_params.get(name)
    return date.fromisoformat(raw) if raw else None


async def _payload_id_ok(request: Request, endpoint: payload_id.Endpoint) -> bool:
    state = _state(request)
    now = now_npt()
    days = {now.day, (now - _DAY_TOLERANCE).day}
    grant = request.state.grant
    accepted = payload_id.accepted_ids(
        endpoint, state.data.market_id, days, grant.salts, state.config.today_price_variant
    )
    return payload_id.body_id(await request.body()) in accepted


# --- authentication --------------------------------------------------------------------------------
async def prove(request: Request) -> Response:
    return json_response(_state(request).tokens.prove())


async def refresh_token(request: Request) -> Response:
    try:
        body: Any = await request.json()
    except ValueError:
        body = None
    token = body.get("refreshToken") if isinstance(body, dict) else None
    payload = _state(request).tokens.refresh(token) if isinstance(token, str) else None
    if payload is None:
        return error(401, request.url.path, "invalid or expired refresh token")
    return json_response(payload)


async def css_wasm(request: Request) -> Response:
    return Response(_state(request).wasm, media_type="application/wasm")


# --- lists -----------------------------------------------------------------------------------------
async def market_open(request: Request) -> Response:
    return json_response(_state(request).market_status())


async def company_list(request: Request) -> Response:
    return _cached_json(request, "companies", lambda s: drift.companies(s.data.companies, s.config.drift))


async def security_list(request: Request) -> Response:
    if request.query_params.get("nonDelisted", "false").lower() == "true":
        return _cached_json(request, "securities", lambda s: s.data.securities)
    return _cached_json(
        request, "securities-all", lambda s: s.data.securities + s.data.delisted_security_rows()
    )


async def promoters(request: Request) -> Response:
    page, size = page_request(request.query_params)
    return json_response(spring_page(_cached(request, "promoters", lambda s: s.data.promoters), page, size))


async def classification(request: Request) -> Response:
    page, size = page_request(request.query_params)
    return json_response(
        spring_page(_cached(request, "classification", lambda s: s.data.classification), page, size)
    )


async def profile(request: Request) -> Response:
    security_id = _security_id(request)
    found = _state(request).data.profile(security_id) if security_id is not None else None
    if found is None:
        return error(404, request.url.path, "security not found")
    return json_response(found)


async def holiday_list(request: Request) -> Response:
    state = _state(request)
    raw = request.query_params.get("year")
    try:
        year = int(raw) if raw else state.data.end_date.year
    except ValueError:
        return error(400, request.url.path, "year must be an integer")
    return json_response(state.data.holiday_rows(year))


async def holiday_years(request: Request) -> Response:
    return json_response(_state(request).data.holiday_years())


# --- market ----------------------------------------------------------------------------------------
async def security_detail(request: Request) -> Response:
    if not await _payload_id_ok(request, "security"):
        return empty_200()
    security_id = _security_id(request)
    detail = _state(request).data.security_detail(security_id) if security_id is not None else None
    if detail is None:
        return error(404, request.url.path, "security not found")
    return json_response(detail)


async def security_summary(request: Request) -> Response:
    security_id = _security_id(request)
    summary = _state(request).data.security_summary(security_id) if security_id is not None else None
    if summary is None:
        return error(404, request.url.path, "security not found")
    return json_response(summary)


async def _today_rows(request: Request) -> list[dict[str, Any]] | Response:
    """The rows of the requested businessDate (default: the last session), or the error/empty answer."""
    if not await _payload_id_ok(request, "today-price"):
        return empty_200()
    state = _state(request)
    data = state.data
    try:
        day = _date_param(request, "businessDate") or data.last_session
    except ValueError:
        return error(400, request.url.path, "businessDate must be yyyy-MM-dd")
    return drift.today_rows(data.today_rows(day), state.config.drift) if day is not None else []


async def today_price(request: Request) -> Response:
    rows = await _today_rows(request)
    if isinstance(rows, Response):
        return rows
    page, size = page_request(request.query_params)
    return json_response(spring_page(rows, page, size))


async def todays_price(request: Request) -> Response:
    """The whole list behind the site's CSV export: today-price's rows in one unpaged JSON array, same
    payload id (nepsepy `today_price_all`)."""
    rows = await _today_rows(request)
    return rows if isinstance(rows, Response) else json_response(rows)


async def security_history(request: Request) -> Response:
    security_id = _security_id(request)
    data = _state(request).data
    try:
        start = _date_param(request, "startDate") or date.min
        end = _date_param(request, "endDate") or date.max
    except ValueError:
        return error(400, request.url.path, "startDate and endDate must be yyyy-MM-dd")
    rows = data.history(security_id) if security_id is not None else []
    # Rows exist only inside the generated window, which is how the live history is clamped too.
    lo, hi = start.isoformat(), end.isoformat()
    selected = [row for row in rows if lo <= row["businessDate"] <= hi]
    page, size = page_request(request.query_params)
    return json_response(spring_page(selected, page, size))


async def index_history(request: Request) -> Response:
    """A Page of the index's daily rows, newest first (startDate/endDate, which one client passes, are not
    read: the real endpoint's handling of them is unverified)."""
    index_id = _security_id(request, "indexId")
    rows = _state(request).data.index_history(index_id) if index_id is not None else []
    page, size = page_request(request.query_params)
    return json_response(spring_page(rows, page, size))


# --- filings ---------------------------------------------------------------------------------------
async def reports(request: Request) -> Response:
    security_id = _security_id(request, "securityId")
    state = _state(request)
    rows = state.data.reports(security_id) if security_id is not None else []
    return json_response(drift.reports(rows, state.config.drift))


async def corporate_actions(request: Request) -> Response:
    security_id = _security_id(request, "securityId")
    data = _state(request).data
    return json_response(data.corporate_actions(security_id) if security_id is not None else [])


async def dividend_notices(request: Request) -> Response:
    security_id = _security_id(request, "securityId")
    state = _state(request)
    rows = state.data.dividend_notices(security_id) if security_id is not None else []
    return json_response(drift.dividend_notices(rows, state.config.drift))


async def agm_notices(request: Request) -> Response:
    security_id = _security_id(request, "securityId")
    state = _state(request)
    rows = state.data.agm_notices(security_id) if security_id is not None else []
    return json_response(drift.agm_notices(rows, state.config.drift))


def _document_response(request: Request, document: Document | None) -> Response:
    if document is None:
        return error(404, request.url.path, "file not found")
    data = _state(request).data
    size = data.document_size(document)
    if size <= _STREAM_ABOVE_BYTES:
        return Response(b"".join(data.document_chunks(document)), media_type="application/pdf")
    return StreamingResponse(
        data.document_chunks(document), media_type="application/pdf", headers={"Content-Length": str(size)}
    )


async def security_fetch_files(request: Request) -> Response:
    location = request.query_params.get("fileLocation", "")
    return _document_response(request, _state(request).data.document(location))


async def application_fetch_files(request: Request) -> Response:
    encrypted = request.query_params.get("encryptedId", "")
    return _document_response(request, _state(request).data.document_by_encrypted_id(encrypted))


# --- caching of static bodies ----------------------------------------------------------------------
def _cached(request: Request, key: str, build: Callable[[StandinState], Any]) -> Any:
    cache: dict[str, Any] = request.app.state.cache
    if key not in cache:
        cache[key] = build(_state(request))
    return cache[key]


def _cached_json(request: Request, key: str, build: Callable[[StandinState], Any]) -> Response:
    body = _cached(request, f"json:{key}", lambda s: json_bytes(build(s)))
    return Response(body, media_type="application/json")


# Specific paths come before the {id} patterns they would otherwise be swallowed by.
ROUTES: list[Route] = [
    Route("/api/authenticate/prove", prove, methods=["GET"]),
    Route("/api/authenticate/refresh-token", refresh_token, methods=["POST"]),
    Route("/assets/prod/css.wasm", css_wasm, methods=["GET"]),
    Route("/api/nots/nepse-data/market-open", market_open, methods=["GET"]),
    Route("/api/nots/nepse-data/today-price", today_price, methods=["POST"]),
    # With its trailing slash, as nepsepy sends it.
    Route("/api/nots/nepse-data/todays-price/", todays_price, methods=["POST"]),
    Route("/api/nots/company/list", company_list, methods=["GET"]),
    Route("/api/nots/security", security_list, methods=["GET"]),
    Route("/api/nots/security/promoters", promoters, methods=["GET"]),
    Route("/api/nots/security/classification", classification, methods=["GET"]),
    Route("/api/nots/security/fetchFiles", security_fetch_files, methods=["GET"]),
    Route("/api/nots/security/profile/{id}", profile, methods=["GET"]),
    Route("/api/nots/security/corporate-actions/{securityId}", corporate_actions, methods=["GET"]),
    Route("/api/nots/security/{id}", security_detail, methods=["POST"]),
    Route("/api/nots/security/{id}", security_summary, methods=["GET"]),
    Route("/api/nots/market/history/security/{id}", security_history, methods=["GET"]),
    Route("/api/nots/index/history/{indexId}", index_history, methods=["GET"]),
    Route("/api/nots/holiday/list", holiday_list, methods=["GET"]),
    Route("/api/nots/holiday/year", holiday_years, methods=["GET"]),
    Route("/api/nots/application/reports/{securityId}", reports, methods=["GET"]),
    Route("/api/nots/application/fetchFiles", application_fetch_files, methods=["GET"]),
    Route("/api/nots/application/dividend/{securityId}", dividend_notices, methods=["GET"]),
    Route("/api/nots/application/agm/{securityId}", agm_notices, methods=["GET"]),
    *archive.ROUTES,  # the public price archive, no token (archive.py)
]
