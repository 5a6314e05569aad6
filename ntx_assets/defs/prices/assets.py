"""The prices family's assets.

- `daily_prices`: every session's OHLCV for the universe, one today-price fetch per session date.
- `indicators`: TA-Lib indicators of every universe company for each session date, never stale. Computed
  on adjusted prices, point in time: the indicators of date t read the company's history back-adjusted
  for every re-basing (bonus or right issue) up to and including t, so SMA 200, the 52-week range or RSI
  compare t's close with earlier prices in t's own basis, and a re-basing after t never changes t's row
  (ntx_assets.prices.adjustments). daily_prices keeps NEPSE's prices as reported.
"""

import datetime as dt
import time
from collections.abc import Iterator, Sequence

import dagster as dg

from ntx_assets.common.clock import SESSION_CLOSE, nepal_now
from ntx_assets.corporate_actions.announcements import band_explainer
from ntx_assets.defs.partitions import session_date_partitions
from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.nepse import NepseRowError
from ntx_assets.orchestration.conditions import when_upstream_updates
from ntx_assets.orchestration.freshness_policy import latest_session_policy
from ntx_assets.orchestration.partial_success import fail_the_rest, materialized
from ntx_assets.orchestration.step_metrics import NepseStep
from ntx_assets.prices.daily_rows import BadPriceData, CloseNotPublished, price_problems, price_rows
from ntx_assets.prices.indicators import indicator_rows
from ntx_assets.prices.sessions import (
    EARLIER_DATE,
    HolidayLists,
    close_rule,
    earliest_loadable,
    plan_price_fetches,
)
from ntx_assets.resources import NepseResource, WarehouseResource
from ntx_assets.warehouse import UpsertCounts, upsert
from ntx_assets.warehouse.prices import (
    announcements,
    archived_sessions,
    histories_through,
    price_row_count,
    prices_without_indicators,
    rebasings_on,
    stored_prices,
)
from ntx_assets.warehouse.queries import included_companies
from ntx_assets.warehouse.schema import daily_prices as daily_prices_table
from ntx_assets.warehouse.schema import indicators as indicators_table

PRICES_ARE_CONSISTENT = "daily_prices_are_consistent"
REBASINGS_METADATA = "rebasings"


