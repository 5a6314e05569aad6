from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from ntx_assets_tests.standin.salter import SalterClient
from ntx_assets_tests.tools.standin import FaultConfig, StandinConfig, StandinServer, running_standin

COMPANIES = "/api/nots/company/list"


@pytest.fixture(scope="module")
def fault_server() -> Iterator[StandinServer]:
    with running_standin(StandinConfig(seed=3, end_date=date(2026, 5, 15), days=30)) as running:
        yield running


@pytest.fixture
def faulty(fault_server: StandinServer) -> Iterator[SalterClient]:
    fault_server.set_faults(FaultConfig())
    client = SalterClient(fault_server.base_url)
    yield client
    client.close()
    fault_server.set_faults(FaultConfig())


def test_429_with_retry_after(fault_server: StandinServer, faulty: SalterClient) -> None:
    fault_server.set_faults(FaultConfig(rate_429=1.0, retry_after_seconds=3))
    response = faulty.get(COMPANIES)
    assert response.status_code == 429 and response.headers["retry-after"] == "3"


def test_500_and_502(fault_server: StandinServer, faulty: SalterClient) -> None:
    fault_server.set_faults(FaultConfig(rate_500=1.0))
    assert faulty.get(COMPANIES).status_code == 500
    fault_server.set_faults(FaultConfig(rate_502=1.0))
    response = faulty.get(COMPANIES)
    assert response.status_code == 502 and b"502 Bad Gateway" in response.content


def test_dropped_connection(fault_server: StandinServer, faulty: SalterClient) -> None:
    fault_server.set_faults(FaultConfig(rate_drop=1.0))
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        faulty.get(COMPANIES)
    fault_server.set_faults(FaultConfig())
    assert faulty.get(COMPANIES).status_code == 200  # the server itself carries on


def test_slow_answer(fault_server: StandinServer, faulty: SalterClient) -> None:
    fault_server.set_faults(FaultConfig(rate_slow=1.0, slow_seconds=2.0))
    impatient = httpx.Client(base_url=fault_server.base_url, timeout=0.2)
    try:
        with pytest.raises(httpx.ReadTimeout):
            impatient.get(COMPANIES, headers=faulty.headers)
    finally:
        impatient.close()


def test_empty_200_hits_posts_only(fault_server: StandinServer, faulty: SalterClient) -> None:
    fault_server.set_faults(FaultConfig(rate_empty_200=1.0))
    response = faulty.today_price()
    assert response.status_code == 200 and response.content == b""
    assert faulty.get(COMPANIES).status_code == 200


def test_truncated_json(fault_server: StandinServer, faulty: SalterClient) -> None:
    full = faulty.get(COMPANIES).content
    fault_server.set_faults(FaultConfig(rate_truncated_json=1.0))
    response = faulty.get(COMPANIES)
    assert response.status_code == 200
    assert response.content == full[: len(full) // 2]
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_forced_token_expiry(fault_server: StandinServer, faulty: SalterClient) -> None:
    fault_server.set_faults(FaultConfig(expire_token_every=3))
    statuses = [faulty.get(COMPANIES).status_code for _ in range(3)]
    assert statuses == [200, 200, 401]
    assert faulty.get(COMPANIES).status_code == 401  # the token stays stale
    faulty.prove()
    assert faulty.get(COMPANIES).status_code == 200


def test_auth_endpoints_are_spared_unless_configured(
    fault_server: StandinServer, faulty: SalterClient
) -> None:
    fault_server.set_faults(FaultConfig(rate_500=1.0))
    assert faulty.http.get("/api/authenticate/prove").status_code == 200
    assert faulty.http.get("/assets/prod/css.wasm").status_code == 200
    fault_server.set_faults(FaultConfig(rate_500=1.0, apply_to_auth=True))
    assert faulty.http.get("/api/authenticate/prove").status_code == 500


def test_fault_rates_are_seeded(fault_server: StandinServer, faulty: SalterClient) -> None:
    def run() -> list[int]:
        fault_server.set_faults(FaultConfig(rate_500=0.3, rate_502=0.2, seed=5))
        return [faulty.get("/api/nots/holiday/year").status_code for _ in range(40)]

    first = run()
    assert first == run()
    assert {200, 500, 502} <= set(first)


def test_invalid_fault_config_is_refused() -> None:
    with pytest.raises(ValueError):
        FaultConfig(rate_500=0.7, rate_502=0.5)
    with pytest.raises(ValueError):
        FaultConfig(rate_429=-0.1)


def test_rate_limit() -> None:
    config = StandinConfig(seed=3, end_date=date(2026, 5, 15), days=20, rate_limit_per_second=2.0)
    with running_standin(config) as limited:
        client = httpx.Client(base_url=limited.base_url)
        responses = [client.get("/api/authenticate/prove") for _ in range(8)]
        client.close()
    throttled = [r for r in responses if r.status_code == 429]
    assert throttled and int(throttled[0].headers["retry-after"]) >= 1
    assert responses[0].status_code == 200


def test_request_counts_by_route_template(fault_server: StandinServer, faulty: SalterClient) -> None:
    fault_server.reset_counts()
    faulty.get(COMPANIES)
    faulty.get("/api/nots/security/profile/131")
    faulty.get("/api/nots/security/profile/133")
    faulty.today_price()
    counts = fault_server.request_counts()
    assert counts["GET /api/nots/company/list"] == 1
    assert counts["GET /api/nots/security/profile/{id}"] == 2
    assert counts["POST /api/nots/nepse-data/today-price"] == 1
    assert counts["GET /api/nots/nepse-data/market-open"] == 1  # the client looked up the market id
    fault_server.reset_counts()
    assert fault_server.request_counts() == {}


def test_injected_faults_are_tallied_by_kind(fault_server: StandinServer, faulty: SalterClient) -> None:
    fault_server.set_faults(FaultConfig(rate_500=1.0, rate_slow=1.0, slow_seconds=0.0))
    for _ in range(3):
        assert faulty.get(COMPANIES).status_code == 500
    assert fault_server.injected_faults() == {"500": 3, "slow": 3}
    fault_server.set_faults(FaultConfig(expire_token_every=2))
    assert [faulty.get(COMPANIES).status_code for _ in range(2)] == [200, 401]
    assert fault_server.injected_faults() == {"token_expired": 1}
    fault_server.set_faults(FaultConfig())
    assert fault_server.injected_faults() == {}
