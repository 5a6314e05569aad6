"""The reader of a per-company archive: one CSV per company, as github.com/Aabishkar2/nepse-data keeps them
(`data/company-wise/<SYMBOL>.csv`).

Columns: `published_date, open, high, low, close, per_change, traded_quantity, traded_amount, status`;
`per_change` is the percent change against the previous close (NEPSE's own since 2018-02-18), `status`
means nothing and is dropped. The reader only parses: every line becomes an `ArchiveRow` or, when it cannot
be read, a `SetAside` naming the line and the reason. What the values mean is `rules`' business, so a
second archive format (daily files, one per session) is a second reader feeding the same rules.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

FORMAT = "company_csv"
COLUMNS = (
    "published_date",
    "open",
    "high",
    "low",
    "close",
    "per_change",
    "traded_quantity",
    "traded_amount",
    "status",
)
REQUIRED = ("published_date", "high", "low", "close", "traded_quantity", "traded_amount")


@dataclass(frozen=True)
class ArchiveRow:
    """One archived session of one company, as the file gives it (None: empty or `nan`)."""

    line: int
    business_date: dt.date
    open: float | None
    high: float
    low: float
    close: float
    per_change: float | None
    volume: float
    turnover: float


@dataclass(frozen=True)
class SetAside:
    """A row (or one value of it) not stored, with why: what `archive_set_aside` keeps."""

    symbol: str
    line: int
    business_date: str | None
    reason: str
    detail: str
    raw: str


class ArchiveFormatError(ValueError):
    """A file that is not the per-company format at all (its header is not the archive's columns)."""


def read_company_csv(text: str, symbol: str) -> tuple[pd.DataFrame, list[SetAside]]:
    """Parse one company's file: its rows as a frame of FRAME_COLUMNS (one per line read, in the file's
    order; NaN where a value is empty or `nan`), and the lines that could not be read.

    A file whose every line reads goes through pandas' C parser in one call; a file with one unreadable
    line (or a shape the fast path does not vouch for) is read line by line, so that each bad line is
    named. Both give the same rows: a test holds them to it on the archive's real files.

    Raises ArchiveFormatError when the header lacks a required column (the wrong file or another format).
    """
    header_line = text.split("\n", 1)[0]
    header = next(csv.reader([header_line]), None) if header_line.strip() else None
    if header is None:
        raise ArchiveFormatError(f"{symbol}: the file is empty (expected the header {','.join(COLUMNS)})")
    names = [name.strip() for name in header]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise ArchiveFormatError(
            f"{symbol}: the header lacks {', '.join(missing)} (it is {','.join(names)}); the per-company "
            f"reader expects {','.join(COLUMNS)}: is this a file of github.com/Aabishkar2/nepse-data?"
        )
    frame = _read_whole(text, names)
    if frame is not None:
        return frame, []
    return read_lines(text, symbol)


# The frame a reader gives the rules: `line` the file's line (header = 1), `business_date` a datetime.date
# and `day` its ordinal (what sorting and comparing use), prices and counts as float64 with NaN for none.
FRAME_COLUMNS = (
    "line",
    "business_date",
    "day",
    "open",
    "high",
    "low",
    "close",
    "per_change",
    "volume",
    "turnover",
)
_NUMBERS = {
    "open": "open", "high": "high", "low": "low", "close": "close", "per_change": "per_change",
    "traded_quantity": "volume", "traded_amount": "turnover",
}  # fmt: skip
# What the line reader takes for "no value" (any case of nan, or nothing).
_NO_VALUE = sorted({"".join(c) for c in itertools.product(*zip("nan", "NAN", strict=True))} | {""})
# The line reader's date rule (`_row`) per date text, remembered: an archive's files share their sessions.
_DATES: dict[str, dt.date] = {}


def _read_whole(text: str, names: list[str]) -> pd.DataFrame | None:
    """The whole file in one pandas call, or None when a line might not read as the line reader reads it
    (then the line reader names it)."""
    if len(set(names)) != len(names):
        return None
    numbers = [name for name in _NUMBERS if name in names]
    words = [name for name in names if name not in _NUMBERS]
    try:
        raw = pd.read_csv(
            io.StringIO(text), header=0, names=names, dtype={**dict.fromkeys(words, object),
            **dict.fromkeys(numbers, "float64")}, keep_default_na=False, na_values=dict.fromkeys(numbers,
            _NO_VALUE), skip_blank_lines=False, engine="c",
        )  # fmt: skip
    except (ValueError, pd.errors.ParserError):
        return None
    values = {name: raw[name].to_numpy(dtype="float64") for name in numbers}
    if any(np.isinf(column).any() for column in values.values()):
        return None
    texts = raw["published_date"].to_numpy(dtype=object)
    lines = np.arange(2, len(raw) + 2)
    # A line of empty fields is no row (the line reader skips it too); one with a word is read.
    blank = np.logical_and.reduce([np.isnan(column) for column in values.values()])
    if blank.any():
        blank &= np.logical_and.reduce([raw[name].to_numpy(dtype=object) == "" for name in words])
        values = {name: column[~blank] for name, column in values.items()}
        texts, lines = texts[~blank], lines[~blank]
    if any(np.isnan(values[name]).any() for name in REQUIRED if name in _NUMBERS):
        return None
    try:
        dates = [_DATES[text] for text in texts]
    except KeyError:  # dates no file read before had (the first file fills most of them)
        try:
            for text in set(texts) - _DATES.keys():
                _DATES[text] = dt.date.fromisoformat(str(text).strip()[:10])
        except ValueError:
            return None
        dates = [_DATES[text] for text in texts]
    columns = {
        "line": lines,
        "business_date": np.array(dates, dtype=object),
        "day": np.array([day.toordinal() for day in dates], dtype=np.int64),
    }
    for name, column in _NUMBERS.items():
        columns[column] = values[name] if name in values else np.full(len(lines), np.nan)
    return pd.DataFrame({name: columns[name] for name in FRAME_COLUMNS})


def read_lines(text: str, symbol: str) -> tuple[pd.DataFrame, list[SetAside]]:
    """The reader line by line: every line a row, or set aside as unreadable with what is wrong in it."""
    reader = csv.reader(io.StringIO(text))
    names = [name.strip() for name in next(reader)]
    index = {name: position for position, name in enumerate(names)}
    rows: list[ArchiveRow] = []
    set_aside: list[SetAside] = []
    for line, fields in enumerate(reader, start=2):
        if not any(field.strip() for field in fields):
            continue
        raw = ",".join(fields)
        date_text = _field(fields, index, "published_date")
        try:
            rows.append(_row(line, fields, index))
        except ValueError as error:
            set_aside.append(SetAside(symbol, line, date_text, "unreadable", str(error), raw))
    return rows_frame(rows), set_aside


def rows_frame(rows: list[ArchiveRow]) -> pd.DataFrame:
    """ArchiveRows as the readers' frame (FRAME_COLUMNS)."""
    frame = pd.DataFrame(
        [
            (r.line, r.business_date, r.business_date.toordinal(), r.open, r.high, r.low, r.close,
             r.per_change, r.volume, r.turnover)
            for r in rows
        ],
        columns=list(FRAME_COLUMNS),
    )  # fmt: skip
    floats = list(FRAME_COLUMNS[3:])
    frame[floats] = frame[floats].astype("float64")
    return frame.astype({"line": np.int64, "day": np.int64})


def frame_rows(frame: pd.DataFrame) -> list[ArchiveRow]:
    """The readers' frame as ArchiveRows (None for NaN): what the rules handle one at a time."""

    def value(x: float) -> float | None:
        return None if x != x else x

    return [
        ArchiveRow(int(line), day, value(open_), high, low, close, value(change), volume, turnover)
        for line, day, _, open_, high, low, close, change, volume, turnover in frame.itertuples(
            index=False, name=None
        )
    ]


def _row(line: int, fields: list[str], index: dict[str, int]) -> ArchiveRow:
    date_text = _field(fields, index, "published_date")
    try:
        day = dt.date.fromisoformat((date_text or "")[:10])
    except ValueError:
        raise ValueError(f"published_date {date_text!r} is not a date (YYYY-MM-DD)") from None
    values = {name: _number(fields, index, name) for name in COLUMNS[1:8]}
    for name in ("high", "low", "close", "traded_quantity", "traded_amount"):
        if values[name] is None:
            raise ValueError(f"{name} is empty")
    return ArchiveRow(
        line=line,
        business_date=day,
        open=values["open"],
        high=values["high"],
        low=values["low"],
        close=values["close"],
        per_change=values["per_change"],
        volume=values["traded_quantity"],
        turnover=values["traded_amount"],
    )  # type: ignore[arg-type]


def _field(fields: list[str], index: dict[str, int], name: str) -> str | None:
    position = index.get(name)
    if position is None or position >= len(fields):
        return None
    return fields[position].strip()


def _number(fields: list[str], index: dict[str, int], name: str) -> float | None:
    text = _field(fields, index, name)
    if text is None or text == "" or text.lower() == "nan":
        return None
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} {text!r} is not a finite number")
    return value
