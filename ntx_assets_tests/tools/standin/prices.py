"""Seeded daily trading for every listed security: a random walk inside NEPSE's +/-10% band.

NEPSE's circuit: no stock trades beyond 10% of its previous close on either side (the adjusted base after
a bonus or right book closure). Every open, high, low and close is clipped to that band, rounded inwards to
the tick, so no session moves more than the band; a large shock closes exactly at it. On top of that,
`band_moves` planned (company, session) pairs (`band_sessions.py`, their own seeded stream) close at the
band on purpose; the walk of those companies continues from there.

Prices are integer ticks of Rs 0.1 so that band and tick rules hold exactly. Generation loops over
sessions and is vectorised over securities, which keeps a year of 543 securities well under 100 ms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from ntx_assets_tests.tools.standin.band_sessions import Direction, plan_band_moves
from ntx_assets_tests.tools.standin.book_closures import PlannedClosure
from ntx_assets_tests.tools.standin.seeding import numpy_rng
from ntx_assets_tests.tools.standin.universe import Kind, Listing

TICKS_PER_RUPEE = 10
FIFTY_TWO_WEEKS_DAYS = 365
_CLOSE_SECOND = 15 * 3600  # 15:00:00 NPT, end of continuous trading
_SESSION_SECONDS = 4 * 3600  # 11:00-15:00


@dataclass(frozen=True)
class _KindModel:
    price_median: float  # rupees
    price_sigma: float  # of log price across securities
    price_bounds: tuple[float, float]
    daily_vol: float
    idle: float  # base probability of not trading on a session
    quantity_median: float
    lot_median: float  # shares per trade


_MODELS: dict[Kind, _KindModel] = {
    "equity": _KindModel(450.0, 0.8, (120.0, 12000.0), 0.020, 0.06, 20000.0, 150.0),
    "mutual_fund": _KindModel(10.5, 0.15, (7.0, 20.0), 0.008, 0.25, 30000.0, 500.0),
    "debenture": _KindModel(1000.0, 0.05, (850.0, 1200.0), 0.006, 0.80, 200.0, 40.0),
    "promoter": _KindModel(250.0, 0.6, (80.0, 2000.0), 0.020, 0.90, 2000.0, 300.0),
    "preference": _KindModel(100.0, 0.1, (80.0, 150.0), 0.010, 0.95, 100.0, 20.0),
}


@dataclass(frozen=True)
class PriceTable:
    """N securities x T sessions. Trade fields are meaningful only where `traded`."""

    sessions: tuple[date, ...]
    security_ids: tuple[int, ...]
    row_of: dict[int, int]
    traded: np.ndarray  # bool
    open: np.ndarray  # ticks
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray  # ticks; carried forward on idle sessions
    prev_close: np.ndarray  # ticks; last close before the session
    quantity: np.ndarray
    trades: np.ndarray
    value_tenths: np.ndarray  # turnover in units of Rs 0.1
    high_52w: np.ndarray
    low_52w: np.ndarray
    update_micros: np.ndarray  # microseconds after midnight of the last trade
    initial_close: np.ndarray  # ticks; the close before the first session
    ordinals: np.ndarray  # date ordinals of the sessions, for binary search
    # (row, session) -> adjusted base in paisa: the previous close of a company's first session after a
    # bonus/right book closure (book_closures.py); everywhere else the previous close is `prev_close`.
    rebased: dict[tuple[int, int], int] = field(default_factory=dict)
    # (row, session) -> "upper" / "lower": the planned sessions that close exactly at the band.
    band_moves: dict[tuple[int, int], Direction] = field(default_factory=dict)

    def band(self, row: int, t: int) -> tuple[int, int]:
        """(lowest, highest) price in ticks allowed on session t: previousDayClosePrice -/+ 10%, rounded
        inwards to the tick (x 0.9 up, x 1.1 down)."""
        base = self.rebased.get((row, t))
        paisa = int(self.prev_close[row, t]) * 10 if base is None else base
        return max(-((-paisa * 9) // 100), 1), paisa * 11 // 100

    def previous_close(self, row: int, t: int) -> float:
        """previousDayClosePrice in rupees: the adjusted base on an ex date, else the last traded close."""
        base = self.rebased.get((row, t))
        return int(self.prev_close[row, t]) / TICKS_PER_RUPEE if base is None else base / 100

    def session_index(self, day: date) -> int | None:
        index = int(np.searchsorted(self.ordinals, day.toordinal()))
        if index < len(self.sessions) and self.sessions[index] == day:
            return index
        return None

    def last_session_at_or_before(self, day: date) -> int | None:
        """Index of the newest session on or before `day`, None when `day` precedes the window."""
        index = int(np.searchsorted(self.ordinals, day.toordinal(), side="right")) - 1
        return index if index >= 0 else None


def _to_ticks(rupees: np.ndarray) -> np.ndarray:
    return np.maximum(np.rint(rupees * TICKS_PER_RUPEE), 1).astype(np.int64)


def _rolling_extremes(
    table_high: np.ndarray, table_low: np.ndarray, traded: np.ndarray, sessions: list[date], pre: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """52-week high/low as NEPSE reports them: the session's own range included.

    Before the window has a full year behind it, a seeded pre-window range stands in for the unseen past.
    """
    count = len(sessions)
    high_masked = np.where(traded, table_high, 0)
    low_masked = np.where(traded, table_low, np.iinfo(np.int64).max)
    ordinals = np.array([d.toordinal() for d in sessions], dtype=np.int64)
    first = sessions[0] if sessions else date.min
    high_52w = np.zeros_like(table_high)
    low_52w = np.zeros_like(table_low)
    pre_high, pre_low = pre
    for t in range(count):
        since = ordinals[t] - (FIFTY_TWO_WEEKS_DAYS - 1)
        start = int(np.searchsorted(ordinals, since))
        hi = high_masked[:, start : t + 1].max(axis=1)
        lo = low_masked[:, start : t + 1].min(axis=1)
        if sessions[t] - timedelta(days=FIFTY_TWO_WEEKS_DAYS - 1) < first:
            hi = np.maximum(hi, pre_high)
            lo = np.minimum(lo, pre_low)
        high_52w[:, t] = hi
        low_52w[:, t] = lo
    return high_52w, low_52w


def generate_prices(
    listings: tuple[Listing, ...],
    sessions: list[date],
    seed: int,
    closures: Sequence[PlannedClosure] = (),
    band_moves: int = 0,
) -> PriceTable:
    """The walk; `closures` re-base their companies on the ex date (and fix which sessions they trade);
    `band_moves` (company, session) pairs of other active equity companies close exactly at the band."""
    rng = numpy_rng(seed, "prices")
    n, count = len(listings), len(sessions)
    models = [_MODELS[listing.kind] for listing in listings]

    def per_security(attribute: str) -> np.ndarray:
        return np.array([getattr(model, attribute) for model in models], dtype=np.float64)

    # Per-security character: price level, volatility, liquidity.
    lower = np.array([m.price_bounds[0] for m in models])
    upper = np.array([m.price_bounds[1] for m in models])
    level = np.clip(
        per_security("price_median") * np.exp(rng.normal(0.0, 1.0, n) * per_security("price_sigma")),
        lower,
        upper,
    )
    initial = _to_ticks(level)
    vol = per_security("daily_vol") * rng.uniform(0.6, 1.5, n)
    idle = np.clip(per_security("idle") * np.exp(rng.normal(0.0, 0.7, n)), 0.0, 0.97)
    liquidity = np.exp(rng.normal(0.0, 1.0, n))
    can_trade = np.array([listing.trades for listing in listings])

    # Every random matrix is drawn up front, so the draws do not depend on the walk.
    traded = (rng.random((n, count)) >= idle[:, None]) & can_trade[:, None]
    close_shock = rng.standard_t(4, (n, count)) * (vol / np.sqrt(2.0))[:, None]
    open_shock = rng.normal(0.0, 1.0, (n, count)) * (0.5 * vol)[:, None]
    up_wick = np.abs(rng.normal(0.0, 1.0, (n, count))) * (0.6 * vol)[:, None]
    down_wick = np.abs(rng.normal(0.0, 1.0, (n, count))) * (0.6 * vol)[:, None]
    vwap_position = rng.beta(2.0, 2.0, (n, count))
    quantity = np.maximum(
        np.rint(
            (per_security("quantity_median") * liquidity)[:, None] * np.exp(rng.normal(0.0, 0.8, (n, count)))
        ),
        10,
    ).astype(np.int64)
    lot = np.maximum(per_security("lot_median")[:, None] * np.exp(rng.normal(0.0, 0.5, (n, count))), 1.0)
    trades = np.clip(np.rint(quantity / lot), 1, quantity).astype(np.int64)
    pre = np.stack(
        [_to_ticks(level * rng.uniform(1.05, 1.6, n)), _to_ticks(level * rng.uniform(0.6, 0.95, n))]
    )
    pre[1] = np.minimum(pre[1], initial)
    pre[0] = np.maximum(pre[0], initial)
    close_gap = rng.exponential(1.0, (n, count))

    # Book closures: the company trades on its book-closure session (MP is that close), stays idle for the
    # planned gap, and trades on its ex date. Only re-basing events move the walk's reference.
    row_of = {listing.security_id: row for row, listing in enumerate(listings)}
    rebase_at: dict[int, list[tuple[int, PlannedClosure]]] = {}
    for plan in closures:
        r = row_of[plan.security_id]
        traded[r, plan.book_close_index] = True
        traded[r, plan.book_close_index + 1 : plan.ex_index] = False
        traded[r, plan.ex_index] = True
        if plan.rebases:
            rebase_at.setdefault(plan.ex_index, []).append((r, plan))
    rebased: dict[tuple[int, int], int] = {}
    # Planned after `traded` is final, from their own stream: the draws above do not depend on them.
    planned = plan_band_moves(
        listings, traded, seed, band_moves, exclude={plan.security_id for plan in closures}
    )
    moves_at: dict[int, list[tuple[int, Direction]]] = {}
    for (r, t), direction in planned.items():
        moves_at.setdefault(t, []).append((r, direction))

    shape = (n, count)
    open_t, high_t, low_t, close_t, prev_t = (np.zeros(shape, dtype=np.int64) for _ in range(5))
    prev = initial.copy()
    for t in range(count):
        # The band is +/-10% of the previous close, rounded inwards to the tick.
        band_high = prev * 11 // 10
        band_low = np.maximum(-((-prev * 9) // 10), 1)
        reference = prev.astype(np.float64)
        for r, plan in rebase_at.get(t, ()):
            # prev[r] is the book-closure close: the company did not trade since.
            base = plan.base_paisa(int(prev[r]))
            rebased[(r, t)] = base
            reference[r] = base / 10
            band_high[r] = base * 11 // 100  # ticks, rounded inwards, as for an ordinary previous close
            band_low[r] = max(-((-base * 9) // 100), 1)
        close = np.clip(np.rint(reference * np.exp(close_shock[:, t])).astype(np.int64), band_low, band_high)
        for r, direction in moves_at.get(t, ()):
            close[r] = band_high[r] if direction == "upper" else band_low[r]
        opened = np.clip(np.rint(reference * np.exp(open_shock[:, t])).astype(np.int64), band_low, band_high)
        top, bottom = np.maximum(opened, close), np.minimum(opened, close)
        high = np.minimum(top + np.rint(top * up_wick[:, t]).astype(np.int64), band_high)
        low = np.maximum(bottom - np.rint(bottom * down_wick[:, t]).astype(np.int64), band_low)
        # A single trade has one price.
        single = trades[:, t] == 1
        opened, high, low = (np.where(single, close, a) for a in (opened, high, low))
        is_traded = traded[:, t]
        prev_t[:, t] = prev
        open_t[:, t], high_t[:, t], low_t[:, t] = opened, high, low
        prev = np.where(is_traded, close, prev)
        close_t[:, t] = prev

    # Turnover: a VWAP inside [low, high]; rounding quantity*vwap to a whole tenth keeps
    # value/quantity inside [low, high] because quantity*low and quantity*high are whole tenths.
    vwap = low_t + vwap_position * (high_t - low_t)
    value_tenths = np.rint(quantity * vwap).astype(np.int64)
    value_tenths = np.where(trades == 1, quantity * close_t, value_tenths)

    # The last trade lands near 15:00 for liquid securities, anywhere in the session for thin ones.
    gap_seconds = np.clip(close_gap * (_SESSION_SECONDS / (1.0 + trades)), 0.001, _SESSION_SECONDS - 1)
    update_micros = np.rint((_CLOSE_SECOND - gap_seconds) * 1_000_000).astype(np.int64)

    high_52w, low_52w = _rolling_extremes(high_t, low_t, traded, sessions, pre)
    zero = np.zeros(shape, dtype=np.int64)
    return PriceTable(
        sessions=tuple(sessions),
        security_ids=tuple(listing.security_id for listing in listings),
        row_of=row_of,
        traded=traded,
        open=np.where(traded, open_t, zero),
        high=np.where(traded, high_t, zero),
        low=np.where(traded, low_t, zero),
        close=close_t,
        prev_close=prev_t,
        quantity=np.where(traded, quantity, zero),
        trades=np.where(traded, trades, zero),
        value_tenths=np.where(traded, value_tenths, zero),
        high_52w=high_52w,
        low_52w=low_52w,
        update_micros=update_micros,
        initial_close=initial,
        ordinals=np.array([d.toordinal() for d in sessions], dtype=np.int64),
        rebased=rebased,
        band_moves=planned,
    )
