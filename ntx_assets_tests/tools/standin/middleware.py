"""The request pipeline in front of the routes: count, rate-limit, inject faults, authenticate.

Written as plain ASGI rather than Starlette middleware because two faults need the raw protocol:
a dropped connection closes the socket under uvicorn, and a truncated answer rewrites the body
and its Content-Length after the route has produced them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ntx_assets_tests.tools.standin.faults import Fault, FaultDecision
from ntx_assets_tests.tools.standin.responses import bad_gateway, empty_200, error
from ntx_assets_tests.tools.standin.state import StandinState

PROTECTED_PREFIX = "/api/nots/"
UNMATCHED = "<unmatched>"


def route_template(routes: list[Route], scope: Scope) -> str:
    """The route path template ("/api/nots/security/{id}") that a request hits."""
    partial: str | None = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route.path
        if match is Match.PARTIAL and partial is None:
            partial = route.path
    return partial or UNMATCHED


def salter_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "salter" and token.strip():
                return token.strip()
    return None


async def drop_connection(scope: Scope, receive: Receive, send: Send) -> None:
    """Close the socket without answering, so clients see 'Server disconnected without sending a response'.

    uvicorn exposes no ASGI way to do this; its receive callable is bound to the request cycle that
    owns the transport. Without that (another server), fall back to headers promising a body that
    never comes, which clients also report as a protocol error.
    """
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is not None:
        transport.close()
        # Let uvicorn see the connection go before this app returns, so it does not log a missing response.
        for _ in range(3):
            await asyncio.sleep(0)
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4096")]})
    await send({"type": "http.response.body", "body": b"{", "more_body": True})
    raise ConnectionAbortedError("stand-in dropped the connection")


def truncating(send: Send) -> Send:
    """Wrap `send` so that a JSON answer goes out with a valid status but only half its body."""
    held: list[Message] = []
    body = bytearray()
    state: dict[str, bool] = {"json": False}

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", []))
            state["json"] = headers.get(b"content-type", b"").startswith(b"application/json")
            if not state["json"]:
                await send(message)
            else:
                held.append(message)
            return
        if not state["json"]:
            await send(message)
            return
        body.extend(message.get("body", b""))
        if message.get("more_body", False):
            return
        half = bytes(body[: len(body) // 2])
        start = held[0]
        headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
        headers.append((b"content-length", str(len(half)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": half, "more_body": False})

    return wrapped


class StandinMiddleware:
    def __init__(self, app: ASGIApp, state: StandinState, routes: list[Route]) -> None:
        self.app = app
        self.state = state
        self.routes = routes
        self.in_flight = 0  # requests being answered now (one event loop: no lock needed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.state.counter.add(scope["method"], route_template(self.routes, scope))
        limit = self.state.config.max_in_flight
        if limit is not None and self.in_flight >= limit:
            self.state.faults.record_over_concurrency()
            await drop_connection(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self._answer(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]

        if self.state.limiter is not None:
            wait = self.state.limiter.acquire()
            if wait is not None:
                response = error(429, path, "rate limit exceeded", {"Retry-After": str(wait)})
                await response(scope, receive, send)
                return

        protected = path.startswith(PROTECTED_PREFIX)
        decision = FaultDecision(Fault.NONE, 0.0, 0)
        if protected or self.state.faults.config.apply_to_auth:
            decision = self.state.faults.decide(method)
        if decision.delay_seconds > 0:
            await asyncio.sleep(decision.delay_seconds)
        if await self._gateway_fault(decision, scope, receive, send):
            return

        if protected:
            token = salter_token(scope)
            grant = self.state.tokens.lookup(token) if token is not None else None
            if token is not None and grant is not None and self.state.faults.token_goes_stale():
                self.state.tokens.revoke(token)
                grant = None
            if grant is None:
                message = "missing Salter token" if token is None else "invalid or expired token"
                await error(401, path, message)(scope, receive, send)
                return
            scope.setdefault("state", {})["grant"] = grant

        if decision.fault is Fault.EMPTY_200:
            await empty_200()(scope, receive, send)
            return
        if decision.fault is Fault.TRUNCATED_JSON:
            send = truncating(send)
        await self.app(scope, receive, send)

    async def _gateway_fault(
        self, decision: FaultDecision, scope: Scope, receive: Receive, send: Send
    ) -> bool:
        """Faults that strike before authentication, as a proxy or an overloaded server would."""
        path = scope["path"]
        response: Any
        if decision.fault is Fault.TOO_MANY_REQUESTS:
            response = error(
                429, path, "too many requests", {"Retry-After": str(decision.retry_after_seconds)}
            )
        elif decision.fault is Fault.SERVER_ERROR:
            response = error(500, path, "injected server error")
        elif decision.fault is Fault.BAD_GATEWAY:
            response = bad_gateway()
        elif decision.fault is Fault.DROP:
            await drop_connection(scope, receive, send)
            return True
        else:
            return False
        await response(scope, receive, send)
        return True
