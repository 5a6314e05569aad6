"""Salter tokens: minting with decoy characters, validation, TTL, refresh and forced expiry."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ntx_assets.nepse.token_cleaning import CutIndexModule
from ntx_assets_tests.tools.standin.wasm import Salts

MIN_CLEAN_TOKEN_LENGTH = 140  # the last cut may sit at raw position 128
_DECOY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# A refresh token outlives its access token so that a client can still refresh after a 401.
REFRESH_TTL_FACTOR = 10.0
_PRUNE_EVERY = 256


def insert_decoys(clean: str, cuts: Sequence[int]) -> str:
    """Insert one decoy per cut, in ascending order, so that cut k lands at raw position cuts[k]."""
    raw = clean
    for position in sorted(cuts):
        raw = raw[:position] + secrets.choice(_DECOY_ALPHABET) + raw[position:]
    return raw


def strip_decoys(raw: str, cuts: Sequence[int]) -> str:
    """The client-side inverse: delete the characters at raw positions cuts."""
    drop = set(cuts)
    return "".join(ch for i, ch in enumerate(raw) if i not in drop)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _jwt_like(kind: str, issued_at: float, ttl: float) -> str:
    # JWT-shaped like the real tokens; the signature is random because nothing ever verifies it.
    header = _b64url(b'{"alg":"HS256","typ":"JWT"}')
    claims = {
        "sub": "nepse-standin",
        "typ": kind,
        "iat": int(issued_at),
        "exp": int(issued_at + ttl),
        "jti": secrets.token_hex(16),
    }
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    token = f"{header}.{payload}.{_b64url(secrets.token_bytes(32))}"
    assert len(token) >= MIN_CLEAN_TOKEN_LENGTH
    return token


@dataclass(frozen=True)
class Grant:
    salts: Salts
    expires_at: float  # on the store's clock


class TokenStore:
    """Issued tokens, keyed by their clean form. Thread-safe: tests expire tokens from outside the loop."""

    def __init__(
        self,
        ttl_seconds: float,
        indexer: CutIndexModule,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._ttl = ttl_seconds
        self._indexer = indexer
        self._clock = clock
        self._wall_clock = wall_clock
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}
        self._issued = 0
        self._lock = threading.Lock()

    def prove(self) -> dict[str, object]:
        """A fresh /api/authenticate/prove payload."""
        s1, s2, s3, s4, s5 = (secrets.randbelow(99_000) + 1000 for _ in range(5))
        salts: Salts = (s1, s2, s3, s4, s5)
        wall = self._wall_clock()
        access = _jwt_like("access", wall, self._ttl)
        refresh = _jwt_like("refresh", wall, self._ttl * REFRESH_TTL_FACTOR)
        now = self._clock()
        with self._lock:
            self._access[access] = Grant(salts, now + self._ttl)
            self._refresh[refresh] = Grant(salts, now + self._ttl * REFRESH_TTL_FACTOR)
            self._issued += 1
            if self._issued % _PRUNE_EVERY == 0:
                self._prune(now)
        access_cuts = self._indexer.access_token_cuts(salts)
        refresh_cuts = self._indexer.refresh_token_cuts(salts)
        payload: dict[str, object] = {
            "accessToken": insert_decoys(access, access_cuts),
            "refreshToken": insert_decoys(refresh, refresh_cuts),
        }
        for k, salt in enumerate(salts, start=1):
            payload[f"salt{k}"] = salt
        payload["serverTime"] = int(wall * 1000)
        return payload

    def refresh(self, refresh_token: str) -> dict[str, object] | None:
        """Exchange a clean refresh token (single use) for a fresh prove payload; None when unknown."""
        with self._lock:
            grant = self._refresh.pop(refresh_token, None)
        if grant is None or grant.expires_at <= self._clock():
            return None
        return self.prove()

    def lookup(self, access_token: str) -> Grant | None:
        """The grant of a live clean access token, or None when unknown or expired."""
        with self._lock:
            grant = self._access.get(access_token)
        if grant is None or grant.expires_at <= self._clock():
            return None
        return grant

    def revoke(self, access_token: str) -> None:
        with self._lock:
            self._access.pop(access_token, None)

    def expire_all(self) -> None:
        """Make every access token stale; refresh tokens stay usable, as after a real expiry."""
        with self._lock:
            self._access.clear()

    def _prune(self, now: float) -> None:
        self._access = {t: g for t, g in self._access.items() if g.expires_at > now}
        self._refresh = {t: g for t, g in self._refresh.items() if g.expires_at > now}
