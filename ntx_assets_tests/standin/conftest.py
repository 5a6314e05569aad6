from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from ntx_assets_tests.standin.salter import SalterClient, WasmCutter
from ntx_assets_tests.tools.standin import StandinConfig, StandinServer, running_standin

# A window that spans the 2026-04-06 switch from Sunday-Thursday to Monday-Friday.
END_DATE = date(2026, 5, 15)
OVERSIZE_BYTES = 3 * 1024 * 1024 + 17  # small enough to download in a test, odd to catch off-by-ones


@pytest.fixture(scope="session")
def server() -> Iterator[StandinServer]:
    config = StandinConfig(seed=7, end_date=END_DATE, days=365, oversize_bytes=OVERSIZE_BYTES)
    with running_standin(config) as running:
        yield running


@pytest.fixture(scope="session")
def cutter(server: StandinServer) -> WasmCutter:
    return WasmCutter(httpx.get(f"{server.base_url}/assets/prod/css.wasm").content)


@pytest.fixture
def client(server: StandinServer, cutter: WasmCutter) -> Iterator[SalterClient]:
    """A freshly proven client per test, so a test that expires tokens cannot disturb the next."""
    salter = SalterClient(server.base_url, cutter)
    yield salter
    salter.close()
