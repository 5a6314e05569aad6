"""corporate_actions and price_adjustments: what companies announced, and what the prices show of it.

- `corporate_actions` (symbol partitions, pool nepse_api): each company's announced bonus, right and cash
  dividends, from NEPSE's corporate-actions and dividend endpoints, and the book closures its AGM notices
  announce (three calls per symbol); and its listed, promoter and public shares from the security detail
  (one more call, only when none are stored, after a re-basing, or when a month old; each fetch adds a row
  to `security_shares`, which the point-in-time screener reads). It runs in the same runs as `filings`:
  `filings_refresh_job` selects both, so the daily refresh schedule and its groups of 25 symbols cover it.
- `price_adjustments` (no API call): every re-basing found in the stored prices (NEPSE's
  previousDayClosePrice against the close stored before it), each matched to the announced action whose
  formula explains it, or marked unexplained; re-derived whenever prices or announcements change. Its
  check WARNs naming every unexplained re-basing (symbol, date, factor). The `adjusted_prices` view reads
  its factors.
"""

import datetime as dt
import time
from collections.abc import Iterator, Sequence

import dagster as dg
import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, func, select, tuple_, update

from ntx_assets.adjustments import detect_adjustments
from ntx_assets.clock import NEPAL_TZ, nepal_now
from ntx_assets.corporate_actions import (
    UNEXPLAINED,
    BadCorporateAction,
    action_rows,
    closure_rows,
    explain_rebasings,
)
from ntx_assets.defs.automation import when_upstream_updates
from ntx_assets.defs.company_universe import company_universe
from ntx_assets.defs.daily_prices import daily_prices
from ntx_assets.defs.filings import FILINGS_PER_RUN, symbol_security_ids
from ntx_assets.defs.partial_success import fail_the_rest, materialized
from ntx_assets.defs.partitions import symbol_partitions
from ntx_assets.nepse import NepseError
from ntx_assets.nepse.models import SecurityShares
from ntx_assets.resources import NepseResource, WarehouseResource
from ntx_assets.step_metrics import NepseStep
from ntx_assets.warehouse import UpsertCounts, upsert
from ntx_assets.warehouse.queries import read_frame
from ntx_assets.warehouse.schema import book_closures as book_closures_table
from ntx_assets.warehouse.schema import companies
from ntx_assets.warehouse.schema import corporate_actions as actions_table
from ntx_assets.warehouse.schema import daily_prices as prices_table
from ntx_assets.warehouse.schema import price_adjustments as adjustments_table
from ntx_assets.warehouse.schema import security_shares as shares_table

REBASINGS_EXPLAINED = "rebasings_explained"
# Corporate actions, dividend notices and AGM notices: the calls per symbol.
ANNOUNCEMENT_CALLS = 3
# A company's share counts are fetched again after this many days (one call per company a month).
SHARES_MAX_AGE_DAYS = 30


