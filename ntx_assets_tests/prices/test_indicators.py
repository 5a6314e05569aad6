"""ntx_assets.prices.indicators against TA-Lib called directly, and against brute force for the non-TA-Lib
columns.

Expected values never come from compute(): TA-Lib is run here on each symbol's own date-sorted arrays, and
the 52-week extremes and one-day returns are recomputed row by row.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ntx_assets.prices.indicators import INDICATOR_COLUMNS, compute
from ntx_assets_tests.prices.talib_reference import TALIB_COLUMNS, assert_matches, talib_reference

DATA = Path(__file__).parents[1] / "data"
NABIL_HISTORY = DATA / "nabil_history_2024-12-03_2025-12-03.json"

# Lengths chosen around the warm-ups: under SMA 20, around MACD's 34, under SMA 200, and past a year so the
# 365-day window actually drops old rows. Start prices far apart so leakage across symbols would show.
RANDOM_WALK_SYMBOLS: dict[str, tuple[int, float]] = {
    "AAA": (7, 250.0),
    "BBB": (19, 1200.0),
    "CCC": (34, 90.0),
    "DDD": (150, 480.0),
    "EEE": (260, 3100.0),
    "FFF": (520, 700.0),
}


def load_nabil() -> pd.DataFrame:
    page = json.loads(NABIL_HISTORY.read_text())
    rows = page["content"]
    return pd.DataFrame(
        {
            "symbol": "NABIL",
            "date": [row["businessDate"] for row in rows],
            "high": [row["highPrice"] for row in rows],
            "low": [row["lowPrice"] for row in rows],
            "close": [row["closePrice"] for row in rows],
            "volume": [row["totalTradedQuantity"] for row in rows],
        }
    )


def random_walk(seed: int = 20251204) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for security_id, (symbol, (length, start_price)) in enumerate(RANDOM_WALK_SYMBOLS.items(), start=100):
        # NEPSE trades Sunday to Thursday; drop some sessions as holidays and leave one long suspension.
        days = pd.date_range(
            pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 60))), periods=900
        )
        days = days[(days.day_of_week != 4) & (days.day_of_week != 5)]
        days = days[rng.random(len(days)) > 0.08]
        if length > 200:
            days = days[(days < days[100]) | (days > days[100] + pd.Timedelta(days=45))]
        days = days[:length]
        ticks = np.round(start_price * 10) + np.cumsum(rng.integers(-15, 16, length))
        close = np.maximum(ticks, 10) / 10
        high = close + rng.integers(0, 20, length) / 10
        low = np.maximum(close - rng.integers(0, 20, length) / 10, 0.1)
        open_ = np.round(low + (high - low) * rng.random(length), 1)
        open_[rng.random(length) < 0.1] = np.nan
        frames.append(
            pd.DataFrame(
                {
                    "security_id": security_id,
                    "symbol": symbol,
                    "date": days,
                    "open": open_,
                    "high": np.round(high, 1),
                    "low": np.round(low, 1),
                    "close": np.round(close, 1),
                    "volume": rng.integers(10, 50_000, length),
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=seed).reset_index(drop=True)


DATASETS: dict[str, Callable[[], pd.DataFrame]] = {"nabil": load_nabil, "random_walk": random_walk}


def by_symbol(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    frame = frame.assign(_when=pd.to_datetime(frame["date"]))
    return {
        symbol: group.sort_values("_when").reset_index(drop=True)
        for symbol, group in frame.groupby("symbol", sort=True)
    }


def _arrays(history: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: history[c].to_numpy(dtype=np.float64) for c in ("high", "low", "close", "volume")}


def test_the_talib_reference_means_what_its_columns_say() -> None:
    """The reference itself, from first principles: rolling means, the band width, the EMA recursion."""
    history = load_nabil()
    close = history["close"].astype(float)
    reference = talib_reference(_arrays(history))
    for period in (20, 50, 200):
        assert_matches(reference[f"sma_{period}"], close.rolling(period).mean().to_numpy(), f"sma_{period}")
    volume_mean = history["volume"].astype(float).rolling(20).mean().to_numpy()
    assert_matches(reference["volume_sma_20"], volume_mean, "volume_sma_20")
    # Bollinger: the 20-session mean plus and minus two population standard deviations.
    width = 2 * close.rolling(20).std(ddof=0).to_numpy()
    np.testing.assert_allclose(reference["bb_upper"], reference["bb_middle"] + width, rtol=1e-9)
    np.testing.assert_allclose(reference["bb_lower"], reference["bb_middle"] - width, rtol=1e-9)
    # EMA n: seeded with the mean of the first n closes, then alpha = 2 / (n + 1).
    for period in (12, 26):
        values = close.to_numpy()
        expected = np.full(len(values), np.nan)
        expected[period - 1] = values[:period].mean()
        alpha = 2 / (period + 1)
        for i in range(period, len(values)):
            expected[i] = alpha * values[i] + (1 - alpha) * expected[i - 1]
        assert_matches(reference[f"ema_{period}"], expected, f"ema_{period}")
    # MACD's histogram is the line minus its signal; RSI stays within 0..100.
    np.testing.assert_allclose(
        reference["macd_hist"], reference["macd"] - reference["macd_signal"], rtol=1e-9, atol=1e-12
    )
    rsi = reference["rsi_14"][~np.isnan(reference["rsi_14"])]
    assert len(rsi) == len(close) - 14 and ((rsi >= 0) & (rsi <= 100)).all()


def test_indicator_columns_cover_the_contract() -> None:
    assert set(INDICATOR_COLUMNS) == {*TALIB_COLUMNS, "high_52w", "low_52w", "return_1d"}
    assert len(set(INDICATOR_COLUMNS)) == len(INDICATOR_COLUMNS)


def test_nabil_fixture_is_the_expected_history() -> None:
    nabil = load_nabil()
    assert len(nabil) == 226
    assert nabil["date"].is_unique
    assert (nabil["date"].min(), nabil["date"].max()) == ("2024-12-03", "2025-12-03")
    assert "open" not in nabil.columns


@pytest.mark.parametrize("dataset", DATASETS)
def test_talib_indicators_match_talib_per_symbol(dataset: str) -> None:
    prices = DATASETS[dataset]()
    result = compute(prices)

    expected_histories = by_symbol(prices)
    assert list(result["symbol"].unique()) == sorted(expected_histories)
    for symbol, history in expected_histories.items():
        rows = result[result["symbol"] == symbol]
        assert list(rows["date"]) == list(history["date"]), symbol
        for column, expected in talib_reference(_arrays(history)).items():
            assert_matches(rows[column].to_numpy(), expected, f"{dataset} {symbol} {column}")


def test_nabil_has_values_past_every_warm_up() -> None:
    # Guards against the comparison above passing on all-NaN columns; counts are TA-Lib's lookbacks.
    result = compute(load_nabil())
    values = result[list(INDICATOR_COLUMNS)].notna().sum()
    assert values["sma_200"] == 226 - 199
    assert values["macd"] == values["macd_signal"] == 226 - 33
    assert values["rsi_14"] == values["atr_14"] == 226 - 14
    assert values["ema_26"] == 226 - 25
    assert values["high_52w"] == values["low_52w"] == 226
    assert values["return_1d"] == 225


def test_short_symbols_stay_in_warm_up() -> None:
    result = compute(random_walk())
    aaa = result[result["symbol"] == "AAA"]
    assert aaa[["sma_20", "bb_upper", "volume_sma_20", "macd", "rsi_14"]].isna().all().all()
    assert aaa["high_52w"].notna().all()
    ddd = result[result["symbol"] == "DDD"]
    assert ddd["sma_200"].isna().all()
    assert ddd["sma_50"].notna().sum() == 150 - 49


@pytest.mark.parametrize("dataset", DATASETS)
def test_52_week_extremes_match_brute_force(dataset: str) -> None:
    prices = DATASETS[dataset]()
    result = compute(prices)
    symbols = result["symbol"].to_numpy()
    when = pd.to_datetime(result["date"]).to_numpy()
    high, low = result["high"].to_numpy(), result["low"].to_numpy()
    window_dropped_rows = False
    for i in range(len(result)):
        same_symbol = symbols == symbols[i]
        inside = same_symbol & (when <= when[i]) & (when > when[i] - np.timedelta64(365, "D"))
        assert result.at[i, "high_52w"] == high[inside].max(), i
        assert result.at[i, "low_52w"] == low[inside].min(), i
        window_dropped_rows |= bool((same_symbol & (when < when[i]) & ~inside).any())
    # The data must exercise the trailing edge, or an expanding max would pass too.
    assert window_dropped_rows


def test_52_week_window_is_365_calendar_days_including_the_day() -> None:
    # NABIL's history spans exactly 2024-12-03..2025-12-03: the last day's window starts on 2024-12-04.
    nabil = load_nabil()
    nabil.loc[nabil["date"] == "2024-12-03", ["high", "low"]] = [9999.0, 0.1]
    result = compute(nabil)
    first, last = result.iloc[0], result.iloc[-1]
    assert first["date"] == "2024-12-03" and first["high_52w"] == 9999.0 and first["low_52w"] == 0.1
    assert result.loc[result["date"] == "2025-12-02", "high_52w"].item() == 9999.0
    assert last["date"] == "2025-12-03"
    assert last["high_52w"] == nabil.loc[nabil["date"] > "2024-12-03", "high"].max() < 9999.0
    assert last["low_52w"] == nabil.loc[nabil["date"] > "2024-12-03", "low"].min() > 0.1


@pytest.mark.parametrize("dataset", DATASETS)
def test_return_1d_is_close_over_previous_session_close(dataset: str) -> None:
    prices = DATASETS[dataset]()
    result = compute(prices)
    for symbol, history in by_symbol(prices).items():
        closes = history["close"].to_list()
        expected = [np.nan] + [closes[i] / closes[i - 1] - 1 for i in range(1, len(closes))]
        actual = result.loc[result["symbol"] == symbol, "return_1d"].to_numpy()
        assert_matches(actual, np.array(expected), f"{dataset} {symbol} return_1d")


def test_shuffled_input_gives_identical_output() -> None:
    prices = random_walk()
    baseline = compute(prices)
    for seed in range(3):
        shuffled = prices.sample(frac=1.0, random_state=seed)
        shuffled.index = np.random.default_rng(seed).permutation(len(shuffled)) + 1000
        pd.testing.assert_frame_equal(compute(shuffled), baseline)


def test_output_shape_order_and_carried_columns() -> None:
    prices = random_walk()
    before = prices.copy()
    result = compute(prices)

    pd.testing.assert_frame_equal(prices, before)  # input untouched
    assert list(result.columns) == [*prices.columns, *INDICATOR_COLUMNS]
    assert len(result) == len(prices)
    pd.testing.assert_index_equal(result.index, pd.RangeIndex(len(prices)))
    assert list(zip(result["symbol"], result["date"], strict=True)) == sorted(
        zip(prices["symbol"], prices["date"], strict=True)
    )
    # Every carried value still belongs to its own row.
    key = ["symbol", "date"]
    merged = result[[*key, "security_id", "open", "volume"]].merge(prices, on=key, suffixes=("", "_in"))
    assert len(merged) == len(prices)
    for column in ("security_id", "open", "volume"):
        pd.testing.assert_series_equal(merged[column], merged[f"{column}_in"], check_names=False)
    assert result["open"].isna().any()
    assert all(result[column].dtype == np.float64 for column in INDICATOR_COLUMNS)


def test_open_is_optional_and_unused() -> None:
    prices = random_walk()
    with_open = compute(prices)
    without_open = compute(prices.drop(columns="open"))
    pd.testing.assert_frame_equal(with_open.drop(columns="open"), without_open)


def test_empty_input_gives_empty_output_with_indicator_columns() -> None:
    result = compute(load_nabil().iloc[:0])
    assert result.empty
    assert list(result.columns) == ["symbol", "date", "high", "low", "close", "volume", *INDICATOR_COLUMNS]


def _small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": ["AAA", "AAA", "BBB", "BBB"],
            "date": ["2025-01-01", "2025-01-02", "2025-01-01", "2025-01-02"],
            "open": [10.0, np.nan, 20.0, 20.5],
            "high": [10.5, 11.0, 21.0, 21.5],
            "low": [9.5, 10.0, 19.5, 20.0],
            "close": [10.0, 10.8, 20.2, 21.0],
            "volume": [100, 200, 300, 400],
        }
    )


def _set(column: str, value: object, row: int = 3) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
        return frame

    return mutate


INVALID_INPUTS = {
    "missing close": (lambda f: f.drop(columns="close"), ["missing required", "'close'", "rename or add"]),
    "missing symbol": (lambda f: f.drop(columns="symbol"), ["missing required", "'symbol'"]),
    "duplicate row": (
        lambda f: pd.concat([f, f.iloc[[3]]], ignore_index=True),
        ["sharing a (symbol, date)", "symbol 'BBB'", "2025-01-02", "drop_duplicates"],
    ),
    "duplicate after parsing": (
        lambda f: pd.concat([f, f.iloc[[3]].assign(date="2025-01-02 00:00:00")], ignore_index=True),
        ["sharing a (symbol, date)", "'BBB'"],
    ),
    "bad date": (_set("date", "2025-13-45"), ["'date'", "unparseable", "'BBB'", "2025-13-45"]),
    "missing date": (_set("date", None), ["'date'", "missing", "'BBB'"]),
    "non-ISO date": (_set("date", "01/02/2025"), ["'date'", "unparseable", "01/02/2025", "ISO"]),
    "missing symbol value": (_set("symbol", None), ["'symbol'", "missing", "2025-01-02"]),
    "indicator column present": (lambda f: f.assign(sma_20=1.0), ["already has", "sma_20", "drop"]),
}


@pytest.mark.parametrize("case", INVALID_INPUTS)
def test_invalid_input_is_rejected_with_a_useful_message(case: str) -> None:
    mutate, fragments = INVALID_INPUTS[case]
    with pytest.raises(ValueError) as raised:
        compute(mutate(_small()))
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_prices_are_trusted_not_judged_again() -> None:
    # A price is judged once, when it is parsed and stored (ntx_assets.prices.daily_rows.price_problems);
    # compute()
    # checks the frame's shape only, so a zero close computes (a return of -100%) instead of raising.
    frame = _set("close", 0.0)(_small())
    frame["close"] = frame["close"].astype(float)
    result = compute(frame)
    assert result.loc[(result["symbol"] == "BBB"), "return_1d"].tolist()[1] == -1.0


def test_series_key_is_a_parameter() -> None:
    # Two series under one symbol (a company before and after a re-basing): by=[symbol, basis] computes
    # each on its own, exactly as if they were two symbols.
    prices = random_walk()
    one = prices[prices["symbol"] == prices["symbol"].iloc[0]].copy()
    half = len(one) // 2
    one["basis"] = [0] * half + [1] * (len(one) - half)
    by_basis = compute(one, by=["symbol", "basis"])
    as_symbols = compute(one.assign(symbol=one["symbol"] + ":" + one["basis"].astype(str)))
    for column in INDICATOR_COLUMNS:
        np.testing.assert_array_equal(by_basis[column].to_numpy(), as_symbols[column].to_numpy())
    # Grouped by symbol alone, the second half warms up on the first: the series differ.
    assert not np.array_equal(
        compute(one)["sma_20"].to_numpy()[half:], by_basis["sma_20"].to_numpy()[half:], equal_nan=True
    )


def test_a_missing_series_key_is_named() -> None:
    with pytest.raises(ValueError, match=r"missing required column\(s\) \['security_id'\]"):
        compute(_small(), by="security_id")
    frame = _small().assign(security_id=[1, 1, 2, 2], basis=[0, 0, 0, 0])
    frame.loc[1, "basis"] = 0
    frame = pd.concat([frame, frame.iloc[[3]]], ignore_index=True)
    with pytest.raises(ValueError, match=r"sharing a \(security_id, basis, date\)"):
        compute(frame, by=["security_id", "basis"])


def test_valid_small_frame_passes_validation() -> None:
    # The invalid cases above start from this frame, so it must itself be accepted (NaN open included).
    result = compute(_small())
    assert result["return_1d"].tolist()[1] == pytest.approx(10.8 / 10.0 - 1, rel=1e-12)


def test_300_symbols_by_250_sessions_all_computed() -> None:
    # Speed is measured by `make bench`, not asserted here; this checks the bulk path's shape.
    rng = np.random.default_rng(7)
    sessions = pd.bdate_range("2024-01-01", periods=250)
    close = np.round(100 + np.cumsum(rng.integers(-10, 11, (300, 250)), axis=1) / 10, 1) + 50
    prices = pd.DataFrame(
        {
            "symbol": np.repeat([f"S{i:03d}" for i in range(300)], 250),
            "date": np.tile(sessions, 300),
            "high": (close + 1).ravel(),
            "low": (close - 1).ravel(),
            "close": close.ravel(),
            "volume": rng.integers(1, 10_000, 300 * 250),
        }
    ).sample(frac=1.0, random_state=7)
    result = compute(prices)
    assert len(result) == 75_000
    assert result.groupby("symbol")["sma_200"].count().eq(250 - 199).all()
