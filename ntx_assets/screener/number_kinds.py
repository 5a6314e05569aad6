"""Each screener column's kind of number, and that number as a person reads it (pure).

People read a return as `-4.81%`, a P/E as `18.86` and a turnover as `12,345,678.90`; a machine reads the
stored value. So the table format prints each column by its kind and CSV and JSON keep full precision.
The kinds follow the units the columns are stored in (docs/screener.md): `*_pct` columns are already in
percent; returns, ROE, yields, growth and the payout ratio are fractions, printed as percent.
"""

from __future__ import annotations

import datetime as dt
import math
from enum import Enum

from ntx_assets.prices.indicators import INDICATOR_COLUMNS
from ntx_assets.screener import bank_ratios


class Kind(Enum):
    TEXT = "text"  # symbols, names, dates: as they are
    PERCENT = "percent"  # stored in percent (change_pct = -4.81)
    FRACTION = "fraction"  # stored as a fraction, read as percent (return_20d = -0.0481)
    RATIO = "ratio"  # a multiple or an index: two decimals (pe, rsi_14, a sector rank)
    MONEY = "money"  # NPR: thousands separators, two decimals
    COUNT = "count"  # shares, trades, sessions: a whole number with thousands separators


_PRICE_TECHNICALS = {"sma_20", "sma_50", "sma_200", "ema_12", "ema_26", "macd", "macd_signal", "macd_hist"}
_PRICE_TECHNICALS |= {"bb_upper", "bb_lower", "atr_14", "high_52w", "low_52w"}

KINDS: dict[str, Kind] = {
    **dict.fromkeys(
        ("session_date", "security_id", "symbol", "name", "sector", "listing_date", "website", "logo_url"),
        Kind.TEXT,
    ),
    **dict.fromkeys(("description", "as_of", "fiscal_year", "report_type", "report_known_on"), Kind.TEXT),
    "next_book_close_date": Kind.TEXT,
    **dict.fromkeys(("close", "previous_close", "turnover", "market_cap", "nepse_market_cap"), Kind.MONEY),
    **dict.fromkeys(("avg_turnover_20", "eps_annualized", "book_value_per_share"), Kind.MONEY),
    **dict.fromkeys(("paid_up_capital", "profit", "eps_ttm", "profit_ttm"), Kind.MONEY),
    **dict.fromkeys(sorted(_PRICE_TECHNICALS), Kind.MONEY),
    **dict.fromkeys(("volume", "trades", "listed_shares", "days_traded_20", "circuit_hits_20"), Kind.COUNT),
    **dict.fromkeys(("quarter", "years_with_dividend_5y"), Kind.COUNT),
    **dict.fromkeys(
        ("change_pct", "pct_from_52w_high", "promoter_shares_pct", "public_shares_pct"), Kind.PERCENT
    ),
    **dict.fromkeys(
        ("last_bonus_pct", "last_cash_dividend_pct", "cash_dividend_3y_avg_pct", "bonus_3y_total_pct"),
        Kind.PERCENT,
    ),
    **dict.fromkeys(("return_1d", "return_5d", "return_20d", "roe", "roe_sector_median"), Kind.FRACTION),
    **dict.fromkeys(("eps_growth_yoy", "profit_growth_yoy", "bvps_growth_yoy"), Kind.FRACTION),
    **dict.fromkeys(("roe_ttm", "roe_ttm_sector_median", "profit_growth_ttm_yoy"), Kind.FRACTION),
    **dict.fromkeys(("dividend_yield", "payout_ratio"), Kind.FRACTION),
    **dict.fromkeys(("pe", "pb", "pe_sector_median", "pb_sector_median", "pe_vs_sector"), Kind.RATIO),
    **dict.fromkeys(("rsi_14", "volume_vs_20d", "last_right_ratio"), Kind.RATIO),
    **dict.fromkeys(("pe_ttm", "pe_ttm_sector_median"), Kind.RATIO),
    **dict.fromkeys(
        (
            "pe_rank_sector",
            "pb_rank_sector",
            "roe_rank_sector",
            "return_20d_rank_sector",
            "turnover_rank_sector",
        ),
        Kind.RATIO,
    ),
}
# The NRB ratios of financial institutions (ntx_assets.screener.bank_ratios), in percent, their sector
# medians and ranks.
KINDS.update(dict.fromkeys((*bank_ratios.RATIOS, *bank_ratios.MEDIANS), Kind.PERCENT))
KINDS.update(dict.fromkeys(bank_ratios.RANKS, Kind.RATIO))
KINDS["ratios_known_on"] = Kind.TEXT
KINDS["history_continuous_from"] = Kind.TEXT
# The indicators asset's own columns that the screener does not carry still read as prices or ratios.
KINDS.update({name: Kind.MONEY for name in INDICATOR_COLUMNS if name not in KINDS})

FORWARD_PREFIX = "forward_"  # the screener command's forward_N column: a return


def kind_of(column: str) -> Kind:
    """The kind of a column's numbers; `forward_N` is a return. An unknown column raises: every column
    the screener stores has a kind (a test holds the table to that)."""
    if column.startswith(FORWARD_PREFIX) and column[len(FORWARD_PREFIX) :].isdigit():
        return Kind.FRACTION
    try:
        return KINDS[column]
    except KeyError:
        raise KeyError(
            f"column {column!r} has no kind of number: add it to ntx_assets/screener/number_kinds.py KINDS"
        ) from None


def readable(value: object, kind: Kind) -> str:
    """`value` as a person reads a number of that kind; None (and NaN) as `-`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, (dt.date, str, bool)) or kind is Kind.TEXT:
        return str(value)
    number = float(value)  # type: ignore[arg-type]
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    if kind is Kind.PERCENT:
        return f"{number:,.2f}%"
    if kind is Kind.FRACTION:
        return f"{number * 100:,.2f}%"
    if kind is Kind.MONEY:
        return f"{number:,.2f}"
    if kind is Kind.COUNT:
        return f"{round(number):,d}"
    return f"{number:,.2f}"


def readable_cell(column: str, value: object) -> str:
    return readable(value, kind_of(column))
