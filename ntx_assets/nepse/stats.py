"""Per-endpoint call and retry counters, reported as Dagster metadata by the assets."""

from __future__ import annotations

import threading
from collections import Counter


class CallStats:
    """Thread-safe counters keyed by endpoint template, e.g. `"POST /api/nots/nepse-data/today-price"`.

    A call is one HTTP request sent (retries, token renewals and the WASM download included), so the
    numbers match what NEPSE saw; a retry is one request repeated after a retryable failure.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._retries: Counter[str] = Counter()

    def record_call(self, endpoint: str) -> None:
        with self._lock:
            self._calls[endpoint] += 1

    def record_retry(self, endpoint: str) -> None:
        with self._lock:
            self._retries[endpoint] += 1

    @property
    def calls(self) -> dict[str, int]:
        with self._lock:
            return dict(self._calls)

    @property
    def retries(self) -> dict[str, int]:
        with self._lock:
            return dict(self._retries)

    @property
    def total_calls(self) -> int:
        with self._lock:
            return sum(self._calls.values())

    @property
    def total_retries(self) -> int:
        with self._lock:
            return sum(self._retries.values())

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly snapshot taken under one lock, so the totals agree with the breakdown."""
        with self._lock:
            calls = dict(sorted(self._calls.items()))
            retries = dict(sorted(self._retries.items()))
        return {
            "total_calls": sum(calls.values()),
            "total_retries": sum(retries.values()),
            "calls": calls,
            "retries": retries,
        }

    def __repr__(self) -> str:
        return f"CallStats(total_calls={self.total_calls}, total_retries={self.total_retries})"