@dg.asset(
    partitions_def=symbol_partitions,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=FILINGS_PER_RUN),
    deps=[company_universe],
    pool="nepse_api",
    group_name="filings",
    kinds={"python", "sql"},
    description=(
        "What each listed company announced: bonus and right issues (percentages, issue price) and cash "
        "dividends, from NEPSE's corporate-actions and dividend endpoints, and its book closures from its "
        "AGM notices (three calls per symbol), keyed on NEPSE's ids; and its listed, promoter and public "
        "shares (security detail: when missing, after a re-basing or a month old). Refreshed with filings "
        "(filings_refresh_job)."
    ),
)
def corporate_actions(
    context: dg.AssetExecutionContext, nepse: NepseResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    symbols = list(context.partition_keys)
    security_ids = symbol_security_ids(warehouse.engine, symbols)
    with warehouse.engine.connect() as conn:
        stale_shares = shares_to_fetch(conn, list(security_ids.values()))
    step = NepseStep(context, nepse, planned_calls=ANNOUNCEMENT_CALLS * len(symbols) + len(stale_shares))
    client = step.client
    counts = closure_counts = UpsertCounts()
    landed: list[str] = []
    rejected: dict[str, Exception] = {}
    for symbol in symbols:
        security_id = security_ids[symbol]
        try:
            rows = action_rows(
                client.corporate_actions(security_id),
                client.dividend_notices(security_id),
                security_id=security_id,
                symbol=symbol,
            )
            closures = closure_rows(client.agm_notices(security_id), security_id=security_id, symbol=symbol)
            shares = client.security_shares(security_id) if security_id in stale_shares else None
        except (BadCorporateAction, NepseError) as error:
            context.log.error(f"{symbol}: {error}")
            rejected[symbol] = error
            continue
        with warehouse.engine.begin() as conn:
            counts += upsert(conn, actions_table, rows)
            closure_counts += upsert(conn, book_closures_table, closures)
            if shares is not None:
                _store_shares(conn, security_id, shares)
        landed.append(symbol)
    metadata = {
        "symbols": len(symbols),
        **counts.as_metadata(),
        **closure_counts.as_metadata("book_closures"),
        "share_counts_fetched": len(stale_shares),
        **step.metadata(),
    }
    if rejected:
        fail_the_rest(
            context,
            materialized(context, landed),
            {s: f"{s}: {e}" for s, e in rejected.items()},
            unit="symbol",
            metadata=metadata,
            hint="Re-run the failed partitions.",
        )
    return dg.MaterializeResult(metadata=metadata)


# Re-derive when prices land or announcements change; not while either is still running.
PRICE_ADJUSTMENTS_AUTOMATION = when_upstream_updates("prices or announcements updated")


@dg.asset(
    deps=[daily_prices, corporate_actions],
    automation_condition=PRICE_ADJUSTMENTS_AUTOMATION,
    group_name="prices",
    kinds={"python", "sql"},
    description=(
        "Every re-basing in the stored prices (a session whose NEPSE previous close differs from the close "
        "stored before it by more than half a paisa; factor = previous close / stored close), with the "
        "announced bonus, right or cash dividend whose formula explains it, or 'unexplained'. No API call."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            REBASINGS_EXPLAINED,
            asset="price_adjustments",
            description="Every re-basing is explained by an announced action (WARN names the others).",
        )
    ],
)
def price_adjustments(warehouse: WarehouseResource) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    started = time.monotonic()
    with warehouse.engine.connect() as conn:
        prices = read_frame(conn, select(*_PRICE_COLUMNS))
        actions = read_frame(conn, select(actions_table))
        closures = read_frame(conn, select(book_closures_table))
    rows = adjustment_rows(prices, actions, closures)
    with warehouse.engine.begin() as conn:
        counts = upsert(conn, adjustments_table, rows)
        removed = _remove_stale(conn, rows)
    unexplained = [r for r in rows if r["explanation"] == UNEXPLAINED]
    by_kind = pd.Series([r["explanation"] for r in rows], dtype=object).value_counts().to_dict()
    yield dg.MaterializeResult(
        metadata={
            "rebasings": len(rows),
            "by_explanation": dg.MetadataValue.json({str(k): int(v) for k, v in by_kind.items()}),
            **counts.as_metadata(),
            "removed": removed,
            "seconds": round(time.monotonic() - started, 2),
        }
    )
    yield dg.AssetCheckResult(
        check_name=REBASINGS_EXPLAINED,
        passed=not unexplained,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "rebasings": len(rows),
            "unexplained": len(unexplained),
            "unexplained_examples": dg.MetadataValue.json(
                [f"{r['symbol']} {r['ex_date']} factor {r['factor']:.6f}" for r in unexplained[:50]]
            ),
        },
        description=(
            None
            if not unexplained
            else "A re-basing no announced bonus, right or cash dividend explains: a data error at NEPSE, "
            "an action the endpoints do not list, or one announced more than 400 days earlier."
        ),
    )


_PRICE_COLUMNS = (
    prices_table.c.security_id,
    prices_table.c.business_date,
    prices_table.c.symbol,
    prices_table.c.close,
    prices_table.c.previous_close,
)


