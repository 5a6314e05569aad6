"""The nepse_index asset against the stand-in over real HTTP, on SQLite and PostgreSQL: the first run
stores NEPSE's year of index rows as served, a re-run costs one call and changes nothing, and its check
names a session with stored prices but no index row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import Engine, delete, insert, select

from ntx_assets.defs.prices.index import INDEX_HAS_EVERY_SESSION, nepse_index
from ntx_assets.resources import NepseResource, WarehouseResource
from ntx_assets.warehouse import create_warehouse_engine, migrate
from ntx_assets.warehouse.schema import daily_prices
from ntx_assets.warehouse.schema import nepse_index as index_table
from ntx_assets_tests.tools.standin import StandinServer

INDEX_HISTORY = "GET /api/nots/index/history/{indexId}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_warehouse_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def run(instance: dg.DagsterInstance, nepse: NepseResource, database_url: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [nepse_index],
        instance=instance,
        resources={"nepse": nepse, "warehouse": WarehouseResource(database_url=database_url)},
    )


def metadata_of(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    (materialization,) = result.asset_materializations_for_node("nepse_index")
    return {key: value.value for key, value in materialization.metadata.items()}


def check_of(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.check_name == INDEX_HAS_EVERY_SESSION
    return evaluation


def stored(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        query = select(index_table).order_by(index_table.c.business_date)
        return [dict(row) for row in conn.execute(query).mappings()]


def served_as_rows(standin: StandinServer) -> list[dict[str, Any]]:
    """The stand-in's rows in the table's columns, read from its JSON independently of the asset."""
    return [
        {
            "index_id": 58,
            "business_date": dt.date.fromisoformat(row["businessDate"]),
            "open": row["openIndex"],
            "high": row["highIndex"],
            "low": row["lowIndex"],
            "close": row["closingIndex"],
            "turnover_value": row["turnoverValue"],
            "turnover_volume": row["turnoverVolume"],
            "total_transactions": row["totalTransaction"],
            "abs_change": row["absChange"],
            "percentage_change": row["percentageChange"],
        }
        for row in reversed(standin.data.index_history(58))
    ]


def price_row(day: dt.date) -> dict[str, Any]:
    return {
        "security_id": 131, "business_date": day, "symbol": "NABIL", "high": 510.0, "low": 500.0,
        "close": 505.0, "volume": 100, "turnover": 50500.0,
    }  # fmt: skip


def test_first_run_stores_the_year_then_a_rerun_is_one_call_and_changes_nothing(
    standin: StandinServer,
    nepse_resource: NepseResource,
    database_url: str,
    engine: Engine,
    dagster_instance: dg.DagsterInstance,
) -> None:
    truth = served_as_rows(standin)
    before = standin.request_counts().get(INDEX_HISTORY, 0)
    first = run(dagster_instance, nepse_resource, database_url)
    assert first.success
    assert standin.request_counts()[INDEX_HISTORY] - before == 1
    assert stored(engine) == truth
    meta = metadata_of(first)
    assert (meta["rows"], meta["rows_inserted"], meta["index_history_calls"]) == (len(truth), len(truth), 1)
    assert (meta["first_date"], meta["last_date"]) == (
        truth[0]["business_date"].isoformat(),
        truth[-1]["business_date"].isoformat(),
    )
    assert check_of(first).passed  # no prices stored: nothing to miss

    before = standin.request_counts()[INDEX_HISTORY]
    again = run(dagster_instance, nepse_resource, database_url)
    assert again.success
    assert standin.request_counts()[INDEX_HISTORY] - before == 1
    meta = metadata_of(again)
    assert (meta["rows_inserted"], meta["rows_updated"], meta["rows"]) == (0, 0, len(truth))
    assert stored(engine) == truth


def test_the_check_names_a_session_with_prices_but_no_index_row(
    standin: StandinServer,
    nepse_resource: NepseResource,
    database_url: str,
    engine: Engine,
    dagster_instance: dg.DagsterInstance,
) -> None:
    served = [row["business_date"] for row in served_as_rows(standin)]
    # Prices of five served sessions, and of a day inside the span that NEPSE serves no index row for.
    not_served = next(
        served[0] + dt.timedelta(days=k)
        for k in range(1, 30)
        if served[0] + dt.timedelta(days=k) not in served
    )
    with engine.begin() as conn:
        conn.execute(insert(daily_prices), [price_row(day) for day in served[-5:]])
    assert check_of(run(dagster_instance, nepse_resource, database_url)).passed
    with engine.begin() as conn:
        conn.execute(insert(daily_prices), [price_row(not_served)])
    result = run(dagster_instance, nepse_resource, database_url)
    evaluation = check_of(result)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["missing_dates"].value == [not_served.isoformat()]
    assert evaluation.metadata["sessions_compared"].value == 6
    # A stored row deleted by hand comes back on the next run while NEPSE still serves it (one page).
    with engine.begin() as conn:
        conn.execute(delete(index_table).where(index_table.c.business_date == served[-3]))
        conn.execute(delete(daily_prices).where(daily_prices.c.business_date == not_served))
    result = run(dagster_instance, nepse_resource, database_url)
    assert check_of(result).passed and metadata_of(result)["rows_inserted"] == 1