@dg.asset(
    partitions_def=session_date_partitions,
    # A backfill of any date range is ONE run that fetches date after date under the client's pacing.
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[company_universe],
    pool="nepse_api",
    # The UI's freshness: the latest session by its close + NTX_PRICES_FRESHNESS_GRACE_HOURS (policies.py).
    freshness_policy=latest_session_policy(),
    group_name="prices",
    kinds={"python", "sql"},
    description=(
        "Open, high, low, close, volume, turnover and trades of every universe company for each session "
        "date: one today-price call (pages of 500) per session, none on weekends and holidays."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            PRICES_ARE_CONSISTENT,
            asset="daily_prices",
            description="Stored rows of the run's dates pass the rule that admits a session's prices "
            "(ntx_assets.prices.daily_rows.price_problems): required values present, prices positive, "
            "counts not negative, low <= open, close <= high.",
        )
    ],
)
def daily_prices(
    context: dg.AssetExecutionContext, nepse: NepseResource, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    dates = sorted(dt.date.fromisoformat(key) for key in context.partition_keys)
    now = nepal_now()
    # Dates older than NEPSE keeps need no holiday list (and NEPSE may not serve old years).
    loadable = earliest_loadable(now.date(), nepse.history_days)
    years = sorted({d.year for d in dates if d >= loadable})
    # Until the holiday lists are read, every date may be a session.
    step = NepseStep(context, nepse, planned_calls=len(years) + sum(d >= loadable for d in dates))
    client = step.client

    holidays = HolidayLists(client.holidays).dates(*years)
    plan = plan_price_fetches(dates, holidays, today=now.date(), history_days=nepse.history_days)
    step.plan(plan.planned_calls)

    universe = _universe(warehouse)
    totals = UpsertCounts()
    loaded: list[dt.date] = []
    pending: list[dt.date] = []
    closed: list[dt.date] = []
    # Dates NEPSE no longer serves fail on their own, like a bad session: as the calendar moves on, the
    # oldest partitions leave NEPSE's window, and a backfill of every partition must still load the rest.
    # Dates NEPSE no longer serves are loaded when a price archive's rows for them landed
    # (price_archive), and are no session when the archive covers them and nobody traded (a market-wide
    # closure); the others fail on their own below.
    with warehouse.engine.connect() as conn:
        archived = archived_sessions(conn, plan.too_old)
    from_archive = [d for d in plan.too_old if archived.get(d, 0) > 0]
    no_archive_session = [d for d in plan.too_old if archived.get(d) == 0]
    unloaded = [d for d in plan.too_old if d not in archived]
    too_old = plan.too_old_error(unloaded)
    failures: dict[dt.date, Exception] = dict.fromkeys(unloaded, too_old) if too_old else {}
    unpublished: dict[dt.date, CloseNotPublished] = {}
    close_rules: dict[str, str] = {}
    flag_grace = dt.timedelta(minutes=nepse.close_flag_grace_minutes)
    for day in plan.sessions:
        rule = close_rule(day, now, client.market_status, flag_grace)
        if rule is None:
            pending.append(day)
            continue
        try:
            records = client.today_prices(day)
            if not records:
                # A planned session with no trades at all: an ad-hoc closure missing from the holiday list.
                closed.append(day)
                continue
            rows = price_rows(records, day, universe)
        except CloseNotPublished as error:
            # NEPSE still serves the session's intraday rows: pending like a session not over, not bad.
            context.log.warning(str(error))
            unpublished[day] = error
            continue
        except (NepseRowError, BadPriceData) as error:
            bad = _bad_price(error, day)
            context.log.error(str(bad))
            failures[day] = bad
            continue
        with warehouse.engine.begin() as conn:
            totals += upsert(conn, daily_prices_table, rows)
        loaded.append(day)
        if rule != EARLIER_DATE:
            close_rules[day.isoformat()] = rule

    with warehouse.engine.connect() as conn:
        rebasings = rebasings_on(conn, loaded) if totals.changed else 0
    metadata = {
        "dates": len(dates),
        "sessions_loaded": len(loaded),
        "sessions_from_archive": len(from_archive),
        "no_session": dg.MetadataValue.json(
            {
                "weekend": len(plan.of_kind("weekend")),
                "holiday": len(plan.of_kind("holiday")),
                "closed": len(closed),
                "not_in_archive": len(no_archive_session),
            }
        ),
        "not_closed_yet": dg.MetadataValue.json([d.isoformat() for d in [*pending, *unpublished]]),
        # Today's session: closed by NEPSE's CLOSE flag, or by its closing prices past the flag's grace.
        "close_rule": dg.MetadataValue.json(
            {k: v for k, v in close_rules.items() if k not in map(str, unpublished)}
        ),
        **totals.as_metadata(),
        # Read by rebasing_sensor: price_adjustments re-derives only after prices that hold a re-basing.
        REBASINGS_METADATA: rebasings,
        "planned_calls": plan.planned_calls,
        **step.metadata(),
    }
    # A date is reported materialized only once its prices landed or it is proven no session: today
    # before its close (or a date after today, whatever the clocks say) fails alone, so that "backfill
    # missing partitions" still finds it.
    for day in [*pending, *plan.future]:
        failures[day] = SessionNotOver(day, now)
    failures.update(unpublished)
    if failures:
        _report_partial(context, dates, failures, metadata)
    yield dg.MaterializeResult(metadata=metadata)
    yield _consistency_check(warehouse, dates)


def _bad_price(error: NepseRowError | BadPriceData, day: dt.date) -> BadPriceData:
    """A value NEPSE typed wrong (text for a price) costs its session, like any other bad row."""
    if isinstance(error, BadPriceData):
        return error
    return BadPriceData(
        symbol=error.symbol,
        business_date=day,
        field=error.field,
        problem=f"is {error.value!r} ({error.problem})",
    )


class SessionNotOver(RuntimeError):
    """A date whose session has not closed yet: nothing to load, and not to be marked as loaded."""

    def __init__(self, day: dt.date, now: dt.datetime) -> None:
        super().__init__(
            f"{day}'s session is not over (it is {now:%Y-%m-%d %H:%M} Nepal time, the close is "
            f"{SESSION_CLOSE:%H:%M} and NEPSE must report CLOSE): nothing was loaded for it. "
            "new_session_sensor requests it after the close, or re-execute this run from failure then."
        )


def _universe(warehouse: WarehouseResource) -> dict[int, str]:
    with warehouse.engine.connect() as conn:
        universe = included_companies(conn)
    if not universe:
        raise dg.Failure(
            "The companies table has no included company: materialize company_universe first "
            "(dagster asset materialize -m ntx_assets.definitions --select company_universe)."
        )
    return universe


def _report_partial(
    context: dg.AssetExecutionContext,
    dates: Sequence[dt.date],
    failures: dict[dt.date, Exception],
    metadata: dict,
) -> None:
    landed = [d.isoformat() for d in dates if d not in failures]
    fail_the_rest(
        context,
        materialized(context, landed),
        {d.isoformat(): error for d, error in failures.items()},
        unit="date",
        metadata=metadata,
    )


def _consistency_check(warehouse: WarehouseResource, dates: Sequence[dt.date]) -> dg.AssetCheckResult:
    """The stored rows of the run's dates judged again by the rule that admitted them (pricing's), so a
    row written or edited by anything else is caught. One row per (security, date) is the primary key's."""
    with warehouse.engine.connect() as conn:
        rows = stored_prices(conn, min(dates), max(dates))
    offenders = [
        f"{row['symbol']} {row['business_date']}: {column} {problem}"
        for row in rows
        for column, problem in price_problems(row)
    ]
    return dg.AssetCheckResult(
        check_name=PRICES_ARE_CONSISTENT,
        passed=not offenders,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rows_checked": len(rows),
            "inconsistent": dg.MetadataValue.json(offenders[:20]),
            "inconsistent_count": len(offenders),
        },
    )


EVERY_PRICE_HAS_INDICATORS = "every_price_row_has_indicators"

# Each indicators date depends on ITS OWN date's prices in Dagster's graph (an identity mapping), although
# it reads the whole stored history: with the lookback as a partition mapping, a backfill of prices and
# indicators over dates that end before the newest partition grew its indicators target to every later
# date, and the daemon split the backfill into two runs (prices, then indicators through today). With the
# identity mapping the two targets are equal and a backfill of any range is ONE run computing exactly its
# dates. The later dates whose lookback holds a changed price are recomputed by
# later_indicators_sensor (prices/sensors.py), in one run, only when prices really changed.
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
        history = histories_through(conn, dates)
        announced = announcements(conn)
    compute_started = time.monotonic()
    rows = indicator_rows(history, dates, band_explainer(announced["actions"], announced["closures"]))
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


def _coverage_check(warehouse: WarehouseResource, dates: Sequence[dt.date]) -> dg.AssetCheckResult:
    with warehouse.engine.connect() as conn:
        priced = price_row_count(conn, dates)
        gaps = prices_without_indicators(conn, dates, limit=20)
    return dg.AssetCheckResult(
        check_name=EVERY_PRICE_HAS_INDICATORS,
        passed=not gaps,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"price_rows": priced, "missing_examples": dg.MetadataValue.json(gaps)},
    )
