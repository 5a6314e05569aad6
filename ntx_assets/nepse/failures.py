"""Turning one HTTP outcome into "fine", "retry" or "give up".

The functions here only look at a response or an exception and say what it means; the retry loop
(`transport.py`) decides what to do and builds the public error with the attempt count.
"""

from __future__ import annotations

import json
import ssl
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final

import httpx

from ntx_assets.nepse.errors import TLS_FIX_HINT, NepseError, NepseHTTPError, NepseTLSError

# Statuses that mean "the server or a proxy is struggling": worth another try after a pause.
RETRYABLE_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})


class CallFailure(Exception):
    """One failed exchange; `retryable` tells the retry loop whether another attempt may help."""

    def __init__(
        self,
        cause: str,
        *,
        retryable: bool,
        status_code: int | None = None,
        retry_after: float | None = None,
        kind: type[NepseError] = NepseHTTPError,
        hint: str = "",
    ) -> None:
        super().__init__(cause)
        self.cause = cause
        self.retryable = retryable
        self.status_code = status_code
        self.retry_after = retry_after
        self.kind = kind
        self.hint = hint


class _Empty:
    """Marker for a 200 whose body is empty: NEPSE's answer to a wrong POST payload id."""

    def __repr__(self) -> str:
        return "EMPTY"


EMPTY: Final = _Empty()


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent or junk."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _body_excerpt(response: httpx.Response, limit: int = 160) -> str:
    """A short, single-line piece of an error body: enough to tell nginx's HTML 403 from a JSON error."""
    try:
        raw = b""
        for chunk in response.iter_bytes():
            raw += chunk
            if len(raw) >= limit:
                break
    except httpx.HTTPError:
        return ""
    text = " ".join(raw[:limit].decode("utf-8", "replace").split())
    return f": {text}" if text else ""


def check_status(response: httpx.Response) -> None:
    """Raise a CallFailure for anything but 2xx; 401 must have been handled by the caller already."""
    status = response.status_code
    if 200 <= status < 300:
        return
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status in RETRYABLE_STATUSES:
        raise CallFailure(f"HTTP {status}", retryable=True, status_code=status, retry_after=retry_after)
    if 300 <= status < 400:
        location = response.headers.get("Location", "(no Location header)")
        raise CallFailure(
            f"HTTP {status} redirect to {location} refused (the client does not follow redirects to "
            "other hosts; check the base URL)",
            retryable=False,
            status_code=status,
        )
    raise CallFailure(f"HTTP {status}{_body_excerpt(response)}", retryable=False, status_code=status)


def read_json(response: httpx.Response) -> Any:
    """The decoded body, EMPTY for a blank body; truncated or garbled JSON is worth a retry."""
    raw = response.read()
    if not raw.strip():
        return EMPTY
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise CallFailure(
            f"invalid JSON in a {len(raw)}-byte body ({exc.__class__.__name__}: {exc})", retryable=True
        ) from exc


def is_empty_payload(data: Any) -> bool:
    """True for the shapes NEPSE uses to say "wrong payload id": no body, `[]`, `{}` or `null`."""
    return data is EMPTY or data is None or data == [] or data == {}


def _is_certificate_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def classify_transport_error(exc: httpx.TransportError) -> CallFailure:
    """Timeouts and dropped connections are retried; a bad certificate never is (it will not heal)."""
    name = exc.__class__.__name__
    detail = str(exc) or name
    if _is_certificate_failure(exc):
        return CallFailure(
            f"TLS certificate verification failed ({detail})",
            retryable=False,
            kind=NepseTLSError,
            hint=TLS_FIX_HINT,
        )
    if isinstance(exc, httpx.TimeoutException):
        return CallFailure(f"timeout ({name})", retryable=True)
    if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
        return CallFailure(f"connection failed ({name}: {detail})", retryable=True)
    return CallFailure(f"request failed ({name}: {detail})", retryable=False)
