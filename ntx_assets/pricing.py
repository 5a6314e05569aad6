"""Today-price payload rows -> validated daily_prices rows (pure: no I/O).

A session's payload is accepted whole or not at all: one bad row (a missing field, a negative or inverted
price, a row of another date) raises `BadPriceData` naming the symbol, the date and the field, and the
caller writes nothing of that session.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from typing import Any

# payload field -> warehouse column; None marks the fields a row may lack.
_REQUIRED = {
    "highPrice": "high",
    "lowPrice": "low",
    "closePrice": "close",
    "totalTradedQuantity": "volume",
    "totalTradedValue": "turnover",
}
_OPTIONAL = {
    "openPrice": "open",
    "previousDayClosePrice": "previous_close",
    "totalTrades": "trades",
    "averageTradedPrice": "average_traded_price",
    "fiftyTwoWeekHigh": "fifty_two_week_high",
    "fiftyTwoWeekLow": "fifty_two_week_low",
}
_INTEGER_COLUMNS = {"volume", "trades"}
_NON_NEGATIVE = {"volume", "turnover", "trades"}
_POSITIVE = {"open", "high", "low", "close", "previous_close", "average_traded_price"}


class BadPriceData(ValueError):
    """A today-price row that must not reach the warehouse."""

    def __init__(self, *, symbol: str, business_date: dt.date, field: str, problem: str) -> None:
        self.symbol, self.business_date, self.field, self.problem = symbol, business_date, field, problem
        super().__init__(
            f"today-price for {business_date}: {symbol} field {field!r} {problem}; nothing of session "
            f"{business_date} was written. Re-run the partition once NEPSE serves corrected data."
        )


def price_rows(
    payload: Iterable[Mapping[str, Any]], business_date: dt.date, universe: Mapping[int, str]
) -> list[dict[str, Any]]:
    """Validate a session's payload and return the warehouse rows of the universe's companies.

    `universe` maps included security ids to their symbols; other securities (funds, debentures,
    promoter shares) are dropped after the date check, which applies to every row.
    """
    rows: list[dict[str, Any]] = []
    seen: set[int] = set()
    for raw in payload:
        symbol = str(raw.get("symbol") or f"security {raw.get('securityId')}")
        _check_date(raw, symbol, business_date)
        security_id = raw.get("securityId")
        if not isinstance(security_id, int):
            raise BadPriceData(
                symbol=symbol, business_date=business_date, field="securityId", problem="is missing"
            )
        if security_id not in universe:
            continue
        if security_id in seen:
            raise BadPriceData(
                symbol=symbol,
                business_date=business_date,
                field="securityId",
                problem="appears twice in the session",
            )
        seen.add(security_id)
        rows.append(_row(raw, security_id, symbol, business_date))
    return rows


def _check_date(raw: Mapping[str, Any], symbol: str, business_date: dt.date) -> None:
    value = raw.get("businessDate")
    if value is None:
        raise BadPriceData(
            symbol=symbol, business_date=business_date, field="businessDate", problem="is missing"
        )
    if str(value)[:10] != business_date.isoformat():
        raise BadPriceData(
            symbol=symbol,
            business_date=business_date,
            field="businessDate",
            problem=f"is {value}, not the requested session date",
        )


def _row(raw: Mapping[str, Any], security_id: int, symbol: str, business_date: dt.date) -> dict[str, Any]:
    row: dict[str, Any] = {"security_id": security_id, "business_date": business_date, "symbol": symbol}
    for field, column in (_REQUIRED | _OPTIONAL).items():
        value = raw.get(field)
        if value is None:
            if field in _REQUIRED:
                raise BadPriceData(
                    symbol=symbol, business_date=business_date, field=field, problem="is missing"
                )
            row[column] = None
            continue
        row[column] = _number(value, column, symbol, business_date, field)
    _check_ranges(row, symbol, business_date)
    return row


def _number(value: Any, column: str, symbol: str, business_date: dt.date, field: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadPriceData(
            symbol=symbol, business_date=business_date, field=field, problem=f"is {value!r}, not a number"
        )
    if column in _INTEGER_COLUMNS:
        if float(value) != int(value):
            raise BadPriceData(
                symbol=symbol, business_date=business_date, field=field, problem=f"is {value!r}, not whole"
            )
        return int(value)
    return float(value)


def _check_ranges(row: dict[str, Any], symbol: str, business_date: dt.date) -> None:
    payload_name = {column: field for field, column in (_REQUIRED | _OPTIONAL).items()}
    for column in _POSITIVE:
        if row[column] is not None and row[column] <= 0:
            raise BadPriceData(
                symbol=symbol,
                business_date=business_date,
                field=payload_name[column],
                problem=f"is {row[column]}, not > 0",
            )
    for column in _NON_NEGATIVE:
        if row[column] is not None and row[column] < 0:
            raise BadPriceData(
                symbol=symbol,
                business_date=business_date,
                field=payload_name[column],
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
                field=payload_name[column],
                problem=f"is {value}, outside the day's range [{low}, {high}]",
            )