def adjustment_rows(
    prices: pd.DataFrame, actions: pd.DataFrame, closures: pd.DataFrame | None = None
) -> list[dict]:
    """The price_adjustments rows of the stored prices, announced actions and book closures (pure)."""
    found = detect_adjustments(prices)
    if found.empty:
        return []
    served = prices.set_index(["security_id", "business_date"])
    keys = list(zip(found["security_id"], found["ex_date"], strict=True))
    found["adjusted_base"] = served.loc[keys, "previous_close"].astype(float).to_numpy()
    found["symbol"] = served.loc[keys, "symbol"].to_numpy()
    found["prior_close"] = found["adjusted_base"] / found["factor"]
    explained = explain_rebasings(found, actions, closures)
    # The product of this factor and every later one of the security, for the adjusted_prices view.
    explained["factor_to_latest"] = explained.groupby("security_id")["factor"].transform(
        lambda factors: np.cumprod(factors.to_numpy()[::-1])[::-1]
    )
    return [
        {
            "security_id": int(row.security_id),
            "ex_date": row.ex_date,
            "symbol": str(row.symbol),
            "prior_close": round(float(row.prior_close), 4),
            "adjusted_base": float(row.adjusted_base),
            "factor": float(row.factor),
            "factor_to_latest": float(row.factor_to_latest),
            "explanation": str(row.explanation),
            "expected_base": None if pd.isna(row.expected_base) else float(row.expected_base),
            "action_source": None if pd.isna(row.action_source) else str(row.action_source),
            "action_id": None if pd.isna(row.action_id) else str(row.action_id),
        }
        for row in explained.itertuples(index=False)
    ]


def _store_shares(conn: Connection, security_id: int, shares: SecurityShares) -> None:
    """The company's current counts, and one more row of their history (one per company and day)."""
    fetched_at = nepal_now()
    listed = _whole(shares.stock_listed_shares)
    conn.execute(
        update(companies)
        .where(companies.c.security_id == security_id)
        .values(listed_shares=listed, paid_up_capital=shares.paid_up_capital, shares_fetched_at=fetched_at)
    )
    row = {
        "security_id": security_id,
        "fetched_on": fetched_at.date(),
        "listed_shares": listed,
        "promoter_shares": _whole(shares.promoter_shares),
        "public_shares": _whole(shares.public_shares),
        "paid_up_capital": shares.paid_up_capital,
    }
    upsert(conn, shares_table, [row])


def shares_to_fetch(conn: Connection, security_ids: Sequence[int]) -> set[int]:
    """Companies without a stored share count, with a re-basing on or after the day it was fetched, or
    whose count is older than SHARES_MAX_AGE_DAYS (the promoter/public split changes without a re-basing:
    the screener keeps their history)."""
    c, a = companies, adjustments_table
    rows = conn.execute(
        select(c.c.security_id, c.c.shares_fetched_at).where(c.c.security_id.in_(list(security_ids)))
    ).all()
    last_rebasing = dict(
        conn.execute(
            select(a.c.security_id, func.max(a.c.ex_date))
            .where(a.c.security_id.in_(list(security_ids)))
            .group_by(a.c.security_id)
        ).all()
    )
    stale = set()
    oldest = nepal_now().date() - dt.timedelta(days=SHARES_MAX_AGE_DAYS)
    for security_id, fetched_at in rows:
        rebased = last_rebasing.get(security_id)
        fetched_on = _nepal_date(fetched_at) if fetched_at is not None else None
        if fetched_on is None or fetched_on < oldest or (rebased is not None and rebased >= fetched_on):
            stale.add(int(security_id))
    return stale


def _nepal_date(moment: dt.datetime) -> dt.date:
    # SQLite hands timestamps back naive (they were written in Nepal time); PostgreSQL aware.
    return moment.astimezone(NEPAL_TZ).date() if moment.tzinfo else moment.date()


def _whole(value: float | None) -> int | None:
    return None if value is None else round(value)


def _remove_stale(conn: Connection, rows: Sequence[dict]) -> int:
    """Delete re-basings the prices no longer show (a corrected price): the table is exactly what they do."""
    t = adjustments_table
    keep = [(r["security_id"], r["ex_date"]) for r in rows]
    query = delete(t)
    if keep:
        query = query.where(tuple_(t.c.security_id, t.c.ex_date).not_in(keep))
    return conn.execute(query).rowcount or 0
