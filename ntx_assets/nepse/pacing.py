"""Client-side pacing: a token bucket for the request rate and a semaphore for concurrency.

NEPSE publishes no limit, but concurrent bursts have been seen to drop connections and silently lose
pages (docs/NEPSE_API.md section 4), so every HTTP request of a client, retries and auth included, waits here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ntx_assets.nepse import defaults


class TokenBucket:
    """Thread-safe token bucket, implemented as a reservation schedule (GCRA).

    Each caller reserves the next free slot under the lock and sleeps outside it, so waiting threads
    never block one another's bookkeeping and are served roughly first come, first served.
    """

    def __init__(
        self,
        rate_per_second: float,
        *,
        burst: int = defaults.BURST,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError(f"rate_per_second must be positive, got {rate_per_second}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self._interval = 1.0 / rate_per_second
        # How far ahead of the steady schedule a caller may run: a full bucket of `burst` tokens.
        self._tolerance = (burst - 1) * self._interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._theoretical_arrival = clock()

    def reserve(self) -> float:
        """Claim the next slot and return how long the caller must wait for it."""
        with self._lock:
            now = self._clock()
            arrival = max(self._theoretical_arrival, now)
            wait = max(0.0, arrival - self._tolerance - now)
            self._theoretical_arrival = arrival + self._interval
        return wait

    def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)


class Pacer:
    """A concurrency cap plus a rate cap; `with pacer.slot():` wraps exactly one HTTP exchange."""

    def __init__(
        self, requests_per_second: float, max_concurrent_requests: int, *, burst: int = defaults.BURST
    ) -> None:
        if max_concurrent_requests < 1:
            raise ValueError(f"max_concurrent_requests must be at least 1, got {max_concurrent_requests}")
        self._bucket = TokenBucket(requests_per_second, burst=burst)
        self._semaphore = threading.BoundedSemaphore(max_concurrent_requests)

    @contextmanager
    def slot(self) -> Iterator[None]:
        # Take the concurrency slot first: a thread that waited on the semaphore must still respect the
        # rate, otherwise freed slots would release a burst.
        with self._semaphore:
            self._bucket.acquire()
            yield
