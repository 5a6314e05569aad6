from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date

import pytest

from ntx_assets_tests.standin.salter import SalterClient, base_id, npt_day, variant_id
from ntx_assets_tests.tools.standin import StandinConfig, StandinServer, running_standin
from ntx_assets_tests.tools.standin.config import TodayPriceVariant
from ntx_assets_tests.tools.standin.payload_id import DUMMY, today_price_ids

TODAY_PRICE = "/api/nots/nepse-data/today-price"


def test_wrong_or_missing_id_gets_empty_200(client: SalterClient) -> None:
    right = variant_id(client.market_id(), npt_day(), client.salts, "B")
    for body in ({"id": right + 1}, {}, {"id": str(right)}, None):
        response = client.post(TODAY_PRICE, body)
        assert response.status_code == 200
        assert response.content == b""
    detail = client.post("/api/nots/security/131", {"id": base_id(client.market_id(), npt_day()) + 1})
    assert detail.status_code == 200 and detail.content == b""


def test_right_id_gets_a_page(client: SalterClient) -> None:
    page = client.today_price().json()
    assert page["number"] == 0 and page["size"] == 20 and page["totalElements"] > 200
    detail = client.security_detail(131).json()
    assert detail["security"]["symbol"] == "NABIL"


def test_the_id_uses_the_salts_of_the_token_in_the_header(
    client: SalterClient, server: StandinServer
) -> None:
    own = variant_id(client.market_id(), npt_day(), client.salts, "B")
    # Another token's salts: a new prove until they give another id (each token draws its own salts).
    for _ in range(20):
        other = SalterClient(server.base_url, client.cutter)
        try:
            foreign = variant_id(client.market_id(), npt_day(), other.salts, "B")
        finally:
            other.close()
        if foreign != own:
            break
    assert foreign != own, "twenty tokens drew salts giving the same payload id"
    assert client.post(TODAY_PRICE, {"id": foreign}).content == b""
    assert client.post(TODAY_PRICE, {"id": own}).json()["totalElements"] > 0


def test_variant_table() -> None:
    salts = (1000, 2000, 3000, 4000, 5000)
    for market_id in range(100):
        day = 9
        base = DUMMY[market_id] + market_id + 2 * day
        b = today_price_ids(market_id, day, salts, "B")
        c = today_price_ids(market_id, day, salts, "C")
        assert (b == c) == (base % 10 != 4)
        assert today_price_ids(market_id, day, salts, "either") == b | c


def _market_id_where_variants_differ(day: int) -> int:
    return next(m for m in range(100) if (DUMMY[m] + m + 2 * day) % 10 == 4)


def _variant_server(variant: TodayPriceVariant | None) -> Iterator[StandinServer]:
    """A server whose market id makes today a day where variants B and C disagree."""
    config = StandinConfig(
        seed=11, end_date=date(2026, 5, 15), days=30, market_id=_market_id_where_variants_differ(npt_day())
    )
    if variant is not None:
        config = dataclasses.replace(config, today_price_variant=variant)
    with running_standin(config) as running:
        yield running


@pytest.fixture(scope="module")
def variant_server() -> Iterator[StandinServer]:
    """The default variant (B, as nepsepy sends it: ntx_assets_tests/peer/FINDINGS.md)."""
    yield from _variant_server(None)


@pytest.fixture(scope="module")
def variant_c_server() -> Iterator[StandinServer]:
    """The other clients' variant, on request."""
    yield from _variant_server("C")


def _accepts_only(server: StandinServer, accepted: str, refused: str) -> None:
    client = SalterClient(server.base_url)
    try:
        day = npt_day()
        if (DUMMY[client.market_id()] + client.market_id() + 2 * day) % 10 != 4:
            pytest.skip("the Nepal date changed during the test")
        good = variant_id(client.market_id(), day, client.salts, accepted)
        bad = variant_id(client.market_id(), day, client.salts, refused)
        assert good != bad
        assert client.post(TODAY_PRICE, {"id": bad}).content == b""
        assert client.post(TODAY_PRICE, {"id": good}).json()["totalElements"] > 0
    finally:
        client.close()


def test_default_variant_b_refuses_c_when_they_differ(variant_server: StandinServer) -> None:
    _accepts_only(variant_server, accepted="B", refused="C")


def test_variant_c_on_request_refuses_b_when_they_differ(variant_c_server: StandinServer) -> None:
    _accepts_only(variant_c_server, accepted="C", refused="B")
