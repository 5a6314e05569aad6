from __future__ import annotations

import functools
import threading
import time

import pytest

from ntx_assets.nepse import defaults, pacing
from ntx_assets.nepse.pacing import Pacer, TokenBucket


class _FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_bucket_allows_the_burst_then_spaces_requests() -> None:
    clock = _FakeClock()
    bucket = TokenBucket(5.0, burst=2, clock=clock, sleep=clock.sleep)
    waits = [bucket.reserve() for _ in range(5)]
    # two free tokens, then one slot every 0.2 s, reserved in order
    assert waits == pytest.approx([0.0, 0.0, 0.2, 0.4, 0.6])


def test_bucket_refills_while_idle_but_never_beyond_the_burst() -> None:
    clock = _FakeClock()
    bucket = TokenBucket(2.0, burst=2, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        bucket.acquire()
    clock.now += 60  # a long pause refills only the burst
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.5])


def test_bucket_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)
    with pytest.raises(ValueError):
        TokenBucket(1.0, burst=0)
    with pytest.raises(ValueError):
        Pacer(1.0, 0)


def test_pacer_holds_rate_and_concurrency_across_threads() -> None:
    pacer = Pacer(20.0, 2, burst=1)
    active = 0
    peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal active, peak
        with pacer.slot():
            with lock:
                active += 1
                peak = max(peak, active)
            time.sleep(0.05)
            with lock:
                active -= 1

    threads = [threading.Thread(target=work) for _ in range(10)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert peak <= 2
    assert elapsed >= 9 / 20.0 * 0.9  # ten slots at 20/s with no burst: at least ~0.45 s


def test_pacer_default_is_the_clients_burst_of_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # One home for the burst: a Pacer built with its defaults lets defaults.BURST (one) request through at
    # once and spaces each later one a full interval out, as NepseClient does, instead of letting two
    # through at once. The Pacer builds its bucket itself: its clock and sleep are swapped for a fake one.
    clock = _FakeClock()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.sleep(seconds)

    monkeypatch.setattr(pacing, "TokenBucket", functools.partial(TokenBucket, clock=clock, sleep=sleep))
    pacer = Pacer(4.0, defaults.MAX_CONCURRENT_REQUESTS)
    for _ in range(defaults.BURST + 2):
        with pacer.slot():
            pass
    assert defaults.BURST == 1
    assert slept == pytest.approx([0.25, 0.25])  # the first request free, then one every 1/R
    assert clock.now == pytest.approx(100.5)
