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
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace

from ntx_assets.archive.company_csv import ArchiveRow, SetAside
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


@dataclass
class CleanFile:
    symbol: str
    rows: list[CleanRow]
    set_aside: list[SetAside]
    counts: Counter = field(default_factory=Counter)

    @property
    def first(self) -> dt.date | None:
        return self.rows[0].business_date if self.rows else None

    @property
    def last(self) -> dt.date | None:
        return self.rows[-1].business_date if self.rows else None

    def set_aside_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(item.reason for item in self.set_aside).items()))


def clean(symbol: str, rows: list[ArchiveRow], unreadable: list[SetAside]) -> CleanFile:
    """Apply every rule to one company's rows, in the file's order; the result is sorted by date."""
    result = CleanFile(symbol, [], list(unreadable))
    result.counts[UNREADABLE] = len(unreadable)
    dates = [row.business_date for row in rows]
    if dates != sorted(dates):
        result.counts[UNSORTED] = 1
    by_date: dict[dt.date, list[ArchiveRow]] = defaultdict(list)
    for row in rows:
        by_date[row.business_date].append(row)
    for day in sorted(by_date):
        chosen = _one_per_date(symbol, by_date[day], result)
        if chosen is not None:
            stored = _checked(symbol, chosen, result)
            if stored is not None:
                result.rows.append(stored)
    result.rows = _with_previous_closes(result)
    return result


# per_change has two decimals: the base it implies is known to within half of 0.01%, plus the close's tick.
_PER_CHANGE_ROUNDING = 0.005
TICK = 0.1


def _with_previous_closes(result: CleanFile) -> list[CleanRow]:
    """Each row's previous_close. A base above the previous archived close is no re-basing NEPSE makes
    (bonus, right and cash dividend all lower it): the previous session is then missing from the file or
    wrong, so the row keeps the previous close as its base and the rule counts it."""
    out: list[CleanRow] = []
    for position, row in enumerate(result.rows):
        previous_close = None
        if position and row.exchange_base is not None and row.per_change is not None:
            previous = result.rows[position - 1].close
            low = row.close / (1 + (row.per_change + _PER_CHANGE_ROUNDING) / 100) - TICK
            high = row.close / (1 + (row.per_change - _PER_CHANGE_ROUNDING) / 100) + TICK
            if low <= previous <= high:
                previous_close = previous
            elif row.exchange_base > previous:
                result.counts[BASE_ABOVE_PREVIOUS_CLOSE] += 1
                previous_close = previous
            else:
                previous_close = round(row.exchange_base, 2)
        out.append(replace(row, previous_close=previous_close))
    return out


def _one_per_date(symbol: str, copies: list[ArchiveRow], result: CleanFile) -> ArchiveRow | None:
    if len(copies) == 1:
        return copies[0]
    prices = {_prices(row) for row in copies}
    if len(prices) > 1:
        for row in copies:
            result.set_aside.append(
                _aside(symbol, row, DUPLICATE_CONFLICTING_PRICES, f"{len(copies)} rows for the date differ")
            )
        result.counts[DUPLICATE_CONFLICTING_PRICES] += len(copies)
        return None
    changes = {row.per_change for row in copies}
    first = copies[0]
    if len(changes) == 1:
        result.counts[IDENTICAL_DUPLICATE] += len(copies) - 1
        return first
    # The same prices with different per_change: which change is NEPSE's is unknown, so none is kept.
    listed = ", ".join(str(change) for change in sorted(changes, key=lambda c: (c is None, c or 0.0)))
    for row in copies:
        result.set_aside.append(_aside(symbol, row, DUPLICATE_PER_CHANGE_DIFFERS, f"per_change {listed}"))
    result.counts[DUPLICATE_PER_CHANGE_DIFFERS] += len(copies)
    return ArchiveRow(
        first.line, first.business_date, first.open, first.high, first.low, first.close, None,
        first.volume, first.turnover,
    )  # fmt: skip


def _checked(symbol: str, row: ArchiveRow, result: CleanFile) -> CleanRow | None:
    candidate = {
        "high": row.high, "low": row.low, "close": row.close, "volume": row.volume, "turnover": row.turnover,
    }  # fmt: skip
    for column, problem in price_problems(candidate):
        reason = _reason(column, problem)
        result.set_aside.append(_aside(symbol, row, reason, f"{column} {problem}"))
        result.counts[reason] += 1
        return None
    if row.volume == 0:
        result.set_aside.append(_aside(symbol, row, NO_TRADE, "traded_quantity is 0"))
        result.counts[NO_TRADE] += 1
        return None
    open_price = row.open
    if row.business_date < OPEN_AND_BASE_FROM:
        if open_price is not None:
            result.counts[OPEN_IS_PREVIOUS_CLOSE] += 1
        open_price = None
    elif open_price is not None and not row.low <= open_price <= row.high:
        result.set_aside.append(
            _aside(symbol, row, OPEN_OUTSIDE_RANGE, f"open {open_price} outside [{row.low}, {row.high}]")
        )
        result.counts[OPEN_OUTSIDE_RANGE] += 1
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
