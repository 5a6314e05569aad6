"""What the screener reads off the stored prices, point in time (pure): trailing returns in a session's own
price basis, closes at NEPSE's price band, and liquidity over the last 20 sessions.

Returns use the one re-basing rule of the product (`ntx_assets.prices.adjustments.detect_adjustments`, which
`price_adjustments` and `indicators` use too): a company's close k traded sessions ago is put in the basis
of its latest session by the factors of the re-basings between the two, and only those: a re-basing after
the session changes nothing of it.

NEPSE's price band: a stock trades within +/-10% of its previous close (sharegurunepal.com, "Know
Everything about Circuit Breaker", 2020: "No company can trade above or below 10% of previous close";
nepsekhabar.com, "What is a Circuit Break": "circuit break applies at 10% price movement on either
side"). Prices move on a Rs 0.1 tick, so a close "at the band" is the last tick inside it:
close >= floor(previous close x 1.1, tick) or close <= ceil(previous close x 0.9, tick). The previous close
is NEPSE's own (previousDayClosePrice), which is the adjusted base on a re-basing day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ntx_assets.prices.adjustments import detect_adjustments

PRICE_BAND = 0.10
TICK = 0.1
LIQUIDITY_SESSIONS = 20
RETURN_SESSIONS = (5, 20)
_EPSILON = 1e-9


def band_limits(previous_close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest close NEPSE's band allows after `previous_close`, on the tick."""
    upper = np.floor(previous_close * (1 + PRICE_BAND) / TICK + _EPSILON) * TICK
    lower = np.ceil(previous_close * (1 - PRICE_BAND) / TICK - _EPSILON) * TICK
    return lower, upper


def at_band(close: np.ndarray, previous_close: np.ndarray) -> np.ndarray:
    """True where the close is at the band's edge (NaN previous close: False)."""
    with np.errstate(invalid="ignore"):
        lower, upper = band_limits(previous_close)
        hit = (close >= upper - _EPSILON) | (close <= lower + _EPSILON)
    return hit & ~np.isnan(previous_close)


def price_features(prices: pd.DataFrame) -> pd.DataFrame:
    """`prices` (security_id, business_date, close, previous_close, ...), sorted by company and date, with
    `return_5d`, `return_20d` (close over the close 5 / 20 of the company's traded sessions earlier, in
    this session's basis, minus one) and `at_band`."""
    ordered = prices.sort_values(["security_id", "business_date"], kind="stable").reset_index(drop=True)
    close = ordered["close"].astype(float)
    found = detect_adjustments(ordered)
    factor = pd.Series(1.0, index=ordered.index)
    if len(found):
        keyed = found.set_index(["security_id", "ex_date"])["factor"]
        on_rows = pd.MultiIndex.from_arrays([ordered["security_id"], ordered["business_date"]])
        factor = pd.Series(keyed.reindex(on_rows).to_numpy(), index=ordered.index).fillna(1.0)
    groups = ordered["security_id"]
    # basis[i]: the product of the company's factors up to row i; row j's close in row i's basis is
    # close[j] * basis[i] / basis[j].
    basis = factor.groupby(groups).cumprod()
    for sessions in RETURN_SESSIONS:
        earlier = close.groupby(groups).shift(sessions) * basis / basis.groupby(groups).shift(sessions)
        ordered[f"return_{sessions}d"] = close / earlier - 1.0
    ordered["at_band"] = at_band(close.to_numpy(), ordered["previous_close"].astype(float).to_numpy())
    return ordered


def liquidity(prices: pd.DataFrame, sessions: list, targets: list, security_ids: np.ndarray) -> pd.DataFrame:
    """For each of `security_ids` and each of `targets` (sessions), over the last 20 `sessions` up to the
    target: `days_traded_20` (sessions with a trade), `avg_turnover_20` (turnover summed over them, a
    session without a trade counting 0, divided by 20) and `circuit_hits_20` (closes at the band). NULL
    when fewer than 20 sessions are stored up to the target.

    prices: security_id, business_date, turnover, at_band; sessions: every stored session (sorted).
    """
    ids = np.unique(np.asarray(security_ids))
    session_index = {day: i for i, day in enumerate(sessions)}
    rows = prices[prices["business_date"].isin(session_index) & prices["security_id"].isin(ids)]
    company = np.searchsorted(ids, rows["security_id"].to_numpy())
    day = rows["business_date"].map(session_index).to_numpy(dtype=int)
    shape = (len(ids), len(sessions))
    traded, turnover, band = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    traded[company, day] = 1.0
    turnover[company, day] = rows["turnover"].astype(float).fillna(0.0).to_numpy()
    band[company, day] = rows["at_band"].astype(float).to_numpy()
    # Running totals with a leading zero: the sum over sessions (a, b] is total[b] - total[a].
    totals = [
        np.concatenate([np.zeros((len(ids), 1)), np.cumsum(v, axis=1)], axis=1)
        for v in (traded, turnover, band)
    ]

    frames = []
    for target in targets:
        end = session_index[target] + 1
        if end >= LIQUIDITY_SESSIONS:
            traded_20, turnover_20, band_20 = (t[:, end] - t[:, end - LIQUIDITY_SESSIONS] for t in totals)
        else:
            traded_20 = turnover_20 = band_20 = np.full(len(ids), np.nan)
        frames.append(
            pd.DataFrame(
                {
                    "session_date": target,
                    "security_id": ids,
                    "days_traded_20": traded_20,
                    "avg_turnover_20": turnover_20 / LIQUIDITY_SESSIONS,
                    "circuit_hits_20": band_20,
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            columns=["session_date", "security_id", "days_traded_20", "avg_turnover_20", "circuit_hits_20"]
        )
    return pd.concat(frames, ignore_index=True)
