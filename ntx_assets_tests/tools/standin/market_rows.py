"""JSON rows of the market endpoints, in the exact field order and types of the real responses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from ntx_assets_tests.tools.standin.prices import TICKS_PER_RUPEE, PriceTable
from ntx_assets_tests.tools.standin.universe import Universe


def rupees(ticks: Any) -> float:
    # int first: numpy scalars would otherwise leak into the JSON encoder
    return int(ticks) / TICKS_PER_RUPEE


def timestamp(day: date, micros: Any) -> str:
    """`2025-12-03T14:59:49.659446`, as in today-price's lastUpdatedTime."""
    seconds, fraction = divmod(int(micros), 1_000_000)
    hours, rest = divmod(seconds, 3600)
    return f"{day.isoformat()}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}.{fraction:06d}"


def _market_cap_millions(close_ticks: Any, listed_shares: int) -> float:
    return round(rupees(close_ticks) * listed_shares / 1_000_000, 2)


def today_price_rows(
    table: PriceTable, universe: Universe, listed_shares: Callable[[int, date], int], day: date
) -> list[dict[str, Any]]:
    """POST /nepse-data/today-price content for one session: only securities that traded, by symbol.

    `listed_shares(security_id, day)` gives the share count behind marketCapitalization."""
    t = table.session_index(day)
    if t is None:
        return []
    rows: list[dict[str, Any]] = []
    for listing in universe.listings:
        r = table.row_of[listing.security_id]
        if not table.traded[r, t]:
            continue
        quantity = int(table.quantity[r, t])
        value = int(table.value_tenths[r, t]) / 10
        close = rupees(table.close[r, t])
        rows.append(
            {
                "id": None,
                "businessDate": day.isoformat(),
                "securityId": listing.security_id,
                "symbol": listing.symbol,
                "securityName": listing.security_name,
                "openPrice": rupees(table.open[r, t]),
                "highPrice": rupees(table.high[r, t]),
                "lowPrice": rupees(table.low[r, t]),
                "closePrice": close,
                "totalTradedQuantity": quantity,
                "totalTradedValue": value,
                "previousDayClosePrice": table.previous_close(r, t),
                "fiftyTwoWeekHigh": rupees(table.high_52w[r, t]),
                "fiftyTwoWeekLow": rupees(table.low_52w[r, t]),
                "lastUpdatedTime": timestamp(day, table.update_micros[r, t]),
                "lastUpdatedPrice": close,
                "totalTrades": int(table.trades[r, t]),
                "averageTradedPrice": round(value / quantity, 2),
                "marketCapitalization": _market_cap_millions(
                    table.close[r, t], listed_shares(listing.security_id, day)
                ),
            }
        )
    rows.sort(key=lambda row: row["symbol"])
    return rows


def history_rows(table: PriceTable, security_id: int) -> list[dict[str, Any]]:
    """GET /market/history/security/{id} content: traded sessions only, newest first, no open price."""
    r = table.row_of.get(security_id)
    if r is None:
        return []
    rows: list[dict[str, Any]] = []
    for t in range(len(table.sessions) - 1, -1, -1):
        if not table.traded[r, t]:
            continue
        rows.append(
            {
                "businessDate": table.sessions[t].isoformat(),
                "totalTrades": int(table.trades[r, t]),
                "totalTradedQuantity": int(table.quantity[r, t]),
                "totalTradedValue": int(table.value_tenths[r, t]) / 10,
                "highPrice": rupees(table.high[r, t]),
                "lowPrice": rupees(table.low[r, t]),
                "closePrice": rupees(table.close[r, t]),
            }
        )
    return rows


def last_traded_index(table: PriceTable, security_id: int, upto: int) -> int | None:
    r = table.row_of[security_id]
    for t in range(upto, -1, -1):
        if table.traded[r, t]:
            return t
    return None


def daily_trade_dto(table: PriceTable, security_id: int) -> dict[str, Any]:
    """`securityDailyTradeDto` of the security detail: its latest traded session in the window.

    A security that never traded in the window (suspended) reports its pre-window close with no
    volume and no business date.
    """
    r = table.row_of[security_id]
    t = last_traded_index(table, security_id, len(table.sessions) - 1)
    if t is None:
        price = rupees(table.initial_close[r])
        return {
            "securityId": str(security_id),
            "openPrice": price,
            "highPrice": price,
            "lowPrice": price,
            "totalTradeQuantity": 0,
            "totalTrades": 0,
            "lastTradedPrice": price,
            "previousClose": price,
            "businessDate": None,
            "closePrice": price,
            "fiftyTwoWeekHigh": price,
            "fiftyTwoWeekLow": price,
            "lastUpdatedDateTime": None,
        }
    day = table.sessions[t]
    return {
        # a string here, unlike everywhere else: so it appears in real captures
        "securityId": str(security_id),
        "openPrice": rupees(table.open[r, t]),
        "highPrice": rupees(table.high[r, t]),
        "lowPrice": rupees(table.low[r, t]),
        "totalTradeQuantity": int(table.quantity[r, t]),
        "totalTrades": int(table.trades[r, t]),
        "lastTradedPrice": rupees(table.close[r, t]),
        "previousClose": table.previous_close(r, t),
        "businessDate": day.isoformat(),
        "closePrice": rupees(table.close[r, t]),
        "fiftyTwoWeekHigh": rupees(table.high_52w[r, t]),
        "fiftyTwoWeekLow": rupees(table.low_52w[r, t]),
        "lastUpdatedDateTime": timestamp(day, table.update_micros[r, t]),
    }


def close_on_or_before(table: PriceTable, security_id: int, day: date) -> float:
    """The last close known on `day`; the pre-window close when `day` precedes the window."""
    r = table.row_of[security_id]
    t = table.last_session_at_or_before(day)
    return rupees(table.initial_close[r] if t is None else table.close[r, t])
