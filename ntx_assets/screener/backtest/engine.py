"""The period engine (pure: frames in, periods out): which sessions start and end each holding period, and
each period's return against its benchmark.

Prices are adjusted closes in each company's basis (`ntx_assets.warehouse.backtest.adjusted_prices`: the
`adjusted_prices` view's latest basis, and before a re-basing of unknown factor the basis of that stretch's
end). A period's return is a ratio of two closes (and dividends) in one basis, so it equals the same ratio in
the basis known at the period's end: the factor of every re-basing after the period multiplies its start and
its end alike and cancels, and what is left is the re-basings inside the period, which are known by its end. A
period with a re-basing of unknown factor inside it has no such ratio: a pick whose start and end lie in two
bases is left out (`unknown_factor`), and so is such a company from the universe. The picks never see a price:
they are the stored screen of the start session (`ntx_assets.warehouse.backtest.screen_picks`).

Per pick, bought at the start session's close and held to the end session's close: return = (end close + cash
dividends) / start close - 1, with `total` returns; without the dividends with `price` returns. A cash
dividend of c% (of the par value of Rs 100, so c rupees a share) counts when its book closure falls after the
purchase and on or before the end session, in the adjusted basis of the share that held the right: c x the
factor (to its basis) of the company's last price row before the book-close date (a bonus issued with the
dividend is on the shares held at the book closure). It is added as cash at the end (not reinvested). A pick
with no trade on the end session is carried at its last traded close and named in the period's `carried`. A
pick with no close at all by its purchase is left out (`unpriced`).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ntx_assets.screener import costs as nepse
from ntx_assets.screener.prices import band_limits


class BacktestError(ValueError):
    """A backtest that cannot run as asked; the message names the problem and the fix."""


@dataclass(frozen=True)
class PlannedPeriod:
    start: dt.date  # the rebalance session: its stored screen gives the picks, its close the purchase
    end: dt.date  # `hold` stored price sessions later: the sale at its close
    next_session: dt.date  # the first price session after start (a purchase delayed by the price band)


def plan_periods(
    screen_sessions: Sequence[dt.date], price_sessions: Sequence[dt.date], every: int, hold: int
) -> tuple[list[PlannedPeriod], list[dt.date]]:
    """Rebalance on every `every`-th stored screener session (the first, the 1+every-th, ...), each held
    `hold` price sessions. Returns the periods that end within `price_sessions`, and the rebalance sessions
    left out because their period would end after the last one."""
    if every < 1 or hold < 1:
        raise BacktestError(f"--every and --hold must be >= 1 (got {every} and {hold})")
    periods, incomplete = [], []
    for start in list(screen_sessions)[::every]:
        index = bisect.bisect_left(price_sessions, start)
        if index >= len(price_sessions) or price_sessions[index] != start:
            raise BacktestError(
                f"the screener session {start} has no stored prices: reload daily_prices for it"
            )
        if index + hold >= len(price_sessions):
            incomplete.append(start)
            continue
        periods.append(PlannedPeriod(start, price_sessions[index + hold], price_sessions[index + 1]))
    return periods, incomplete


@dataclass(frozen=True)
class Options:
    costs: bool = False  # NEPSE's costs and the price band's friction (--costs nepse)
    total_returns: bool = True  # cash dividends counted (--returns total)
    benchmark: str = "universe"  # universe | index
    capital: float = 1_000_000.0  # NPR at each rebalance, split equally: the trade sizes of the slabs


@dataclass
class Period:
    """One holding period. Returns are fractions; `return` is after friction and costs with --costs nepse
    (else equal to `frictionless_return`); `costs` is what they took, as a fraction of the capital."""

    start: dt.date
    end: dt.date
    picks: list[str]
    return_: float
    benchmark_return: float | None
    frictionless_return: float
    costs: float = 0.0
    dividends: float = 0.0  # the picks' mean dividend contribution to the return
    turnover: float = 1.0  # the share of the picks that were not picks of the previous rebalance
    band_delayed: list[str] = field(default_factory=list)  # at the upper band at start: bought next session
    carried: list[dict[str, str]] = field(default_factory=list)  # {symbol, last_trade}: no trade at the end
    unpriced: list[str] = field(default_factory=list)  # never traded by the purchase: left out
    # a re-basing of unknown factor inside the period: its return is unknown, left out
    unknown_factor: list[str] = field(default_factory=list)
    universe: int = 0  # companies in the benchmark universe with a price

    @property
    def excess(self) -> float | None:
        return None if self.benchmark_return is None else self.return_ - self.benchmark_return

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "picks": self.picks,
            "return": self.return_,
            "benchmark_return": self.benchmark_return,
            "excess": self.excess,
            "frictionless_return": self.frictionless_return,
            "costs": self.costs,
            "dividends": self.dividends,
            "turnover": self.turnover,
            "band_delayed": self.band_delayed,
            "carried": self.carried,
            "unpriced": self.unpriced,
            "unknown_factor": self.unknown_factor,
            "universe": self.universe,
        }


class Prices:
    """Adjusted closes by company and date: the last close on or before a day, the last traded day, the
    factor (to its basis) of a company's last row before a day, and whether two days' rows share a basis."""

    def __init__(self, prices: pd.DataFrame) -> None:
        if prices.empty:
            self.dates: list[dt.date] = []
            self.columns: dict[int, int] = {}
            self.filled = self.factors = self.bases = np.empty((0, 0))
            self.last_traded = np.empty((0, 0), dtype=int)
            return
        closes = prices.pivot(index="business_date", columns="security_id", values="close").sort_index()
        factors = prices.pivot(index="business_date", columns="security_id", values="factor")
        factors = factors.reindex(index=closes.index, columns=closes.columns)
        bases = prices.pivot(index="business_date", columns="security_id", values="basis")
        bases = bases.reindex(index=closes.index, columns=closes.columns)
        self.dates = [day.date() if isinstance(day, dt.datetime) else day for day in closes.index]
        self.columns = {int(security_id): j for j, security_id in enumerate(closes.columns)}
        values = closes.to_numpy(dtype=float)
        traded = ~np.isnan(values)
        rows = np.where(traded, np.arange(len(self.dates))[:, None], -1)
        self.last_traded = np.maximum.accumulate(rows, axis=0)
        self.filled = closes.ffill().to_numpy(dtype=float)
        self.factors = factors.ffill().to_numpy(dtype=float)
        self.bases = bases.astype(float).ffill().to_numpy(dtype=float)

    def close(self, security_id: int, day: dt.date) -> float | None:
        """The last adjusted close on or before `day`."""
        return self._at(self.filled, security_id, bisect.bisect_right(self.dates, day) - 1)

    def same_basis(self, security_id: int, *days: dt.date) -> bool:
        """Whether the company's last rows on or before each of `days` are in one basis (no re-basing of
        unknown factor between them)."""
        found = {self._at(self.bases, security_id, bisect.bisect_right(self.dates, day) - 1) for day in days}
        return len(found) == 1 and None not in found

    def factor_before(self, security_id: int, day: dt.date) -> float | None:
        """The factor (to its basis) of the company's last row strictly before `day`."""
        return self._at(self.factors, security_id, bisect.bisect_left(self.dates, day) - 1)

    def last_trade(self, security_id: int, day: dt.date) -> dt.date | None:
        j, i = self.columns.get(security_id), bisect.bisect_right(self.dates, day) - 1
        if j is None or i < 0 or self.last_traded[i, j] < 0:
            return None
        return self.dates[int(self.last_traded[i, j])]

    def _at(self, values: np.ndarray, security_id: int, i: int) -> float | None:
        j = self.columns.get(security_id)
        if j is None or i < 0:
            return None
        value = float(values[i, j])
        return None if math.isnan(value) else value


