"""The screener's rows, point in time (pure: DataFrames in, a DataFrame out; no I/O).

One row per (session, company of that session's universe), in the column order of
`ntx_assets.warehouse.schema.SCREENER_COLUMNS`, each computed only from what was known at that session's
close: prices through the session in its own price basis, announcements dated on or before it, reports
public on or before it, share counts fetched on or before it. A later price, re-basing, report or
announcement never changes a stored session's row. Missing inputs give NULL (NaN/None), never 0 or a guess.

- `session_date`: the session; `as_of`: the company's latest traded session up to it (its last trade), whose
  close, previous_close, volume, turnover and trades the row shows; `change_pct` is against NEPSE's previous
  close, so a re-basing day shows the true move;
- identity (symbol, name, sector, ...) is the company's current one: a renamed company shows its new
  symbol in its old sessions too (its security id is the key);
- `listed_shares`: from the latest security detail fetched on or before the session
  (`security_shares`); a session before the first fetch takes NEPSE's own market capitalization of that
  session over its close (today-price's figure, in millions of NPR, so exact to about 10,000 NPR / close
  shares). `market_cap` = listed_shares x close (NPR); `nepse_market_cap` is NEPSE's figure converted to NPR;
- `promoter_shares_pct`, `public_shares_pct`: promoter and public shares over listed shares (x 100), from
  that fetch; NULL before a company's first fetch (no point-in-time source);
- technicals are the `indicators` row of `as_of` (adjusted point in time, so in the session's basis);
  `pct_from_52w_high` in percent; `return_5d`, `return_20d`: ntx_assets.screener.prices;
  `volume_vs_20d` = volume / its 20-session average; liquidity (`days_traded_20`, `avg_turnover_20`,
  `circuit_hits_20`): ntx_assets.screener.prices;
- fundamentals and growth: ntx_assets.screener.fundamentals; trailing-twelve-month figures (`eps_ttm`,
  `profit_ttm`, `pe_ttm`, `roe_ttm`, `profit_growth_ttm_yoy`): ntx_assets.screener.ttm. NEPSE's quarterly
  `epsValue` is already annualized (the reports say "EPS (annualised)", and NEPSE's peValue is price /
  epsValue: NABIL's Q4 sample, 28.36 and 18.86 at a price near 535), so `eps_annualized` is epsValue as
  given; `pe` = close / eps (NULL when eps <= 0), `pb` = close / book value per share, `roe` = eps / book
  value per share;
- the NRB ratios of financial institutions (`capital_adequacy_pct` ... `spread_pct`, `ratios_known_on`):
  ntx_assets.screener.bank_ratios;
- sector context: ntx_assets.screener.sector (the TTM and NRB-ratio medians and ranks:
  ntx_assets.screener.peers);
  distributions: ntx_assets.screener.dividends (`last_right_ratio` = right % / 100, so a 1:1 right is
  1.0; `dividend_yield` = the latest cash dividend % x face value 100 / 100 / close).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from ntx_assets.prices.indicators import INDICATOR_COLUMNS
from ntx_assets.screener import bank_ratios, dividends, fundamentals, peers, sector, ttm
from ntx_assets.screener.prices import liquidity, price_features
from ntx_assets.screener.universe import universe_grid
from ntx_assets.warehouse.schema import SCREENER_COLUMNS

COLUMNS: tuple[str, ...] = tuple(name for name, _ in SCREENER_COLUMNS)
DATE_COLUMNS = tuple(name for name, kind in SCREENER_COLUMNS if kind == "date")
INT_COLUMNS = tuple(name for name, kind in SCREENER_COLUMNS if kind == "int")
# The stored indicators the screener shows as they are (the rest feed derived columns: volume_sma_20).
TECHNICALS = tuple(name for name in INDICATOR_COLUMNS if name in COLUMNS)
FACE_VALUE = 100.0
LOGO_PATH = "/api/nots/security/fetchFiles?fileLocation="
IDENTITY = ("symbol", "name", "sector", "listing_date", "website", "description", "logo_path")
_AS_OF_FIELDS = (
    "close",
    "previous_close",
    "volume",
    "turnover",
    "trades",
    "market_capitalization",
    "return_5d",
    "return_20d",
)


@dataclass(frozen=True)
class ScreenerInputs:
    """What the screener reads (ntx_assets.warehouse.screener reads it for a run's sessions).

    - companies: security_id, symbol, name, sector, listing_date, website, description, logo_path,
      included, reason, last_seen (every stored security);
    - prices: daily_prices rows (security_id, business_date, close, previous_close, volume, turnover,
      trades, market_capitalization) from enough sessions before the first session for 20-session windows,
      plus each company's latest row before them;
    - sessions: every stored session from the first of `prices`' window on (sorted dates);
    - indicators: the indicators rows of the (security_id, business_date) pairs of `prices`;
    - reports: filings rows (security_id, fiscal_year, fiscal_year_nepali, quarter, report_type,
      modified_at, known_on, first_fetched_on, eps, net_worth_per_share, paid_up_capital, profit);
    - actions: corporate_actions rows (security_id, fiscal_year, announced_on, bonus_pct, right_pct,
      cash_dividend_pct);
    - closures: book_closures rows (security_id, announced_on, book_close_date);
    - shares: security_shares rows (security_id, fetched_on, listed_shares, promoter_shares, public_shares);
    - report_ratios: report_ratios rows (security_id, document_id, report_type, fiscal_year, quarter,
      known_on, status and the ratios; none: no bank ratios);
    - history_starts: security_id, first_date (each company's first stored price);
    - restarts: price_adjustments' re-basings of unknown factor (security_id, ex_date) up to the last
      session.
    """

    companies: pd.DataFrame
    prices: pd.DataFrame
    sessions: Sequence[Any]
    indicators: pd.DataFrame
    reports: pd.DataFrame
    actions: pd.DataFrame
    closures: pd.DataFrame
    shares: pd.DataFrame
    report_ratios: pd.DataFrame = field(default_factory=pd.DataFrame)
    history_starts: pd.DataFrame = field(default_factory=pd.DataFrame)
    restarts: pd.DataFrame = field(default_factory=pd.DataFrame)


def screener_frame(inputs: ScreenerInputs, dates: Sequence[Any], *, logo_base_url: str) -> pd.DataFrame:
    """The rows of each of `dates` that is a stored session (other dates have none), sorted by session
    then symbol, with the columns COLUMNS (dates as datetime.date, NaN/None where unknown)."""
    stored = {pd.Timestamp(day) for day in inputs.sessions}
    targets = sorted(pd.Timestamp(day) for day in dates if pd.Timestamp(day) in stored)
    if not targets or inputs.companies.empty:
        return pd.DataFrame({column: pd.Series(dtype=object) for column in COLUMNS})
    prices = inputs.prices.assign(business_date=pd.to_datetime(inputs.prices["business_date"]))
    companies = inputs.companies.set_index("security_id")
    frame = universe_grid(inputs.companies, prices, targets)
    for column in IDENTITY:
        frame[column] = frame["security_id"].map(companies[column])
    frame["logo_url"] = frame["logo_path"].map(lambda path: _logo_url(logo_base_url, path))

    features = price_features(prices)
    frame = _with_latest_trade(frame, features)
    frame = _with_technicals(frame, inputs.indicators)
    frame["change_pct"] = (frame["close"] / frame["previous_close"] - 1.0) * 100.0
    frame["pct_from_52w_high"] = (frame["close"] / frame["high_52w"] - 1.0) * 100.0
    frame["volume_vs_20d"] = frame["volume"] / frame["volume_sma_20"]
    sessions = sorted(pd.Timestamp(day) for day in inputs.sessions)
    window = liquidity(features, sessions, targets, frame["security_id"].unique())
    frame = frame.merge(window, on=["session_date", "security_id"], how="left")

    reports = fundamentals.dated_reports(inputs.reports)
    known = fundamentals.latest_known(reports, frame)
    for column in (*fundamentals.REPORT_FIELDS, "report_known_on", *fundamentals.GROWTH):
        frame[column] = known[column].to_numpy()
    frame["eps_annualized"] = frame.pop("eps").astype(float)
    frame["book_value_per_share"] = frame.pop("net_worth_per_share").astype(float)
    frame["pe"] = _ratio(frame["close"], frame["eps_annualized"])
    frame["pb"] = _ratio(frame["close"], frame["book_value_per_share"])
    frame["roe"] = _ratio(frame["eps_annualized"], frame["book_value_per_share"], positive_numerator=False)
    trailing = ttm.ttm_columns(reports, known, frame["close"])
    for column in ttm.COLUMNS:
        frame[column] = trailing[column].to_numpy()
    ratios = bank_ratios.bank_ratios(bank_ratios.dated_ratios(inputs.report_ratios), known, frame["sector"])
    for column in bank_ratios.COLUMNS:
        frame[column] = ratios[column].to_numpy()

    frame["history_continuous_from"] = _continuous_from(frame, inputs.history_starts, inputs.restarts)
    frame = _with_shares(frame, inputs.shares)
    actions = dividends.dated_actions(inputs.actions)
    latest = dividends.last_actions(actions, frame)
    frame["last_bonus_pct"] = latest["last_bonus_pct"]
    frame["last_cash_dividend_pct"] = latest["last_cash_dividend_pct"]
    frame["last_right_ratio"] = latest["last_right_pct"] / 100.0
    frame["dividend_yield"] = frame["last_cash_dividend_pct"] * FACE_VALUE / 100.0 / frame["close"]
    record = dividends.dividend_record(
        actions, frame, lambda years: fundamentals.year_end_eps(reports, frame, years)
    )
    for column in record.columns:
        frame[column] = record[column]
    frame["next_book_close_date"] = dividends.next_book_close(inputs.closures, frame)

    context = sector.sector_context(frame)
    for column in context.columns:
        frame[column] = context[column]
    context = peers.within_sector(frame, ttm.SECTOR_MEDIANS | bank_ratios.MEDIANS, bank_ratios.RANKS)
    for column in context.columns:
        frame[column] = context[column]
    out = frame.sort_values(["session_date", "symbol"], kind="stable").reset_index(drop=True)
    for column in DATE_COLUMNS:
        out[column] = _dates(out[column])
    return out[list(COLUMNS)]


def _with_latest_trade(frame: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """Each row with its company's latest traded session up to the row's session (`as_of`) and its fields."""
    right = features[["security_id", "business_date", *_AS_OF_FIELDS]].sort_values(
        "business_date", kind="stable"
    )
    merged = pd.merge_asof(
        frame.reset_index().sort_values("session_date", kind="stable"),
        right.assign(as_of=right["business_date"]),
        left_on="session_date",
        right_on="business_date",
        by="security_id",
        direction="backward",
    )
    merged = merged.set_index("index").reindex(frame.index).drop(columns=["business_date"])
    merged["nepse_market_cap"] = merged.pop("market_capitalization").astype(float) * 1e6
    return merged


def _with_technicals(frame: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    stored = indicators[["security_id", "business_date", *TECHNICALS, "volume_sma_20"]].rename(
        columns={"business_date": "as_of"}
    )
    stored = stored.assign(as_of=pd.to_datetime(stored["as_of"]))
    merged = frame.reset_index().merge(stored, on=["security_id", "as_of"], how="left").set_index("index")
    return merged.reindex(frame.index)


def _with_shares(frame: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """listed_shares, market_cap and the ownership split known at each row's session."""
    fetched = shares.assign(fetched=pd.to_datetime(shares["fetched_on"])).dropna(subset=["fetched"])
    columns = ("listed_shares", "promoter_shares", "public_shares")
    if fetched.empty:
        known = pd.DataFrame(np.nan, index=frame.index, columns=list(columns))
    else:
        merged = pd.merge_asof(
            frame[["session_date", "security_id"]].reset_index().sort_values("session_date", kind="stable"),
            fetched[["security_id", "fetched", *columns]].sort_values("fetched", kind="stable"),
            left_on="session_date",
            right_on="fetched",
            by="security_id",
            direction="backward",
        )
        known = merged.set_index("index").reindex(frame.index)
    listed = known["listed_shares"].astype(float)
    # Before the first fetch: NEPSE's own market capitalization of the session, over its close.
    from_nepse = (frame["nepse_market_cap"] / frame["close"]).round()
    frame["listed_shares"] = listed.fillna(from_nepse.where(frame["nepse_market_cap"] > 0))
    frame["market_cap"] = frame["listed_shares"] * frame["close"]
    total = listed.where(listed > 0)
    frame["promoter_shares_pct"] = known["promoter_shares"].astype(float) / total * 100.0
    frame["public_shares_pct"] = known["public_shares"].astype(float) / total * 100.0
    return frame


def _continuous_from(frame: pd.DataFrame, starts: pd.DataFrame, restarts: pd.DataFrame) -> pd.Series:
    """Per row: the company's last re-basing of unknown factor on or before the session, else its first
    stored price (NaT when it has none)."""
    first = (
        pd.to_datetime(frame["security_id"].map(starts.set_index("security_id")["first_date"]))
        if len(starts)
        else pd.Series(pd.NaT, index=frame.index)
    )
    if restarts.empty:
        return first
    events = restarts.assign(ex_date=pd.to_datetime(restarts["ex_date"]).astype("datetime64[ns]"))
    events = events.sort_values("ex_date")
    rows = frame[["session_date", "security_id"]].reset_index().sort_values("session_date")
    rows["session_date"] = pd.to_datetime(rows["session_date"]).astype("datetime64[ns]")
    found = pd.merge_asof(
        rows, events, left_on="session_date", right_on="ex_date", by="security_id", direction="backward"
    ).set_index("index")["ex_date"]
    return found.reindex(frame.index).fillna(first.astype("datetime64[ns]"))


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain Python values, NaN/NaT as None, integers as int (for the warehouse and JSON)."""
    columns = list(frame.columns)
    values = [_plain_column(frame[column], column) for column in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def _plain_column(series: pd.Series, name: str) -> list[Any]:
    if name in DATE_COLUMNS:
        return [value if isinstance(value, dt.date) else None for value in series]
    if name in INT_COLUMNS:
        numbers = pd.to_numeric(series, errors="coerce")
        return [None if math.isnan(v) else int(v) for v in numbers.astype(float)]
    if pd.api.types.is_numeric_dtype(series):
        floats = series.astype(float).to_numpy()
        return [None if not math.isfinite(v) else v for v in floats.tolist()]
    return [None if _missing(v) else (v.item() if isinstance(v, np.generic) else v) for v in series]


def _dates(values: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(values)
    return pd.Series([None if pd.isna(v) else v.date() for v in stamps], index=values.index, dtype=object)


def _logo_url(base_url: str, path: object) -> str | None:
    if not isinstance(path, str) or not path.strip():
        return None
    return f"{base_url.rstrip('/')}{LOGO_PATH}{quote(path.strip(), safe='/')}"


def _ratio(numerator: pd.Series, denominator: pd.Series, *, positive_numerator: bool = True) -> pd.Series:
    """numerator / denominator where the denominator is > 0 (and, for price ratios, so is the numerator)."""
    numerator, denominator = numerator.astype(float), denominator.astype(float)
    valid = denominator > 0
    if positive_numerator:
        valid &= numerator > 0
    return (numerator / denominator).where(valid)


def _missing(value: object) -> bool:
    if value is None or value is pd.NaT:
        return True
    return isinstance(value, float) and not math.isfinite(value)
