"""A minimal NEPSE client for the stand-in tests: its own HTTP and payload-id arithmetic, and NEPSE's shared
knowledge (the WASM argument orders, the DUMMY table, Nepal time) from its one home in the product."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from ntx_assets.common.clock import NEPAL_TZ as NPT
from ntx_assets.nepse.payload_id import DUMMY
from ntx_assets.nepse.token_cleaning import CutIndexModule


class WasmCutter:
    """The served css.wasm, evaluated by the product's own module wrapper: NEPSE's argument orders have one
    home (`ntx_assets.nepse.token_cleaning`)."""

    def __init__(self, module_bytes: bytes) -> None:
        self.module = CutIndexModule(module_bytes)

    def call(self, name: str, *args: int) -> int:
        return self.module.call(name, *args)

    def access_cuts(self, s: list[int]) -> list[int]:
        return list(self.module.access_token_cuts(s))

    def refresh_cuts(self, s: list[int]) -> list[int]:
        return list(self.module.refresh_token_cuts(s))


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

    def today_price(self, variant: str = "B", **params: Any) -> httpx.Response:
        payload = {"id": variant_id(self.market_id(), npt_day(), self.salts, variant)}
        return self.post("/api/nots/nepse-data/today-price", payload, params=params)

    def security_detail(self, security_id: int) -> httpx.Response:
        return self.post(f"/api/nots/security/{security_id}", {"id": base_id(self.market_id(), npt_day())})

    def close(self) -> None:
        self.http.close()
