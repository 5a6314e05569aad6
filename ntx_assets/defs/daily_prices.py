"""daily_prices: every session's OHLCV for the universe, one today-price fetch per session date."""

import datetime as dt
from collections.abc import Iterator, Sequence

import dagster as dg
from sqlalchemy import and_, func, or_, select

from ntx_assets.clock import SESSION_CLOSE, nepal_now
from ntx_assets.defs.company_universe import company_universe
from ntx_assets.defs.partial_success import fail_the_rest, materialized
from ntx_assets.defs.partitions import session_date_partitions
from ntx_assets.nepse import NepseClient, NepseRowError
from ntx_assets.policies import latest_session_policy
from ntx_assets.pricing import BadPriceData, CloseNotPublished, price_rows
from ntx_assets.resources import NepseResource, WarehouseResource
from ntx_assets.sessions import holiday_dates, plan_price_fetches
from ntx_assets.step_metrics import NepseStep
from ntx_assets.warehouse import UpsertCounts, upsert
from ntx_assets.warehouse.queries import included_companies
from ntx_assets.warehouse.schema import daily_prices as daily_prices_table

PRICES_ARE_CONSISTENT = "daily_prices_are_consistent"


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
            description="Stored rows of the run's dates: low <= open, close <= high; volume and turnover "
            "non-negative; one row per (security, date).",
        )
    ],
)
def daily_prices(
    context: dg.AssetExecutionContext, nepse: NepseResource, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    dates = sorted(dt.date.fromisoformat(key) for key in context.partition_keys)
    years = sorted({d.year for d in dates})
    # Until the holiday lists are read, every date may be a session.
    step = NepseStep(context, nepse, planned_calls=len(years) + len(dates))
    client = step.client
    now = nepal_now()

    holidays: set[dt.date] = set()
    for year in years:
        holidays |= holiday_dates(client.holidays(year))
    plan = plan_price_fetches(dates, holidays, today=now.date(), history_days=nepse.history_days)
    step.plan(plan.planned_calls)

    universe = _universe(warehouse)
    totals = UpsertCounts()
    loaded: list[dt.date] = []
    pending: list[dt.date] = []
    closed: list[dt.date] = []
    # Dates NEPSE no longer serves fail on their own, like a bad session: as the calendar moves on, the
    # oldest partitions leave NEPSE's window, and a backfill of every partition must still load the rest.
    too_old = plan.too_old_error()
    failures: dict[dt.date, Exception] = dict.fromkeys(plan.too_old, too_old) if too_old else {}
    unpublished: dict[dt.date, CloseNotPublished] = {}
    for day in plan.sessions:
        if day == now.date() and not _session_closed(client, day, now):
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

    metadata = {
        "dates": len(dates),
        "sessions_loaded": len(loaded),
        "no_session": dg.MetadataValue.json(
            {
                "weekend": len(plan.of_kind("weekend")),
                "holiday": len(plan.of_kind("holiday")),
                "closed": len(closed),
            }
        ),
        "not_closed_yet": dg.MetadataValue.json([d.isoformat() for d in [*pending, *unpublished]]),
        **totals.as_metadata(),
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


def _session_closed(client: NepseClient, day: dt.date, now: dt.datetime) -> bool:
    """Today's prices are final only once the market has closed on today's session."""
    if now.time() < SESSION_CLOSE:
        return False
    status = client.market_status()
    return status.closed and status.as_of.date() >= day


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
    t = daily_prices_table
    in_run = t.c.business_date.between(min(dates), max(dates))
    bad = or_(
        t.c.low > t.c.high,
        t.c.close < t.c.low,
        t.c.close > t.c.high,
        and_(t.c.open.is_not(None), or_(t.c.open < t.c.low, t.c.open > t.c.high)),
        t.c.volume < 0,
        t.c.turnover < 0,
    )
    duplicates = (
        select(t.c.security_id, t.c.business_date)
        .where(in_run)
        .group_by(t.c.security_id, t.c.business_date)
        .having(func.count() > 1)
        .subquery()
    )
    with warehouse.engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(t).where(in_run)).scalar_one()
        offenders = conn.execute(select(t.c.symbol, t.c.business_date).where(in_run, bad).limit(20)).all()
        duplicate_count = conn.execute(select(func.count()).select_from(duplicates)).scalar_one()
    return dg.AssetCheckResult(
        check_name=PRICES_ARE_CONSISTENT,
        passed=not offenders and duplicate_count == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rows_checked": rows,
            "inconsistent": dg.MetadataValue.json([f"{s} {d}" for s, d in offenders]),
            "duplicate_keys": duplicate_count,
        },
    )
