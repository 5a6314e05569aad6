"""Seeded daily trading for every listed security: a random walk inside NEPSE's +/-10% band.

NEPSE's circuit: no stock trades beyond 10% of its previous close on either side (the adjusted base after
a bonus or right book closure). Every open, high, low and close is clipped to that band, rounded inwards to
the tick, so no session moves more than the band; a large shock closes exactly at it. On top of that,
`band_moves` planned (company, session) pairs (`band_sessions.py`, their own seeded stream) close at the
band on purpose; the walk of those companies continues from there.

Companies with a file in the public price archive (archive.py; by default the 20 real files of
ntx_assets_tests/data/price-archive) get their real archived prices instead of the walk for every session up
to their last archived date, cleaned by the product's own rules (ntx_assets.archive.rules), so the stand-in
serves what the importer accepts: open, high, low, close (rounded half up to the Rs 0.1 tick: a few rows
before NEPSE's 0.1 tick carry paisa), volume = traded_quantity, turnover = traded_amount; a session of the
stand-in's calendar without an archive row is a session the company did not trade, and an archive row
of a date that is not a stand-in session is ignored by the NEPSE side (the stand-in's 2026 holidays are
synthetic: 2026-03-26 and 2026-06-19 traded in the archive, 2026-03-04/05 and 2026-05-28 did not; the
archive file itself is served whole). previousDayClosePrice is the close served before, except on a real
re-basing: where the rules' `previous_close` (NEPSE's base implied by per_change) differs from the
previous archived close, that base (in `rebased`, like a book closure's). The walk continues from the last
real close after the archive ends; planned book closures and band moves never fall on archived sessions
(data.py, band_sessions.py). Real prices are not bound by the stand-in's band or single-trade rules (a
handful of archived sessions move beyond 10%, some after a date the stand-in does not serve); the 52-week
range counts every archived row, and trades and the time of the last trade stay synthetic.

Prices are integer ticks of Rs 0.1 so that band and tick rules hold exactly. Generation loops over
sessions and is vectorised over securities, which keeps a year of 543 securities well under 100 ms.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from ntx_assets.archive.rules import CleanRow
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
    # row -> index of its last archived session (-1: the archive ends before the window) for the
    # companies whose prices come from the price archive; sessions 0..that index are real, later ones the
    # walk. Their `rebased` entries inside it are the archive's real re-basings (NEPSE's base).
    archived_until: dict[int, int] = field(default_factory=dict)

    def is_archived(self, row: int, t: int) -> bool:
        return t <= self.archived_until.get(row, -1)

    def archive_rebasings(self) -> list[tuple[int, date, float]]:
        """(security id, session, NEPSE's base in rupees) of the archived companies' real re-basings: the
        sessions whose previousDayClosePrice is not the close served before, other than the seeded book
        closures' ex dates (a re-basing on the window's first session, with no close served before it,
        included)."""
        return sorted(
            (self.security_ids[r], self.sessions[t], base / 100)
            for (r, t), base in self.rebased.items()
            if self.is_archived(r, t)
        )

    def archived_mask(self) -> np.ndarray:
        """N x T bool: the (row, session) pairs whose prices are the archive's."""
        mask = np.zeros(self.traded.shape, dtype=bool)
        for row, until in self.archived_until.items():
            mask[row, : until + 1] = True
        return mask

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


def _ticks(rupees: float) -> int:
    """Rupees to Rs 0.1 ticks, half up."""
    return max(math.floor(rupees * TICKS_PER_RUPEE + 0.5 + 1e-9), 1)


def _paisa(rupees: float) -> int:
    return math.floor(rupees * 100 + 0.5 + 1e-9)


