"""Technical indicators for daily NEPSE price histories, computed with TA-Lib.

`compute(prices, by)` takes the daily bars of any number of series and returns the same rows, sorted by
series then date, with the columns in `INDICATOR_COLUMNS` added. It is pure: no I/O, no logging, no global
state of its own, and the result does not depend on the order of the input rows. `indicator_rows` applies
it to stored histories point in time (each date in its own price basis) and frames warehouse rows;
`stale_later_dates` says which later dates a changed price makes stale (their lookback holds it).

Definitions are TA-Lib's, with its default parameters, applied to each series sorted by date on its
own; warm-up rows are NaN exactly where TA-Lib's are (including MACD, whose line stays NaN until its signal
line has warmed up too). TA-Lib has process-wide settings (`talib.set_unstable_period`,
`talib.set_compatibility`); the results match "TA-Lib's defaults" only while those are left at their
defaults, which nothing in this project changes.

Two indicators are not TA-Lib's:

- `high_52w` / `low_52w`: highest high / lowest low over the trailing 365 calendar days including the day
  itself (a time-based `'365D'` window, so holidays and suspensions do not stretch it).
- `return_1d`: close over the series' previous session's close, minus one; NaN on its first row.

Indicators are computed per series, the rows sharing the values of `by` (default `symbol`): the indicators
asset groups by security id and price basis, so a renamed company (NIB -> NIMB) keeps its warm-up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import talib

from ntx_assets.prices.adjustments import point_in_time_histories
from ntx_assets.prices.rebasings import BandExplainer, find_rebasings

# Beside the series key(s) (`by`).
REQUIRED_COLUMNS: tuple[str, ...] = ("date", "high", "low", "close", "volume")

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

# An indicator of date X reads the prices of dates up to X. 400 calendar days cover the longest window
# (SMA 200 sessions is about 290 days; the 52-week range is 365), and an EMA's weight on a price that old
# is below 1e-9, so a corrected price changes the indicators of its own date and the 400 after it.
LOOKBACK_DAYS = 400

_WINDOW_52W = "365D"
# How many offending rows an error message quotes; enough to spot a pattern, short enough to read.
_EXAMPLES = 3


def compute(prices: pd.DataFrame, by: str | Sequence[str] = "symbol") -> pd.DataFrame:
    """Return `prices` sorted by (`by`, date) with the `INDICATOR_COLUMNS` appended.

    `by` names the column(s) whose values make one series (default `symbol`; the indicators asset uses
    `security_id` and the price basis). `prices` needs those and `date, high, low, close, volume`; `open` is
    optional (no indicator uses it) and may hold NaN. `date` may hold date/datetime values or ISO 8601
    text. Every input column comes back unchanged in its input order, values included (`date` keeps its
    input type), followed by the indicators as float64. The index is a fresh RangeIndex.

    The prices themselves are trusted: they were judged when they were parsed and stored
    (`ntx_assets.prices.daily_rows.price_problems`). What is checked here is the frame's shape, since a wrong
    one would compute silently wrong series: a required column missing, an input column carrying an
    indicator's name, a series key missing, a date that does not parse, or a (key, date) pair repeated.
    Each raises ValueError naming the column, an offending row and the fix.
    """
    keys = [by] if isinstance(by, str) else list(by)
    dates = _validate(prices, keys)
    if prices.empty:
        return prices.reset_index(drop=True).assign(**dict.fromkeys(INDICATOR_COLUMNS, np.nan))

    # Group numbers in sorted key order: the series come out sorted by key as documented.
    series_codes = prices.groupby(keys, sort=True, observed=True).ngroup().to_numpy()
    # int64 nanoseconds order the same as the dates; np.lexsort sorts by its last key first.
    date_ns = dates.to_numpy(dtype="datetime64[ns]").view(np.int64)
    order = np.lexsort((date_ns, series_codes))

    codes = series_codes[order]
    stamps = date_ns[order]
    high, low, close, volume = (
        np.ascontiguousarray(prices[column].to_numpy(dtype=np.float64)[order])
        for column in ("high", "low", "close", "volume")
    )

    n = len(prices)
    out = {column: np.full(n, np.nan) for column in INDICATOR_COLUMNS}
    # Each series is one contiguous slice after the sort; slicing numpy arrays once per series is far
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


def indicator_rows(
    history: pd.DataFrame, dates: Sequence[dt.date], explain: BandExplainer | None = None
) -> list[dict[str, Any]]:
    """The indicators rows of `dates`, each computed on its company's whole history in that date's price
    basis (re-basings up to the date, `ntx_assets.prices.adjustments`), as warehouse rows (NaN -> None).

    `history`: daily_prices rows (`security_id, symbol, business_date, open, high, low, close,
    previous_close, volume`, optionally `source`) up to the last of `dates`; the re-basings are found by
    `ntx_assets.prices.rebasings.find_rebasings` (NEPSE's base, else an announcement `explain` names, else
    unknown: the series restarts after it). Each row carries the symbol the company last traded under."""
    if history.empty:
        return []
    rebasings = find_rebasings(history, explain)
    in_basis = point_in_time_histories(history, rebasings[["security_id", "ex_date", "factor"]], dates)
    in_basis = in_basis.drop(columns=[c for c in ("source",) if c in in_basis.columns])
    frame = in_basis.drop(columns=["previous_close"]).rename(columns={"business_date": "date"})
    frame["date"] = pd.to_datetime(frame["date"])
    # One series per security id and price basis, not per symbol: a renamed company (NIB -> NIMB) keeps
    # its warm-up.
    result = compute(frame, by=["security_id", "basis"])
    result = result.loc[result["target"].astype(bool)]
    latest_symbol = history.sort_values("business_date").groupby("security_id")["symbol"].last()
    out = pd.DataFrame(
        {
            "security_id": result["security_id"].astype(int),
            "business_date": result["date"].dt.date,
            "symbol": result["security_id"].map(latest_symbol),
        }
    )
    for column in INDICATOR_COLUMNS:
        values = result[column].astype(float)
        # Object dtype first: a float column would turn the None back into NaN.
        out[column] = values.astype(object).where(np.isfinite(values), None)
    # zip over plain lists: DataFrame.to_dict("records") boxes every cell and costs ~8x the compute.
    columns = list(out.columns)
    values = [out[column].tolist() for column in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def later_dates(last_changed: dt.date, newest: dt.date) -> list[dt.date]:
    """The dates after `last_changed` whose lookback holds it, up to the newest partition."""
    end = min(newest, last_changed + dt.timedelta(days=LOOKBACK_DAYS))
    return [last_changed + dt.timedelta(days=i) for i in range(1, (end - last_changed).days + 1)]


def stale_later_dates(
    changes: Iterable[tuple[dt.date, int]],
    newest: dt.date,
    materialized: set[str],
    computed_after: Mapping[str, int],
) -> list[dt.date]:
    """Given (last date of a run whose prices changed, storage id of that change), the later dates whose
    indicators were materialized before the change (`computed_after`: partition -> storage id of its
    newest indicators materialization, for those recomputed since)."""
    stale: set[dt.date] = set()
    for last_changed, storage_id in changes:
        for day in later_dates(last_changed, newest):
            key = day.isoformat()
            if key in materialized and computed_after.get(key, -1) < storage_id:
                stale.add(day)
    return sorted(stale)


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


def _validate(prices: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Check the frame's shape and return its `date` column parsed to datetimes."""
    if not isinstance(prices, pd.DataFrame):
        raise ValueError(f"prices must be a pandas DataFrame, got {type(prices).__name__}")
    required = [*keys, *REQUIRED_COLUMNS]
    missing = [column for column in required if column not in prices.columns]
    if missing:
        raise ValueError(
            f"prices is missing required column(s) {missing}; it needs {required} "
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
    for key in keys:
        null_key = prices[key].isna().to_numpy()
        if null_key.any():
            raise ValueError(
                f"column {key!r} is missing on {int(null_key.sum())} row(s), e.g. on date(s) "
                f"{_quote(prices['date'][null_key])}; fill it in or drop those rows"
            )

    # ISO 8601 only: it is what NEPSE and the warehouse emit, it parses fast even when rows mix
    # "2025-12-03" with "2025-12-03 00:00:00", and it never guesses day/month order. Date and datetime
    # objects are accepted as they are.
    dates = pd.to_datetime(prices["date"], format="ISO8601", errors="coerce")
    bad_date = dates.isna().to_numpy()
    if bad_date.any():
        raise ValueError(
            f"column 'date' has {int(bad_date.sum())} missing or unparseable value(s), e.g. "
            f"{_where(prices, keys, bad_date, show='date')}; give dates as date/datetime values or ISO text "
            "(2025-12-03), or drop those rows"
        )
    duplicated = prices[keys].assign(_date=dates).duplicated(keep=False).to_numpy()
    if duplicated.any():
        raise ValueError(
            f"prices has {int(duplicated.sum())} rows sharing a ({', '.join(keys)}, date), e.g. "
            f"{_where(prices, keys, duplicated)}; keep one row per series per session "
            f"(e.g. drop_duplicates({[*keys, 'date']}))"
        )
    return dates


def _where(prices: pd.DataFrame, keys: list[str], mask: np.ndarray, show: str | None = None) -> str:
    examples = []
    for position in np.flatnonzero(mask)[:_EXAMPLES]:
        row = prices.iloc[position]
        text = " ".join(f"{key} {row[key]!r}" for key in keys) + f" on {row['date']}"
        if show is not None:
            text += f" ({show}={row[show]!r})"
        examples.append(text)
    return "; ".join(examples)


def _quote(values: pd.Series) -> str:
    return ", ".join(repr(value) for value in values.head(_EXAMPLES))
