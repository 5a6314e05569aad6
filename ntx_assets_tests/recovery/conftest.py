"""Fixtures of the recovery tests: a stand-in of their own, the backfilled dates, and a clean reference
load of those dates with its checksum. Module scope: each test module gets its own, so that pytest-xdist
(--dist loadfile) can run the fault test and the crash test on different workers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import pytest

from ntx_assets.defs.prices.assets import daily_prices, indicators
from ntx_assets.defs.universe.assets import company_universe
from ntx_assets_tests.conftest import PG_ADMIN_URL
from ntx_assets_tests.pinned import PINNED_TODAY
from ntx_assets_tests.recovery.support import DATES, nepse_resources
from ntx_assets_tests.tools.bench.warehouse import scratch_postgres
from ntx_assets_tests.tools.harness.checksum import TableChecksum, checksum_of
from ntx_assets_tests.tools.harness.resources import QUIET
from ntx_assets_tests.tools.standin import FaultConfig, StandinConfig, StandinServer, running_standin


@pytest.fixture(scope="module")
def server() -> Iterator[StandinServer]:
    with running_standin(StandinConfig(seed=7, end_date=PINNED_TODAY, days=DATES + 30)) as running:
        yield running


@pytest.fixture(scope="module")
def dates(server: StandinServer) -> list[str]:
    """The DATES calendar dates before the stand-in's end date (the pinned today)."""
    last = server.data.end_date - dt.timedelta(days=1)
    return [(last - dt.timedelta(days=DATES - 1 - i)).isoformat() for i in range(DATES)]


@pytest.fixture(scope="module")
def clean_checksum(server: StandinServer, dates: list[str]) -> dict[str, TableChecksum]:
    """The reference: the same dates loaded in-process without a single fault."""
    server.set_faults(FaultConfig())
    tags = {"dagster/asset_partition_range_start": dates[0], "dagster/asset_partition_range_end": dates[-1]}
    with scratch_postgres(PG_ADMIN_URL) as url, dg.instance_for_test() as instance:
        resources = nepse_resources(server, url)
        assert dg.materialize([company_universe], instance=instance, resources=resources).success
        for asset in (daily_prices, indicators):
            assert dg.materialize(
                [asset], instance=instance, resources=resources, tags=tags, run_config=QUIET
            ).success
        checksum = checksum_of(url)
    # Not a vacuous reference: prices and indicators of every session, and the universe.
    assert checksum["companies"].rows > 0 and checksum["daily_prices"].rows > 0
    assert checksum["indicators"].rows == checksum["daily_prices"].rows
    return checksum
