"""The `{"id": N}` body that NEPSE's POST endpoints demand (docs/NEPSE_API.md section 1)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Literal

from ntx_assets.nepse.payload_id import DUMMY, base_id
from ntx_assets_tests.tools.standin.config import TodayPriceVariant
from ntx_assets_tests.tools.standin.wasm import Salts

# The DUMMY table and the raw id have one home, the product's client.
__all__ = ["DUMMY", "base_id"]


def signed_id(market_id: int, day: int, salts: Salts, threshold: int, hi: int, lo: int) -> int:
    base = base_id(market_id, day)
    j = hi if base % 10 < threshold else lo
    return base + salts[j] * day - salts[j - 1]


def today_price_ids(market_id: int, day: int, salts: Salts, variant: TodayPriceVariant) -> set[int]:
    """Ids accepted by today-price. B and C differ only when base % 10 == 4."""
    variant_b = signed_id(market_id, day, salts, threshold=5, hi=1, lo=3)
    variant_c = signed_id(market_id, day, salts, threshold=4, hi=1, lo=3)
    if variant == "B":
        return {variant_b}
    if variant == "C":
        return {variant_c}
    return {variant_b, variant_c}


Endpoint = Literal["today-price", "security"]


def accepted_ids(
    endpoint: Endpoint, market_id: int, days: Iterable[int], salts: Salts, variant: TodayPriceVariant
) -> set[int]:
    """All ids accepted for `endpoint` ("today-price" or "security") over the candidate days."""
    accepted: set[int] = set()
    for day in days:
        if endpoint == "today-price":
            accepted |= today_price_ids(market_id, day, salts, variant)
        else:
            accepted.add(base_id(market_id, day))
    return accepted


def body_id(body: bytes) -> int | None:
    """The integer `id` of a JSON body, or None when the body is missing or malformed."""
    try:
        parsed = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(parsed, dict):
        return None
    value = parsed.get("id")
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value
