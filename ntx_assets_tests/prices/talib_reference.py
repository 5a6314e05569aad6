"""The one TA-Lib reference of the test suite: what each indicator column means, stated here.

The parameters are written from the indicator contract (README: SMA 20/50/200, EMA 12/26, RSI 14, MACD
12/26/9, Bollinger 20 with 2 standard deviations on a simple average, ATR 14, 20-session volume average),
by keyword, not copied from `ntx_assets.prices.indicators`: a wrong period, matype or band width in the
product
fails the tests that compare with this. `test_indicators.py` also checks a few of these definitions from
first principles (rolling means, the EMA recursion), so the reference itself is pinned.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import talib

# column -> (TA-Lib function, inputs, keyword parameters, index of the output for multi-output functions)
SPEC: dict[str, tuple[str, tuple[str, ...], dict[str, Any], int | None]] = {
    "sma_20": ("SMA", ("close",), {"timeperiod": 20}, None),
    "sma_50": ("SMA", ("close",), {"timeperiod": 50}, None),
    "sma_200": ("SMA", ("close",), {"timeperiod": 200}, None),
    "ema_12": ("EMA", ("close",), {"timeperiod": 12}, None),
    "ema_26": ("EMA", ("close",), {"timeperiod": 26}, None),
    "rsi_14": ("RSI", ("close",), {"timeperiod": 14}, None),
    "macd": ("MACD", ("close",), {"fastperiod": 12, "slowperiod": 26, "signalperiod": 9}, 0),
    "macd_signal": ("MACD", ("close",), {"fastperiod": 12, "slowperiod": 26, "signalperiod": 9}, 1),
    "macd_hist": ("MACD", ("close",), {"fastperiod": 12, "slowperiod": 26, "signalperiod": 9}, 2),
    "bb_upper": ("BBANDS", ("close",), {"timeperiod": 20, "nbdevup": 2.0, "nbdevdn": 2.0, "matype": 0}, 0),
    "bb_middle": ("BBANDS", ("close",), {"timeperiod": 20, "nbdevup": 2.0, "nbdevdn": 2.0, "matype": 0}, 1),
    "bb_lower": ("BBANDS", ("close",), {"timeperiod": 20, "nbdevup": 2.0, "nbdevdn": 2.0, "matype": 0}, 2),
    "atr_14": ("ATR", ("high", "low", "close"), {"timeperiod": 14}, None),
    "volume_sma_20": ("SMA", ("volume",), {"timeperiod": 20}, None),
}
TALIB_COLUMNS: tuple[str, ...] = tuple(SPEC)


def talib_reference(series: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every TA-Lib column for one company's date-sorted `high`, `low`, `close`, `volume` arrays."""
    arrays = {name: np.ascontiguousarray(values, dtype=np.float64) for name, values in series.items()}
    out: dict[str, np.ndarray] = {}
    for column, (function, inputs, parameters, output) in SPEC.items():
        result = getattr(talib, function)(*(arrays[name] for name in inputs), **parameters)
        out[column] = result if output is None else result[output]
    return out


def assert_matches(actual: np.ndarray, expected: np.ndarray, label: str) -> None:
    actual = np.asarray(actual, dtype=np.float64)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg=f"{label}: NaN positions")
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=0, equal_nan=True, err_msg=label)