@dataclass
class _Archived:
    """One company's archived sessions inside the window, on the stand-in's calendar."""

    until: int  # index of the last session on or before the archive's last date (-1: none)
    initial: int | None  # ticks: the last archived close before the window
    traded: np.ndarray  # bool, T
    open: np.ndarray  # ticks; -1 where the archive has no real open
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    previous: np.ndarray  # paisa: NEPSE's base of a re-basing the archive shows; -1 elsewhere
    quantity: np.ndarray
    value_tenths: np.ndarray
    extremes: tuple[np.ndarray, np.ndarray, np.ndarray]  # ordinals, highs, lows (ticks) of every row


def _archived(rows: Sequence[CleanRow], sessions: list[date], ordinals: np.ndarray) -> _Archived:
    count = len(sessions)
    arrays = {name: np.full(count, -1, dtype=np.int64) for name in ("o", "h", "l", "c", "p", "q", "v")}
    traded = np.zeros(count, dtype=bool)
    until = int(np.searchsorted(ordinals, rows[-1].business_date.toordinal(), side="right")) - 1
    index_of = {day: t for t, day in enumerate(sessions)}
    initial = None
    for position, row in enumerate(rows):
        t = index_of.get(row.business_date)
        if row.business_date < sessions[0]:
            initial = _ticks(row.close)
        if t is None:
            continue
        traded[t] = True
        arrays["o"][t] = _ticks(row.open) if row.open is not None else -1
        arrays["h"][t], arrays["l"][t], arrays["c"][t] = _ticks(row.high), _ticks(row.low), _ticks(row.close)
        # NEPSE's base where the rules found a re-basing (per_change implies a base that is not the
        # previous archived close); else the close served before, as on every other session.
        if (
            row.previous_close is not None
            and position
            and abs(row.previous_close - rows[position - 1].close) > 0.005
        ):
            arrays["p"][t] = _paisa(row.previous_close)
        arrays["q"][t] = row.volume
        arrays["v"][t] = max(math.floor(row.turnover * 10 + 0.5), 0)
    extremes = (
        np.array([row.business_date.toordinal() for row in rows], dtype=np.int64),
        np.array([_ticks(row.high) for row in rows], dtype=np.int64),
        np.array([_ticks(row.low) for row in rows], dtype=np.int64),
    )
    return _Archived(
        until, initial, traded, arrays["o"], arrays["h"], arrays["l"], arrays["c"], arrays["p"], arrays["q"],
        arrays["v"], extremes,
    )  # fmt: skip


def archived_rows(
    listings: Sequence[Listing], archive: Mapping[str, Sequence[CleanRow]] | None
) -> dict[int, Sequence[CleanRow]]:
    """row -> the archive's cleaned rows of that listing's symbol (listings without a file left out)."""
    if not archive:
        return {}
    return {row: archive[item.symbol] for row, item in enumerate(listings) if archive.get(item.symbol)}


