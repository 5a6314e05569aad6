"""The exceptions the NEPSE client raises.

Every error raised for a request names the endpoint, the parameters and the number of attempts, because
the person reading a failed Dagster run needs to know which call broke and whether retrying was tried.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import ValidationError

ParamValue = str | int | float | bool | None
Params = Mapping[str, ParamValue]

TLS_FIX_HINT = (
    "The client trusts certifi's roots plus the intermediates shipped in ntx_assets/nepse/certificates "
    "(nepalstock.com does not send its 'GeoTrust TLS RSA CA G1'; the shipped one is valid to 2027-11-02). "
    "If the server's certificate now comes from another CA, or the shipped intermediate expired, run "
    "`make live-check` to see the leaf's issuer and its CA Issuers address, then set "
    "NTX_NEPSE_CA_BUNDLE=/path/to/bundle-with-intermediate.pem (certifi's roots with that intermediate "
    "appended: a bundle of the intermediate alone trusts nothing) and upgrade the package when it ships the "
    "new one. NTX_NEPSE_VERIFY_TLS=false turns verification off: never against the live site."
)


def describe_call(method: str, path: str, params: Params) -> str:
    """`POST /api/x (a=1, b=2)`: the compact form used in every message."""
    shown = ", ".join(f"{key}={value}" for key, value in params.items())
    return f"{method} {path} ({shown})" if shown else f"{method} {path}"


def validation_summary(exc: ValidationError) -> str:
    """`3 problem(s), first: Field required at content`: short enough for a run log."""
    first = exc.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "the top level"
    return f"{exc.error_count()} problem(s), first: {first['msg']} at {location}"


class NepseError(Exception):
    """Base class: anything that went wrong while talking to NEPSE."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        params: Params | None = None,
        attempts: int = 0,
        cause: str = "",
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.endpoint = endpoint
        self.params: dict[str, ParamValue] = dict(params or {})
        self.attempts = attempts
        self.cause = cause

    @classmethod
    def for_call(
        cls,
        *,
        method: str,
        path: str,
        endpoint: str,
        params: Params,
        attempts: int,
        cause: str,
        hint: str = "",
        status_code: int | None = None,
    ) -> Self:
        """Build the standard message: `NEPSE GET /x (a=1) failed after 3 attempts: HTTP 502`."""
        noun = "attempt" if attempts == 1 else "attempts"
        message = f"NEPSE {describe_call(method, path, params)} failed after {attempts} {noun}: {cause}"
        if hint:
            message = f"{message}. {hint}"
        return cls(
            message, endpoint=endpoint, params=params, attempts=attempts, cause=cause, status_code=status_code
        )


class NepseHTTPError(NepseError):
    """The call failed for good: a non-retryable status, or retries ran out (status is None for
    transport failures such as timeouts and dropped connections)."""


class NepseAuthError(NepseHTTPError):
    """The handshake failed, or a call stayed 401 after a token refresh and a fresh prove."""


class NepseTLSError(NepseError):
    """Certificate verification failed; the message says which setting fixes it."""


class NepsePagingError(NepseError):
    """Pages shifted while they were being collected (counts or rows disagree)."""


class NepseSchemaError(NepseError):
    """A response parsed as JSON but did not have the documented shape."""


class NepseRowError(NepseSchemaError):
    """One row of a list answer is not of the documented shape: which row, which field, what value."""

    def __init__(
        self, message: str, *, row: Any, field: str, value: Any, problem: str, **context: Any
    ) -> None:
        super().__init__(message, **context)
        self.row, self.field, self.value, self.problem = row, field, value, problem

    @property
    def symbol(self) -> str:
        if isinstance(self.row, dict) and self.row.get("symbol"):
            return str(self.row["symbol"])
        return "a row without a symbol"


class DownloadTooLarge(NepseError):
    """The document is larger than the caller's `max_bytes`."""


class UnsafePath(NepseError, ValueError):
    """A `file_path` that could escape the document store (absolute, `..`, backslash, control chars)."""
