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
import math
from dataclasses import dataclass

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


def read_company_csv(text: str, symbol: str) -> tuple[list[ArchiveRow], list[SetAside]]:
    """Parse one company's file: the rows it holds, and the lines that could not be read.

    Raises ArchiveFormatError when the header lacks a required column (the wrong file or another format).
    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise ArchiveFormatError(f"{symbol}: the file is empty (expected the header {','.join(COLUMNS)})")
    names = [name.strip() for name in header]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise ArchiveFormatError(
            f"{symbol}: the header lacks {', '.join(missing)} (it is {','.join(names)}); the per-company "
            f"reader expects {','.join(COLUMNS)}: is this a file of github.com/Aabishkar2/nepse-data?"
        )
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
    return rows, set_aside


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
