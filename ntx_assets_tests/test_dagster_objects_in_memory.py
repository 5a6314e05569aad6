"""The fast tier of the Dagster objects: assets, checks and sensors run with Dagster's test APIs
(`dg.materialize`, `dg.build_sensor_context`, `execute_in_process`) on an in-memory NEPSE client, as the
Dagster examples test theirs. No HTTP, no webserver, no daemon: each test is about a second."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import func, select

from ntx_assets.defs.prices.assets import daily_prices
from ntx_assets.defs.prices.checks import DAILY_PRICES_FRESH, daily_prices_fresh, daily_prices_freshness_job
from ntx_assets.defs.prices.sensors import new_session_sensor
from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.resources import CheckTargetsResource, WarehouseResource
from ntx_assets.warehouse import create_warehouse_engine
from ntx_assets.warehouse.queries import included_companies
from ntx_assets.warehouse.schema import companies
from ntx_assets.warehouse.schema import daily_prices as prices_table
from ntx_assets_tests.in_memory_nepse import InMemoryNepseResource, standin_data
from ntx_assets_tests.pinned import PINNED_TODAY, npt, pinned
from ntx_assets_tests.prices.test_daily_prices import range_tags
from ntx_assets_tests.tools.harness.resources import run_resources

DATA = standin_data(7, PINNED_TODAY)


@pytest.fixture
def resources(tmp_path: Path) -> dict[str, object]:
    return run_resources(InMemoryNepseResource(), f"sqlite:///{tmp_path / 'warehouse.db'}")


@pytest.fixture
def universe(resources: dict[str, object], dagster_instance: dg.DagsterInstance) -> dict[int, str]:
    result = dg.materialize([company_universe], instance=dagster_instance, resources=resources)
    assert result.success
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks == dict.fromkeys(checks, True) and len(checks) == 4
    engine = create_warehouse_engine(resources["warehouse"].database_url)  # type: ignore[attr-defined]
    with engine.connect() as conn:
        included = included_companies(conn)
    engine.dispose()
    assert len(included) == 259
    return included


def test_daily_prices_store_every_session_of_the_range_and_mark_only_those_dates(
    resources: dict[str, object], dagster_instance: dg.DagsterInstance, universe: dict[int, str]
) -> None:
    first, last = PINNED_TODAY - dt.timedelta(days=9), PINNED_TODAY - dt.timedelta(days=1)
    result = dg.materialize(
        [daily_prices], instance=dagster_instance, resources=resources, tags=range_tags(first, last)
    )
    assert result.success
    sessions = [d for d in DATA.sessions if first <= d <= last]
    expected = {d: sum(r["securityId"] in universe for r in DATA.today_rows(d)) for d in sessions}
    engine = create_warehouse_engine(resources["warehouse"].database_url)  # type: ignore[attr-defined]
    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                select(prices_table.c.business_date, func.count()).group_by(prices_table.c.business_date)
            ).all()
        )
    engine.dispose()
    assert stored == expected
    metadata = result.asset_materializations_for_node("daily_prices")[0].metadata
    assert metadata["api_calls"].value == len(sessions) + len({first.year, last.year})  # + holiday lists
    keys = {(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)}
    assert dagster_instance.get_materialized_partitions(daily_prices.key) == keys


@pytest.mark.parametrize(("hour", "state", "requested"), [(16, "CLOSE", True), (12, "OPEN", False)])
def test_new_session_sensor_requests_the_closed_session_once(
    dagster_instance: dg.DagsterInstance, hour: int, state: str, requested: bool
) -> None:
    nepse = InMemoryNepseResource()
    with (
        pinned(npt(2026, 11, 20, hour, 0)),
        dg.build_sensor_context(instance=dagster_instance, resources={"nepse": nepse}) as context,
    ):
        # NEPSE's answer at that hour: the market open at noon, closed after 15:00.
        context.resources.nepse.client.market = (state, dt.datetime.combine(PINNED_TODAY, dt.time(hour, 0)))
        result = new_session_sensor(context)
    if requested:
        assert isinstance(result, dg.SensorResult) and result.run_requests
        assert result.run_requests[0].partition_key == PINNED_TODAY.isoformat()
        assert result.run_requests[0].run_key == f"session-{PINNED_TODAY}"
    else:
        assert isinstance(result, dg.SkipReason)
        assert "NEPSE's market is OPEN" in str(result.skip_message)


def test_freshness_check_fails_then_passes_once_the_due_session_lands(
    resources: dict[str, object], dagster_instance: dg.DagsterInstance, universe: dict[int, str]
) -> None:
    defs = dg.Definitions(
        assets=[company_universe, daily_prices],
        asset_checks=[daily_prices_fresh],
        jobs=[daily_prices_freshness_job],
        resources=resources,
    )
    job = defs.resolve_job_def(daily_prices_freshness_job.name)
    due = max(d for d in DATA.sessions if d < PINNED_TODAY)  # 16:30: today's 17:00 deadline is ahead
    (missing,) = job.execute_in_process(instance=dagster_instance).get_asset_check_evaluations()
    assert missing.check_name == DAILY_PRICES_FRESH and not missing.passed
    assert missing.metadata["due_session"].value == due.isoformat()

    assert dg.materialize(
        [daily_prices], instance=dagster_instance, resources=resources, partition_key=due.isoformat()
    ).success
    (fresh,) = job.execute_in_process(instance=dagster_instance).get_asset_check_evaluations()
    assert fresh.passed and fresh.metadata["rows_for_due_session"].value == len(
        [r for r in DATA.today_rows(due) if r["securityId"] in universe]
    )


def _universe_checks(
    instance: dg.DagsterInstance, tmp_path: Path, nepse: InMemoryNepseResource, **targets: object
) -> tuple[dict[str, dg.AssetCheckEvaluation], dict[str, str]]:
    resources = {
        "nepse": nepse,
        "warehouse": WarehouseResource(database_url=f"sqlite:///{tmp_path / 'universe.db'}"),
        "check_targets": CheckTargetsResource(**{"universe_target": 259, **targets}),
    }
    result = dg.materialize([company_universe], instance=instance, resources=resources)
    assert result.success
    engine = create_warehouse_engine(resources["warehouse"].database_url)
    with engine.connect() as conn:
        reasons = dict(conn.execute(select(companies.c.symbol, companies.c.reason)).all())
    engine.dispose()
    return {c.check_name: c for c in result.get_asset_check_evaluations()}, reasons


def test_the_universe_equals_nepses_classification_and_auto_takes_its_count(
    dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    checks, _ = _universe_checks(
        dagster_instance, tmp_path, InMemoryNepseResource(), universe_target=1, universe_target_auto=True
    )
    matches = checks["universe_matches_nepse_classification"]
    assert matches.passed and matches.metadata["nepse_classification"].value == 259
    count = checks["universe_count_matches_target"]
    assert count.passed and count.metadata["target"].value == 259  # NEPSE's count, not the 1 configured
    assert str(count.metadata["target_source"].value).startswith("auto")


def test_a_company_nepse_does_not_classify_and_one_it_does_fail_the_check_naming_both(
    dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    # NABIL missing from NEPSE's list, and an active mutual fund of the real company list added to it.
    fund = next(c for c in DATA.companies if c["instrumentType"] == "Mutual Funds" and c["status"] == "A")
    nepse = InMemoryNepseResource(classification_missing=["NABIL"], classification_extra=[fund["symbol"]])
    checks, _ = _universe_checks(dagster_instance, tmp_path, nepse)
    failed = checks["universe_matches_nepse_classification"]
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert failed.metadata["only_in_universe"].value == ["NABIL (our rule: included)"]
    assert failed.metadata["only_in_nepse_classification"].value == [
        f"{fund['symbol']} (our rule: mutual_fund)"
    ]
    assert "Only in our universe: NABIL" in str(failed.description)


def test_a_company_nepse_does_not_permit_to_trade_leaves_the_universe(
    dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    nepse = InMemoryNepseResource(not_permitted_to_trade=["NABIL"])
    checks, reasons = _universe_checks(dagster_instance, tmp_path, nepse)
    assert reasons["NABIL"] == "not_permitted_to_trade"
    count = checks["universe_count_matches_target"]
    assert count.metadata["count"].value == 258 and not count.passed
    matches = checks["universe_matches_nepse_classification"]
    assert matches.passed  # NEPSE's comparable set is what it permits to trade
    assert matches.metadata["not_permitted_to_trade"].value == ["NABIL"]
