"""The `{"id": N}` body that NEPSE's POST data endpoints demand (docs/NEPSE_API.md section 1).

Pure functions only: the client supplies the market id, the salts of the token it is about to send and
the Nepal calendar day, so every formula here is testable by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from enum import StrEnum

from ntx_assets.common.clock import NEPAL_TZ

# Nepal has kept UTC+05:45 without daylight saving since 1986, so a fixed offset is exact and avoids a
# dependency on the host's tz database.

# Copied from the site's frontend bundle via docs/NEPSE_API.md section 1 (identical in every client).
DUMMY: tuple[int, ...] = (
    147, 117, 239, 143, 157, 312, 161, 612, 512, 804,
    411, 527, 170, 511, 421, 667, 764, 621, 301, 106,
    133, 793, 411, 511, 312, 423, 344, 346, 653, 758,
    342, 222, 236, 811, 711, 611, 122, 447, 128, 199,
    183, 135, 489, 703, 800, 745, 152, 863, 134, 211,
    142, 564, 375, 793, 212, 153, 138, 153, 648, 611,
    151, 649, 318, 143, 117, 756, 119, 141, 717, 113,
    112, 146, 162, 660, 693, 261, 362, 354, 251, 641,
    157, 178, 631, 192, 734, 445, 192, 883, 187, 122,
    591, 731, 852, 384, 565, 596, 451, 772, 624, 691,
)  # fmt: skip


class Variant(StrEnum):
    """Which salt-signed form of the id an endpoint wants.

    RAW: security detail and graph data. A: index graphs. B and C: today-price (clients disagree, so the
    client tries B first and falls back to C). C: floor sheets.
    """

    RAW = "raw"
    A = "A"
    B = "B"
    C = "C"


# (threshold, salt index when base % 10 < threshold, salt index otherwise)
_SIGNED_RULES: dict[Variant, tuple[int, int, int]] = {
    Variant.A: (5, 3, 1),
    Variant.B: (5, 1, 3),
    Variant.C: (4, 1, 3),
}


def nepal_today(now: datetime | None = None) -> date:
    """Today's date in Kathmandu; `now` must be timezone-aware when given."""
    moment = now if now is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("nepal_today needs a timezone-aware datetime")
    return moment.astimezone(NEPAL_TZ).date()


def base_id(market_id: int, day: int) -> int:
    """`DUMMY[market_id] + market_id + 2*day`: the raw id, and the start of every signed variant."""
    if not 0 <= market_id < len(DUMMY):
        raise ValueError(f"market id {market_id} is outside 0..{len(DUMMY) - 1} (from market-open)")
    if not 1 <= day <= 31:
        raise ValueError(f"day of month {day} is outside 1..31")
    return DUMMY[market_id] + market_id + 2 * day


def payload_id(variant: Variant, *, market_id: int, day: int, salts: Sequence[int]) -> int:
    """The body id for `variant`; `salts` are salt1..salt5 of the token sent with the request."""
    base = base_id(market_id, day)
    if variant is Variant.RAW:
        return base
    if len(salts) != 5:
        raise ValueError(f"expected 5 salts, got {len(salts)}")
    threshold, index_below, index_otherwise = _SIGNED_RULES[variant]
    j = index_below if base % 10 < threshold else index_otherwise
    return base + salts[j] * day - salts[j - 1]
