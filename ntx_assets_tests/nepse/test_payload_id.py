"""Payload ids, with vectors worked by hand from docs/NEPSE_API.md section 1.

salts = (salt1..salt5) = (11, 22, 33, 44, 55), so salts[j] is zero-indexed: salts[1] = 22, salts[3] = 44.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ntx_assets.nepse.payload_id import DUMMY, Variant, base_id, nepal_today, payload_id

# Decides by the calendar: rerun under faketime with `make test-calendar` (pytest -m calendar).
pytestmark = pytest.mark.calendar

SALTS = (11, 22, 33, 44, 55)


def test_dummy_table_has_the_documented_shape() -> None:
    assert len(DUMMY) == 100
    assert (DUMMY[0], DUMMY[1], DUMMY[80], DUMMY[99]) == (147, 117, 157, 691)


@pytest.mark.parametrize(
    ("market_id", "day", "expected"),
    [
        (80, 4, 157 + 80 + 2 * 4),  # 245: the 2025-12-04 market-open id
        (1, 3, 117 + 1 + 2 * 3),  # 124
        (99, 31, 691 + 99 + 2 * 31),  # 852
        (0, 1, 147 + 0 + 2),  # 149
    ],
)
def test_base_id(market_id: int, day: int, expected: int) -> None:
    assert base_id(market_id, day) == expected
    assert payload_id(Variant.RAW, market_id=market_id, day=day, salts=SALTS) == expected


@pytest.mark.parametrize(
    ("variant", "market_id", "day", "expected"),
    [
        # base 245, 245 % 10 = 5: not below 5 (A, B) nor below 4 (C)
        (Variant.A, 80, 4, 245 + 22 * 4 - 11),  # j = 1 -> 322
        (Variant.B, 80, 4, 245 + 44 * 4 - 33),  # j = 3 -> 388
        (Variant.C, 80, 4, 245 + 44 * 4 - 33),  # j = 3 -> 388
        # base 124, 124 % 10 = 4: the one residue where B and C disagree
        (Variant.A, 1, 3, 124 + 44 * 3 - 33),  # below 5 -> j = 3 -> 223
        (Variant.B, 1, 3, 124 + 22 * 3 - 11),  # below 5 -> j = 1 -> 179
        (Variant.C, 1, 3, 124 + 44 * 3 - 33),  # not below 4 -> j = 3 -> 223
        # base 130, 130 % 10 = 0: below both thresholds
        (Variant.A, 1, 6, 130 + 44 * 6 - 33),  # j = 3 -> 361
        (Variant.B, 1, 6, 130 + 22 * 6 - 11),  # j = 1 -> 251
        (Variant.C, 1, 6, 130 + 22 * 6 - 11),  # j = 1 -> 251
    ],
)
def test_signed_variants(variant: Variant, market_id: int, day: int, expected: int) -> None:
    assert payload_id(variant, market_id=market_id, day=day, salts=SALTS) == expected


def test_literal_values_of_the_worked_vectors() -> None:
    assert payload_id(Variant.B, market_id=1, day=3, salts=SALTS) == 179
    assert payload_id(Variant.C, market_id=1, day=3, salts=SALTS) == 223
    assert payload_id(Variant.A, market_id=80, day=4, salts=SALTS) == 322


@pytest.mark.parametrize(("market_id", "day"), [(-1, 1), (100, 1), (5, 0), (5, 32)])
def test_out_of_range_inputs_are_refused(market_id: int, day: int) -> None:
    with pytest.raises(ValueError):
        base_id(market_id, day)


def test_signed_variants_need_five_salts() -> None:
    with pytest.raises(ValueError, match="5 salts"):
        payload_id(Variant.B, market_id=1, day=3, salts=(1, 2, 3, 4))


def test_nepal_today_uses_utc_plus_0545() -> None:
    assert nepal_today(datetime(2025, 12, 3, 18, 14, 59, tzinfo=UTC)).isoformat() == "2025-12-03"
    assert nepal_today(datetime(2025, 12, 3, 18, 15, tzinfo=UTC)).isoformat() == "2025-12-04"
    eastern = timezone(timedelta(hours=-5))
    assert nepal_today(datetime(2025, 12, 3, 13, 15, tzinfo=eastern)).isoformat() == "2025-12-04"


def test_nepal_today_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        nepal_today(datetime(2025, 12, 3, 12, 0))
