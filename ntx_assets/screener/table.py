"""The screener's rows (pure: DataFrames in, a DataFrame out; no I/O).

One row per included company, in the column order of `ntx_assets.warehouse.schema.SCREENER_COLUMNS`.
Missing inputs give NULL (NaN/None), never 0 or a guess. Units:

- prices in NPR; `change_pct`, `pct_from_52w_high` in percent; `return_*`, `roe`, `dividend_yield` as
  fractions (0.05 = 5%);
- `change_pct` is against NEPSE's previous close, so a re-basing day shows the true move;
- `market_cap` = listed shares (NEPSE's security detail) x close, in NPR; `nepse_market_cap` is today-
  price's marketCapitalization converted from its millions of NPR, for the cross-check;
- technicals are the stored `indicators` of the company's latest session (adjusted point in time);
  `return_5d` / `return_20d` compare the close with the close 5 / 20 sessions earlier in today's price
  basis (`adjusted_prices`), so a bonus issue is not a loss;
- fundamentals come from the latest report: the highest fiscal year, then quarter (an annual report ranks
  after the fourth quarter), then the latest modification. NEPSE's quarterly `epsValue` is already
  annualized (the reports say "EPS (annualised)", and NEPSE's peValue is price / epsValue; the NABIL Q4
  sample: 28.36 and 18.86 at a price near 535), so `eps_annualized` is epsValue as given;
  `pe` = close / eps_annualized (NULL when eps <= 0), `pb` = close / book value per share,
  `roe` = eps_annualized / book value per share;
- corporate actions: the latest announced bonus %, cash dividend % and right ratio (right % / 100, so a
  1:1 right is 1.0); `dividend_yield` = cash dividend % x face value 100 / 100 / close.
"""

from __future__ import annotations

import math
from urllib.parse import quote

import numpy as np
import pandas as pd

from ntx_assets.indicators import INDICATOR_COLUMNS
from ntx_assets.warehouse.schema import SCREENER_COLUMNS

COLUMNS: tuple[str, ...] = tuple(name for name, _ in SCREENER_COLUMNS)
# The stored indicators the screener shows as they are (the rest feed derived columns: volume_sma_20).
TECHNICALS = tuple(name for name in INDICATOR_COLUMNS if name in COLUMNS)
FACE_VALUE = 100.0
ANNUAL_RANK = 5  # an annual report ranks after the fourth quarter of its fiscal year
LOGO_PATH = "/api/nots/security/fetchFiles?fileLocation="


