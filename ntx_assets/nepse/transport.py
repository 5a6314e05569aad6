"""HTTP plumbing: the httpx client, browser-like headers, TLS settings, pacing and the retry loop.

Every request of a NepseClient leaves through `Transport.exchange`, so pacing and call counting cannot
be bypassed, and every logical call runs inside `Transport.run`, which owns retries and turns the last
failure into the public error that names endpoint, parameters and attempts.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from ntx_assets.nepse import defaults
from ntx_assets.nepse.errors import ParamValue, describe_call
from ntx_assets.nepse.failures import CallFailure, classify_transport_error
from ntx_assets.nepse.pacing import Pacer
from ntx_assets.nepse.stats import CallStats
from ntx_assets.nepse.trust import trust_context

T = TypeVar("T")

# A current desktop browser: go-nepse reports endpoints that reject non-browser user agents.
BROWSER_USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

# Query parameters that are the same on every call and would only clutter error messages.
_UNINTERESTING_PARAMS = frozenset({"size"})


@dataclass(frozen=True)
class Call:
    """One logical API call: what is requested, and how it is named in stats and errors."""

    method: str
    path: str  # concrete path, e.g. /api/nots/security/profile/131
    template: str = ""  # path with placeholders, e.g. /api/nots/security/profile/{id}; defaults to path
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    context: Mapping[str, ParamValue] = field(default_factory=dict)  # extra names for error messages

    @property
    def endpoint(self) -> str:
        """The stats key: `METHOD /path/{template}`."""
        return f"{self.method} {self.template or self.path}"

    @property
    def target(self) -> str:
        """Path plus query; values are encoded with `/` kept, as NEPSE's own frontend does for file paths
        (spaces become %20, never `+`)."""
        if not self.params:
            return self.path
        query = "&".join(f"{key}={quote(_param_text(value), safe='/')}" for key, value in self.params.items())
        return f"{self.path}?{query}"

    @property
    def shown_params(self) -> dict[str, ParamValue]:
        shown = {key: value for key, value in self.params.items() if key not in _UNINTERESTING_PARAMS}
        shown.update(self.context)
        return shown

    def describe(self) -> str:
        return describe_call(self.method, self.path, self.shown_params)


def _param_text(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = defaults.MAX_ATTEMPTS
    max_retry_after_seconds: float = defaults.MAX_RETRY_AFTER_SECONDS
    backoff_base_seconds: float = defaults.BACKOFF_BASE_SECONDS
    backoff_max_seconds: float = defaults.BACKOFF_MAX_SECONDS

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")


def tls_verify_setting(verify: bool | str | ssl.SSLContext) -> bool | ssl.SSLContext:
    """Map the `verify` option to httpx: True is the product's trust (certifi's roots plus the shipped
    intermediates, ntx_assets/nepse/trust.py), a path a context trusting that bundle alone;
    a context as it is.

    httpx 0.28 deprecates passing a path, so the context is built here; a missing file fails now, at
    construction, rather than as a confusing handshake error later.
    """
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is True:
        return trust_context()
    if verify is False:
        return False
    location = Path(verify).expanduser()
    if location.is_dir():
        return ssl.create_default_context(capath=str(location))
    if location.is_file():
        return ssl.create_default_context(cafile=str(location))
    raise ValueError(
        f"CA bundle {verify!r} does not exist; point NTX_NEPSE_CA_BUNDLE at a PEM file that includes the "
        "GeoTrust TLS RSA CA G1 intermediate"
    )


def browser_headers(base_url: str) -> dict[str, str]:
    parts = urlsplit(base_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return {
        "User-Agent": BROWSER_USER_AGENT,
        "Accept": "application/json, text/plain, */*",
        "Accept-Language": "en-US,en;q=0.5",
        "Origin": origin,
        "Referer": f"{origin}/",
        "Pragma": "no-cache",
        "Cache-Control": "no-cache",
    }


class Transport:
    def __init__(
        self,
        base_url: str,
        *,
        verify: bool | str | ssl.SSLContext,
        timeout_seconds: float,
        pacer: Pacer,
        stats: CallStats,
        policy: RetryPolicy,
        max_connections: int,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._pacer = pacer
        self._stats = stats
        self._policy = policy
        # base * 2^(n-1) plus up to `base` of jitter, so threads that failed together do not retry in step
        self._backoff = wait_exponential(
            multiplier=policy.backoff_base_seconds, max=policy.backoff_max_seconds
        ) + wait_random(0, policy.backoff_base_seconds)
        self._http = httpx.Client(
            base_url=self.base_url,
            verify=tls_verify_setting(verify),
            timeout=httpx.Timeout(timeout_seconds),
            headers=browser_headers(self.base_url),
            # Redirects are never followed automatically: a redirect to another host could leak the
            # Salter token or fetch a document from somewhere we did not ask for.
            follow_redirects=False,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )

    def close(self) -> None:
        self._http.close()

    def exchange(
        self,
        call: Call,
        consume: Callable[[httpx.Response], T],
        *,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        url: str | None = None,
    ) -> T:
        """Send one request under the pacer and hand the open (streamed) response to `consume`.

        The pacing slot is held until `consume` returns, so a download counts against concurrency for
        as long as it streams. Network errors, while sending or while reading, become CallFailures.
        """
        request_headers = dict(headers or {})
        if json_body is not None:
            request_headers["Content-Type"] = "application/json"
        with self._pacer.slot():
            self._stats.record_call(call.endpoint)
            try:
                request = self._http.build_request(
                    call.method, url or call.target, headers=request_headers, json=json_body
                )
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                raise classify_transport_error(exc) from exc
            try:
                return consume(response)
            except httpx.TransportError as exc:
                raise classify_transport_error(exc) from exc
            finally:
                response.close()

    def run(self, call: Call, attempt: Callable[[], T]) -> T:
        """Run `attempt` until it succeeds, fails for good, or the attempts are used up."""
        policy = self._policy
        attempts = 0

        def counted() -> T:
            nonlocal attempts
            attempts += 1
            return attempt()

        retrying = Retrying(
            stop=stop_after_attempt(policy.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(lambda exc: isinstance(exc, CallFailure) and exc.retryable),
            before_sleep=lambda _state: self._stats.record_retry(call.endpoint),
            reraise=True,
        )
        try:
            return retrying(counted)
        except CallFailure as failure:
            raise failure.kind.for_call(
                method=call.method,
                path=call.path,
                endpoint=call.endpoint,
                params=call.shown_params,
                attempts=attempts,
                cause=failure.cause,
                hint=failure.hint,
                status_code=failure.status_code,
            ) from failure

    def _wait(self, state: RetryCallState) -> float:
        policy = self._policy
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, CallFailure) and exc.retry_after is not None:
            # Honour the server's Retry-After, but never let one header park a run for minutes.
            return min(exc.retry_after, policy.max_retry_after_seconds)
        return float(self._backoff(state))
