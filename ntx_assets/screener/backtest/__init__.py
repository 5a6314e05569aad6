"""Point-in-time backtests of a screen (docs/backtest.md).

    from ntx_assets.screener.backtest import BacktestSpec, run_backtest, plot_cumulative

    result = run_backtest(engine, BacktestSpec(where="pe < 15", sort="-turnover", limit=10, every=5, hold=5))
    result.as_json()            # {"spec", "periods": [...], "summary": {...}, "incomplete": [...]}
    png = plot_cumulative(result)  # bytes of a PNG: the screen's cumulative return against the benchmark

Modules, one job each: `engine` (the periods, pure), `summary` (the figures, pure), `run` (the warehouse
reads of ntx_assets.warehouse.backtest, then the engine), `plot` (the picture), `__main__` (the command).
"""

from ntx_assets.screener.backtest.engine import BacktestError, Period
from ntx_assets.screener.backtest.plot import plot_cumulative
from ntx_assets.screener.backtest.run import BacktestResult, BacktestSpec, run_backtest

__all__ = ["BacktestError", "BacktestResult", "BacktestSpec", "Period", "plot_cumulative", "run_backtest"]
