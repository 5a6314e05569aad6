"""Bad today-price data fails its session partition, names it, writes nothing of it; the others land.

The stand-in serves one session of a range run with one row spoiled (`amend_today_price`): a required
field missing, a negative price, low above high, a row of another date. The missing-closePrice case
lives in test_daily_prices.py; these extend it. Each case runs on its own dates of one warehouse per
backend (the universe is loaded once per backend), so the cases do not see each other's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import func, select

from ntx_assets.defs.prices.assets import daily_prices
from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.resources import NepseResource, WarehouseResource
from ntx_assets.warehouse import create_warehouse_engine
from ntx_assets.warehouse.schema import companies
from ntx_assets.warehouse.schema import daily_prices as prices_table
from ntx_assets_tests.conftest import PG_ADMIN_URL, fast_nepse_resource
from ntx_assets_tests.tools.bench.warehouse import scratch_postgres
from ntx_assets_tests.tools.harness.resources import run_resources
from ntx_assets_tests.tools.standin import REMOVE, StandinServer

SESSIONS_PER_CASE = 5  # sessions in each case's range run; the bad one is the middle one


@dataclass(frozen=True)
class BadRow:
    name: str
    field: str  # the payload field the error must name
    problem: str  # a phrase of BadPriceData's message
    amend: Callable[[Mapping[str, Any], dt.date], dict[str, Any]]  # (served row, its day) -> changes


CASES = [
    BadRow(
        "missing-volume",
        "totalTradedQuantity",
        "is missing",
        lambda row, day: {"totalTradedQuantity": REMOVE},
    ),
    BadRow("negative-close", "closePrice", "not > 0", lambda row, day: {"closePrice": -row["closePrice"]}),
    BadRow(
        "low-above-high",
        "lowPrice",
        "above highPrice",
        lambda row, day: {"lowPrice": round(row["highPrice"] + 5.0, 1)},
    ),
    BadRow(
        "text-price",  # rejected by the client's typed rows, before pricing sees it
        "closePrice",
        "is 'n/a'",
        lambda row, day: {"closePrice": "n/a"},
    ),
    BadRow(
        "number-as-text",  # "512.3" is not coerced into 512.3: NEPSE sends numbers, text is malformed
        "closePrice",
        "valid number",
        lambda row, day: {"closePrice": str(row["closePrice"])},
    ),
    BadRow(
        "row-of-another-date",
        "businessDate",
        "not the requested session date",
        lambda row, day: {"businessDate": (day - dt.timedelta(days=7)).isoformat()},
    ),
]


def case_dates(standin: StandinServer, case: BadRow) -> tuple[dt.date, dt.date]:
    """A range of its own per case: SESSIONS_PER_CASE sessions (and the days between them), back from the
    last session before the stand-in's end date (today, which may not have closed)."""
    index = CASES.index(case)
    before = [d for d in standin.data.sessions if d < standin.data.end_date]
    chunk = before[len(before) - SESSIONS_PER_CASE * (index + 1) :][:SESSIONS_PER_CASE]
    return chunk[0], chunk[-1]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def universe_url(
    request: pytest.FixtureRequest, standin: StandinServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A warehouse holding the company universe, shared by the cases of one backend."""
    if request.param == "sqlite":
        yield from _with_universe(standin, f"sqlite:///{tmp_path_factory.mktemp('bad') / 'warehouse.db'}")
    else:
        with scratch_postgres(PG_ADMIN_URL) as url:
            yield from _with_universe(standin, url)


def _with_universe(standin: StandinServer, url: str) -> Iterator[str]:
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [company_universe],
            instance=instance,
            resources=run_resources(_nepse(standin), url),
        )
    assert result.success
    yield url


def _nepse(standin: StandinServer) -> NepseResource:
    return fast_nepse_resource(standin.base_url)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_spoiled_row_fails_only_its_session_naming_symbol_date_and_field(
    case: BadRow,
    universe_url: str,
    standin: StandinServer,
    dagster_instance: dg.DagsterInstance,
) -> None:
    first, last = case_dates(standin, case)
    sessions = [d for d in standin.data.sessions if first <= d <= last]
    bad_day = sessions[len(sessions) // 2]
    engine = create_warehouse_engine(universe_url)
    with engine.connect() as conn:
        universe = set(conn.execute(select(companies.c.security_id).where(companies.c.included)).scalars())
    victim = next(row for row in standin.data.today_prices(bad_day) if row["securityId"] in universe)

    try:
        standin.data.amend_today_price(bad_day, victim["securityId"], **case.amend(victim, bad_day))
        result = dg.materialize(
            [daily_prices],
            instance=dagster_instance,
            resources={"nepse": _nepse(standin), "warehouse": WarehouseResource(database_url=universe_url)},
            tags={
                "dagster/asset_partition_range_start": first.isoformat(),
                "dagster/asset_partition_range_end": last.isoformat(),
            },
            raise_on_error=False,
        )
    finally:
        standin.data.restore_today_prices(bad_day)

    # The run fails, and its error names the symbol, the session date and the field.
    assert not result.success
    failure = next(event for event in result.all_events if event.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.error.message + str(failure.step_failure_data.user_failure_data)
    assert victim["symbol"] in message, message
    assert bad_day.isoformat() in message, message
    assert repr(case.field) in message and case.problem in message, message

    # Nothing of the bad session was written; every other session landed whole.
    expected = {
        day: sum(1 for row in standin.data.today_prices(day) if row["securityId"] in universe)
        for day in sessions
        if day != bad_day
    }
    t = prices_table
    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                select(t.c.business_date, func.count())
                .where(t.c.business_date.between(first, last))
                .group_by(t.c.business_date)
            ).all()
        )
    engine.dispose()
    assert stored == expected

    # Dagster agrees: every date of the range but the bad one is materialized.
    materialized = dagster_instance.get_materialized_partitions(dg.AssetKey("daily_prices"))
    dates = {(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)}
    assert materialized & dates == dates - {bad_day.isoformat()}
