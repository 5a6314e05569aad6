from __future__ import annotations

import random

import httpx

from ntx_assets_tests.standin.salter import SalterClient, WasmCutter, clean
from ntx_assets_tests.tools.standin import StandinServer
from ntx_assets_tests.tools.standin.tokens import TokenStore, insert_decoys, strip_decoys
from ntx_assets_tests.tools.standin.wasm import cut_indexer, wasm_bytes

RANGES = [(25, 31), (36, 59), (64, 87), (91, 106), (113, 128)]
MARKET_OPEN = "/api/nots/nepse-data/market-open"


def test_wasm_is_served_as_application_wasm(server: StandinServer) -> None:
    response = httpx.get(f"{server.base_url}/assets/prod/css.wasm")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/wasm"
    assert response.content[:4] == b"\x00asm"


def test_wasm_exports_depend_only_on_second_argument_and_ascend(cutter: WasmCutter) -> None:
    rng = random.Random(1)
    for _ in range(300):
        salt = rng.randint(-(2**31), 2**31 - 1)
        outputs = []
        for (low, high), name in zip(RANGES, ["cdx", "rdx", "bdx", "ndx", "mdx"], strict=True):
            values = {
                cutter.call(name, *[rng.randint(0, 99999) if k != 1 else salt for k in range(5)])
                for _ in range(3)
            }
            assert len(values) == 1, name
            value = values.pop()
            assert low <= value <= high, (name, value)
            outputs.append(value)
        assert outputs == sorted(set(outputs))


def test_prove_payload_shape(server: StandinServer) -> None:
    payload = httpx.get(f"{server.base_url}/api/authenticate/prove").json()
    assert set(payload) == {
        "accessToken",
        "refreshToken",
        "salt1",
        "salt2",
        "salt3",
        "salt4",
        "salt5",
        "serverTime",
    }
    assert all(isinstance(payload[f"salt{k}"], int) for k in range(1, 6))
    assert isinstance(payload["serverTime"], int) and payload["serverTime"] > 1_600_000_000_000
    assert len(payload["accessToken"]) >= 145 and len(payload["refreshToken"]) >= 145


def test_clean_token_is_accepted_and_raw_token_is_not(client: SalterClient) -> None:
    assert client.get(MARKET_OPEN).status_code == 200
    raw = client.payload["accessToken"]
    assert raw != client.access and len(raw) == len(client.access) + 5
    rejected = client.http.get(MARKET_OPEN, headers={"Authorization": f"Salter {raw}"})
    assert rejected.status_code == 401
    assert rejected.json()["status"] == 401
    assert client.http.get(MARKET_OPEN).status_code == 401  # no header at all
    assert client.http.get(MARKET_OPEN, headers={"Authorization": "Salter nonsense"}).status_code == 401


def test_expired_token_gets_401_then_refresh_works(server: StandinServer, client: SalterClient) -> None:
    assert client.get(MARKET_OPEN).status_code == 200
    server.expire_tokens()
    assert client.get(MARKET_OPEN).status_code == 401
    old_refresh = client.refresh_token
    assert client.refresh().status_code == 200
    assert client.get(MARKET_OPEN).status_code == 200
    # refresh tokens are single use; unknown ones are refused
    reuse = client.http.post("/api/authenticate/refresh-token", json={"refreshToken": old_refresh})
    assert reuse.status_code == 401
    junk = client.http.post("/api/authenticate/refresh-token", json={"refreshToken": "junk"})
    assert junk.status_code == 401


def test_refresh_token_is_cut_with_the_refresh_formula(client: SalterClient) -> None:
    raw = client.payload["refreshToken"]
    wrong = clean(raw, client.cutter.access_cuts(client.salts))
    response = client.http.post("/api/authenticate/refresh-token", json={"refreshToken": wrong})
    # a refresh token cut at the access positions only matches by coincidence of equal cut lists
    if client.cutter.access_cuts(client.salts) != client.cutter.refresh_cuts(client.salts):
        assert response.status_code == 401
    assert client.refresh().status_code == 200


def test_token_store_ttl_with_a_fake_clock() -> None:
    now = [1000.0]
    store = TokenStore(60.0, cut_indexer(), clock=lambda: now[0])
    cutter = WasmCutter(wasm_bytes())
    payload = store.prove()
    salts = [payload[f"salt{k}"] for k in range(1, 6)]
    token = clean(str(payload["accessToken"]), cutter.access_cuts(salts))
    assert store.lookup(token) is not None
    now[0] += 59.9
    assert store.lookup(token) is not None
    now[0] += 0.2
    assert store.lookup(token) is None


def test_decoy_insertion_round_trips() -> None:
    rng = random.Random(3)
    for _ in range(200):
        text = "".join(rng.choice("abcdef0123456789") for _ in range(150))
        cuts = sorted(
            [
                rng.randint(25, 31),
                rng.randint(36, 59),
                rng.randint(64, 87),
                rng.randint(91, 106),
                rng.randint(113, 128),
            ]
        )
        raw = insert_decoys(text, cuts)
        assert strip_decoys(raw, cuts) == text
        assert clean(raw, cuts) == text
