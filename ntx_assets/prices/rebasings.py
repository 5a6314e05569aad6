"""Every re-basing of a whole price history, each with the source of its factor (pure: frames in and out).

Three sources, in order (docs/price-archive.md):
- `exchange_base`: NEPSE's own adjusted base, where the row carries it (NEPSE's previousDayClosePrice;
  the archive's close / (1 + per_change / 100) since 2018-02-18): `detect_adjustments`' rule.
- `announcement`: a move beyond NEPSE's daily price band (`band`) that an announced bonus or right issue
  explains: its formula gives the base from the previous close, and the close is within the band of it.
- `unexplained`: a move beyond the band that nothing explains: a re-basing whose factor is unknown (NaN).
  No factor is guessed: the back-adjustment makes every earlier row unknown (NaN) in the bases after it,
  so no indicator window reaches back across it and the series restarts there.
NEPSE's own rows (source `nepse`) are judged by NEPSE's base alone: the band rule applies to rows that do
not carry one (the archive's before 2018-02-18, or where its per_change is the raw change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from ntx_assets.prices.adjustments import detect_adjustments
from ntx_assets.prices.band import beyond_band
from ntx_assets.prices.daily_rows import NEPSE_SOURCE

EXCHANGE_BASE = "exchange_base"
ANNOUNCEMENT = "announcement"
UNEXPLAINED = "unexplained"

REBASING_COLUMNS = ("security_id", "ex_date", "factor", "factor_source", "prior_close", "base")

# (security id, ex date, previous close, close) -> the announced base that explains the move, or None.
BandExplainer = Callable[[int, dt.date, float, float], float | None]


def find_rebasings(prices: pd.DataFrame, explain: BandExplainer | None = None) -> pd.DataFrame:
    """The re-basings of `prices` (security_id, business_date, close, previous_close and optionally
    `source`), one row per (security_id, ex_date) with REBASING_COLUMNS, sorted. `factor` is the base over
    the previous stored close (below 1 for a bonus), NaN when unknown; `base` is NaN then too."""
    exchange = detect_adjustments(prices)
    ordered = prices.sort_values(["security_id", "business_date"], kind="stable").reset_index(drop=True)
    close = ordered["close"].astype(float).to_numpy()
    stored_previous = ordered.groupby("security_id")["close"].shift(1).astype(float).to_numpy()
    served = ordered["previous_close"].astype(float).to_numpy()
    exchange["factor_source"] = EXCHANGE_BASE
    exchange["prior_close"] = _lookup(ordered, exchange, stored_previous)
    exchange["base"] = exchange["prior_close"] * exchange["factor"]

    rebased = set(zip(exchange["security_id"], exchange["ex_date"], strict=True))
    days = pd.to_datetime(ordered["business_date"]).to_numpy(dtype="datetime64[D]")
    base = np.where(np.isnan(served), stored_previous, served)
    candidates = beyond_band(close, base, days)
    if "source" in ordered.columns:
        candidates &= (ordered["source"].fillna(NEPSE_SOURCE) != NEPSE_SOURCE).to_numpy()
    found: list[dict] = []
    for position in np.flatnonzero(candidates):
        security_id = int(ordered.at[position, "security_id"])
        day = ordered.at[position, "business_date"]
        if (security_id, day) in rebased or np.isnan(stored_previous[position]):
            continue
        prior = float(stored_previous[position])
        announced = explain(security_id, day, prior, float(close[position])) if explain else None
        found.append(
            {
                "security_id": security_id,
                "ex_date": day,
                "factor": announced / prior if announced else np.nan,
                "factor_source": ANNOUNCEMENT if announced else UNEXPLAINED,
                "prior_close": prior,
                "base": announced if announced else np.nan,
            }
        )
    frames = [frame for frame in (exchange, pd.DataFrame(found)) if len(frame)]
    if not frames:
        return pd.DataFrame({column: [] for column in REBASING_COLUMNS})
    result = pd.concat(frames, ignore_index=True)[list(REBASING_COLUMNS)]
    return result.sort_values(["security_id", "ex_date"], kind="stable").reset_index(drop=True)


def continuous_from(prices: pd.DataFrame, rebasings: pd.DataFrame, day: dt.date) -> pd.Series:
    """Per security: the first date of its history that indicators of `day` can read (its first row, or
    its last unknown re-basing on or before `day`)."""
    first = prices.groupby("security_id")["business_date"].min()
    unknown = rebasings[rebasings["factor"].isna() & (rebasings["ex_date"] <= day)]
    restarts = unknown.groupby("security_id")["ex_date"].max()
    return restarts.combine_first(first)


def _lookup(ordered: pd.DataFrame, found: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    if found.empty:
        return np.array([], dtype=float)
    position = pd.Series(
        np.arange(len(ordered)), index=pd.MultiIndex.from_frame(ordered[["security_id", "business_date"]])
    )
    keys = pd.MultiIndex.from_arrays([found["security_id"], found["ex_date"]])
    return values[position.loc[keys].to_numpy()]
