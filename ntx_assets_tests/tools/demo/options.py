"""The demo's options (the command line's, as a value)."""

from __future__ import annotations

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
