"""Price re-basings (bonus and right issues) and back-adjustment (pure: pandas in, pandas out; no I/O).

When a company's book closes for a bonus or right issue, NEPSE re-bases its price: the next traded
session's `previousDayClosePrice` is the adjusted base, not the close we stored for the session before
(docs/NEPSE_API.md, price adjustment: bonus MP / (1 + bonus); right (MP + issue price x right) / (1 + right)).
So a re-basing shows in the data itself: a traded session whose previous_close differs from that
security's previous stored close. Its factor is previous_close / that close (below 1 for a bonus or a
right below the market price), and multiplying every earlier price by it (dividing volume) puts the
earlier history in the new basis.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import numpy as np
import pandas as pd

# Half a paisa: NEPSE prices have two decimals, so a smaller difference is rounding, not a re-basing.
REBASING_TOLERANCE = 0.005
# Float noise allowed on top of the tolerance (prices like 326.995 are not exact in binary).
_EPSILON = 1e-9

ADJUSTMENT_COLUMNS = ("security_id", "ex_date", "factor")
PRICE_COLUMNS = ("open", "high", "low", "close")


def detect_adjustments(prices: pd.DataFrame) -> pd.DataFrame:
    """The re-basings in `prices`: one row per session whose previous_close differs from the close of
    that security's previous row by more than half a paisa, with factor = previous_close / that close.

    `prices`: one row per traded session with `security_id`, `business_date` (datetime.date), `close` and
    `previous_close` (NEPSE's previousDayClosePrice, may be NaN), in any order; other columns are
    ignored. A security's first row, and a row without previous_close, never re-base. Sessions a company
    did not trade have no row, so a company that trades again some sessions after its book closure
    re-bases on its next traded row. Returns `security_id`, `ex_date`, `factor`, sorted by
    (security_id, ex_date).
    """
    _require(prices, ("security_id", "business_date", "close", "previous_close"), "prices")
    ordered = prices.sort_values(["security_id", "business_date"], kind="stable")
    close = ordered["close"].astype(float)
    previous_close = ordered["previous_close"].astype(float)
    stored_previous = close.groupby(ordered["security_id"]).shift(1)
    rebased = (
        previous_close.notna()
        & stored_previous.notna()
        & ((previous_close - stored_previous).abs() > REBASING_TOLERANCE + _EPSILON)
    )
    found = pd.DataFrame(
        {
            "security_id": ordered.loc[rebased, "security_id"].to_numpy(),
            "ex_date": ordered.loc[rebased, "business_date"].to_numpy(),
            "factor": (previous_close[rebased] / stored_previous[rebased]).to_numpy(),
        }
    )
    return found.reset_index(drop=True)


def back_adjust(
    prices: pd.DataFrame, adjustments: pd.DataFrame, as_of: dt.date | None = None
) -> pd.DataFrame:
    """`prices` with open, high, low, close multiplied and volume divided by the product of the factors
    of that security's re-basings whose ex_date is after the row's date and not after `as_of` (all of
    them when `as_of` is None). Other columns pass through unchanged; NaN stays NaN; the rows keep their
    order and index.
    """
    _require(prices, ("security_id", "business_date", *PRICE_COLUMNS, "volume"), "prices")
    _require(adjustments, ADJUSTMENT_COLUMNS, "adjustments")
    multiplier = cumulative_factors(prices["security_id"], prices["business_date"], adjustments, as_of)
    adjusted = prices.copy()
    for column in PRICE_COLUMNS:
        adjusted[column] = prices[column].astype(float) * multiplier
    adjusted["volume"] = prices["volume"].astype(float) / multiplier
    return adjusted


def cumulative_factors(
    security_ids: pd.Series, dates: pd.Series, adjustments: pd.DataFrame, as_of: dt.date | None = None
) -> np.ndarray:
    """For each (security id, date) pair: the product of that security's factors with ex_date after the
    date and not after `as_of`; 1.0 where there are none."""
    multiplier = np.ones(len(security_ids), dtype=float)
    effective = adjustments if as_of is None else adjustments[adjustments["ex_date"] <= as_of]
    if effective.empty or len(security_ids) == 0:
        return multiplier
    row_ids = security_ids.to_numpy()
    row_days = _days(dates)
    for security_id, events in effective.groupby("security_id", sort=False):
        rows = np.flatnonzero(row_ids == security_id)
        if rows.size == 0:
            continue
        events = events.sort_values("ex_date", kind="stable")
        ex_days = _days(events["ex_date"])
        factors = events["factor"].to_numpy(dtype=float)
        # later[i]: the product of the factors from event i on; later[len] = 1 (no event after the row).
        later = np.append(np.cumprod(factors[::-1])[::-1], 1.0)
        multiplier[rows] = later[np.searchsorted(ex_days, row_days[rows], side="right")]
    return multiplier


def _days(dates: pd.Series) -> np.ndarray:
    return pd.to_datetime(pd.Series(dates)).to_numpy(dtype="datetime64[D]")


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(
            f"{name} lacks the column(s) {', '.join(missing)}; it needs {', '.join(columns)} "
            "(see ntx_assets/prices/adjustments.py)."
        )


def point_in_time_histories(
    prices: pd.DataFrame, adjustments: pd.DataFrame, dates: Collection[dt.date]
) -> pd.DataFrame:
    """Each security's history in the price basis of each of `dates`, for indicators without look-ahead.

    The basis of a date t is the security's re-basings with ex_date <= t: the history up to t is
    back-adjusted as of t, so every price an indicator of t reads is comparable with t's close, and a
    re-basing after t changes nothing about t. Dates between two re-basings share a basis, so a security
    appears once per basis that one of `dates` falls in (a security that never re-based, once, as it is).
    Returns `prices`' rows (adjusted, up to the last of `dates` in that basis) with two more columns:
    `basis` (how many of the security's re-basings are on or before the rows' target dates: group by
    (security_id, basis) to compute) and `target` (True on the rows of `dates` in their own basis).
    """
    wanted = set(dates)
    frames: list[pd.DataFrame] = []
    ids = set(adjustments["security_id"]) if len(adjustments) else set()
    unchanged = prices[~prices["security_id"].isin(ids)]
    frames.append(unchanged.assign(basis=0, target=unchanged["business_date"].isin(wanted)))
    for security_id, history in prices[prices["security_id"].isin(ids)].groupby("security_id", sort=False):
        events = adjustments[adjustments["security_id"] == security_id].sort_values("ex_date")
        ex_dates = list(events["ex_date"])
        days = history["business_date"]
        bases = np.searchsorted(_days(pd.Series(ex_dates)), _days(days), side="right")
        targets = days.isin(wanted).to_numpy()
        for basis in sorted(set(bases[targets].tolist())):
            last = days[(bases == basis) & targets].max()
            as_of = ex_dates[basis - 1] if basis else dt.date.min
            rows = history[days <= last]
            adjusted = back_adjust(rows, events, as_of)
            in_basis = bases[(days <= last).to_numpy()] == basis
            adjusted = adjusted.assign(basis=basis, target=adjusted["business_date"].isin(wanted) & in_basis)
            # Rows before a re-basing of unknown factor (NaN) are unknown in this basis: the series restarts.
            frames.append(adjusted[adjusted["close"].notna() | adjusted["target"]])
    return pd.concat(frames, ignore_index=True)
