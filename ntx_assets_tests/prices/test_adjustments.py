"""ntx_assets.prices.adjustments on hand-made series: re-basings found from NEPSE's previous close, and
back-adjustment point in time. Expected values are written out by hand from the published examples."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from ntx_assets.prices.adjustments import back_adjust, detect_adjustments, point_in_time_histories

D = dt.date


def series(
    security_id: int, rows: list[tuple[dt.date, float, float | None]], **extra: object
) -> pd.DataFrame:
    """Rows of (date, close, previous_close); open/high/low around the close, volume 1000."""
    return pd.DataFrame(
        {
            "security_id": security_id,
            "business_date": [day for day, _, _ in rows],
            "open": [close for _, close, _ in rows],
            "high": [close + 1 for _, close, _ in rows],
            "low": [close - 1 for _, close, _ in rows],
            "close": [close for _, close, _ in rows],
            "previous_close": [np.nan if previous is None else previous for _, _, previous in rows],
            "volume": 1000,
            **extra,
        }
    )


# A 10% bonus: the last close before book closure 327, NEPSE's base for the next session 327 / 1.1.
BONUS = series(
    1,
    [
        (D(2026, 3, 1), 320.0, 318.0),
        (D(2026, 3, 2), 327.0, 320.0),
        (D(2026, 3, 3), 300.0, 297.27),  # re-based: previous close 297.27, not 327
        (D(2026, 3, 4), 305.0, 300.0),
    ],
)


def test_a_bonus_is_found_on_the_next_session_with_nepses_factor() -> None:
    found = detect_adjustments(BONUS)
    assert list(found.columns) == ["security_id", "ex_date", "factor"]
    assert found[["security_id", "ex_date"]].values.tolist() == [[1, D(2026, 3, 3)]]
    assert found["factor"].iloc[0] == pytest.approx(297.27 / 327.0)


def test_first_row_missing_previous_close_and_rounding_are_not_rebasings() -> None:
    prices = series(
        7,
        [
            (D(2026, 3, 1), 100.0, 50.0),  # first row: nothing stored before it to compare with
            (D(2026, 3, 2), 101.0, None),  # NEPSE gave no previous close
            (D(2026, 3, 3), 102.0, 101.004),  # within half a paisa
            (D(2026, 3, 4), 103.0, 101.995),  # exactly half a paisa: rounding, not a re-basing
            (D(2026, 3, 5), 104.0, 102.994),  # more than half a paisa
        ],
    )
    found = detect_adjustments(prices)
    assert found["ex_date"].tolist() == [D(2026, 3, 5)]


def test_a_company_that_does_not_trade_after_its_book_closure_rebases_on_its_next_traded_row() -> None:
    prices = series(
        3,
        [
            (D(2026, 3, 1), 395.0, 390.0),
            # no rows for 2026-03-02 .. 03-05: it did not trade
            (D(2026, 3, 6), 380.0, 374.41),  # 5.5% bonus: 395 / 1.055
        ],
    )
    found = detect_adjustments(prices)
    assert found[["ex_date"]].values.ravel().tolist() == [D(2026, 3, 6)]
    assert found["factor"].iloc[0] == pytest.approx(374.41 / 395.0)


def test_two_rebasings_unsorted_input_several_securities_and_a_renamed_company() -> None:
    # Security 2 is renamed halfway (symbol NIB -> NIMB): the id is what counts.
    first = series(
        2,
        [
            (D(2026, 1, 5), 2110.0, 2100.0),
            (D(2026, 1, 6), 1975.0, 1971.96),  # 7% bonus: 2110 / 1.07
            (D(2026, 1, 7), 1980.0, 1975.0),
        ],
        symbol="NIB",
    )
    second = series(
        2,
        [
            (D(2026, 2, 2), 500.0, 1980.0),  # a right 1:1 at 100 after a long pause: (1980 + 100) / 2
            (D(2026, 2, 3), 520.0, 1040.0),
        ],
        symbol="NIMB",
    )
    second.loc[0, "previous_close"] = 1980.0  # no re-basing on 02-02: it equals the stored close
    other = series(1, [(D(2026, 1, 6), 10.0, 10.0), (D(2026, 1, 7), 11.0, 10.0)])
    prices = pd.concat([second, other, first]).sample(frac=1, random_state=3)
    found = detect_adjustments(prices)
    assert found[["security_id", "ex_date"]].values.tolist() == [[2, D(2026, 1, 6)], [2, D(2026, 2, 3)]]
    assert found["factor"].tolist() == pytest.approx([1971.96 / 2110.0, 1040.0 / 500.0])


def test_back_adjust_multiplies_prices_and_divides_volume_by_the_later_factors() -> None:
    adjustments = detect_adjustments(BONUS)
    factor = 297.27 / 327.0
    adjusted = back_adjust(BONUS, adjustments).set_index("business_date")
    assert adjusted.loc[D(2026, 3, 2), "close"] == pytest.approx(327.0 * factor)  # = 297.27
    assert adjusted.loc[D(2026, 3, 1), "high"] == pytest.approx(321.0 * factor)
    assert adjusted.loc[D(2026, 3, 1), "volume"] == pytest.approx(1000 / factor)
    # The ex-date and later rows are in the new basis already.
    assert adjusted.loc[D(2026, 3, 3), "close"] == 300.0 and adjusted.loc[D(2026, 3, 4), "volume"] == 1000
    # Columns it does not adjust pass through.
    assert adjusted["previous_close"].tolist() == BONUS["previous_close"].tolist()


def test_back_adjust_as_of_a_date_uses_only_the_rebasings_known_then() -> None:
    prices = series(
        5,
        [
            (D(2026, 1, 1), 200.0, 200.0),
            (D(2026, 1, 2), 100.0, 100.0),  # 100% bonus: factor 0.5
            (D(2026, 1, 3), 110.0, 100.0),
            (D(2026, 1, 4), 88.0, 88.0),  # 25% bonus: 110 / 1.25 = 88, factor 0.8
        ],
    )
    prices.loc[1, "previous_close"] = 100.0
    adjustments = detect_adjustments(prices)
    assert adjustments["factor"].tolist() == pytest.approx([0.5, 0.8])

    def closes(as_of: dt.date | None) -> list[float]:
        return back_adjust(prices, adjustments, as_of)["close"].tolist()

    assert closes(D(2026, 1, 1)) == [200.0, 100.0, 110.0, 88.0]  # nothing known yet
    assert closes(D(2026, 1, 3)) == pytest.approx([100.0, 100.0, 110.0, 88.0])  # the first re-basing only
    assert closes(D(2026, 1, 4)) == pytest.approx([80.0, 80.0, 88.0, 88.0])  # both
    assert closes(None) == closes(D(2026, 1, 4))


def test_back_adjust_keeps_nan_order_index_and_other_securities() -> None:
    prices = pd.concat([BONUS, series(9, [(D(2026, 3, 1), 50.0, 50.0)])], ignore_index=True)
    prices.loc[0, "open"] = np.nan
    prices.index = prices.index * 10
    adjusted = back_adjust(prices, detect_adjustments(prices))
    assert adjusted.index.tolist() == prices.index.tolist()
    assert math.isnan(adjusted.loc[0, "open"])
    assert adjusted.loc[40, "close"] == 50.0 and adjusted.loc[40, "volume"] == 1000


def test_no_adjustments_change_nothing_and_missing_columns_are_named() -> None:
    empty = detect_adjustments(BONUS.iloc[:2])
    assert empty.empty and list(empty.columns) == ["security_id", "ex_date", "factor"]
    pd.testing.assert_frame_equal(
        back_adjust(BONUS, empty)[["close"]], BONUS[["close"]].astype(float), check_dtype=False
    )
    with pytest.raises(ValueError, match="previous_close"):
        detect_adjustments(BONUS.drop(columns=["previous_close"]))


# --- point in time ---------------------------------------------------------------------------------------


def walk(security_id: int, sessions: int, rebase_at: int | None, factor: float = 1 / 1.2) -> pd.DataFrame:
    """A random walk of `sessions` closes; at `rebase_at` NEPSE serves previous_close = factor x the close
    before it, and the walk continues from that base."""
    rng = np.random.default_rng(security_id)
    days = [D(2026, 1, 1) + dt.timedelta(days=i) for i in range(sessions)]
    closes, previous = [], []
    close = 500.0
    for i in range(sessions):
        base = round(close * factor, 2) if i == rebase_at else close
        previous.append(base)
        close = round(base * (1 + rng.normal(0, 0.01)), 2)
        closes.append(close)
    return series(security_id, list(zip(days, closes, previous, strict=True)))


def test_point_in_time_histories_put_each_date_in_its_own_basis() -> None:
    prices = pd.concat([walk(1, 30, rebase_at=20), walk(2, 30, rebase_at=None)], ignore_index=True)
    adjustments = detect_adjustments(prices)
    assert adjustments[["security_id", "ex_date"]].values.tolist() == [[1, D(2026, 1, 21)]]
    dates = {D(2026, 1, 10), D(2026, 1, 25)}
    frames = point_in_time_histories(prices, adjustments, dates)
    targets = frames[frames["target"]]
    assert sorted(map(tuple, targets[["security_id", "business_date", "basis"]].values.tolist())) == [
        (1, D(2026, 1, 10), 0),
        (1, D(2026, 1, 25), 1),
        (2, D(2026, 1, 10), 0),
        (2, D(2026, 1, 25), 0),
    ]
    first = prices[prices["security_id"] == 1].set_index("business_date")
    basis_0 = frames[(frames["security_id"] == 1) & (frames["basis"] == 0)].set_index("business_date")
    basis_1 = frames[(frames["security_id"] == 1) & (frames["basis"] == 1)].set_index("business_date")
    # Basis 0 is NEPSE's prices as reported, up to its last target date only.
    assert basis_0.index.max() == D(2026, 1, 10)
    assert basis_0["close"].tolist() == first.loc[: D(2026, 1, 10), "close"].tolist()
    # Basis 1: the rows before the ex-date multiplied by the factor; from it on as reported.
    factor = float(adjustments["factor"].iloc[0])
    assert basis_1.loc[D(2026, 1, 5), "close"] == pytest.approx(first.loc[D(2026, 1, 5), "close"] * factor)
    assert basis_1.loc[D(2026, 1, 22), "close"] == first.loc[D(2026, 1, 22), "close"]


def test_indicators_of_a_date_never_change_when_a_later_rebasing_arrives() -> None:
    from ntx_assets.prices.indicators import indicator_rows

    full = walk(3, 260, rebase_at=240)
    full["symbol"] = "X"
    before = full[full["business_date"] < D(2026, 1, 1) + dt.timedelta(days=240)]
    day = D(2026, 1, 1) + dt.timedelta(days=230)
    assert indicator_rows(before, [day]) == indicator_rows(full, [day])
    # After the re-basing, SMA 200 is TA-Lib's on the back-adjusted closes, not on the raw ones.
    last = D(2026, 1, 1) + dt.timedelta(days=259)
    adjusted = back_adjust(full, detect_adjustments(full))["close"].to_numpy()
    (row,) = indicator_rows(full, [last])
    assert row["sma_200"] == pytest.approx(adjusted[-200:].mean())
    assert row["sma_200"] != pytest.approx(full["close"].to_numpy()[-200:].mean(), rel=1e-3)
