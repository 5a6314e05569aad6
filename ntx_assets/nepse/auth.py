"""The Salter token lifecycle: prove, clean, renew (docs/NEPSE_API.md section 1).

One Authenticator is shared by all threads of a client. Renewal happens under a lock and is keyed on a
generation number, so when several threads see the same 401 only the first renews and the others pick
up its token instead of stampeding `/prove`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import wasmtime
from pydantic import ValidationError

from ntx_assets.nepse.errors import NepseAuthError, NepseError, NepseTLSError, validation_summary
from ntx_assets.nepse.failures import EMPTY, CallFailure, check_status, read_json
from ntx_assets.nepse.models import ProveResponse
from ntx_assets.nepse.token_cleaning import CutIndexModule, strip_decoys
from ntx_assets.nepse.transport import Call, Transport

WASM_PATH = "/assets/prod/css.wasm"
PROVE_PATH = "/api/authenticate/prove"
REFRESH_PATH = "/api/authenticate/refresh-token"

# The reference clients renew 45 s after issue; the server is said to expire tokens after about 60 s.
DEFAULT_TOKEN_MAX_AGE_SECONDS = 45.0


@dataclass(frozen=True)
class Token:
    access_token: str  # clean
    refresh_token: str  # clean
    salts: tuple[int, int, int, int, int]
    received_at: float  # monotonic clock, so a wrong wall clock cannot make a token look fresh
    generation: int

    @property
    def authorization(self) -> str:
        return f"Salter {self.access_token}"


def _json_body(response: httpx.Response) -> Any:
    check_status(response)
    data = read_json(response)
    if data is EMPTY:
        raise CallFailure("HTTP 200 with an empty body", retryable=True)
    return data


def _wasm_body(response: httpx.Response) -> bytes:
    check_status(response)
    raw = response.read()
    if not raw:
        raise CallFailure("HTTP 200 with an empty body", retryable=True)
    return raw


class Authenticator:
    def __init__(
        self,
        transport: Transport,
        *,
        max_age_seconds: float = DEFAULT_TOKEN_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transport = transport
        self._max_age = max_age_seconds
        self._clock = clock
        self._lock = threading.RLock()
        self._token: Token | None = None
        self._generation = 0
        self._cuts: CutIndexModule | None = None

    def current(self) -> Token:
        """A token believed valid: the cached one, or a fresh prove when it is missing or too old."""
        with self._lock:
            token = self._token
            if token is None or self._clock() - token.received_at >= self._max_age:
                token = self._token = self._prove()
            return token

    def after_unauthorized(self, stale: Token) -> Token:
        """`stale` drew a 401: refresh it, falling back to a fresh prove if the refresh is refused."""
        with self._lock:
            if self._token is not None and self._token.generation > stale.generation:
                return self._token  # another thread already renewed
            try:
                token = self._issue(
                    Call("POST", REFRESH_PATH), json_body={"refreshToken": stale.refresh_token}
                )
            except NepseTLSError:
                raise
            except NepseError:
                token = self._prove()
            self._token = token
            return token

    def reprove(self, stale: Token) -> Token:
        """A refreshed token still drew a 401: start over with `/prove`."""
        with self._lock:
            if self._token is not None and self._token.generation > stale.generation:
                return self._token
            token = self._token = self._prove()
            return token

    def _prove(self) -> Token:
        return self._issue(Call("GET", PROVE_PATH))

    def _issue(self, call: Call, *, json_body: dict[str, str] | None = None) -> Token:
        try:
            data = self._transport.run(
                call, lambda: self._transport.exchange(call, _json_body, json_body=json_body)
            )
        except NepseTLSError:
            raise
        except NepseError as exc:
            raise _as_auth_error(exc) from exc
        try:
            proved = ProveResponse.model_validate(data)
        except ValidationError as exc:
            raise NepseAuthError(
                f"NEPSE {call.describe()} gave no usable tokens and salts: {validation_summary(exc)}",
                endpoint=call.endpoint,
                attempts=1,
            ) from exc
        cuts = self._cut_module()
        try:
            access = strip_decoys(proved.access_token, cuts.access_token_cuts(proved.salts))
            refresh = strip_decoys(proved.refresh_token, cuts.refresh_token_cuts(proved.salts))
        except (ValueError, wasmtime.WasmtimeError) as exc:
            raise NepseAuthError(
                f"NEPSE {call.describe()}: could not remove the decoy characters with {WASM_PATH}: {exc}",
                endpoint=call.endpoint,
                attempts=1,
            ) from exc
        self._generation += 1
        return Token(access, refresh, proved.salts, self._clock(), self._generation)

    def _cut_module(self) -> CutIndexModule:
        # Downloaded once per client: it is NEPSE's current code, and a restart picks up a new one.
        if self._cuts is None:
            call = Call("GET", WASM_PATH)
            try:
                raw = self._transport.run(call, lambda: self._transport.exchange(call, _wasm_body))
            except NepseTLSError:
                raise
            except NepseError as exc:
                raise _as_auth_error(exc) from exc
            try:
                self._cuts = CutIndexModule(raw)
            except ValueError as exc:
                raise NepseAuthError(
                    f"NEPSE {call.describe()} did not serve the token WebAssembly module: {exc}",
                    endpoint=call.endpoint,
                    attempts=1,
                ) from exc
        return self._cuts


def _as_auth_error(exc: NepseError) -> NepseAuthError:
    if isinstance(exc, NepseAuthError):
        return exc
    return NepseAuthError(
        f"authentication failed: {exc}",
        endpoint=exc.endpoint,
        params=exc.params,
        attempts=exc.attempts,
        cause=exc.cause,
        status_code=exc.status_code,
    )
