"""The freshness policy the UI shows on `screener` and `daily_prices`: the latest session by its close +
NTX_PRICES_FRESHNESS_GRACE_HOURS, evaluated by Dagster's own freshness daemon.

The policy's evaluation reads the clock, so each process here runs at a chosen instant under Debian's
libfaketime (with the suite's faketime_site shim for time.sleep): a screen materialized on Friday
2026-11-20 at 15:20 Nepal time is HEALTHY at 17:05 that Friday and over the weekend, and DEGRADED (FAIL) at
17:05 on Monday 2026-11-23, when Monday's session was missed. Every instant and process is the test's own
choice; nothing depends on the machine's date.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ntx_assets.common.clock import NEPAL_TZ
from ntx_assets_tests.faketime_compat import SITE
from ntx_assets_tests.tools.harness.deployment import REPO_ROOT, DagsterDeployment

pytestmark = pytest.mark.slow

DAGSTER_MATERIALIZE = (
    sys.executable,
    "-m",
    "dagster",
    "asset",
    "materialize",
    "-m",
    "ntx_assets.definitions",
)
LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
QUERY = """
query Freshness {
  assetNodes(assetKeys: [{path: ["screener"]}, {path: ["daily_prices"]}]) {
    assetKey { path }
    freshnessStatusInfo { freshnessStatus }
    internalFreshnessPolicy { ... on CronFreshnessPolicy { deadlineCron lowerBoundDeltaSeconds timezone } }
  }
}
"""


def at(instant: dt.datetime) -> dict[str, str]:
    """The environment of a process whose clock starts at `instant` (aware) and runs on from there."""
    if not LIBFAKETIME.exists():
        pytest.fail("Debian's faketime is not installed: `apt-get install faketime` (make test does it)")
    utc = instant.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    paths = [str(SITE), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {
        "LD_PRELOAD": str(LIBFAKETIME),
        "FAKETIME": f"@{utc}",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "TZ": "UTC",
        "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths)),
    }


def npt(*fields: int) -> dt.datetime:
    return dt.datetime(*fields, tzinfo=NEPAL_TZ)  # type: ignore[misc]


def status_at(home: Path, env: dict[str, str], instant: dt.datetime, expected: str) -> dict[str, dict]:
    """Start a webserver + daemon living at `instant` and return each asset's freshness as the UI's GraphQL
    API gives it, once the screener's is `expected` (the state stored by an earlier daemon stays until the
    freshness daemon of this one has evaluated), or after 120 s."""
    with DagsterDeployment(
        module="ntx_assets.definitions",
        dagster_home=home,
        env={**env, **at(instant), "FRESHNESS_DAEMON_INTERVAL_SECONDS": "2"},
        automation=False,
    ) as deployment:
        deadline = time.monotonic() + 120
        while True:
            nodes = {
                "/".join(node["assetKey"]["path"]): node for node in deployment.graphql(QUERY)["assetNodes"]
            }
            screener = nodes["screener"]["freshnessStatusInfo"]["freshnessStatus"]
            if screener == expected:
                # Still so after a few of this daemon's passes (2 s each): its verdict, not the last one's.
                time.sleep(3 * 2 + 1)
                return {
                    "/".join(node["assetKey"]["path"]): node
                    for node in deployment.graphql(QUERY)["assetNodes"]
                }
            if time.monotonic() > deadline:
                return nodes
            time.sleep(1)


def test_the_screener_is_fresh_after_a_timely_session_and_fails_when_a_session_is_missed(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")  # as make dev's home holds it
    env = {
        "NTX_DATA_DIR": str(tmp_path / "data"),
        "NTX_DATABASE_URL": f"sqlite:///{tmp_path / 'warehouse.db'}",
    }
    # Friday's screen, materialized at 15:20 Nepal time (its prices are not needed for the policy).
    materialize = subprocess.run(
        [*DAGSTER_MATERIALIZE, "--select", "screener", "--partition", "2026-11-20"],
        cwd=REPO_ROOT,
        env={**os.environ, **env, **at(npt(2026, 11, 20, 15, 20)), "DAGSTER_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert materialize.returncode == 0, materialize.stdout[-3000:] + materialize.stderr[-3000:]

    friday = status_at(home, env, npt(2026, 11, 20, 17, 5), "HEALTHY")
    policy = friday["screener"]["internalFreshnessPolicy"]
    assert policy == {
        "deadlineCron": "0 17 * * 1-5",
        "lowerBoundDeltaSeconds": 7200,
        "timezone": "Asia/Kathmandu",
    }
    assert friday["daily_prices"]["internalFreshnessPolicy"] == policy
    assert friday["screener"]["freshnessStatusInfo"]["freshnessStatus"] == "HEALTHY"

    # No session due on a Saturday: Friday's still counts.
    saturday = status_at(home, env, npt(2026, 11, 21, 12, 0), "HEALTHY")
    assert saturday["screener"]["freshnessStatusInfo"]["freshnessStatus"] == "HEALTHY"

    monday = status_at(home, env, npt(2026, 11, 23, 17, 5), "DEGRADED")  # Monday's session missed
    assert monday["screener"]["freshnessStatusInfo"]["freshnessStatus"] == "DEGRADED"
