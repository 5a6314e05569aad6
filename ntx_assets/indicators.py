"""Technical indicators for daily NEPSE price histories, computed with TA-Lib.

`compute(prices)` takes the daily bars of any number of symbols and returns the same rows, sorted by symbol
then date, with the columns in `INDICATOR_COLUMNS` added. It is pure: no I/O, no logging, no global state of
its own, and the result does not depend on the order of the input rows.

Definitions are TA-Lib's, with its default parameters, applied to each symbol's date-sorted series on its
own; warm-up rows are NaN exactly where TA-Lib's are (including MACD, whose line stays NaN until its signal
line has warmed up too). TA-Lib has process-wide settings (`talib.set_unstable_period`,
`talib.set_compatibility`); the results match "TA-Lib's defaults" only while those are left at their
defaults, which nothing in this project changes.

Two indicators are not TA-Lib's:

- `high_52w` / `low_52w`: highest high / lowest low over the trailing 365 calendar days including the day
  itself (a time-based `'365D'` window, so holidays and suspensions do not stretch it).
- `return_1d`: close over the symbol's previous session's close, minus one; NaN on its first row.

Indicators are grouped by `symbol`, so a security that changed symbol (NIB -> NIMB) starts its warm-up over
unless the caller relabels its older rows with the current symbol first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import talib

REQUIRED_COLUMNS: tuple[str, ...] = ("symbol", "date", "high", "low", "close", "volume")

# The warehouse schema builds its indicator table from this, so the order is part of the contract.
INDICATOR_COLUMNS: tuple[str, ...] = (
    "sma_20",
    "sma_50",
    "sma_200",
    "ema_12",
    "ema_26",
    "rsi_14",
    "macd",
    "macd_signal",
    "macd_hist",
    "bb_upper",
    "bb_middle",
    "bb_lower",
    "atr_14",
    "high_52w",
    "low_52w",
    "volume_sma_20",
    "return_1d",
)

_WINDOW_52W = "365D"
# How many offending rows an error message quotes; enough to spot a pattern, short enough to read.
_EXAMPLES = 3


def compute(prices: pd.DataFrame) -> pd.DataFrame:
    """Return `prices` sorted by (symbol, date) with the `INDICATOR_COLUMNS` appended.

    `prices` needs the columns `symbol, date, high, low, close, volume`; `open` is optional (no indicator
    uses it) and may hold NaN. `date` may hold date/datetime values or ISO 8601 text. Every input column,
    required or extra (e.g. `security_id`), comes back unchanged in its input order, values included (`date`
    keeps its input type), followed by the indicators as float64. The index is a fresh RangeIndex.

    Raises ValueError, naming the column and an offending (symbol, date) plus the fix, when a required
    column is missing, an input column already carries an indicator's name, a symbol is missing or not
    text, a date does not parse, a (symbol, date) pair repeats, or a numeric column holds text, NaN or
    infinity (NaN is allowed in `open`), a non-positive price or a negative volume.
    """
    dates = _validate(prices)
    if prices.empty:
        return prices.reset_index(drop=True).assign(**dict.fromkeys(INDICATOR_COLUMNS, np.nan))

    symbol_codes, _ = pd.factorize(_symbols(prices), sort=True)
    # int64 nanoseconds order the same as the dates; np.lexsort sorts by its last key first.
    date_ns = dates.to_numpy(dtype="datetime64[ns]").view(np.int64)
    order = np.lexsort((date_ns, symbol_codes))

    codes = symbol_codes[order]
    stamps = date_ns[order]
    high, low, close, volume = (
        np.ascontiguousarray(prices[column].to_numpy(dtype=np.float64)[order])
        for column in ("high", "low", "close", "volume")
    )

    n = len(prices)
    out = {column: np.full(n, np.nan) for column in INDICATOR_COLUMNS}
    # Each symbol is one contiguous slice after the sort; slicing numpy arrays once per symbol is far
    # cheaper than a pandas groupby/apply round trip.
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.r_[starts[1:], n]
    for start, end in zip(starts, ends, strict=True):
        segment = slice(start, end)
        for column, values in _talib_indicators(high[segment], low[segment], close[segment], volume[segment]):
            out[column][segment] = values

    out["high_52w"], out["low_52w"] = _extremes_52w(codes, stamps, high, low)

    previous_close = np.r_[np.nan, close[:-1]]
    previous_close[starts] = np.nan
    out["return_1d"] = close / previous_close - 1.0

    result = prices.iloc[order].reset_index(drop=True)
    return pd.concat([result, pd.DataFrame(out, index=result.index)], axis=1)


def _talib_indicators(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray
) -> list[tuple[str, np.ndarray]]:
    # TA-Lib returns all-NaN (not an error) for series shorter than the period, which is what we want.
    macd, macd_signal, macd_hist = talib.MACD(close, fastperiod=12, slowperiod=26, signalperiod=9)
    bb_upper, bb_middle, bb_lower = talib.BBANDS(
        close, timeperiod=20, nbdevup=2.0, nbdevdn=2.0, matype=talib.MA_Type.SMA
    )
    return [
        ("sma_20", talib.SMA(close, timeperiod=20)),
        ("sma_50", talib.SMA(close, timeperiod=50)),
        ("sma_200", talib.SMA(close, timeperiod=200)),
        ("ema_12", talib.EMA(close, timeperiod=12)),
        ("ema_26", talib.EMA(close, timeperiod=26)),
        ("rsi_14", talib.RSI(close, timeperiod=14)),
        ("macd", macd),
        ("macd_signal", macd_signal),
        ("macd_hist", macd_hist),
        ("bb_upper", bb_upper),
        ("bb_middle", bb_middle),
        ("bb_lower", bb_lower),
        ("atr_14", talib.ATR(high, low, close, timeperiod=14)),
        ("volume_sma_20", talib.SMA(volume, timeperiod=20)),
    ]


def _extremes_52w(
    codes: np.ndarray, stamps: np.ndarray, high: np.ndarray, low: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    frame = pd.DataFrame(
        {"code": codes, "high": high, "low": low},
        index=pd.DatetimeIndex(stamps.view("datetime64[ns]"), name="date"),
    )
    # One grouped rolling call keeps the window inside each symbol; rows are already sorted by (code, date),
    # which is also the order groupby(sort=True) emits, so the results line up with our arrays.
    rolling = frame.groupby("code", sort=True)[["high", "low"]].rolling(_WINDOW_52W)
    return rolling["high"].max().to_numpy(), rolling["low"].min().to_numpy()


def _symbols(prices: pd.DataFrame) -> pd.Series:
    symbols = prices["symbol"]
    # A categorical would factorize in its category order, not alphabetically, and hide its values from
    # infer_dtype; the plain values sort and validate like any other text column.
    if isinstance(symbols.dtype, pd.CategoricalDtype):
        return symbols.astype(object)
    return symbols


def _validate(prices: pd.DataFrame) -> pd.Series:
    """Check `prices` and return its `date` column parsed to datetimes."""
    if not isinstance(prices, pd.DataFrame):
        raise ValueError(f"prices must be a pandas DataFrame, got {type(prices).__name__}")
    missing = [column for column in REQUIRED_COLUMNS if column not in prices.columns]
    if missing:
        raise ValueError(
            f"prices is missing required column(s) {missing}; it needs {list(REQUIRED_COLUMNS)} "
            "(open optional): rename or add them before calling compute()"
        )
    if prices.columns.duplicated().any():
        repeated = sorted({str(c) for c in prices.columns[prices.columns.duplicated()]})
        raise ValueError(f"prices has repeated column name(s) {repeated}; keep one column per name")
    clashing = [column for column in INDICATOR_COLUMNS if column in prices.columns]
    if clashing:
        raise ValueError(
            f"prices already has indicator column(s) {clashing}; drop them before calling compute(), "
            "which recomputes them"
        )

    symbols = _symbols(prices)
    null_symbol = symbols.isna().to_numpy()
    if null_symbol.any():
        raise ValueError(
            f"column 'symbol' is missing on {int(null_symbol.sum())} row(s), e.g. on date(s) "
            f"{_quote(prices['date'][null_symbol])}; fill in the symbol or drop those rows"
        )
    # infer_dtype scans in C; the per-value map only runs to quote the culprits.
    if pd.api.types.infer_dtype(symbols, skipna=False) not in ("string", "empty"):
        not_text = ~symbols.map(lambda value: isinstance(value, str)).to_numpy(dtype=bool)
        raise ValueError(
            f"column 'symbol' must hold text, got {_quote(symbols[not_text])}; convert it with .astype(str)"
        )

    # ISO 8601 only: it is what NEPSE and the warehouse emit, it parses fast even when rows mix
    # "2025-12-03" with "2025-12-03 00:00:00", and it never guesses day/month order. Date and datetime
    # objects are accepted as they are.
    dates = pd.to_datetime(prices["date"], format="ISO8601", errors="coerce")
    bad_date = dates.isna().to_numpy()
    if bad_date.any():
        raise ValueError(
            f"column 'date' has {int(bad_date.sum())} missing or unparseable value(s), e.g. "
            f"{_where(prices, bad_date, show='date')}; give dates as date/datetime values or ISO text "
            "(2025-12-03), or drop those rows"
        )
    duplicated = pd.DataFrame({"symbol": symbols, "date": dates}).duplicated(keep=False).to_numpy()
    if duplicated.any():
        raise ValueError(
            f"prices has {int(duplicated.sum())} rows sharing a (symbol, date), e.g. "
            f"{_where(prices, duplicated)}; keep one row per symbol per session "
            "(e.g. drop_duplicates(['symbol', 'date']))"
        )

    for column in ("open", "high", "low", "close", "volume"):
        if column in prices.columns:
            _check_numeric(prices, column)
    return dates


def _check_numeric(prices: pd.DataFrame, column: str) -> None:
    raw = prices[column]
    if pd.api.types.is_bool_dtype(raw):
        raise ValueError(f"column {column!r} holds booleans, not numbers; pass the numeric column")
    values = pd.to_numeric(raw, errors="coerce").astype(np.float64).to_numpy()
    text = np.isnan(values) & raw.notna().to_numpy()
    if text.any():
        raise ValueError(
            f"column {column!r} has {int(text.sum())} non-numeric value(s), e.g. "
            f"{_where(prices, text, show=column)}; convert the column with pd.to_numeric or fix those rows"
        )
    # open feeds no indicator and NEPSE does not always publish it, so only it may be missing.
    problems: list[tuple[np.ndarray, str]] = [(np.isinf(values), "infinite")]
    if column != "open":
        problems.append((np.isnan(values), "missing (NaN/None)"))
    with np.errstate(invalid="ignore"):
        if column == "volume":
            problems.append((values < 0, "negative"))
        else:
            problems.append((values <= 0, "zero or negative"))
    for mask, what in problems:
        if mask.any():
            raise ValueError(
                f"column {column!r} has {int(mask.sum())} {what} value(s), e.g. "
                f"{_where(prices, mask, show=column)}; fix or drop those rows before calling compute()"
            )


def _where(prices: pd.DataFrame, mask: np.ndarray, show: str | None = None) -> str:
    examples = []
    for position in np.flatnonzero(mask)[:_EXAMPLES]:
        row = prices.iloc[position]
        text = f"symbol {row['symbol']!r} on {row['date']}"
        if show is not None:
            text += f" ({show}={row[show]!r})"
        examples.append(text)
    return "; ".join(examples)


def _quote(values: pd.Series) -> str:
    return ", ".join(repr(value) for value in values.head(_EXAMPLES))
