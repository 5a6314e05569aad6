from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import func, select

from ntx_assets.definitions import defs
from ntx_assets.defs.prices.assets import indicators
from ntx_assets.resources import WarehouseResource
from ntx_assets.warehouse import create_warehouse_engine, migrate, upsert
from ntx_assets.warehouse.schema import daily_prices
from ntx_assets.warehouse.schema import indicators as indicators_table
from ntx_assets_tests.conftest import error_chain

REPO = Path(__file__).parents[1]

EVERY_ASSET = {
    "company_universe",
    "daily_prices",
    "nepse_index",
    "indicators",
    "filings",
    "artifacts",
    "report_ratios",
    "corporate_actions",
    "price_adjustments",
    "price_archive",
    "screener",
}


def test_definitions_load_with_every_asset_check_sensor_schedule_and_job() -> None:
    loaded = defs()
    dg.Definitions.validate_loadable(loaded)
    graph = loaded.resolve_asset_graph()
    assert {key.to_user_string() for key in loaded.resolve_all_asset_keys()} == EVERY_ASSET
    assert {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys} == {
        ("company_universe", "universe_count_matches_target"),
        ("company_universe", "universe_has_only_ordinary_shares"),
        ("company_universe", "universe_matches_nepse_classification"),
        ("company_universe", "universe_symbols_unique"),
        ("daily_prices", "daily_prices_are_consistent"),
        ("daily_prices", "daily_prices_fresh"),
        ("nepse_index", "nepse_index_has_every_session"),
        ("indicators", "every_price_row_has_indicators"),
        ("artifacts", "every_document_has_artifact_or_failure"),
        ("artifacts", "stored_artifacts_match_sha256"),
        ("report_ratios", "report_ratios_every_document_has_a_reading"),
        ("price_adjustments", "rebasings_explained"),
        ("price_archive", "price_archive_agrees_with_nepse"),
        ("price_archive", "price_archive_every_file_read"),
        ("screener", "screener_one_row_per_included_company"),
        ("screener", "screener_ratios_finite"),
        ("screener", "screener_rows_current"),
    }
    assert {sensor.name for sensor in loaded.sensors or ()} == {
        "new_session_sensor",
        "automation_sensor",
        "later_indicators_sensor",
        "new_documents_sensor",
        "rebasing_sensor",
    }
    assert {schedule.name for schedule in loaded.schedules or ()} == {
        "daily_prices_freshness_schedule",
        "filings_refresh_schedule",
    }
    assert {job.name for job in loaded.jobs or ()} == {
        "new_session_job",
        "later_indicators_job",
        "filings_refresh_job",
        "artifacts_job",
        "daily_prices_freshness_job",
        "price_adjustments_job",
    }


@pytest.mark.slow  # a dagster CLI process per case
@pytest.mark.parametrize("module", ["ntx_assets", "ntx_assets.definitions"])
def test_the_cli_loads_the_location_from_the_package_or_its_definitions_module(
    module: str, tmp_path: Path
) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    listed = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "asset", "list", "-m", module],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert set(listed.stdout.split()) == EVERY_ASSET


def test_importing_a_pure_module_does_not_load_dagster() -> None:
    probe = (
        "import sys, ntx_assets.nepse, ntx_assets.prices.indicators, ntx_assets.prices.sessions, "
        "ntx_assets.prices.adjustments, ntx_assets.universe.rule, ntx_assets.prices.daily_rows, "
        "ntx_assets.filings.reports, ntx_assets.corporate_actions.announcements, ntx_assets.common.clock; "
        "print('dagster' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_the_product_loads_without_its_tools() -> None:
    """The code location imports none of the tools (stand-in, harness, demo, bench) nor their servers, and
    the installed package declares none of their dependencies."""
    probe = (
        "import sys; from ntx_assets.definitions import defs; defs(); "
        "print(sorted(m for m in ('ntx_assets_tests', 'starlette', 'uvicorn') if m in sys.modules))"
    )
    # Run outside the repository, where ntx_assets_tests cannot be imported by accident.
    done = subprocess.run([sys.executable, "-c", probe], cwd="/", capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr
    requires = importlib.metadata.requires("ntx_assets") or []
    runtime = [r for r in requires if "extra ==" not in r]
    assert not [r for r in runtime if r.lower().startswith(("starlette", "uvicorn", "pyyaml"))], runtime


def test_api_calling_assets_share_the_nepse_api_pool() -> None:
    graph = defs().resolve_asset_graph()
    pools = {key.to_user_string(): graph.get(key).pools for key in graph.materializable_asset_keys}
    assert pools["company_universe"] == {"nepse_api"}
    assert pools["daily_prices"] == {"nepse_api"}
    assert pools["corporate_actions"] == {"nepse_api"}
    assert not pools["indicators"]  # reads the warehouse only
    assert not pools["price_adjustments"]


def test_a_bad_setting_fails_definitions_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NTX_REQUESTS_PER_SECOND", "-1")
    with pytest.raises(Exception) as info:
        defs()
    chain = error_chain(info.value)
    assert any("NTX_REQUESTS_PER_SECOND='-1': Input should be greater than 0" in text for text in chain)


@pytest.mark.postgres
def test_postgres_instance_variant_runs_a_materialization(
    pg_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The documented PostgreSQL variant of dagster.yaml, loaded as a user would, on a throwaway database.
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "ntx_assets/deploy/dagster-postgres.yaml", home / "dagster.yaml")
    database = pg_database_url.rsplit("/", 1)[1]
    for name, value in {
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_DB": database,
    }.items():
        monkeypatch.setenv(name, value)

    warehouse_url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    engine = create_warehouse_engine(warehouse_url)
    migrate(engine)
    with engine.begin() as conn:
        upsert(
            conn,
            daily_prices,
            [
                {
                    "security_id": 131,
                    "business_date": dt.date(2025, 12, 2),
                    "symbol": "NABIL",
                    "high": 515.0,
                    "low": 510.0,
                    "close": 512.0,
                    "volume": 100,
                    "turnover": 51200.0,
                }
            ],
        )

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        result = dg.materialize(
            [indicators],
            partition_key="2025-12-02",
            resources={"warehouse": WarehouseResource(database_url=warehouse_url)},
            instance=instance,
        )
        assert result.success
        assert instance.get_runs_count() == 1
        assert instance.get_latest_materialization_event(dg.AssetKey("indicators")) is not None
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(indicators_table)).scalar_one() == 1
    engine.dispose()


def test_nepse_index_runs_on_its_cron_after_the_close_outside_the_session_job() -> None:
    """The index refresh is its own daily run at 16:00 Kathmandu (after the 15:00 close, whichever trading
    week is in force), paced with the other NEPSE callers, and new_session_job does not carry it."""
    loaded = defs()
    key = dg.AssetKey("nepse_index")
    spec = next(spec for spec in loaded.resolve_all_asset_specs() if spec.key == key)
    assert spec.group_name == "prices" and spec.kinds == {"python", "sql"}
    assert spec.automation_condition == dg.AutomationCondition.on_cron("0 16 * * *", "Asia/Kathmandu")
    assert loaded.resolve_assets_def(key).op.pool == "nepse_api"
    job = loaded.resolve_job_def("new_session_job")
    assert key not in job.asset_layer.selected_asset_keys
