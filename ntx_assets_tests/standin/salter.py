"""A minimal NEPSE client for the stand-in tests, written from NEPSE_API.md independently of the server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import wasmtime

from ntx_assets_tests.tools.standin.payload_id import DUMMY  # a data table, not logic

NPT = timezone(timedelta(hours=5, minutes=45))


class WasmCutter:
    """Loads the served css.wasm with wasmtime and computes the documented cut indices."""

    def __init__(self, module_bytes: bytes) -> None:
        engine = wasmtime.Engine()
        self.store = wasmtime.Store(engine)
        instance = wasmtime.Instance(self.store, wasmtime.Module(engine, module_bytes), [])
        self.exports = instance.exports(self.store)

    def call(self, name: str, *args: int) -> int:
        func = self.exports[name]
        assert isinstance(func, wasmtime.Func)
        return int(func(self.store, *args))

    def access_cuts(self, s: list[int]) -> list[int]:
        s1, s2, s3, s4, s5 = s
        return [
            self.call("cdx", s1, s2, s3, s4, s5),
            self.call("rdx", s1, s2, s4, s3, s5),
            self.call("bdx", s1, s2, s4, s3, s5),
            self.call("ndx", s1, s2, s4, s3, s5),
            self.call("mdx", s1, s2, s4, s3, s5),
        ]

    def refresh_cuts(self, s: list[int]) -> list[int]:
        s1, s2, s3, s4, s5 = s
        return [
            self.call("cdx", s2, s1, s3, s5, s4),
            self.call("rdx", s2, s1, s3, s4, s5),
            self.call("bdx", s2, s1, s4, s3, s5),
            self.call("ndx", s2, s1, s4, s3, s5),
            self.call("mdx", s2, s1, s4, s3, s5),
        ]


def clean(raw: str, cuts: list[int]) -> str:
    n, l, o, p, q = cuts  # noqa: E741 - the clients' own names
    return raw[0:n] + raw[n + 1 : l] + raw[l + 1 : o] + raw[o + 1 : p] + raw[p + 1 : q] + raw[q + 1 :]


def npt_day() -> int:
    return datetime.now(NPT).day


def base_id(market_id: int, day: int) -> int:
    return DUMMY[market_id] + market_id + 2 * day


def variant_id(market_id: int, day: int, salts: list[int], variant: str) -> int:
    base = base_id(market_id, day)
    threshold = 5 if variant == "B" else 4
    j = 1 if base % 10 < threshold else 3
    return base + salts[j] * day - salts[j - 1]


class SalterClient:
    def __init__(self, base_url: str, cutter: WasmCutter | None = None, timeout: float = 10.0) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout)
        self.cutter = cutter or WasmCutter(self.http.get("/assets/prod/css.wasm").content)
        self.prove()

    def adopt(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.salts = [payload[f"salt{k}"] for k in range(1, 6)]
        self.access = clean(payload["accessToken"], self.cutter.access_cuts(self.salts))
        self.refresh_token = clean(payload["refreshToken"], self.cutter.refresh_cuts(self.salts))

    def prove(self) -> None:
        response = self.http.get("/api/authenticate/prove")
        response.raise_for_status()
        self.adopt(response.json())

    def refresh(self) -> httpx.Response:
        response = self.http.post(
            "/api/authenticate/refresh-token", json={"refreshToken": self.refresh_token}
        )
        if response.status_code == 200:
            self.adopt(response.json())
        return response

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Salter {self.access}"}

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        return self.http.post(path, headers=self.headers, json=body, **kwargs)

    def market_id(self) -> int:
        return int(self.get("/api/nots/nepse-data/market-open").json()["id"])

    def today_price(self, variant: str = "C", **params: Any) -> httpx.Response:
        payload = {"id": variant_id(self.market_id(), npt_day(), self.salts, variant)}
        return self.post("/api/nots/nepse-data/today-price", payload, params=params)

    def security_detail(self, security_id: int) -> httpx.Response:
        return self.post(f"/api/nots/security/{security_id}", {"id": base_id(self.market_id(), npt_day())})

    def close(self) -> None:
        self.http.close()
