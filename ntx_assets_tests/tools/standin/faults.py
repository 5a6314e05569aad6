"""Which fault, if any, a request suffers: seeded, reconfigurable at runtime, thread-safe."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass
from enum import Enum

from ntx_assets_tests.tools.standin.config import FaultConfig


class Fault(Enum):
    NONE = "none"
    TOO_MANY_REQUESTS = "429"
    SERVER_ERROR = "500"
    BAD_GATEWAY = "502"
    DROP = "drop"
    EMPTY_200 = "empty_200"
    TRUNCATED_JSON = "truncated_json"


# Same order as FaultConfig.exclusive_rates().
_EXCLUSIVE = (
    Fault.TOO_MANY_REQUESTS,
    Fault.SERVER_ERROR,
    Fault.BAD_GATEWAY,
    Fault.DROP,
    Fault.EMPTY_200,
    Fault.TRUNCATED_JSON,
)


@dataclass(frozen=True)
class FaultDecision:
    fault: Fault
    delay_seconds: float  # a slow answer: sleep this long first (0 for none)
    retry_after_seconds: int


class FaultInjector:
    def __init__(self, config: FaultConfig) -> None:
        self._lock = threading.Lock()
        self.configure(config)

    def configure(self, config: FaultConfig) -> None:
        """Swap the fault config; restarts its random stream and the token-expiry count."""
        with self._lock:
            self._config = config
            self._rng = random.Random(f"faults:{config.seed}")
            self._authorised = 0
            self._injected: Counter[str] = Counter()

    @property
    def config(self) -> FaultConfig:
        with self._lock:
            return self._config

    def decide(self, method: str) -> FaultDecision:
        with self._lock:
            config = self._config
            draw = self._rng.random()
            slow = self._rng.random() < config.rate_slow
        fault = Fault.NONE
        edge = 0.0
        for kind, rate in zip(_EXCLUSIVE, config.exclusive_rates(), strict=True):
            edge += rate
            if draw < edge:
                fault = kind
                break
        if fault is Fault.EMPTY_200 and method != "POST":
            fault = Fault.NONE  # the empty-200 answer belongs to POST endpoints only
        with self._lock:
            if fault is not Fault.NONE:
                self._injected[fault.value] += 1
            if slow:
                self._injected["slow"] += 1
        return FaultDecision(fault, config.slow_seconds if slow else 0.0, config.retry_after_seconds)

    def token_goes_stale(self) -> bool:
        """Called once per authorised request; True on every Nth when expire_token_every is N."""
        with self._lock:
            every = self._config.expire_token_every
            if every <= 0:
                return False
            self._authorised += 1
            stale = self._authorised % every == 0
            if stale:
                self._injected["token_expired"] += 1
            return stale

    def record_over_concurrency(self) -> None:
        """A request dropped for arriving above the stand-in's max_in_flight (StandinConfig)."""
        with self._lock:
            self._injected["over_concurrency"] += 1

    def injected(self) -> dict[str, int]:
        """Faults injected since the config was last set, by kind ("500", "drop", "token_expired", ...)."""
        with self._lock:
            return dict(self._injected)
