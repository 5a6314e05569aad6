"""Backfills launched as the UI launches them: a real webserver and daemon, the UI's GraphQL mutation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import func, select

from ntx_assets.defs.partitions import session_date_partitions
from ntx_assets.defs.prices.assets import daily_prices as daily_prices_asset
from ntx_assets.defs.prices.assets import indicators as indicators_asset
from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.resources import NepseResource
from ntx_assets.warehouse import create_warehouse_engine
from ntx_assets.warehouse.schema import companies, daily_prices, indicators, screener
from ntx_assets_tests.pinned import subprocess_env_for
from ntx_assets_tests.prices.test_daily_prices import TODAY_PRICE, last_dates
from ntx_assets_tests.tools.harness.deployment import DagsterDeployment
from ntx_assets_tests.tools.harness.resources import STANDIN_UNIVERSE_TARGET, run_resources
from ntx_assets_tests.tools.standin import StandinServer


@pytest.mark.slow
@pytest.mark.postgres
def test_ui_backfill_of_20_dates_is_one_run_with_one_call_per_session(
    standin: StandinServer, pg_database_url: str, tmp_path: Path
) -> None:
    env = {
        "NTX_NEPSE_BASE_URL": standin.base_url,
        "NTX_DATABASE_URL": pg_database_url,
        "NTX_REQUESTS_PER_SECOND": "50",
        "NTX_UNIVERSE_TARGET": str(STANDIN_UNIVERSE_TARGET),
        **subprocess_env_for(standin.data.start_date),
    }
    first, last = last_dates(standin, 20)
    names = [(first + dt.timedelta(days=i)).isoformat() for i in range(20)]
    sessions = [d for d in standin.data.sessions if first <= d <= last]
    engine = create_warehouse_engine(pg_database_url)

    with DagsterDeployment(
        module="ntx_assets.definitions", dagster_home=tmp_path / "home", env=env
    ) as deployment:
        resources = run_resources(
            NepseResource(base_url=standin.base_url, requests_per_second=50.0), pg_database_url
        )
        assert dg.materialize([company_universe], instance=deployment.instance, resources=resources).success
        calls_before = standin.request_counts().get(TODAY_PRICE, 0)

        backfill = deployment.launch_partition_backfill(asset_keys=["daily_prices"], partition_names=names)
        result = deployment.wait_for_backfill(backfill, timeout=600)

        assert result.status == "COMPLETED_SUCCESS", result.describe()
        assert len(result.run_ids) == 1, result.describe()  # single-run backfill policy: ONE run for 20 dates
        # One call per session (one page each); at most one more when the payload-id variant the client
        # tries first is the wrong one for the day (it then remembers the right one).
        assert len(sessions) <= standin.request_counts()[TODAY_PRICE] - calls_before <= len(sessions) + 1
        materialized = deployment.instance.get_materialized_partitions(dg.AssetKey("daily_prices"))
        assert set(names) <= materialized

        with engine.connect() as conn:
            universe = set(
                conn.execute(select(companies.c.security_id).where(companies.c.included)).scalars()
            )
            stored = set(
                conn.execute(
                    # Only the backfill's dates: the deployment's sensors may load the newest session too.
                    select(
                        daily_prices.c.security_id, daily_prices.c.business_date, daily_prices.c.close
                    ).where(daily_prices.c.business_date.between(first, last))
                ).all()
            )
        expected = {
            (row["securityId"], d, row["closePrice"])
            for d in sessions
            for row in standin.data.today_prices(d)
            if row["securityId"] in universe
        }
        assert stored == expected

    engine.dispose()


@pytest.mark.slow
def test_ui_backfill_of_prices_and_indicators_ending_before_the_newest_partition_is_one_run(
    standin: StandinServer, tmp_path: Path
) -> None:
    """The range ends days before the newest partition (today): prices and indicators still land in ONE
    run, and indicators are computed for the selected dates only (none of the later ones)."""
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    env = {
        "NTX_NEPSE_BASE_URL": standin.base_url,
        "NTX_DATABASE_URL": url,
        "NTX_REQUESTS_PER_SECOND": "50",
        "NTX_UNIVERSE_TARGET": str(STANDIN_UNIVERSE_TARGET),
        **subprocess_env_for(standin.data.start_date),
    }
    first, last = last_dates(standin, 8)
    last -= dt.timedelta(days=3)  # a few days before the stand-in's last session, and before today
    names = [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    sessions = [d for d in standin.data.sessions if first <= d <= last]

    with DagsterDeployment(
        module="ntx_assets.definitions", dagster_home=tmp_path / "home", env=env, automation=False
    ) as deployment:
        resources = run_resources(NepseResource(base_url=standin.base_url, requests_per_second=50.0), url)
        assert dg.materialize([company_universe], instance=deployment.instance, resources=resources).success
        backfill = deployment.launch_partition_backfill(
            asset_keys=["daily_prices", "indicators"], partition_names=names
        )
        result = deployment.wait_for_backfill(backfill, timeout=600)

        assert result.status == "COMPLETED_SUCCESS", result.describe()
        assert len(result.run_ids) == 1, result.describe()
        run = deployment.instance.get_run_by_id(result.run_ids[0])
        assert run is not None and run.asset_selection == {
            dg.AssetKey("daily_prices"),
            dg.AssetKey("indicators"),
        }
        assert deployment.instance.get_materialized_partitions(dg.AssetKey("indicators")) == set(names)
        assert set(names) <= deployment.instance.get_materialized_partitions(dg.AssetKey("daily_prices"))

    engine = create_warehouse_engine(url)
    with engine.connect() as conn:
        computed = set(conn.execute(select(indicators.c.business_date).distinct()).scalars())
    engine.dispose()
    assert computed == set(sessions)


@pytest.mark.slow
def test_ui_backfill_of_a_years_screener_is_one_run(standin: StandinServer, tmp_path: Path) -> None:
    """Every date of the stand-in's year before today (from the first partition), launched as the UI
    launches a backfill: ONE run, every date materialized, one row per company for each session (none for
    weekends and holidays)."""
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    env = {
        "NTX_NEPSE_BASE_URL": standin.base_url,
        "NTX_DATABASE_URL": url,
        "NTX_UNIVERSE_TARGET": str(STANDIN_UNIVERSE_TARGET),
        **subprocess_env_for(standin.data.start_date),
    }
    # The stand-in's year, from the partitions' first date (NTX_HISTORY_START) on.
    first = max(
        standin.data.start_date, dt.date.fromisoformat(session_date_partitions.get_first_partition_key())
    )
    last = standin.data.end_date - dt.timedelta(days=1)
    names = [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    sessions = [d for d in standin.data.sessions if first <= d <= last]
    resources = run_resources(NepseResource(base_url=standin.base_url, requests_per_second=100.0), url)
    tags = {"dagster/asset_partition_range_start": names[0], "dagster/asset_partition_range_end": names[-1]}
    with dg.instance_for_test() as loading:
        assert dg.materialize([company_universe], instance=loading, resources=resources).success
        for asset in (daily_prices_asset, indicators_asset):
            assert dg.materialize([asset], instance=loading, resources=resources, tags=tags).success

    with DagsterDeployment(
        module="ntx_assets.definitions", dagster_home=tmp_path / "home", env=env, automation=False
    ) as deployment:
        backfill = deployment.launch_partition_backfill(asset_keys=["screener"], partition_names=names)
        result = deployment.wait_for_backfill(backfill, timeout=600)
        assert result.status == "COMPLETED_SUCCESS", result.describe()
        assert len(result.run_ids) == 1, result.describe()  # a year of dates: ONE run
        assert deployment.instance.get_materialized_partitions(dg.AssetKey("screener")) == set(names)

    engine = create_warehouse_engine(url)
    with engine.connect() as conn:
        per_session = dict(
            conn.execute(
                select(screener.c.session_date, func.count()).group_by(screener.c.session_date)
            ).all()
        )
        included = conn.execute(select(func.count()).where(companies.c.included)).scalar_one()
    engine.dispose()
    assert per_session == dict.fromkeys(sessions, included) and len(sessions) > 200
