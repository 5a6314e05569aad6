"""Everything a running stand-in holds: data, tokens, faults, counters and the market-status override."""

from __future__ import annotations

import threading
from datetime import datetime, time
from typing import Any

from ntx_assets_tests.tools.standin.config import StandinConfig
from ntx_assets_tests.tools.standin.counter import RequestCounter
from ntx_assets_tests.tools.standin.data import StandinData
from ntx_assets_tests.tools.standin.faults import FaultInjector
from ntx_assets_tests.tools.standin.ratelimit import RateLimiter
from ntx_assets_tests.tools.standin.sessions import NPT
from ntx_assets_tests.tools.standin.tokens import TokenStore
from ntx_assets_tests.tools.standin.wasm import cut_indexer, wasm_bytes

MARKET_CLOSE = time(15, 0)
MARKET_STATES = ("OPEN", "CLOSE", "Pre Open")


class StandinState:
    def __init__(self, config: StandinConfig, data: StandinData | None = None) -> None:
        self.config = config
        self.data = data if data is not None else StandinData(config)
        self.wasm = wasm_bytes()
        self.tokens = TokenStore(config.token_ttl_seconds, cut_indexer(self.wasm))
        self.faults = FaultInjector(config.faults)
        self.counter = RequestCounter()
        self.limiter = RateLimiter(config.rate_limit_per_second) if config.rate_limit_per_second else None
        self._market_override: tuple[str, datetime] | None = None
        self._lock = threading.Lock()

    def market_status(self) -> dict[str, Any]:
        """GET /nepse-data/market-open. By default: closed, as of 15:00 of the last session."""
        with self._lock:
            override = self._market_override
        if override is None:
            day = self.data.last_session or self.data.end_date
            is_open, as_of = "CLOSE", datetime.combine(day, MARKET_CLOSE)
        else:
            is_open, as_of = override
        return {"isOpen": is_open, "asOf": as_of.strftime("%Y-%m-%dT%H:%M:%S"), "id": self.data.market_id}

    def set_market_status(self, is_open: str | None, as_of: datetime | None = None) -> None:
        """Override market-open; is_open=None restores the default."""
        if is_open is None:
            with self._lock:
                self._market_override = None
            return
        if is_open not in MARKET_STATES:
            raise ValueError(f"is_open must be one of {MARKET_STATES}")
        if as_of is None:
            day = self.data.last_session or self.data.end_date
            as_of = datetime.combine(day, MARKET_CLOSE)
        if as_of.tzinfo is not None:
            as_of = as_of.astimezone(NPT)  # asOf is Nepal wall-clock time
        with self._lock:
            self._market_override = (is_open, as_of.replace(tzinfo=None))
