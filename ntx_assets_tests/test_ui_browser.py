"""The Dagster UI on the project's definitions, opened in headless Chromium (Debian's chromium package)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ntx_assets.devtools.deployment import DagsterDeployment

REPO = Path(__file__).parents[1]
SCREENSHOT = REPO / "build" / "screenshots" / "asset_lineage.png"
ASSETS = ("company_universe", "daily_prices", "indicators", "filings", "artifacts")


def _chromium(url: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("Debian's chromium is not installed: `apt-get install chromium` (make test does it)")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        # This machine's network is closed: without these Chromium keeps dialling Google's services.
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        # Let the single-page app fetch its GraphQL data and render before the DOM is read.
        "--virtual-time-budget=20000",
        "--window-size=1600,1000",
    ]
    return subprocess.run(
        [binary, *flags, *args, url], capture_output=True, text=True, timeout=180, check=True
    )


@pytest.mark.slow
def test_asset_lineage_shows_the_five_assets_in_headless_chromium(tmp_path: Path) -> None:
    with DagsterDeployment(
        module="ntx_assets.definitions", dagster_home=tmp_path / "home", env={"NTX_DATA_DIR": str(tmp_path)}
    ) as deployment:
        url = f"{deployment.url}/assets?view=lineage"
        dom = _chromium(url, tmp_path / "profile-dom", "--dump-dom").stdout
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        _chromium(url, tmp_path / "profile-shot", f"--screenshot={SCREENSHOT}")
    missing = [name for name in ASSETS if name not in dom]
    assert not missing, f"asset lineage page lacks {missing}"
    assert SCREENSHOT.stat().st_size > 10_000  # a rendered page, not a blank one
