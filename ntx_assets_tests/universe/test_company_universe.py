from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest
from sqlalchemy import select, update

from ntx_assets.defs.universe.assets import company_universe, only_ordinary_shares, symbols_unique
from ntx_assets.resources import CheckTargetsResource, NepseResource, WarehouseResource
from ntx_assets.universe.rule import included_symbols
from ntx_assets.warehouse import create_warehouse_engine, migrate
from ntx_assets.warehouse.schema import companies, company_symbols
from ntx_assets_tests.conftest import fast_nepse_resource
from ntx_assets_tests.pinned import PINNED_TODAY
from ntx_assets_tests.tools.standin import StandinConfig, StandinServer, running_standin
from ntx_assets_tests.universe.classified import classify


def _materialize(
    instance: dg.DagsterInstance, nepse: NepseResource, database_url: str, target: int = 259
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [company_universe],
        instance=instance,
        resources={
            "nepse": nepse,
            "warehouse": WarehouseResource(database_url=database_url),
            "check_targets": CheckTargetsResource(universe_target=target),
        },
    )


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {c.check_name: c for c in result.get_asset_check_evaluations()}


def _expected_symbols(standin: StandinServer) -> set[str]:
    return set(
        included_symbols(classify(standin.data.companies, standin.data.securities, standin.data.promoters))
    )


@pytest.mark.postgres
def test_universe_against_standin_and_postgres_passes_with_target_259_and_fails_with_264(
    standin: StandinServer,
    nepse_resource: NepseResource,
    pg_database_url: str,
    dagster_instance: dg.DagsterInstance,
) -> None:
    first = _materialize(dagster_instance, nepse_resource, pg_database_url, target=259)
    assert first.success
    count = _checks(first)["universe_count_matches_target"]
    assert count.passed and count.metadata["count"].value == 259
    assert _checks(first)["universe_has_only_ordinary_shares"].passed
    assert _checks(first)["universe_symbols_unique"].passed

    second = _materialize(dagster_instance, nepse_resource, pg_database_url, target=264)
    failed = _checks(second)["universe_count_matches_target"]
    assert not failed.passed
    assert failed.severity == dg.AssetCheckSeverity.ERROR
    assert failed.metadata["difference"].value == -5
    assert failed.description == "259 companies listed, target 264 (-5)"


def test_universe_rows_partitions_and_idempotence(
    standin: StandinServer,
    nepse_resource: NepseResource,
    database_url: str,
    dagster_instance: dg.DagsterInstance,
) -> None:
    first = _materialize(dagster_instance, nepse_resource, database_url)
    metadata = first.asset_materializations_for_node("company_universe")[0].metadata
    expected = _expected_symbols(standin)
    assert len(expected) == 259

    engine = create_warehouse_engine(database_url)
    with engine.connect() as conn:
        stored = set(conn.execute(select(companies.c.symbol).where(companies.c.included)).scalars())
        excluded = dict(
            conn.execute(select(companies.c.symbol, companies.c.reason).where(~companies.c.included)).all()
        )
        nabil = conn.execute(select(companies).where(companies.c.symbol == "NABIL")).mappings().one()
    assert stored == expected
    assert excluded["NABILP"] == "promoter_share" if "NABILP" in excluded else True
    assert all(reason != "included" for reason in excluded.values())
    assert (
        nabil["security_id"] == 131
        and nabil["listing_date"] is not None
        and nabil["profile_fetched_at"] is not None
    )
    assert set(dagster_instance.get_dynamic_partitions("symbol")) == expected
    assert metadata["included"].value == 259
    assert metadata["companies_inserted"].value == metadata["securities_seen"].value
    assert metadata["profiles_fetched"].value == 259

    calls_before = standin.request_counts().get("GET /api/nots/security/profile/{id}", 0)
    second = _materialize(dagster_instance, nepse_resource, database_url)
    again = second.asset_materializations_for_node("company_universe")[0].metadata
    assert again["companies_inserted"].value == 0
    assert again["companies_updated"].value == 0
    assert again["companies_unchanged"].value == metadata["securities_seen"].value
    assert again["profiles_fetched"].value == 0
    assert standin.request_counts().get("GET /api/nots/security/profile/{id}", 0) == calls_before
    assert set(dagster_instance.get_dynamic_partitions("symbol")) == expected
    engine.dispose()