@dataclass(frozen=True)
class Market:
    """What the engine reads, as frames: adjusted prices (security_id, business_date, close, factor, basis:
    warehouse.backtest.adjusted_prices), the raw close and previous close of the rebalance sessions, cash
    dividends (security_id, book_close_date, cash_dividend_pct) and NEPSE's index closes by date (or None)."""

    prices: pd.DataFrame
    raw: pd.DataFrame
    dividends: pd.DataFrame
    index: pd.Series | None = None


def upper_band_hits(raw: pd.DataFrame) -> set[tuple[dt.date, int]]:
    """(session, security_id) where the company closed at the upper price band (the screener's band rule:
    `ntx_assets.screener.prices.band_limits`, against NEPSE's previous close)."""
    if raw.empty:
        return set()
    close = pd.to_numeric(raw["close"], errors="coerce").to_numpy(dtype=float)
    previous = pd.to_numeric(raw["previous_close"], errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        _, upper = band_limits(previous)
        hit = (close >= upper - 1e-9) & ~np.isnan(previous)
    return {
        (day, int(security_id))
        for day, security_id, at in zip(raw["business_date"], raw["security_id"], hit, strict=True)
        if at
    }


def run_periods(
    plan: Sequence[PlannedPeriod],
    picks: Mapping[dt.date, Sequence[tuple[int, str]]],
    universe: Mapping[dt.date, Sequence[int]],
    market: Market,
    options: Options,
) -> list[Period]:
    """Each planned period's picks, return, benchmark return, costs and notes.

    Costs (--costs nepse), per period, on `options.capital` split equally among the priced picks: a pick
    that was also a pick of the previous period, when that period ended on this one's start session
    (--every == --hold), is kept, not sold and bought again; any other pick is bought (commission by slab
    and SEBON fee), and sold at the end (commission, SEBON fee, DP charge) unless it is also a pick of the
    next period that starts on this one's end. Capital gains tax is charged on each period's gain of each
    pick net of the period's trade costs (as if realized, at the rate of the position's holding so far), the
    5% tax on cash dividends on the dividends. Friction: a pick (bought, not kept) that closed at the upper
    price band on the start session could not be bought there; it is bought at the next session's close.
    Overlapping periods (--every < --hold) are separate portfolios: every pick is a round trip.
    """
    prices = Prices(market.prices)
    dividends = _dividends_by_company(market.dividends)
    band = upper_band_hits(market.raw) if options.costs else set()
    acquired: dict[int, dt.date] = {}
    out: list[Period] = []
    for k, planned in enumerate(plan):
        chosen = list(picks.get(planned.start, ()))
        previous_chained = k > 0 and plan[k - 1].end == planned.start
        next_chained = k + 1 < len(plan) and plan[k + 1].start == planned.end
        kept = {sid for sid, _ in picks.get(plan[k - 1].start, ())} if previous_chained else set()
        staying = {sid for sid, _ in picks.get(plan[k + 1].start, ())} if next_chained else set()
        frictionless, actual, yields = [], [], []
        period = Period(planned.start, planned.end, [symbol for _, symbol in chosen], 0.0, None, 0.0)
        held: list[tuple[int, str, float, float, dt.date, bool]] = []
        for security_id, symbol in chosen:
            first = prices.close(security_id, planned.start)
            if first is None:
                period.unpriced.append(symbol)
                continue
            continuing = security_id in kept
            delayed = options.costs and not continuing and (planned.start, security_id) in band
            bought_on = planned.next_session if delayed else planned.start
            if not prices.same_basis(security_id, planned.start, bought_on, planned.end):
                period.unknown_factor.append(symbol)
                continue
            if delayed:
                period.band_delayed.append(symbol)
            last = prices.close(security_id, planned.end)
            assert last is not None  # priced at start, so priced at the later end
            frictionless.append(_return(prices, dividends, security_id, planned.start, planned.end, options))
            paid = prices.close(security_id, bought_on) or first
            gross = _return(prices, dividends, security_id, bought_on, planned.end, options)
            actual.append(gross)
            cash = (
                _dividend(prices, dividends, security_id, bought_on, planned.end)
                if options.total_returns
                else 0
            )
            yields.append(cash / paid)
            held.append((security_id, symbol, last / paid - 1.0, cash / paid, bought_on, continuing))
            traded = prices.last_trade(security_id, planned.end)
            if traded is not None and traded < planned.end:
                period.carried.append({"symbol": symbol, "last_trade": traded.isoformat()})
        if held:
            period.frictionless_return = float(np.mean(frictionless))
            period.dividends = float(np.mean(yields))
            gross = float(np.mean(actual))
            if options.costs:
                period.costs = _costs(held, staying, acquired, planned, options.capital)
            period.return_ = gross - period.costs
        if k > 0:
            before = {sid for sid, _ in picks.get(plan[k - 1].start, ())}
            now = {sid for sid, _ in chosen}
            period.turnover = len(now - before) / len(now) if now else 0.0
        period.benchmark_return, period.universe = _benchmark(
            prices, dividends, universe.get(planned.start, ()), planned, market, options
        )
        out.append(period)
    return out


def _return(
    prices: Prices,
    dividends: Mapping[int, list[tuple[dt.date, float]]],
    security_id: int,
    start: dt.date,
    end: dt.date,
    options: Options,
) -> float:
    first, last = prices.close(security_id, start), prices.close(security_id, end)
    assert first is not None and last is not None
    cash = _dividend(prices, dividends, security_id, start, end) if options.total_returns else 0.0
    return (last + cash) / first - 1.0


def _dividend(
    prices: Prices,
    dividends: Mapping[int, list[tuple[dt.date, float]]],
    security_id: int,
    start: dt.date,
    end: dt.date,
) -> float:
    """Cash dividends a share bought at `start`'s close held through `end`, in the adjusted basis."""
    total = 0.0
    for book_close, pct in dividends.get(security_id, ()):
        if start < book_close <= end:
            factor = prices.factor_before(security_id, book_close)
            if factor is not None:
                total += pct * factor  # c% of Rs 100 par = c rupees per share, in the basis of that share
    return total


def _dividends_by_company(frame: pd.DataFrame) -> dict[int, list[tuple[dt.date, float]]]:
    out: dict[int, list[tuple[dt.date, float]]] = {}
    for row in frame.itertuples(index=False):
        out.setdefault(int(row.security_id), []).append((row.book_close_date, float(row.cash_dividend_pct)))
    return out


def _costs(
    held: Sequence[tuple[int, str, float, float, dt.date, bool]],
    staying: set[int],
    acquired: dict[int, dt.date],
    planned: PlannedPeriod,
    capital: float,
) -> float:
    """NEPSE's costs of a period as a fraction of `capital` (see run_periods)."""
    amount = capital / len(held)
    total = 0.0
    for security_id, _symbol, price_return, dividend_yield, bought_on, continuing in held:
        if not continuing or security_id not in acquired:
            acquired[security_id] = bought_on
        buy = 0.0 if continuing else nepse.buy_cost(amount)
        sold = amount * (1.0 + price_return)
        sell = 0.0 if security_id in staying else nepse.sell_cost(sold)
        held_days = (planned.end - acquired[security_id]).days
        tax = nepse.capital_gains_tax(sold - amount - buy - sell, held_days)
        total += buy + sell + tax + nepse.DIVIDEND_TAX * amount * dividend_yield
    return total / capital


def _index_position(dates: Sequence[dt.date], day: dt.date) -> int:
    """Where `day` is in the stored NEPSE index (oldest first). NEPSE serves its index about one year back:
    a period outside the stored series, or on a session missing from it, has no index return, and bridging
    it with the nearest stored close would be a made-up benchmark, so it is refused, naming the fix."""
    at = bisect.bisect_left(dates, day)
    if at < len(dates) and dates[at] == day:
        return at
    if day < dates[0]:
        where = f"starts on {dates[0]}, after {day}"
        fix = f"start the backtest on or after {dates[0]} (--from)"
    elif day > dates[-1]:
        where = f"ends on {dates[-1]}, before {day}"
        fix = (
            "materialize the `nepse_index` asset (it adds each session after the close), or end the "
            f"backtest by {dates[-1]} (--to)"
        )
    else:
        where = f"has no close on {day}"
        fix = "materialize the `nepse_index` asset again (its check names the sessions missing)"
    raise BacktestError(
        f"--benchmark index: the stored NEPSE index {where}, a period's start or end (NEPSE serves it "
        f"about one year back): {fix}, or use --benchmark universe"
    )


def _benchmark(
    prices: Prices,
    dividends: Mapping[int, list[tuple[dt.date, float]]],
    members: Sequence[int],
    planned: PlannedPeriod,
    market: Market,
    options: Options,
) -> tuple[float | None, int]:
    if options.benchmark == "index":
        index = market.index
        if index is None or index.empty:
            raise BacktestError("--benchmark index: no index history is stored (the nepse_index table)")
        dates = list(index.index)
        at_start, at_end = _index_position(dates, planned.start), _index_position(dates, planned.end)
        return float(index.iloc[at_end]) / float(index.iloc[at_start]) - 1.0, 0
    ids = [security_id for security_id in members if security_id in prices.columns]
    at_start = bisect.bisect_right(prices.dates, planned.start) - 1
    at_end = bisect.bisect_right(prices.dates, planned.end) - 1
    if not ids or at_start < 0:
        return None, 0
    columns = [prices.columns[security_id] for security_id in ids]
    first, last = prices.filled[at_start, columns], prices.filled[at_end, columns]
    cash = np.zeros(len(ids))
    if options.total_returns:
        for k, security_id in enumerate(ids):
            if security_id in dividends:
                cash[k] = _dividend(prices, dividends, security_id, planned.start, planned.end)
    priced = ~np.isnan(first) & (prices.bases[at_start, columns] == prices.bases[at_end, columns])
    if not priced.any():
        return None, 0
    returns = (last[priced] + cash[priced]) / first[priced] - 1.0
    return float(returns.mean()), int(priced.sum())
