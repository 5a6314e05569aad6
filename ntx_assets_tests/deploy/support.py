"""What the deployment tests share: a stand-in window, the environment of the production processes, a
clean reference load and the warehouse's contents at a moment."""

from __future__ import annotations

import datetime as dt
from typing import Any

import dagster as dg
from sqlalchemy import func, select

from ntx_assets.defs.prices.assets import daily_prices, indicators
from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.resources import NepseResource
from ntx_assets.warehouse import create_warehouse_engine
from ntx_assets.warehouse.schema import daily_prices as prices_table
from ntx_assets_tests.pinned import PINNED_TODAY, subprocess_env_for
from ntx_assets_tests.tools.harness.checksum import TableChecksum, checksum_of
from ntx_assets_tests.tools.harness.production import postgres_env
from ntx_assets_tests.tools.harness.resources import QUIET, STANDIN_UNIVERSE_TARGET, run_resources
from ntx_assets_tests.tools.standin import StandinConfig, StandinServer


def standin_config(dates: int) -> StandinConfig:
    return StandinConfig(seed=7, end_date=PINNED_TODAY, days=dates + 30)


def backfill_dates(server: StandinServer, count: int) -> list[str]:
    """The `count` calendar dates before the stand-in's end date (the pinned today)."""
    last = server.data.end_date - dt.timedelta(days=1)
    return [(last - dt.timedelta(days=count - 1 - i)).isoformat() for i in range(count)]


def production_env(
    server: StandinServer, dagster_db_url: str, warehouse_url: str, rate: float
) -> dict[str, str]:
    """Environment of the code server, webserver and daemon (the runs inherit the code server's)."""
    return {
        **postgres_env(dagster_db_url),
        "NTX_DATABASE_URL": warehouse_url,
        "NTX_NEPSE_BASE_URL": server.base_url,
        "NTX_REQUESTS_PER_SECOND": f"{rate:g}",
        "NTX_UNIVERSE_TARGET": str(STANDIN_UNIVERSE_TARGET),
        # The processes live on the real clock; the stand-in's dates are the pinned ones.
        **subprocess_env_for(server.data.start_date),
    }


def resources(server: StandinServer, url: str) -> dict[str, Any]:
    return run_resources(NepseResource(base_url=server.base_url, requests_per_second=50.0), url)


def stored_dates(url: str) -> int:
    """Distinct session dates in daily_prices."""
    engine = create_warehouse_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count(func.distinct(prices_table.c.business_date)))).scalar_one()
    finally:
        engine.dispose()


def clean_load(server: StandinServer, dates: list[str], url: str) -> dict[str, TableChecksum]:
    """The reference: the universe, then prices and indicators of `dates`, in-process, fault-free."""
    tags = {"dagster/asset_partition_range_start": dates[0], "dagster/asset_partition_range_end": dates[-1]}
    with dg.instance_for_test() as instance:
        assert dg.materialize([company_universe], instance=instance, resources=resources(server, url)).success
        for asset in (daily_prices, indicators):
            assert dg.materialize(
                [asset], instance=instance, resources=resources(server, url), tags=tags, run_config=QUIET
            ).success
    checksum = checksum_of(url)
    assert checksum["daily_prices"].rows > 0
    assert checksum["indicators"].rows == checksum["daily_prices"].rows
    return checksum
