"""Authorized calls: the Salter header, the 401 recovery ladder, POST payload-id variants.

The ladder (docs/NEPSE_API.md section 1, as nepsepy does it): on a 401 refresh the token and resend; still
401, prove from scratch and resend once; still 401, give up with NepseAuthError. It runs inside one
attempt of the retry loop, so a 5xx on any rung is retried with the current token and a fresh body.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

import httpx

from ntx_assets.nepse.auth import Authenticator, Token
from ntx_assets.nepse.errors import NepseAuthError
from ntx_assets.nepse.failures import EMPTY, CallFailure, check_status, is_empty_payload, read_json
from ntx_assets.nepse.transport import Call, Transport

T = TypeVar("T")

BodyFactory = Callable[[Token], dict[str, Any]]


class _Unauthorized:
    def __repr__(self) -> str:
        return "UNAUTHORIZED"


UNAUTHORIZED: Final = _Unauthorized()


def unless_unauthorized(
    consume: Callable[[httpx.Response], T],
) -> Callable[[httpx.Response], T | _Unauthorized]:
    """Let the caller see a 401 as a value, so it can renew the token and resend."""

    def wrapped(response: httpx.Response) -> T | _Unauthorized:
        if response.status_code == 401:
            return UNAUTHORIZED
        return consume(response)

    return wrapped


def _json_or_empty(response: httpx.Response) -> Any:
    check_status(response)
    return read_json(response)


class ApiSession:
    def __init__(self, transport: Transport, auth: Authenticator) -> None:
        self.transport = transport
        self.auth = auth

    def authorized_exchange(
        self,
        call: Call,
        consume: Callable[[httpx.Response], T],
        *,
        body_for: BodyFactory | None = None,
        url: str | None = None,
    ) -> T:
        """One exchange with the current token, climbing the 401 ladder when needed."""
        token = self.auth.current()
        renewals: tuple[Callable[[Token], Token], ...] = (self.auth.after_unauthorized, self.auth.reprove)
        for renew in (*renewals, None):
            # The body is rebuilt per token: signed payload ids depend on the token's salts.
            body = body_for(token) if body_for is not None else None
            result = self.transport.exchange(
                call,
                unless_unauthorized(consume),
                headers={"Authorization": token.authorization},
                json_body=body,
                url=url,
            )
            if result is not UNAUTHORIZED:
                return result  # type: ignore[return-value]
            if renew is None:
                break
            token = renew(token)
        raise CallFailure(
            "HTTP 401 even after a token refresh and a fresh prove (3 requests)",
            retryable=False,
            status_code=401,
            kind=NepseAuthError,
        )

    def get_json(self, call: Call) -> Any:
        """GET and decode; a blank 200 is a glitch here, retried like truncated JSON."""

        def attempt() -> Any:
            data = self.authorized_exchange(call, _json_or_empty)
            if data is EMPTY:
                raise CallFailure("HTTP 200 with an empty body", retryable=True)
            return data

        return self.transport.run(call, attempt)

    def post_json(
        self,
        call: Call,
        bodies: Sequence[BodyFactory],
        *,
        on_accepted: Callable[[int], None] | None = None,
        on_all_empty: Callable[[], str] | None = None,
    ) -> Any:
        """POST with the first body variant NEPSE accepts.

        A wrong payload id gets "200 with an empty body", so an empty answer moves on to the next variant.
        When every variant comes back empty, `on_all_empty` runs once for the call (the client reads the
        market id again: the ids are derived from it) and the variants are tried again with what it
        re-read; if they are still all empty, the attempt counts as a retryable failure. `on_accepted`
        learns the index of the variant that worked.
        """
        if not bodies:
            raise ValueError("post_json needs at least one body variant")
        refreshed: list[str] = []  # what on_all_empty said, once per call

        def try_variants() -> tuple[bool, Any, int]:
            # Variants that yield the same id for this token would only earn the same empty answer.
            token = self.auth.current()
            distinct: list[int] = []
            seen: list[dict[str, Any]] = []
            for index, body_for in enumerate(bodies):
                body = body_for(token)
                if body not in seen:
                    seen.append(body)
                    distinct.append(index)
            for index in distinct:
                data = self.authorized_exchange(call, _json_or_empty, body_for=bodies[index])
                if not is_empty_payload(data):
                    if on_accepted is not None:
                        on_accepted(index)
                    return True, data, len(distinct)
            return False, None, len(distinct)

        def attempt() -> Any:
            accepted, data, tried = try_variants()
            if not accepted and on_all_empty is not None and not refreshed:
                refreshed.append(on_all_empty())
                accepted, data, tried = try_variants()
            if accepted:
                return data
            after = f" (after {refreshed[0]})" if refreshed else ""
            raise CallFailure(
                f"HTTP 200 with an empty body for each of {tried} payload-id variant(s) tried{after}",
                retryable=True,
            )

        return self.transport.run(call, attempt)