def screener_frame(
    companies: pd.DataFrame,
    latest_prices: pd.DataFrame,
    indicators: pd.DataFrame,
    adjusted_closes: pd.DataFrame,
    reports: pd.DataFrame,
    actions: pd.DataFrame,
    *,
    logo_base_url: str,
) -> pd.DataFrame:
    """The screener rows.

    - companies: the included companies (security_id, symbol, name, sector, listing_date, website,
      description, logo_path, listed_shares);
    - latest_prices: each company's latest daily_prices row (security_id, business_date, close,
      previous_close, volume, turnover, trades, market_capitalization);
    - indicators: the indicators rows of those (security_id, business_date) pairs;
    - adjusted_closes: adjusted_prices rows (security_id, business_date, close) of the last 21 sessions
      of each company, or more;
    - reports: filings rows (security_id, fiscal_year, quarter, report_type, modified_at, eps,
      net_worth_per_share, paid_up_capital, profit);
    - actions: corporate_actions rows (security_id, announced_on, bonus_pct, right_pct,
      cash_dividend_pct).
    """
    frame = companies.set_index("security_id")[
        ["symbol", "name", "sector", "listing_date", "website", "description", "logo_path", "listed_shares"]
    ].copy()
    frame["logo_url"] = frame["logo_path"].map(lambda path: _logo_url(logo_base_url, path))

    prices = latest_prices.set_index("security_id")
    frame["as_of"] = prices["business_date"]
    for column in ("close", "previous_close", "volume", "turnover", "trades"):
        frame[column] = _floats(prices[column]).reindex(frame.index)
    frame["change_pct"] = (frame["close"] / frame["previous_close"] - 1.0) * 100.0
    frame["market_cap"] = _floats(frame["listed_shares"]) * frame["close"]
    frame["nepse_market_cap"] = _floats(prices["market_capitalization"]).reindex(frame.index) * 1e6

    technicals = indicators.set_index("security_id")
    for column in (*TECHNICALS, "volume_sma_20"):
        frame[column] = _floats(technicals[column]).reindex(frame.index)
    frame["pct_from_52w_high"] = (frame["close"] / frame["high_52w"] - 1.0) * 100.0
    frame["volume_vs_20d"] = frame["volume"] / frame["volume_sma_20"]
    frame["return_5d"] = _trailing_return(adjusted_closes, 5).reindex(frame.index)
    frame["return_20d"] = _trailing_return(adjusted_closes, 20).reindex(frame.index)

    latest = _latest_reports(reports)
    for column in ("fiscal_year", "quarter", "report_type"):
        frame[column] = latest[column].reindex(frame.index) if len(latest) else None
    eps = _floats(latest["eps"]).reindex(frame.index) if len(latest) else np.nan
    book = _floats(latest["net_worth_per_share"]).reindex(frame.index) if len(latest) else np.nan
    frame["eps_annualized"] = eps
    frame["book_value_per_share"] = book
    frame["pe"] = _ratio(frame["close"], frame["eps_annualized"])
    frame["pb"] = _ratio(frame["close"], frame["book_value_per_share"])
    frame["roe"] = _ratio(frame["eps_annualized"], frame["book_value_per_share"], positive_numerator=False)
    for column in ("paid_up_capital", "profit"):
        frame[column] = _floats(latest[column]).reindex(frame.index) if len(latest) else np.nan

    frame["last_bonus_pct"] = _latest_action(actions, "bonus_pct").reindex(frame.index)
    frame["last_cash_dividend_pct"] = _latest_action(actions, "cash_dividend_pct").reindex(frame.index)
    frame["last_right_ratio"] = _latest_action(actions, "right_pct").reindex(frame.index) / 100.0
    frame["dividend_yield"] = frame["last_cash_dividend_pct"] * FACE_VALUE / 100.0 / frame["close"]
    frame["listed_shares"] = _floats(frame["listed_shares"])

    out = frame.reset_index()[list(COLUMNS)]
    return out.sort_values("symbol", kind="stable").reset_index(drop=True)


def as_records(frame: pd.DataFrame) -> list[dict]:
    """Rows as plain Python values, NaN as None (for the warehouse and JSON)."""
    records = []
    for row in frame.to_dict("records"):
        records.append({k: (None if _missing(v) else _plain(v)) for k, v in row.items()})
    return records


def _logo_url(base_url: str, path: object) -> str | None:
    if not isinstance(path, str) or not path.strip():
        return None
    return f"{base_url.rstrip('/')}{LOGO_PATH}{quote(path.strip(), safe='/')}"


def _floats(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype(float)


def _ratio(numerator: pd.Series, denominator: pd.Series, *, positive_numerator: bool = True) -> pd.Series:
    """numerator / denominator where the denominator is > 0 (and, for price ratios, so is the numerator)."""
    valid = denominator > 0
    if positive_numerator:
        valid &= numerator > 0
    return (numerator / denominator).where(valid)


def _trailing_return(adjusted: pd.DataFrame, sessions: int) -> pd.Series:
    if adjusted.empty:
        return pd.Series(dtype=float)
    ordered = adjusted.sort_values(["security_id", "business_date"])
    closes = _floats(ordered["close"])
    earlier = closes.groupby(ordered["security_id"]).shift(sessions)
    returns = closes / earlier - 1.0
    return returns.groupby(ordered["security_id"]).last()


def _latest_reports(reports: pd.DataFrame) -> pd.DataFrame:
    if reports.empty:
        return pd.DataFrame()
    ranked = reports.assign(
        _rank=np.where(reports["report_type"] == "annual", ANNUAL_RANK, reports["quarter"].fillna(0)),
        _modified=pd.to_datetime(reports["modified_at"]),
    )
    ranked = ranked.sort_values(["security_id", "fiscal_year", "_rank", "_modified"], na_position="first")
    return ranked.groupby("security_id").last()


def _latest_action(actions: pd.DataFrame, column: str) -> pd.Series:
    if actions.empty:
        return pd.Series(dtype=float)
    values = actions[_floats(actions[column]) > 0]
    values = values.assign(_announced=pd.to_datetime(values["announced_on"]))
    ordered = values.sort_values(["security_id", "_announced"], na_position="first")
    return _floats(ordered.groupby("security_id")[column].last())


def _missing(value: object) -> bool:
    if value is None or value is pd.NaT:
        return True
    return isinstance(value, float) and not math.isfinite(value)


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value
