"""What the recovery tests share: the backfilled dates, the resources and deployment their runs use, and
the checksum they compare with a clean load's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from ntx_assets.resources import NepseResource
from ntx_assets_tests.pinned import subprocess_env_for
from ntx_assets_tests.tools.harness.deployment import DagsterDeployment
from ntx_assets_tests.tools.harness.resources import STANDIN_UNIVERSE_TARGET, run_resources
from ntx_assets_tests.tools.standin import StandinServer

DATES = 60  # ~40 sessions: each is one POST, the only requests an empty 200 can hit
ASSETS = ["daily_prices", "indicators"]
# At 18% faults per request, 6 attempts (the default) lose a call once in ~30,000; 10 keep the test's
# ~300 calls safe from a run of bad luck without hiding a fault the client mishandles (that fails always).
MAX_ATTEMPTS = 10


def nepse_resources(server: StandinServer, url: str) -> dict[str, Any]:
    return run_resources(
        NepseResource(base_url=server.base_url, requests_per_second=50.0, max_attempts=MAX_ATTEMPTS), url
    )


def deployment_for(server: StandinServer, url: str, home: Path, *, rate: float) -> DagsterDeployment:
    env = {
        "NTX_NEPSE_BASE_URL": server.base_url,
        "NTX_DATABASE_URL": url,
        "NTX_REQUESTS_PER_SECOND": f"{rate:g}",
        "NTX_UNIVERSE_TARGET": str(STANDIN_UNIVERSE_TARGET),
        "NTX_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        # The daemon and run workers live on the real clock; the stand-in's dates are the pinned ones.
        **subprocess_env_for(server.data.start_date),
    }
    return DagsterDeployment(
        module="ntx_assets.definitions",
        dagster_home=home,
        env=env,
        automation=False,
        backfill_interval_seconds=2.0,
    )


def assert_every_partition_materialized(deployment: DagsterDeployment, dates: list[str]) -> None:
    for asset in ASSETS:
        materialized = deployment.instance.get_materialized_partitions(dg.AssetKey(asset))
        assert set(dates) <= materialized, f"{asset}: missing {sorted(set(dates) - materialized)}"
