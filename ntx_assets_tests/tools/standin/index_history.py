"""GET /api/nots/index/history/{indexId}: the NEPSE index (id 58) of the stand-in's own market.

The index is market-cap weighted over the active equity listings, like NEPSE's: each session's close is
BASE_VALUE times the session's market capitalization (closes times the shares listed that day) over the
capitalization at the previous closes of the window's first session. A bonus or right issue lowers a
close by the factor its shares grow, so the index does not jump on an ex date. Open, high and low value
the same shares at each company's open, high and low (its close when it did not trade), so
low <= open, close <= high holds by construction. Turnover, volume and transactions are the whole
market's (every security that traded), as NEPSE reports them on the index row.

Only the last HISTORY_DAYS calendar days are served, newest first, like the real endpoint (227 rows on
2025-12-04, about one year). Other index ids are not modelled: they answer an empty page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import numpy as np

from ntx_assets_tests.tools.standin.prices import PriceTable
from ntx_assets_tests.tools.standin.universe import Universe

NEPSE_INDEX_ID = 58
HISTORY_DAYS = 365  # the real endpoint keeps about one year (docs/NEPSE_API.md section 2.9)
BASE_VALUE = 2600.0  # arbitrary: near the real index's level in 2025, so the numbers look familiar
_INDICES = 17  # NEPSE writes one row per index and session: row ids step by the number of indices
_FIRST_ROW_ID = 60_000


def index_history_rows(
    table: PriceTable, universe: Universe, listed_shares: Callable[[int, date], int], end: date
) -> list[dict[str, Any]]:
    """The NEPSE index's rows over the sessions of the last HISTORY_DAYS days up to `end`, newest first,
    in the field order of the 2025-12-04 capture."""
    sessions = table.sessions
    equities = [
        listing.security_id for listing in universe.listings if listing.kind == "equity" and listing.trades
    ]
    if not sessions or not equities:
        return []
    rows = np.array([table.row_of[security_id] for security_id in equities])
    shares = np.array(
        [[listed_shares(security_id, day) for day in sessions] for security_id in equities], dtype=np.float64
    )
    traded = table.traded[rows]
    close = table.close[rows].astype(np.float64)

    def valued(prices: np.ndarray) -> np.ndarray:
        # A company that did not trade is valued at its (carried) close.
        return (np.where(traded, prices[rows].astype(np.float64), close) * shares).sum(axis=0)

    capital = (close * shares).sum(axis=0)
    base = float((table.initial_close[rows].astype(np.float64) * shares[:, 0]).sum())
    scale = BASE_VALUE / base  # prices are in ticks here: the ratio is unit-free

    def level(values: np.ndarray) -> list[float]:
        return [round(float(value) * scale, 2) for value in values]

    closes, opens = level(capital), level(valued(table.open))
    highs, lows = level(valued(table.high)), level(valued(table.low))
    previous = [BASE_VALUE, *closes[:-1]]
    turnover = np.where(table.traded, table.value_tenths, 0).sum(axis=0)
    volume = np.where(table.traded, table.quantity, 0).sum(axis=0)
    transactions = np.where(table.traded, table.trades, 0).sum(axis=0)

    first_served = end - timedelta(days=HISTORY_DAYS - 1)
    out: list[dict[str, Any]] = []
    for t in range(len(sessions) - 1, -1, -1):
        day = sessions[t]
        if day < first_served:
            break
        year = [closes[k] for k in range(t + 1) if sessions[k] > day - timedelta(days=365)]
        change = round(closes[t] - previous[t], 2)
        out.append(
            {
                "id": _FIRST_ROW_ID + _INDICES * t,
                "businessDate": day.isoformat(),
                "exchangeIndexId": NEPSE_INDEX_ID,
                "closingIndex": closes[t],
                "openIndex": opens[t],
                "highIndex": highs[t],
                "lowIndex": lows[t],
                "fiftyTwoWeekHigh": max(year),
                "fiftyTwoWeekLow": min(year),
                "turnoverValue": int(turnover[t]) / 10,
                "turnoverVolume": int(volume[t]),
                "totalTransaction": int(transactions[t]),
                "absChange": change,
                "percentageChange": round(100 * change / previous[t], 2),
            }
        )
    return out
