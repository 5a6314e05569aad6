"""Let Python run under Debian's faketime (libfaketime 0.9.10), in every process of the suite.

That libfaketime cannot run Python as it is: with a faked monotonic clock, waits with a timeout
(`threading.Event.wait`, queue gets) never return; with `FAKETIME_DONT_FAKE_MONOTONIC=1` they work, but
`time.sleep` fails with EINVAL (its absolute monotonic `clock_nanosleep` is mistranslated). So under
faketime, and only there, `time.sleep` waits with `select` instead, which libfaketime leaves alone.

Python imports this module at startup when its folder is on PYTHONPATH: the test plugin
`ntx_assets_tests.faketime_compat` puts it there under faketime, so the processes a test starts (stand-in,
demo, bench, Dagster webserver, daemon, code server and run workers) get the same `time.sleep` as the
pytest process. Outside faketime it changes nothing. Standard library only: it runs before anything else.
"""

from __future__ import annotations

import os
import select
import time

UNDER_FAKETIME = "faketime" in os.environ.get("LD_PRELOAD", "")


def select_sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


if UNDER_FAKETIME:
    time.sleep = select_sleep