def generate_prices(
    listings: tuple[Listing, ...],
    sessions: list[date],
    seed: int,
    closures: Sequence[PlannedClosure] = (),
    band_moves: int = 0,
    archive: Mapping[str, Sequence[CleanRow]] | None = None,
) -> PriceTable:
    """The walk; `closures` re-base their companies on the ex date (and fix which sessions they trade);
    `band_moves` (company, session) pairs of other active equity companies close exactly at the band;
    `archive` (symbol -> cleaned archive rows) replaces the walk of those companies up to their last
    archived date (the module's docstring)."""
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

    # Archived companies: their real sessions, drawn nothing (the draws above stay as they were).
    ordinals = np.array([d.toordinal() for d in sessions], dtype=np.int64)
    real = (
        {r: _archived(rows, sessions, ordinals) for r, rows in archived_rows(listings, archive).items()}
        if sessions
        else {}
    )
    fixed = np.zeros((n, count), dtype=bool)
    for r, arc in real.items():
        fixed[r, : arc.until + 1] = True
        traded[r, : arc.until + 1] = arc.traded[: arc.until + 1] & can_trade[r]
        if arc.initial is not None:
            initial[r] = arc.initial

    # Book closures: the company trades on its book-closure session (MP is that close), stays idle for the
    # planned gap, and trades on its ex date. Only re-basing events move the walk's reference.
    row_of = {listing.security_id: row for row, listing in enumerate(listings)}
    rebase_at: dict[int, list[tuple[int, PlannedClosure]]] = {}
    for plan in closures:
        r = row_of[plan.security_id]
        if fixed[r, plan.book_close_index : plan.ex_index + 1].any():
            raise ValueError(f"{plan.symbol}: a planned book closure on archived sessions")
        traded[r, plan.book_close_index] = True
        traded[r, plan.book_close_index + 1 : plan.ex_index] = False
        traded[r, plan.ex_index] = True
        if plan.rebases:
            rebase_at.setdefault(plan.ex_index, []).append((r, plan))
    rebased: dict[tuple[int, int], int] = {}
    # Planned after `traded` is final, from their own stream: the draws above do not depend on them.
    planned = plan_band_moves(
        listings, traded, seed, band_moves, exclude={plan.security_id for plan in closures}, fixed=fixed
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
        for r, arc in real.items():
            if t > arc.until:
                continue
            if arc.previous[t] >= 0:
                rebased[(r, t)] = int(arc.previous[t])
            if arc.traded[t]:
                high[r], low[r], close[r] = arc.high[t], arc.low[t], arc.close[t]
                # No real open (before the open rule's date, or outside the range): the previous close.
                opened[r] = arc.open[t] if arc.open[t] >= 0 else min(max(int(prev[r]), low[r]), high[r])
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
    for r, arc in real.items():
        days = arc.traded & fixed[r]
        quantity[r, days] = arc.quantity[days]
        value_tenths[r, days] = arc.value_tenths[days]
        # A range needs two trades at least, and there are no more trades than shares.
        least = np.where(high_t[r] > low_t[r], 2, 1)
        most = np.maximum(quantity[r, days], 1)
        trades[r, days] = np.minimum(np.maximum(trades[r, days], least[days]), most)

    # The last trade lands near 15:00 for liquid securities, anywhere in the session for thin ones.
    gap_seconds = np.clip(close_gap * (_SESSION_SECONDS / (1.0 + trades)), 0.001, _SESSION_SECONDS - 1)
    update_micros = np.rint((_CLOSE_SECOND - gap_seconds) * 1_000_000).astype(np.int64)

    high_52w, low_52w = _rolling_extremes(high_t, low_t, traded, sessions, pre)
    for r, arc in real.items():
        _archived_extremes(r, arc, high_t, low_t, traded, ordinals, high_52w, low_52w)
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
        ordinals=ordinals,
        rebased=rebased,
        band_moves=planned,
        archived_until={r: arc.until for r, arc in real.items()},
    )


def _archived_extremes(
    r: int,
    arc: _Archived,
    high_t: np.ndarray,
    low_t: np.ndarray,
    traded: np.ndarray,
    ordinals: np.ndarray,
    high_52w: np.ndarray,
    low_52w: np.ndarray,
) -> None:
    """52-week high/low of an archived company: every archived row (also the years before the window and
    the archive's dates the stand-in does not serve) and its walk's sessions after the archive."""
    after = traded[r] & (np.arange(len(ordinals)) > arc.until)
    days = np.concatenate([arc.extremes[0], ordinals[after]])
    highs = np.concatenate([arc.extremes[1], high_t[r, after]])
    lows = np.concatenate([arc.extremes[2], low_t[r, after]])
    order = np.argsort(days, kind="stable")
    days, highs, lows = days[order], highs[order], lows[order]
    for t, day in enumerate(ordinals):
        start = int(np.searchsorted(days, day - (FIFTY_TWO_WEEKS_DAYS - 1)))
        stop = int(np.searchsorted(days, day, side="right"))
        if stop > start:
            high_52w[r, t] = highs[start:stop].max()
            low_52w[r, t] = lows[start:stop].min()
