"""Let the suite run under Debian's faketime (libfaketime 0.9.10), as `make test-calendar` does.

That libfaketime cannot run Python as it is: with a faked monotonic clock, waits with a timeout
(`threading.Event.wait`, queue gets) never return; with `FAKETIME_DONT_FAKE_MONOTONIC=1` they work, but
`time.sleep` fails with EINVAL (its absolute monotonic `clock_nanosleep` is mistranslated). So under
faketime, and only there, `time.sleep` waits with `select` instead, which libfaketime leaves alone. Loaded as
a pytest plugin (`-p` in pyproject's addopts), so before any test module binds `time.sleep`.
"""

from __future__ import annotations

import os
import select
import time

UNDER_FAKETIME = "faketime" in os.environ.get("LD_PRELOAD", "")


def _select_sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


if UNDER_FAKETIME:
    time.sleep = _select_sleep
