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
from collections import Counter
from collections.abc import Iterator

import dagster as dg
import pandas as pd

from ntx_assets.common.clock import NEPAL_TZ, nepal_now
from ntx_assets.corporate_actions.announcements import (
    UNEXPLAINED,
    BadCorporateAction,
    action_rows,
    adjustment_rows,
    closure_rows,
    shares_due,
    shares_row,
)
from ntx_assets.defs.archive.assets import price_archive
from ntx_assets.defs.filings.assets import FILINGS_PER_RUN
from ntx_assets.defs.partitions import symbol_partitions
from ntx_assets.defs.prices.assets import daily_prices
from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.nepse import NepseError
from ntx_assets.orchestration.conditions import when_upstream_updates
from ntx_assets.orchestration.partial_success import fail_the_rest, materialized
from ntx_assets.orchestration.step_metrics import NepseStep
from ntx_assets.orchestration.symbols import partition_security_ids
from ntx_assets.resources import NepseResource, WarehouseResource
from ntx_assets.warehouse import UpsertCounts, upsert
from ntx_assets.warehouse.companies import (
    last_rebasings,
    share_count_dates,
    store_share_counts,
)
from ntx_assets.warehouse.prices import rebasing_inputs, replace_adjustments
from ntx_assets.warehouse.schema import book_closures as book_closures_table
from ntx_assets.warehouse.schema import corporate_actions as actions_table

REBASINGS_EXPLAINED = "rebasings_explained"
# Corporate actions, dividend notices and AGM notices: the calls per symbol.
ANNOUNCEMENT_CALLS = 3


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
    security_ids = partition_security_ids(warehouse.engine, symbols)
    with warehouse.engine.connect() as conn:
        ids = list(security_ids.values())
        fetched_on = {i: _nepal_date(at) if at else None for i, at in share_count_dates(conn, ids).items()}
        stale_shares = shares_due(fetched_on, last_rebasings(conn, ids), nepal_now().date())
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
                fetched_at = nepal_now()
                store_share_counts(conn, shares_row(security_id, shares, fetched_at.date()), fetched_at)
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


# Re-derive when announcements change or an archive was imported; a new session's prices only when they
# hold a re-basing (rebasing_sensor reads that from the daily_prices materialization), since a session
# without one changes nothing here. Not while an input is still running.
PRICE_ADJUSTMENTS_AUTOMATION = when_upstream_updates(
    "announcements or the archive updated (new prices: rebasing_sensor)",
    ignore=dg.AssetSelection.assets(daily_prices),
)


@dg.asset(
    deps=[daily_prices, price_archive, corporate_actions],
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
        inputs = rebasing_inputs(conn)
    rows = adjustment_rows(inputs["prices"], inputs["actions"], inputs["closures"])
    with warehouse.engine.begin() as conn:
        counts, removed = replace_adjustments(conn, rows)
    unexplained = [r for r in rows if r["explanation"] == UNEXPLAINED]
    by_kind = pd.Series([r["explanation"] for r in rows], dtype=object).value_counts().to_dict()
    yield dg.MaterializeResult(
        metadata={
            "rebasings": len(rows),
            "by_explanation": dg.MetadataValue.json({str(k): int(v) for k, v in by_kind.items()}),
            "by_factor_source": dg.MetadataValue.json(
                {str(k): int(v) for k, v in Counter(r["factor_source"] for r in rows).items()}
            ),
            "factor_unknown": sum(r["factor"] is None for r in rows),
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
                [f"{r['symbol']} {r['ex_date']} {_factor(r['factor'])}" for r in unexplained[:50]]
            ),
        },
        description=(
            None
            if not unexplained
            else "A re-basing no announced bonus, right or cash dividend explains: a data error at NEPSE, "
            "an action the endpoints do not list, or one announced more than 400 days earlier."
        ),
    )


def _factor(factor: float | None) -> str:
    return (
        "factor unknown (a move beyond the band nothing explains)"
        if factor is None
        else f"factor {factor:.6f}"
    )


def _nepal_date(moment: dt.datetime) -> dt.date:
    # SQLite hands timestamps back naive (they were written in Nepal time); PostgreSQL aware.
    return moment.astimezone(NEPAL_TZ).date() if moment.tzinfo else moment.date()
