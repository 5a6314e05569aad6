"""The "today" of the test suite, and how a test moves it.

Every in-process test runs at PINNED_NOW (conftest's session fixture): the product's clock
(`ntx_assets.common.clock.nepal_now`) and Dagster's partition clock (`dg.partition_loading_context`) both read
it, and the shared stand-in's window ends on PINNED_TODAY. So the suite decides the same on any date the
machine says; `pytest -m calendar` under `faketime` proves it. A test about another instant says which,
with `pinned(...)`.

Processes a test starts (webserver, daemon, run workers, the bench) run on the machine's real clock:
`subprocess_env_for` gives them a NEPSE history window that reaches the pinned dates from whatever day
that is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from ntx_assets.common.clock import NEPAL_TZ, pinned_now

# A Friday (Monday-Friday week since 2026-04-06), a session in the stand-in's calendar, after the 15:00
# close: today's session is over and its prices can be loaded.
PINNED_NOW = dt.datetime(2026, 11, 20, 16, 30, tzinfo=NEPAL_TZ)
PINNED_TODAY = PINNED_NOW.date()


@contextmanager
def pinned(instant: dt.datetime) -> Iterator[dt.datetime]:
    """Run the block at `instant`: the product's clock and Dagster's partitions both say so."""
    with pinned_now(instant) as local, dg.partition_loading_context(effective_dt=local):
        yield local


def npt(*fields: int) -> dt.datetime:
    """A Nepal-time instant: npt(2026, 11, 20, 16, 30)."""
    return dt.datetime(*fields, tzinfo=NEPAL_TZ)  # type: ignore[misc]


def subprocess_env_for(first: dt.date) -> dict[str, str]:
    """Settings for a child process on the real clock that must load dates from `first` on.

    NTX_API_HISTORY_DAYS is how far back NEPSE answers; the stand-in answers its whole window, so the
    child's window is stretched from its real today back to `first` (and never below the default).
    """
    return {"NTX_API_HISTORY_DAYS": str(history_days_reaching(first))}


def history_days_reaching(first: dt.date) -> int:
    """A NEPSE history window (NTX_API_HISTORY_DAYS) that reaches `first` from the machine's real today,
    never below the default: for the stand-in, which answers its whole window whatever day it is."""
    real_today = dt.datetime.now(NEPAL_TZ).date()
    return max(365, (real_today - first).days + 7)
