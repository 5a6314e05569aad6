"""Today-price records -> validated daily_prices rows (pure: no I/O).

The client has already typed each row (`TodayPrice`: numbers are numbers, counts whole, dates dates) or
refused it; what is checked here is what a type cannot say. A session is accepted whole or not at all:
one bad row (a missing field, a negative or inverted price, a row of another date) raises
`BadPriceData` naming the symbol, the date and the field, and the caller writes nothing of that session.
A row in NEPSE's intraday shape (no close, no market capitalization) raises `CloseNotPublished`: the
session is pending, not bad.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from ntx_assets.nepse.models import TodayPrice, nepse_field

# The `source` of the rows NEPSE's API served (an archive's rows carry archive:<name>).
NEPSE_SOURCE = "nepse"

# TodayPrice attribute -> warehouse column. NEPSE's own field names, which errors quote, are the model's
# aliases (closePrice for close_price): written once, in ntx_assets.nepse.models.
_REQUIRED = {
    "high_price": "high",
    "low_price": "low",
    "close_price": "close",
    "total_traded_quantity": "volume",
    "total_traded_value": "turnover",
}
_OPTIONAL = {
    "open_price": "open",
    "previous_day_close_price": "previous_close",
    "total_trades": "trades",
    "average_traded_price": "average_traded_price",
    "fifty_two_week_high": "fifty_two_week_high",
    "fifty_two_week_low": "fifty_two_week_low",
    "market_capitalization": "market_capitalization",  # millions of NPR
}
_NEPSE_FIELD = {
    column: nepse_field(TodayPrice, attribute) for attribute, column in (_REQUIRED | _OPTIONAL).items()
}
# A market capitalization of 0 (NEPSE without a share count) is no reason to lose a session's prices.
_NON_NEGATIVE = ("volume", "turnover", "trades", "market_capitalization")
_POSITIVE = ("open", "high", "low", "close", "previous_close", "average_traded_price")


class CloseNotPublished(RuntimeError):
    """A session whose closing prices NEPSE has not published yet: not bad data, nothing to load yet.

    During the session today-price rows carry `closePrice: null` and `marketCapitalization: null`
    (ACLBSL at 11:53 on 2026-04-02, a public capture: ntx_assets_tests/data/public-captures/
    tp_pratap22.json); both are filled at the close. A row missing its close alone is bad data.
    """

    def __init__(self, *, symbol: str, business_date: dt.date) -> None:
        self.symbol, self.business_date = symbol, business_date
        super().__init__(
            f"today-price for {business_date}: {symbol} has no closePrice and no marketCapitalization yet, "
            "as NEPSE serves rows during the session: its closing prices are not published yet, so nothing "
            f"of {business_date} was loaded. new_session_sensor requests it again (or re-execute from "
            "failure)."
        )


class BadPriceData(ValueError):
    """A today-price row that must not reach the warehouse."""

    def __init__(self, *, symbol: str, business_date: dt.date, field: str, problem: str) -> None:
        self.symbol, self.business_date, self.field, self.problem = symbol, business_date, field, problem
        super().__init__(
            f"today-price for {business_date}: {symbol} field {field!r} {problem}; nothing of session "
            f"{business_date} was written. Re-run the partition once NEPSE serves corrected data."
        )


def price_rows(
    records: Iterable[TodayPrice], business_date: dt.date, universe: Mapping[int, str]
) -> list[dict[str, Any]]:
    """Check a session's records and return the warehouse rows of the universe's companies.

    `universe` maps included security ids to their symbols; other securities (funds, debentures,
    promoter shares) are dropped after the date check, which applies to every row.
    """
    rows: list[dict[str, Any]] = []
    seen: set[int] = set()
    for record in records:
        if record.business_date != business_date:
            raise BadPriceData(
                symbol=record.symbol,
                business_date=business_date,
                field=nepse_field(TodayPrice, "business_date"),
                problem=f"is {record.business_date}, not the requested session date",
            )
        if record.security_id not in universe:
            continue
        if record.security_id in seen:
            raise BadPriceData(
                symbol=record.symbol,
                business_date=business_date,
                field=nepse_field(TodayPrice, "security_id"),
                problem="appears twice in the session",
            )
        seen.add(record.security_id)
        rows.append(_row(record, business_date))
    return rows


def _row(record: TodayPrice, business_date: dt.date) -> dict[str, Any]:
    row: dict[str, Any] = {
        "security_id": record.security_id,
        "business_date": business_date,
        "symbol": record.symbol,
    }
    if record.close_price is None and record.market_capitalization is None:
        raise CloseNotPublished(symbol=record.symbol, business_date=business_date)
    for attribute, column in (_REQUIRED | _OPTIONAL).items():
        row[column] = getattr(record, attribute)
    for column, problem in price_problems(row)[:1]:
        raise BadPriceData(
            symbol=record.symbol, business_date=business_date, field=_NEPSE_FIELD[column], problem=problem
        )
    # NEPSE's row wins over an archive's row of the same session (ntx_assets/archive): it replaces it.
    row["source"] = NEPSE_SOURCE
    return row


def price_problems(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What is wrong with one daily_prices row (warehouse columns), as (column, problem) pairs, empty when
    nothing is: the one rule a session is accepted by, and what daily_prices' check re-applies to the
    stored rows. Required values present; prices positive; counts and amounts not negative; low <= high;
    open and close within [low, high]."""
    problems = [(column, "is missing") for column in _REQUIRED.values() if row.get(column) is None]
    for column in _POSITIVE:
        value = row.get(column)
        if value is not None and value <= 0:
            problems.append((column, f"is {value}, not > 0"))
    for column in _NON_NEGATIVE:
        value = row.get(column)
        if value is not None and value < 0:
            problems.append((column, f"is {value}, negative"))
    low, high = row.get("low"), row.get("high")
    if low is None or high is None:
        return problems
    if low > high:
        problems.append(("low", f"is {low}, above {_NEPSE_FIELD['high']} {high}"))
    for column in ("open", "close"):
        value = row.get(column)
        if value is not None and not low <= value <= high:
            problems.append((column, f"is {value}, outside the day's range [{low}, {high}]"))
    return problems
