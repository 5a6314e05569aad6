from __future__ import annotations

import threading

from ntx_assets.nepse import CallStats


def test_counts_by_endpoint_from_many_threads() -> None:
    stats = CallStats()

    def work() -> None:
        for _ in range(1000):
            stats.record_call("GET /a")
        for _ in range(10):
            stats.record_retry("GET /a")
        stats.record_call("POST /b")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stats.calls == {"GET /a": 8000, "POST /b": 8}
    assert stats.retries == {"GET /a": 80}
    assert (stats.total_calls, stats.total_retries) == (8008, 80)
    assert stats.as_dict() == {
        "total_calls": 8008,
        "total_retries": 80,
        "calls": {"GET /a": 8000, "POST /b": 8},
        "retries": {"GET /a": 80},
    }
