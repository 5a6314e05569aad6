"""Classification of single HTTP outcomes into fine / retry / give up (no network)."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime

import httpx
import pytest

from ntx_assets.nepse.errors import NepseHTTPError, NepseTLSError
from ntx_assets.nepse.failures import (
    EMPTY,
    CallFailure,
    check_status,
    classify_transport_error,
    is_empty_payload,
    parse_retry_after,
    read_json,
)
from ntx_assets.nepse.transport import Call, tls_verify_setting


def _response(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=body, headers=headers, request=httpx.Request("GET", "http://x/"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), (" 0.5 ", 0.5), ("-4", 0.0), (None, None), ("", None), ("soon", None)],
)
def test_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_retry_after_http_date() -> None:
    now = datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Mon, 05 Jan 2026 10:00:07 GMT", now=now) == pytest.approx(7.0)
    assert parse_retry_after("Mon, 05 Jan 2026 09:00:00 GMT", now=now) == 0.0


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_server_trouble_is_retryable(status: int) -> None:
    with pytest.raises(CallFailure) as caught:
        check_status(_response(status, headers={"Retry-After": "2"}))
    assert caught.value.retryable and caught.value.status_code == status
    assert caught.value.retry_after == 2.0
    assert caught.value.cause == f"HTTP {status}"


@pytest.mark.parametrize("status", [400, 403, 404, 405, 422])
def test_other_client_errors_are_final_and_quote_the_body(status: int) -> None:
    with pytest.raises(CallFailure) as caught:
        check_status(_response(status, b"<html><head><title>403 Forbidden</title></head>\n</html>"))
    assert not caught.value.retryable
    assert caught.value.kind is NepseHTTPError
    assert caught.value.cause.startswith(f"HTTP {status}: <html>")


def test_redirects_are_refused() -> None:
    with pytest.raises(CallFailure) as caught:
        check_status(_response(302, headers={"Location": "https://elsewhere.example/x"}))
    assert not caught.value.retryable and "elsewhere.example" in caught.value.cause


@pytest.mark.parametrize("status", [200, 201, 204])
def test_a_success_status_passes_and_is_not_a_failure(status: int) -> None:
    assert check_status(_response(status, b"{}")) is None  # returns, raising nothing
    with pytest.raises(CallFailure):
        check_status(_response(500, b"{}"))


def test_read_json_outcomes() -> None:
    assert read_json(_response(200, b'{"a": 1}')) == {"a": 1}
    assert read_json(_response(200, b"  \n")) is EMPTY
    with pytest.raises(CallFailure) as caught:
        read_json(_response(200, b'{"content": [{"id": 1}, {"id"'))
    assert caught.value.retryable and "invalid JSON" in caught.value.cause


@pytest.mark.parametrize(
    ("data", "empty"), [(EMPTY, True), ([], True), ({}, True), (None, True), ({"a": 1}, False)]
)
def test_empty_payload_shapes(data: object, empty: bool) -> None:
    assert is_empty_payload(data) is empty


def test_transport_errors() -> None:
    request = httpx.Request("GET", "http://x/")
    assert classify_transport_error(httpx.ReadTimeout("slow", request=request)).retryable
    assert classify_transport_error(
        httpx.RemoteProtocolError("Server disconnected", request=request)
    ).retryable
    assert classify_transport_error(httpx.ConnectError("refused", request=request)).retryable
    assert not classify_transport_error(httpx.UnsupportedProtocol("ftp", request=request)).retryable


def test_certificate_failure_is_final_and_says_how_to_fix_it() -> None:
    request = httpx.Request("GET", "https://x/")
    error = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] unable to get local issuer", request=request)
    error.__cause__ = ssl.SSLCertVerificationError(1, "unable to get local issuer certificate")
    failure = classify_transport_error(error)
    assert not failure.retryable and failure.kind is NepseTLSError
    assert "NTX_NEPSE_CA_BUNDLE" in failure.hint and "NTX_NEPSE_VERIFY_TLS=false" in failure.hint


def test_call_target_encodes_spaces_as_percent_20_and_keeps_slashes() -> None:
    call = Call(
        "GET", "/api/nots/security/fetchFiles", params={"fileLocation": "nabil_user/2026-08-06/A B+C.pdf"}
    )
    assert call.target == "/api/nots/security/fetchFiles?fileLocation=nabil_user/2026-08-06/A%20B%2BC.pdf"
    paged = Call(
        "POST",
        "/api/nots/nepse-data/today-price",
        params={"size": 500, "businessDate": "2026-01-05", "page": 0},
    )
    assert paged.endpoint == "POST /api/nots/nepse-data/today-price"
    assert paged.describe() == "POST /api/nots/nepse-data/today-price (businessDate=2026-01-05, page=0)"
    templated = Call("GET", "/api/nots/security/profile/131", template="/api/nots/security/profile/{id}")
    assert templated.endpoint == "GET /api/nots/security/profile/{id}"


def test_missing_ca_bundle_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="NTX_NEPSE_CA_BUNDLE"):
        tls_verify_setting("/nonexistent/bundle.pem")
    assert tls_verify_setting(False) is False
