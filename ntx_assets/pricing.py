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

from ntx_assets.nepse.models import TodayPrice

# TodayPrice attribute -> (NEPSE's field name, warehouse column)
_REQUIRED = {
    "high_price": ("highPrice", "high"),
    "low_price": ("lowPrice", "low"),
    "close_price": ("closePrice", "close"),
    "total_traded_quantity": ("totalTradedQuantity", "volume"),
    "total_traded_value": ("totalTradedValue", "turnover"),
}
_OPTIONAL = {
    "open_price": ("openPrice", "open"),
    "previous_day_close_price": ("previousDayClosePrice", "previous_close"),
    "total_trades": ("totalTrades", "trades"),
    "average_traded_price": ("averageTradedPrice", "average_traded_price"),
    "fifty_two_week_high": ("fiftyTwoWeekHigh", "fifty_two_week_high"),
    "fifty_two_week_low": ("fiftyTwoWeekLow", "fifty_two_week_low"),
    "market_capitalization": ("marketCapitalization", "market_capitalization"),  # millions of NPR
}
_FIELD_OF_COLUMN = {column: field for field, column in (_REQUIRED | _OPTIONAL).values()}
# A market capitalization of 0 (NEPSE without a share count) is no reason to lose a session's prices.
_NON_NEGATIVE = {"volume", "turnover", "trades", "market_capitalization"}
_POSITIVE = {
    "open",
    "high",
    "low",
    "close",
    "previous_close",
    "average_traded_price",
}


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
                field="businessDate",
                problem=f"is {record.business_date}, not the requested session date",
            )
        if record.security_id not in universe:
            continue
        if record.security_id in seen:
            raise BadPriceData(
                symbol=record.symbol,
                business_date=business_date,
                field="securityId",
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
    for attribute, (field, column) in (_REQUIRED | _OPTIONAL).items():
        value = getattr(record, attribute)
        if value is None and attribute in _REQUIRED:
            raise BadPriceData(
                symbol=record.symbol, business_date=business_date, field=field, problem="is missing"
            )
        row[column] = value
    _check_ranges(row, record.symbol, business_date)
    return row


def _check_ranges(row: dict[str, Any], symbol: str, business_date: dt.date) -> None:
    for column in _POSITIVE:
        if row[column] is not None and row[column] <= 0:
            raise BadPriceData(
                symbol=symbol,
                business_date=business_date,
                field=_FIELD_OF_COLUMN[column],
                problem=f"is {row[column]}, not > 0",
            )
    for column in _NON_NEGATIVE:
        if row[column] is not None and row[column] < 0:
            raise BadPriceData(
                symbol=symbol,
                business_date=business_date,
                field=_FIELD_OF_COLUMN[column],
                problem=f"is {row[column]}, negative",
            )
    low, high = row["low"], row["high"]
    if low > high:
        raise BadPriceData(
            symbol=symbol,
            business_date=business_date,
            field="lowPrice",
            problem=f"is {low}, above highPrice {high}",
        )
    for column in ("open", "close"):
        value = row[column]
        if value is not None and not low <= value <= high:
            raise BadPriceData(
                symbol=symbol,
                business_date=business_date,
                field=_FIELD_OF_COLUMN[column],
                problem=f"is {value}, outside the day's range [{low}, {high}]",
            )