def test_renamed_symbol_keeps_its_id_history(
    nepse_resource: NepseResource, database_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    # As if an earlier run saw security 132 as NIB, before its merger renamed it NIMB.
    engine = create_warehouse_engine(database_url)
    migrate(engine)

    with engine.begin() as conn:
        conn.execute(
            companies.insert().values(
                security_id=132,
                symbol="NIB",
                name="Nepal Investment Bank",
                included=True,
                reason="included",
                status="A",
                instrument_type="Equity",
                first_seen=dt.date(2021, 1, 1),
                last_seen=dt.date(2021, 1, 1),
            )
        )
        conn.execute(
            company_symbols.insert().values(security_id=132, symbol="NIB", first_seen=dt.date(2021, 1, 1))
        )
    dagster_instance.add_dynamic_partitions("symbol", ["NIB"])

    result = _materialize(dagster_instance, nepse_resource, database_url)
    metadata = result.asset_materializations_for_node("company_universe")[0].metadata
    with engine.connect() as conn:
        company = conn.execute(select(companies).where(companies.c.security_id == 132)).mappings().one()
        symbols = set(
            conn.execute(
                select(company_symbols.c.symbol).where(company_symbols.c.security_id == 132)
            ).scalars()
        )
    assert company["symbol"] == "NIMB"
    assert company["first_seen"] == dt.date(2021, 1, 1)
    assert symbols == {"NIB", "NIMB"}
    assert "NIB" in metadata["symbols_removed"].value and "NIMB" in metadata["symbols_added"].value
    partitions = set(dagster_instance.get_dynamic_partitions("symbol"))
    assert "NIMB" in partitions and "NIB" not in partitions
    engine.dispose()


def _stale_row(engine, **values: object) -> None:  # type: ignore[no-untyped-def]
    """A row an earlier run left included, for a security NEPSE no longer lists."""
    migrate(engine)
    row = {
        "security_id": 990_001,
        "symbol": "STALE",
        "name": "Stale Company Limited",
        "included": True,
        "reason": "included",
        "status": "A",
        "instrument_type": "Equity",
        "first_seen": dt.date(2024, 1, 1),
        "last_seen": dt.date(2024, 1, 1),
        # Its profile was fetched when it was listed: the run asks NEPSE nothing about it.
        "profile_fetched_at": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        **values,
    }
    with engine.begin() as conn:
        conn.execute(companies.insert().values(**row))


def test_a_security_no_list_carries_leaves_the_universe_as_not_listed(
    nepse_resource: NepseResource, database_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    engine = create_warehouse_engine(database_url)
    _stale_row(engine)
    dagster_instance.add_dynamic_partitions("symbol", ["STALE"])
    result = _materialize(dagster_instance, nepse_resource, database_url)
    with engine.connect() as conn:
        stale = conn.execute(select(companies).where(companies.c.security_id == 990_001)).mappings().one()
    engine.dispose()
    assert (stale["included"], stale["reason"]) == (False, "not_listed")
    assert stale["first_seen"] == stale["last_seen"] == dt.date(2024, 1, 1)  # the row and its history stay
    metadata = result.asset_materializations_for_node("company_universe")[0].metadata
    assert metadata["not_listed_any_more"].value == ["STALE"]
    assert "STALE" not in dagster_instance.get_dynamic_partitions("symbol")
    assert all(
        check.passed
        for check in _checks(result).values()
        if check.check_name != "universe_count_matches_target"
    )


def _universe_then(
    database_url: str, nepse: NepseResource, instance: dg.DagsterInstance, corrupt: str
) -> dg.AssetCheckResult:
    """The materialized universe, one hand-corrupted row, then the named check on the stored rows."""
    assert _materialize(instance, nepse, database_url).success
    engine = create_warehouse_engine(database_url)
    with engine.begin() as conn:
        if corrupt == "fund":
            conn.execute(
                update(companies).where(companies.c.symbol == "NABIL").values(instrument_type="Mutual Fund")
            )
        else:
            conn.execute(update(companies).where(companies.c.symbol == "NICA").values(symbol="NABIL"))
    with engine.connect() as conn:
        outcome = only_ordinary_shares(conn) if corrupt == "fund" else symbols_unique(conn)
        other = symbols_unique(conn) if corrupt == "fund" else only_ordinary_shares(conn)
    engine.dispose()
    assert other.passed  # the other check is not fooled into failing too
    return outcome


def test_only_ordinary_shares_fails_naming_an_included_fund(
    nepse_resource: NepseResource, database_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    failed = _universe_then(database_url, nepse_resource, dagster_instance, "fund")
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert failed.metadata["offenders"].value == [["NABIL", "Mutual Fund", "A"]]


def test_symbols_unique_fails_naming_a_symbol_two_included_securities_carry(
    nepse_resource: NepseResource, database_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    failed = _universe_then(database_url, nepse_resource, dagster_instance, "duplicate")
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert failed.metadata["duplicates"].value == ["NABIL"]


def test_the_classification_check_against_a_standin_told_to_differ(
    sqlite_database_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    """Over HTTP, every page: the stand-in's classification list leaves out NABIL."""
    config = StandinConfig(seed=7, end_date=PINNED_TODAY, classification_missing=("NABIL",))
    with running_standin(config) as server:
        assert len(server.data.classification) == 258
        result = _materialize(dagster_instance, fast_nepse_resource(server.base_url), sqlite_database_url)
    checks = _checks(result)
    failed = checks["universe_matches_nepse_classification"]
    assert not failed.passed
    assert failed.metadata["only_in_universe"].value == ["NABIL (our rule: included)"]
    assert failed.metadata["nepse_classification"].value == 258
    assert checks["universe_count_matches_target"].passed  # the count check alone would not notice
