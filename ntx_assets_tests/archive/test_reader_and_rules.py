"""The per-company reader and the quirk rules, on the archive's real files and on small made-up ones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ntx_assets.archive import company_csv, rules
from ntx_assets.archive.company_csv import ArchiveFormatError, read_company_csv
from ntx_assets.archive.rules import clean

ARCHIVE = Path(__file__).parents[1] / "data" / "price-archive"
HEADER = "published_date,open,high,low,close,per_change,traded_quantity,traded_amount,status\n"


def _clean(symbol: str, body: str) -> rules.CleanFile:
    rows, unreadable = read_company_csv(HEADER + body, symbol)
    return clean(symbol, rows, unreadable)


def _real(symbol: str) -> rules.CleanFile:
    rows, unreadable = read_company_csv((ARCHIVE / f"{symbol}.csv").read_text(), symbol)
    return clean(symbol, rows, unreadable)


def test_every_line_of_a_real_file_is_a_row_or_set_aside_with_its_reason() -> None:
    text = (ARCHIVE / "ADBL.csv").read_text()
    lines = len(text.splitlines()) - 1
    rows, unreadable = read_company_csv(text, "ADBL")
    assert len(rows) + len(unreadable) == lines == 3645  # PROVENANCE.txt: 3645 rows
    cleaned = clean("ADBL", rows, unreadable)
    duplicates_dropped = cleaned.counts[rules.IDENTICAL_DUPLICATE]
    conflicting_dates = cleaned.counts[rules.DUPLICATE_CONFLICTING_PRICES] // 2
    per_change_copies = cleaned.counts[rules.DUPLICATE_PER_CHANGE_DIFFERS]
    dropped_rows = sum(n for reason, n in cleaned.set_aside_counts().items() if reason in rules.ROW_REASONS)
    # Every line is accounted for: stored, an identical copy, a copy of a per_change duplicate, or set aside.
    per_change_dates = len(
        {a.business_date for a in cleaned.set_aside if a.reason == rules.DUPLICATE_PER_CHANGE_DIFFERS}
    )
    assert (
        len(cleaned.rows) + duplicates_dropped + (per_change_copies - per_change_dates) + dropped_rows
        == lines
    )
    assert conflicting_dates == 1 and cleaned.counts[rules.UNSORTED] == 1
    dates = [row.business_date for row in cleaned.rows]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)


def test_duplicates_identical_per_change_only_and_conflicting() -> None:
    cleaned = _clean(
        "X",
        "2019-01-02,100,105,99,104,4.0,10,1040,0\n"
        "2019-01-02,100,105,99,104,4.0,10,1040,0\n"  # identical: one kept
        "2019-01-03,104,106,101,105,0.96,10,1050,0\n"
        "2019-01-03,104,106,101,105,1.5,10,1050,0\n"  # per_change differs: prices kept, per_change unknown
        "2019-01-06,105,107,103,106,0.95,10,1060,0\n"
        "2019-01-06,105,108,103,107,1.9,10,1070,0\n",  # prices conflict: both set aside, no row
    )
    assert [row.business_date for row in cleaned.rows] == [dt.date(2019, 1, 2), dt.date(2019, 1, 3)]
    assert cleaned.rows[1].per_change is None and cleaned.rows[1].exchange_base is None
    assert cleaned.counts[rules.IDENTICAL_DUPLICATE] == 1
    assert cleaned.set_aside_counts() == {
        rules.DUPLICATE_CONFLICTING_PRICES: 2,
        rules.DUPLICATE_PER_CHANGE_DIFFERS: 2,
    }
    conflicting = [a for a in cleaned.set_aside if a.reason == rules.DUPLICATE_CONFLICTING_PRICES]
    assert {a.line for a in conflicting} == {6, 7} and all(
        a.raw.startswith("2019-01-06") for a in conflicting
    )


def test_impossible_rows_are_set_aside_with_their_reason() -> None:
    cleaned = _clean(
        "X",
        "2019-01-02,100,99,105,104,4.0,10,1040,0\n"  # high < low
        "2019-01-03,100,105,99,110,4.0,10,1040,0\n"  # close outside [low, high]
        "2019-01-06,100,105,99,-1,4.0,10,1040,0\n"  # not positive
        "2019-01-07,100,105,99,104,4.0,0,0,0\n"  # no trade
        "2019-01-08,abc,105,99,104,4.0,10,1040,0\n"  # unreadable
        "2019-01-09,100,105,99,104,4.0,10,1040,0\n",
    )
    assert [row.business_date for row in cleaned.rows] == [dt.date(2019, 1, 9)]
    assert cleaned.set_aside_counts() == {
        rules.CLOSE_OUTSIDE_RANGE: 1,
        rules.HIGH_BELOW_LOW: 1,
        rules.NOT_POSITIVE: 1,
        rules.NO_TRADE: 1,
        rules.UNREADABLE: 1,
    }
    assert all(a.detail for a in cleaned.set_aside)


def test_open_before_2018_02_18_is_not_an_open_and_an_open_outside_the_range_is_dropped() -> None:
    cleaned = _clean(
        "X",
        "2018-02-15,100,105,99,104,4.0,10,1040,0\n"
        "2018-02-18,104,106,101,105,0.96,10,1050,0\n"
        "2018-02-19,120,107,103,106,0.95,10,1060,0\n",
    )
    assert [row.open for row in cleaned.rows] == [None, 104.0, None]
    assert cleaned.counts[rules.OPEN_IS_PREVIOUS_CLOSE] == 1
    assert cleaned.set_aside_counts() == {rules.OPEN_OUTSIDE_RANGE: 1}
    # The base NEPSE's per_change implies, from 2018-02-18 on only.
    assert cleaned.rows[0].exchange_base is None
    assert cleaned.rows[1].exchange_base == pytest.approx(105 / 1.0096)


def test_a_file_of_another_format_is_refused_naming_the_columns() -> None:
    with pytest.raises(ArchiveFormatError, match="lacks published_date, high, low, close") as error:
        read_company_csv("date,symbol,open\n2019-01-02,X,1\n", "X")
    assert "Aabishkar2/nepse-data" in str(error.value)


@pytest.mark.parametrize("symbol", sorted(p.stem for p in ARCHIVE.glob("*.csv")))
def test_every_real_file_cleans_to_sorted_unique_consistent_rows(symbol: str) -> None:
    cleaned = _real(symbol)
    assert cleaned.rows, symbol
    for row in cleaned.rows:
        assert row.low <= row.close <= row.high
        assert row.open is None or row.low <= row.open <= row.high
        assert row.open is None or row.business_date >= rules.OPEN_AND_BASE_FROM


@pytest.mark.parametrize("symbol", sorted(p.stem for p in ARCHIVE.glob("*.csv")))
def test_the_whole_file_reader_gives_exactly_the_line_reader_s_rows(symbol: str) -> None:
    """The one-call pandas parse is the fast path; reading line by line is the definition. On every real
    file they agree to the bit (floats compared exactly), and nothing is set aside."""
    text = (ARCHIVE / f"{symbol}.csv").read_text()
    frame, unreadable = read_company_csv(text, symbol)
    by_line, unreadable_by_line = company_csv.read_lines(text, symbol)
    pd.testing.assert_frame_equal(frame, by_line, check_exact=True)
    assert unreadable == unreadable_by_line == []


def test_a_file_with_lines_the_fast_path_cannot_vouch_for_is_read_line_by_line_naming_each() -> None:
    body = (
        "2019-01-02,100,105,99,104,4.0,10,1040,0\n"
        "\n"  # a blank line: no row, nothing set aside
        ",,,,,,,,\n"  # empty fields: the same
        ",,,,,,,,0\n"  # a word but no date: unreadable
        "2019-01-03,NaN,106,101,105,nan,10,1050,0\n"  # any case of nan: no value
        "2019-01-06,105,inf,103,106,0.95,10,1060,0\n"  # not finite
        "2019/01/07,105,107,103,106,0.95,10,1060,0\n"  # not an ISO date
        "2019-01-08,105,107,103,,0.95,10,1060,0\n"  # a required value missing
    )
    frame, unreadable = read_company_csv(HEADER + body, "X")
    assert [(item.line, item.reason, item.detail) for item in unreadable] == [
        (5, rules.UNREADABLE, "published_date '' is not a date (YYYY-MM-DD)"),
        (7, rules.UNREADABLE, "high 'inf' is not a finite number"),
        (8, rules.UNREADABLE, "published_date '2019/01/07' is not a date (YYYY-MM-DD)"),
        (9, rules.UNREADABLE, "close is empty"),
    ]
    assert frame["line"].tolist() == [2, 6]
    assert frame["business_date"].tolist() == [dt.date(2019, 1, 2), dt.date(2019, 1, 3)]
    assert np.isnan(frame["open"].iat[1]) and np.isnan(frame["per_change"].iat[1])
    # Without the bad lines, the whole file is read in one call, to the same rows.
    readable = (
        HEADER
        + "2019-01-02,100,105,99,104,4.0,10,1040,0\n\n,,,,,,,,\n2019-01-03,NaN,106,101,105,nan,10,1050,0\n"
    )
    fast, none = read_company_csv(readable, "X")
    pd.testing.assert_frame_equal(fast, company_csv.read_lines(readable, "X")[0], check_exact=True)
    assert none == [] and fast["line"].tolist() == [2, 5]
