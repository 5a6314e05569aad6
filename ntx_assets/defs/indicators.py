"""indicators: TA-Lib indicators of every universe company for each session date, never stale.

Computed on adjusted prices, point in time: the indicators of date t read the company's history
back-adjusted for every re-basing (bonus or right issue) up to and including t, so SMA 200, the 52-week
range or RSI compare t's close with earlier prices in t's own basis, and a re-basing after t never changes
t's row (ntx_assets.adjustments). daily_prices keeps NEPSE's prices as reported.
"""

import datetime as dt
import time
from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Connection, func, select

from ntx_assets.adjustments import detect_adjustments, point_in_time_histories
from ntx_assets.defs.automation import when_upstream_updates
from ntx_assets.defs.daily_prices import daily_prices
from ntx_assets.defs.partitions import session_date_partitions
from ntx_assets.indicators import INDICATOR_COLUMNS, compute
from ntx_assets.resources import WarehouseResource
from ntx_assets.warehouse import UpsertCounts, upsert
from ntx_assets.warehouse.queries import read_frame
from ntx_assets.warehouse.schema import daily_prices as prices_table
from ntx_assets.warehouse.schema import indicators as indicators_table

EVERY_PRICE_HAS_INDICATORS = "every_price_row_has_indicators"

# An indicator of date X reads the prices of dates up to X. 400 calendar days cover the longest window
# (SMA 200 sessions is about 290 days; the 52-week range is 365), and an EMA's weight on a price that old
# is below 1e-9, so a corrected price changes the indicators of its own date and the 400 after it.
LOOKBACK_DAYS = 400

# Each indicators date depends on ITS OWN date's prices in Dagster's graph (an identity mapping), although
# it reads the whole stored history: with the lookback as a partition mapping, a backfill of prices and
# indicators over dates that end before the newest partition grew its indicators target to every later
# date, and the daemon split the backfill into two runs (prices, then indicators through today). With the
# identity mapping the two targets are equal and a backfill of any range is ONE run computing exactly its
# dates. The later dates whose lookback holds a changed price are recomputed by
# later_indicators_sensor (later_indicators.py), in one run, only when prices really changed.
# The automation condition recomputes a date's indicators when its own prices are (re)materialized.
INDICATORS_AUTOMATION = when_upstream_updates("this date's prices updated")


@dg.asset(
    partitions_def=session_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    # TimeWindowPartitionMapping() between the same partitions: date X of indicators <- date X of prices.
    deps=[dg.AssetDep(daily_prices, partition_mapping=dg.TimeWindowPartitionMapping())],
    automation_condition=INDICATORS_AUTOMATION,
    group_name="prices",
    kinds={"python", "sql"},
    description=(
        "SMA 20/50/200, EMA 12/26, RSI 14, MACD 12/26/9, Bollinger 20/2, ATR 14 (TA-Lib's definitions), "
        "52-week range, 20-day volume average and 1-day return, one row per (company, session). Computed "
        "on each company's full stored history, back-adjusted point in time for bonus and right issues "
        "(re-basings up to the row's date), so warm-up is right at any date and no re-basing distorts them."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            EVERY_PRICE_HAS_INDICATORS,
            asset="indicators",
            description="Every daily_prices row of the run's dates has its indicators row.",
        )
    ],
)
def indicators(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    started = time.monotonic()
    dates = sorted(dt.date.fromisoformat(key) for key in context.partition_keys)
    with warehouse.engine.connect() as conn:
        history = _history(conn, dates)
    compute_started = time.monotonic()
    rows = indicator_rows(history, dates)
    compute_seconds = time.monotonic() - compute_started
    counts = UpsertCounts()
    if rows:
        with warehouse.engine.begin() as conn:
            counts = upsert(conn, indicators_table, rows)
    yield dg.MaterializeResult(
        metadata={
            "dates": len(dates),
            "companies": int(history["security_id"].nunique()) if len(history) else 0,
            "history_rows_read": len(history),
            **counts.as_metadata(),
            "compute_seconds": round(compute_seconds, 3),
            "seconds": round(time.monotonic() - started, 2),
        }
    )
    yield _coverage_check(warehouse, dates)


def _history(conn: Connection, dates: Sequence[dt.date]) -> pd.DataFrame:
    """The full stored history (up to the run's last date) of every company priced in the run's dates."""
    t = prices_table
    priced = select(t.c.security_id).where(t.c.business_date.in_(dates)).distinct()
    return price_history(conn, t.c.security_id.in_(priced), t.c.business_date <= max(dates))


def price_history(conn: Connection, *conditions: ColumnElement[bool]) -> pd.DataFrame:
    """The daily_prices columns indicator_rows needs (previous_close: the re-basings are found from it)."""
    t = prices_table
    query = select(
        t.c.security_id,
        t.c.symbol,
        t.c.business_date,
        t.c.open,
        t.c.high,
        t.c.low,
        t.c.close,
        t.c.previous_close,
        t.c.volume,
    ).where(*conditions)
    return read_frame(conn, query)


def indicator_rows(history: pd.DataFrame, dates: Sequence[dt.date]) -> list[dict[str, Any]]:
    """Compute on whole histories in each date's price basis, keep the rows of `dates`, as warehouse rows
    (NaN -> NULL). `history` needs previous_close (NEPSE's), from which the re-basings are found."""
    if history.empty:
        return []
    in_basis = point_in_time_histories(history, detect_adjustments(history), dates)
    # Group by security id (and basis), not symbol: a renamed company (NIB -> NIMB) keeps its warm-up.
    frame = in_basis.drop(columns=["previous_close"]).rename(columns={"business_date": "date"})
    frame["date"] = pd.to_datetime(frame["date"])
    frame["symbol_as_of"] = frame["symbol"]
    frame["symbol"] = frame["security_id"].astype(str) + ":" + frame["basis"].astype(str)
    result = compute(frame)
    result = result.loc[result["target"].astype(bool)]
    # The current symbol is the latest one the company traded under.
    latest_symbol = history.sort_values("business_date").groupby("security_id")["symbol"].last()
    out = pd.DataFrame(
        {
            "security_id": result["security_id"].astype(int),
            "business_date": result["date"].dt.date,
            "symbol": result["security_id"].map(latest_symbol),
        }
    )
    for column in INDICATOR_COLUMNS:
        values = result[column].astype(float)
        # Object dtype first: a float column would turn the None back into NaN.
        out[column] = values.astype(object).where(np.isfinite(values), None)
    # zip over plain lists: DataFrame.to_dict("records") boxes every cell and costs ~8x the compute.
    columns = list(out.columns)
    values = [out[column].tolist() for column in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def _coverage_check(warehouse: WarehouseResource, dates: Sequence[dt.date]) -> dg.AssetCheckResult:
    p, i = prices_table, indicators_table
    missing = (
        select(p.c.symbol, p.c.business_date)
        .select_from(
            p.outerjoin(i, (i.c.security_id == p.c.security_id) & (i.c.business_date == p.c.business_date))
        )
        .where(p.c.business_date.in_(dates), i.c.security_id.is_(None))
    )
    with warehouse.engine.connect() as conn:
        priced = conn.execute(
            select(func.count()).select_from(p).where(p.c.business_date.in_(dates))
        ).scalar_one()
        gaps = conn.execute(missing.limit(20)).all()
    return dg.AssetCheckResult(
        check_name=EVERY_PRICE_HAS_INDICATORS,
        passed=not gaps,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "price_rows": priced,
            "missing_examples": dg.MetadataValue.json([f"{s} {d}" for s, d in gaps]),
        },
    )
