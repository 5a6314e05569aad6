"""The archive's quirks, each handled by a named rule (pure: a reader's rows in, the rows to store out).

Measured on the whole of github.com/Aabishkar2/nepse-data (372 files, ~505,000 rows; docs/price-archive.md):
duplicate dates in 122 files (identical, differing only in `per_change`, or with conflicting prices),
104 files not sorted, `open` that is the previous close before 2018-02-18, high < low, closes outside the
day's range. Every rule is counted; a row (or a value) not stored is set aside with its reason, so nothing
is lost silently. The archive's sessions are the dates on which the company traded: a weekday without a
row is a session it did not trade (or a market-wide closure: the 2015 earthquake, the 2020 lockdown), never
a missing row to fill.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from ntx_assets.archive.company_csv import FRAME_COLUMNS, ArchiveRow, SetAside, frame_rows, rows_frame
from ntx_assets.prices.daily_rows import price_problems

# From this session on, the archive's `open` is the session's open and `per_change` NEPSE's change against
# its own (adjusted) previous close; before it, `open` is the previous close on ~99% of rows and
# `per_change` was recomputed from raw closes (or is 0.0), so it says nothing about re-basings.
OPEN_AND_BASE_FROM = dt.date(2018, 2, 18)

# Rule names: the reasons in archive_set_aside and the keys of the counts.
UNREADABLE = "unreadable"
IDENTICAL_DUPLICATE = "identical_duplicate"
DUPLICATE_PER_CHANGE_DIFFERS = "duplicate_per_change_differs"
DUPLICATE_CONFLICTING_PRICES = "duplicate_conflicting_prices"
HIGH_BELOW_LOW = "high_below_low"
CLOSE_OUTSIDE_RANGE = "close_outside_range"
NOT_POSITIVE = "not_positive"
NEGATIVE_COUNT = "negative_volume_or_turnover"
OPEN_IS_PREVIOUS_CLOSE = "open_is_previous_close"
OPEN_OUTSIDE_RANGE = "open_outside_range"
UNSORTED = "unsorted_file"
NO_TRADE = "no_trade"
BASE_ABOVE_PREVIOUS_CLOSE = "base_above_previous_close"

# Of these, the row is not stored (set aside whole); the others keep the row and drop one value.
ROW_REASONS = (
    UNREADABLE,
    DUPLICATE_CONFLICTING_PRICES,
    HIGH_BELOW_LOW,
    CLOSE_OUTSIDE_RANGE,
    NOT_POSITIVE,
    NEGATIVE_COUNT,
    NO_TRADE,
)


@dataclass(frozen=True)
class CleanRow:
    """A session to store: `open` None when the archive's is not a real open; `exchange_base` NEPSE's
    adjusted previous close implied by `per_change` (close / (1 + per_change / 100)), from 2018-02-18 on."""

    business_date: dt.date
    open: float | None
    high: float
    low: float
    close: float
    per_change: float | None
    volume: int
    turnover: float
    exchange_base: float | None
    # What daily_prices stores as previous_close: NEPSE's base where per_change shows a re-basing, the
    # previous archived close where it does not, None where the data carries no base (before 2018-02-18).
    previous_close: float | None = None


# The cleaned frame: one row per session, sorted by date; NaN where CleanRow has None.
CLEAN_COLUMNS = tuple(f.name for f in fields(CleanRow))


@dataclass
class CleanFile:
    symbol: str
    frame: pd.DataFrame  # CLEAN_COLUMNS (and `day`, the date's ordinal)
    set_aside: list[SetAside]
    counts: Counter = field(default_factory=Counter)

    @property
    def rows(self) -> list[CleanRow]:
        """The sessions one by one (None where the frame has NaN)."""
        values = self.frame[list(CLEAN_COLUMNS)].astype(object)
        values = values.where(values.notna(), None)
        return [CleanRow(*row) for row in values.itertuples(index=False, name=None)]

    @property
    def first(self) -> dt.date | None:
        return self.frame["business_date"].iat[0] if len(self.frame) else None

    @property
    def last(self) -> dt.date | None:
        return self.frame["business_date"].iat[-1] if len(self.frame) else None

    def set_aside_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(item.reason for item in self.set_aside).items()))


# The columns the rules work on: numpy arrays of one length, by name (a reader's frame, then the clean rows).
Columns = dict[str, np.ndarray]


def clean(symbol: str, rows: pd.DataFrame, unreadable: list[SetAside]) -> CleanFile:
    """Apply every rule to one company's rows (a reader's frame, in the file's order); the result is sorted
    by date. Columnar: the rare rows a rule singles out (duplicates, bad prices, an open outside the range)
    are handled one by one, so their set-aside rows and counts are what the rule says of each."""
    counts: Counter = Counter({UNREADABLE: len(unreadable)})
    columns = {name: rows[name].to_numpy() for name in FRAME_COLUMNS}
    if (np.diff(columns["day"]) < 0).any():
        counts[UNSORTED] = 1
    columns = _taken(columns, np.argsort(columns["day"], kind="stable"))
    # Events of the rules, kept in date order: (day, order within the day, what is set aside).
    events: list[tuple[int, int, SetAside]] = []
    columns = _one_row_per_date(symbol, columns, counts, events)
    columns = _checked_rows(symbol, columns, counts, events)
    columns["previous_close"] = _previous_closes(columns, counts)
    events.sort(key=lambda event: (event[0], event[1]))
    frame = pd.DataFrame({name: columns[name] for name in ("business_date", "day", *CLEAN_COLUMNS[1:])})
    return CleanFile(symbol, frame, [*unreadable, *(item for _, _, item in events)], counts)


def _taken(columns: Columns, positions: np.ndarray) -> Columns:
    return {name: values[positions] for name, values in columns.items()}


def _rows_of(columns: Columns, positions: np.ndarray) -> list[ArchiveRow]:
    return frame_rows(pd.DataFrame(_taken(columns, positions))[list(FRAME_COLUMNS)])


def _with_rows(columns: Columns, rows: list[ArchiveRow]) -> Columns:
    """`columns` and `rows` together, sorted by date (stable: `columns`' rows first on a shared date)."""
    extra = rows_frame(rows)
    together = {name: np.concatenate([values, extra[name].to_numpy()]) for name, values in columns.items()}
    return _taken(together, np.argsort(together["day"], kind="stable"))


def _one_row_per_date(
    symbol: str, columns: Columns, counts: Counter, events: list[tuple[int, int, SetAside]]
) -> Columns:
    days = columns["day"]
    repeated = np.zeros(len(days), dtype=bool)
    if len(days) > 1:
        same = days[1:] == days[:-1]  # sorted: a date's copies are neighbours
        repeated[1:] |= same
        repeated[:-1] |= same
    if not repeated.any():
        return columns
    chosen: list[ArchiveRow] = []
    positions = np.flatnonzero(repeated)
    for day in np.unique(days[positions]):
        found: list[SetAside] = []
        row = _one_per_date(symbol, _rows_of(columns, positions[days[positions] == day]), counts, found)
        events.extend((int(day), 0, item) for item in found)
        if row is not None:
            chosen.append(row)
    return _with_rows(_taken(columns, np.flatnonzero(~repeated)), chosen)


def _checked_rows(
    symbol: str, columns: Columns, counts: Counter, events: list[tuple[int, int, SetAside]]
) -> Columns:
    """The price rules, column by column; a row one of them singles out goes through `_checked`."""
    high, low, close, volume = columns["high"], columns["low"], columns["close"], columns["volume"]
    turnover, open_, days, change = (
        columns["turnover"],
        columns["open"],
        columns["day"],
        columns["per_change"],
    )
    with_open = days >= _OPEN_AND_BASE_FROM_DAY
    singled_out = (
        (high <= 0) | (low <= 0) | (close <= 0) | (volume < 0) | (turnover < 0) | (low > high)
        | (close < low) | (close > high) | (volume == 0)
        | (with_open & ~np.isnan(open_) & ((open_ < low) | (open_ > high)))
    )  # fmt: skip
    plain = ~singled_out
    counts[OPEN_IS_PREVIOUS_CLOSE] += int((plain & ~with_open & ~np.isnan(open_)).sum())
    usable_change = with_open & ~np.isnan(change) & (change > -100)
    with np.errstate(invalid="ignore", divide="ignore"):
        base = np.where(usable_change, close / (1 + change / 100), np.nan)
    out = {
        "business_date": columns["business_date"], "day": days, "open": np.where(with_open, open_, np.nan),
        "high": high, "low": low, "close": close, "per_change": change, "volume": np.rint(volume),
        "turnover": turnover, "exchange_base": base,
    }  # fmt: skip
    if not singled_out.any():
        out["volume"] = out["volume"].astype(np.int64)
        return out
    out = _taken(out, np.flatnonzero(plain))
    checked: list[CleanRow] = []
    for row in _rows_of(columns, np.flatnonzero(singled_out)):
        found: list[SetAside] = []
        stored = _checked(symbol, row, counts, found)
        events.extend((row.business_date.toordinal(), 1, item) for item in found)
        if stored is not None:
            checked.append(stored)
    if checked:
        extra = {
            "business_date": np.array([r.business_date for r in checked], dtype=object),
            "day": np.array([r.business_date.toordinal() for r in checked], dtype=np.int64),
            **{
                name: np.array(
                    [np.nan if (v := getattr(r, name)) is None else v for r in checked], dtype=float
                )
                for name in out
                if name not in ("business_date", "day")
            },
        }
        together = {name: np.concatenate([values, extra[name]]) for name, values in out.items()}
        out = _taken(together, np.argsort(together["day"], kind="stable"))
    out["volume"] = out["volume"].astype(np.int64)
    return out


_OPEN_AND_BASE_FROM_DAY = OPEN_AND_BASE_FROM.toordinal()
# per_change has two decimals: the base it implies is known to within half of 0.01%, plus the close's tick.
_PER_CHANGE_ROUNDING = 0.005
TICK = 0.1


def _previous_closes(columns: Columns, counts: Counter) -> np.ndarray:
    """Each row's previous_close. A base above the previous archived close is no re-basing NEPSE makes
    (bonus, right and cash dividend all lower it): the previous session is then missing from the file or
    wrong, so the row keeps the previous close as its base and the rule counts it."""
    close, change, base = columns["close"], columns["per_change"], columns["exchange_base"]
    previous = np.concatenate([[np.nan], close[:-1]]) if len(close) else close
    has_base = ~np.isnan(base) & ~np.isnan(previous)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = close / (1 + (change + _PER_CHANGE_ROUNDING) / 100) - TICK
        high = close / (1 + (change - _PER_CHANGE_ROUNDING) / 100) + TICK
    within = has_base & (low <= previous) & (previous <= high)
    above = has_base & ~within & (base > previous)
    rebased = has_base & ~within & ~above
    counts[BASE_ABOVE_PREVIOUS_CLOSE] += int(above.sum())
    previous_close = np.where(within | above, previous, np.nan)
    # Python's round (correctly rounded to 2 decimals), not numpy's: few rows, the exact figure.
    previous_close[rebased] = [round(float(value), 2) for value in base[rebased]]
    return previous_close


def _one_per_date(
    symbol: str, copies: list[ArchiveRow], counts: Counter, found: list[SetAside]
) -> ArchiveRow | None:
    if len(copies) == 1:
        return copies[0]
    prices = {_prices(row) for row in copies}
    if len(prices) > 1:
        for row in copies:
            found.append(
                _aside(symbol, row, DUPLICATE_CONFLICTING_PRICES, f"{len(copies)} rows for the date differ")
            )
        counts[DUPLICATE_CONFLICTING_PRICES] += len(copies)
        return None
    changes = {row.per_change for row in copies}
    first = copies[0]
    if len(changes) == 1:
        counts[IDENTICAL_DUPLICATE] += len(copies) - 1
        return first
    # The same prices with different per_change: which change is NEPSE's is unknown, so none is kept.
    listed = ", ".join(str(change) for change in sorted(changes, key=lambda c: (c is None, c or 0.0)))
    for row in copies:
        found.append(_aside(symbol, row, DUPLICATE_PER_CHANGE_DIFFERS, f"per_change {listed}"))
    counts[DUPLICATE_PER_CHANGE_DIFFERS] += len(copies)
    return ArchiveRow(
        first.line, first.business_date, first.open, first.high, first.low, first.close, None,
        first.volume, first.turnover,
    )  # fmt: skip


def _checked(symbol: str, row: ArchiveRow, counts: Counter, found: list[SetAside]) -> CleanRow | None:
    candidate = {
        "high": row.high, "low": row.low, "close": row.close, "volume": row.volume, "turnover": row.turnover,
    }  # fmt: skip
    for column, problem in price_problems(candidate):
        reason = _reason(column, problem)
        found.append(_aside(symbol, row, reason, f"{column} {problem}"))
        counts[reason] += 1
        return None
    if row.volume == 0:
        found.append(_aside(symbol, row, NO_TRADE, "traded_quantity is 0"))
        counts[NO_TRADE] += 1
        return None
    open_price = row.open
    if row.business_date < OPEN_AND_BASE_FROM:
        if open_price is not None:
            counts[OPEN_IS_PREVIOUS_CLOSE] += 1
        open_price = None
    elif open_price is not None and not row.low <= open_price <= row.high:
        found.append(
            _aside(symbol, row, OPEN_OUTSIDE_RANGE, f"open {open_price} outside [{row.low}, {row.high}]")
        )
        counts[OPEN_OUTSIDE_RANGE] += 1
        open_price = None
    base = None
    if row.business_date >= OPEN_AND_BASE_FROM and row.per_change is not None and row.per_change > -100:
        base = row.close / (1 + row.per_change / 100)
    return CleanRow(
        row.business_date, open_price, row.high, row.low, row.close, row.per_change, round(row.volume),
        row.turnover, base,
    )  # fmt: skip


def _reason(column: str, problem: str) -> str:
    if column == "low" and "above" in problem:
        return HIGH_BELOW_LOW
    if column == "close" and "outside" in problem:
        return CLOSE_OUTSIDE_RANGE
    if "negative" in problem:
        return NEGATIVE_COUNT
    return NOT_POSITIVE


def _prices(row: ArchiveRow) -> tuple:
    return (row.open, row.high, row.low, row.close, row.volume, row.turnover)


def _aside(symbol: str, row: ArchiveRow, reason: str, detail: str) -> SetAside:
    values = (row.business_date, row.open, row.high, row.low, row.close, row.per_change, row.volume)
    raw = ",".join("" if value is None else str(value) for value in (*values, row.turnover))
    return SetAside(symbol, row.line, row.business_date.isoformat(), reason, detail, raw)
