"""The summary of a backtest's periods (pure).

Compounded figures use the non-overlapping chain: the first period, then each next period that starts on
or after the end of the last one taken (with --every >= --hold that is every period; with the rolling test,
--every < --hold, every ceil(hold/every)-th one). Between chained periods that do not touch, the money is
cash earning nothing. Averages and the share beating the benchmark are over every period.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Sequence
from typing import Any

from ntx_assets.screener.backtest.engine import Period

DAYS_PER_YEAR = 365.25


def chain(periods: Sequence[Period]) -> list[Period]:
    """The non-overlapping periods: the first, then each that starts on or after the last one's end."""
    out: list[Period] = []
    for period in periods:
        if not out or period.start >= out[-1].end:
            out.append(period)
    return out


def annualized(returns: Sequence[float], first: dt.date, last: dt.date) -> float | None:
    """The compounded growth of `returns` from `first` to `last`, a year at a time."""
    years = (last - first).days / DAYS_PER_YEAR
    growth = math.prod(1.0 + r for r in returns)
    if years <= 0:
        return None
    if growth <= 0:
        return -1.0
    return growth ** (1.0 / years) - 1.0


def max_drawdown(returns: Sequence[float]) -> float:
    """The largest fall from a peak of the compounded value (0 when it never falls), as a negative."""
    value = peak = 1.0
    worst = 0.0
    for r in returns:
        value *= 1.0 + r
        peak = max(peak, value)
        worst = min(worst, value / peak - 1.0)
    return worst


def summarize(periods: Sequence[Period]) -> dict[str, Any]:
    """The summary figures (fractions; annualized over the chain's calendar span)."""
    linked = chain(periods)
    summary: dict[str, Any] = {
        "periods": len(periods),
        "chained_periods": len(linked),
        "first": periods[0].start.isoformat() if periods else None,
        "last": linked[-1].end.isoformat() if linked else None,
    }
    if not linked:
        return (
            summary
            | dict.fromkeys(
                (
                    "annualized_return",
                    "benchmark_annualized_return",
                    "excess_annualized_return",
                    "total_return",
                    "benchmark_total_return",
                    "volatility",
                    "max_drawdown",
                    "benchmark_max_drawdown",
                    "beat_benchmark_share",
                    "mean_return",
                    "mean_benchmark_return",
                    "average_picks",
                    "turnover",
                    "annual_turnover",
                    "frictionless_annualized_return",
                    "cost_drag",
                )
            )
            | {"band_delayed": 0, "carried": 0, "unpriced": 0, "unknown_factor": 0}
        )
    first, last = linked[0].start, linked[-1].end
    years = (last - first).days / DAYS_PER_YEAR
    returns = [p.return_ for p in linked]
    benchmark_known = all(p.benchmark_return is not None for p in linked)
    benchmark = [p.benchmark_return or 0.0 for p in linked]
    ours = annualized(returns, first, last)
    theirs = annualized(benchmark, first, last) if benchmark_known else None
    frictionless = annualized([p.frictionless_return for p in linked], first, last)
    per_year = len(linked) / years if years > 0 else None
    compared = [p for p in periods if p.benchmark_return is not None]
    later = periods[1:]
    turnover = statistics.fmean(p.turnover for p in later) if later else 1.0
    rebalances_per_year = (
        (len(periods) - 1) / ((periods[-1].start - first).days / DAYS_PER_YEAR)
        if (len(periods) > 1 and periods[-1].start > first)
        else None
    )
    return summary | {
        "annualized_return": ours,
        "benchmark_annualized_return": theirs,
        "excess_annualized_return": None if ours is None or theirs is None else ours - theirs,
        "total_return": math.prod(1.0 + r for r in returns) - 1.0,
        "benchmark_total_return": math.prod(1.0 + r for r in benchmark) - 1.0 if benchmark_known else None,
        "volatility": (
            statistics.stdev(returns) * math.sqrt(per_year) if len(returns) > 1 and per_year else None
        ),
        "max_drawdown": max_drawdown(returns),
        "benchmark_max_drawdown": max_drawdown(benchmark) if benchmark_known else None,
        "beat_benchmark_share": (
            sum(p.return_ > (p.benchmark_return or 0.0) for p in compared) / len(compared)
            if compared
            else None
        ),
        "mean_return": statistics.fmean(p.return_ for p in periods),
        "mean_benchmark_return": (
            statistics.fmean(p.benchmark_return or 0.0 for p in compared) if compared else None
        ),
        "average_picks": statistics.fmean(len(p.picks) for p in periods),
        "turnover": turnover,
        "annual_turnover": turnover * rebalances_per_year if rebalances_per_year else None,
        "frictionless_annualized_return": frictionless,
        "cost_drag": None if frictionless is None or ours is None else frictionless - ours,
        "band_delayed": sum(len(p.band_delayed) for p in periods),
        "carried": sum(len(p.carried) for p in periods),
        "unpriced": sum(len(p.unpriced) for p in periods),
        "unknown_factor": sum(len(p.unknown_factor) for p in periods),
    }
