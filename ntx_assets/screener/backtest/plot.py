"""plot_cumulative: a backtest's cumulative return against its benchmark, as a PNG (matplotlib, Agg)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ntx_assets.screener.backtest.summary import chain

if TYPE_CHECKING:
    from ntx_assets.screener.backtest.run import BacktestResult


def plot_cumulative(result: BacktestResult) -> bytes:
    """PNG bytes: the compounded growth of 1 NPR in the screen and in its benchmark over the chained
    (non-overlapping) periods, one point at each period's end, starting at the first rebalance."""
    linked = chain(result.periods)
    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)  # the Agg canvas, without pyplot or a global backend
    axes = figure.add_subplot()
    if linked:
        days = [linked[0].start, *(p.end for p in linked)]
        ours, theirs = [0.0], [0.0]
        for period in linked:
            ours.append((1 + ours[-1]) * (1 + period.return_) - 1)
            theirs.append((1 + theirs[-1]) * (1 + (period.benchmark_return or 0.0)) - 1)
        axes.plot(days, [v * 100 for v in ours], label="screen", linewidth=1.8)
        axes.plot(
            days, [v * 100 for v in theirs], label=f"benchmark ({result.spec.benchmark})", linewidth=1.2
        )
        axes.legend(loc="best")
    else:
        axes.text(0.5, 0.5, "no complete period", ha="center", va="center", transform=axes.transAxes)
    axes.axhline(0, color="grey", linewidth=0.6)
    axes.set_ylabel("cumulative return, %")
    title = result.spec.where or "every company"
    axes.set_title(
        f"{title} (every {result.spec.every}, hold {result.spec.hold}, costs {result.spec.costs})",
        fontsize=10,
    )
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
