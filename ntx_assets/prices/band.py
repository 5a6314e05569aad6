"""NEPSE's daily price band: how far one session's close can move from the previous close by trading.

- From 2012-07-01: +/-10% of the previous close (sharegurunepal.com, "Know about circuit breakers in
  NEPSE"; nepsekhabar.com, "What is a Circuit Break": "circuit break applies at 10% price movement on
  either side"; and measured: in the 20 archived companies of docs/price-archive.md, no session from
  2012-07 to 2026-08 closes more than 10.5% above the previous close but three, while every fall beyond
  it is a re-basing).
- Before 2012-07-01: unknown to this project. The archive shows rises of 15-39% (six companies on
  2011-06-21, ADBL 2011-11-29 +32%, SHL 2011-12-04 +39%), so the band then was wider, absent, or the data
  is wrong there. The rule still uses 10% for those years: a larger move is not explained as a trade, so
  the series restarts there (a re-basing whose factor is unknown) instead of reading a guess into it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BandPeriod:
    start: dt.date
    limit: float
    source: str


PERIODS = (
    BandPeriod(dt.date.min, 0.10, "unknown before 2012-07-01; 10% assumed (moves beyond restart the series)"),
    BandPeriod(dt.date(2012, 7, 1), 0.10, "NEPSE circuit breaker, +/-10% of the previous close"),
)
# Closes are rounded to the tick and the archive's to the rupee in early years: half a percent of slack.
SLACK = 0.005


def band_limits(dates: np.ndarray) -> np.ndarray:
    """The band (a fraction: 0.10) in force on each of `dates` (datetime64[D])."""
    starts = np.array(
        [np.datetime64(p.start if p.start != dt.date.min else dt.date(1900, 1, 1)) for p in PERIODS]
    )
    limits = np.array([p.limit for p in PERIODS])
    return limits[np.searchsorted(starts, dates.astype("datetime64[D]"), side="right") - 1]


def beyond_band(close: np.ndarray, base: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """True where close moved from base by more than the band (plus SLACK) allows; False where base is NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        move = np.abs(close / base - 1.0)
    return np.nan_to_num(move, nan=0.0) > band_limits(dates) + SLACK
