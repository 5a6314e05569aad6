"""The demo's options (the command line's, as a value)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Options:
    sessions: int = 20
    seed: int = 7
    port: int = 0
    fresh: bool = False
    symbols: int | None = None  # filings/artifacts for the first N symbols only (None: all)
    requests_per_second: float = 50.0
    verbose: bool = False
    # The demo's today: its stand-in's year ends on it and it loads the sessions closed by its end. None:
    # the product's clock (today in Nepal; the pinned day in tests).
    today: dt.date | None = None
    # Also import the shipped archive sample (20 real companies, 2005-2026) and screen its years.
    history: bool = False
