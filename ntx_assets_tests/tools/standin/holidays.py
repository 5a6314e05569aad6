"""Market holidays: the real 2024 and 2025 lists, and a synthetic 2026 list.

SYNTHETIC: NEPSE's 2026 list was not captured. The 2026 rows below are an invented but plausible
calendar (festival dates approximated from the Nepali calendar, same descriptions as 2025). They drive
the generated sessions only; do not treat them as the official list.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from ntx_assets_tests.tools.standin import snapshots

SYNTHETIC_2026: tuple[tuple[str, str], ...] = (
    ("2026-01-11", "Prithvi Jayanti"),
    ("2026-01-15", "Maghe Sankranti"),
    ("2026-01-19", "Sonam Lhosar"),
    ("2026-01-30", "Martyrs Day"),
    ("2026-02-15", "Mahashiva Ratri"),
    ("2026-02-18", "Gyalpo Lhosar"),
    ("2026-02-19", "Prajatantra Diwas"),
    ("2026-03-02", "Fagu Purnima"),
    ("2026-03-08", "International Woman Day"),
    ("2026-03-18", "Ghode Jatra"),
    ("2026-03-20", "EID"),
    ("2026-03-26", "Ram Nawami"),
    ("2026-04-14", "New Year"),
    ("2026-05-01", "Labour Day and Buddha Jayanti"),
    ("2026-05-29", "Republic Day"),
    ("2026-06-19", "Bhoto Jatra"),
    ("2026-08-28", "Janai Purnima"),
    ("2026-08-31", "Gai Jatra"),
    ("2026-09-04", "Shree Krishna Janmasthami"),
    ("2026-09-14", "Haritalika Teej"),
    ("2026-09-18", "Sambidhan Diwas"),
    ("2026-09-25", "Indra Jatra"),
    ("2026-10-12", "Ghatasthapana"),
    ("2026-10-19", "Fulpati"),
    ("2026-10-20", "MahaAstami"),
    ("2026-10-21", "MahaNawami"),
    ("2026-10-22", "Bijaya Dashami"),
    ("2026-10-23", "Dashain bida"),
    ("2026-11-09", "Laxmi Puja"),
    ("2026-11-10", "Gai Puja"),
    ("2026-11-11", "Bhai Tika"),
    ("2026-11-12", "Tihar Bida"),
    ("2026-11-16", "Chhath Parva"),
    ("2026-12-23", "Udhauli Parva and Yomari Punhi"),
    ("2026-12-25", "Christmas Day"),
    ("2026-12-30", "Tamu Lhosar"),
)


def _row(day: str, description: str) -> dict[str, Any]:
    # The exact shape of the real rows, nulls included.
    return {
        "id": None,
        "instrumentTypeId": None,
        "holidayDate": day,
        "holidayDescription": description,
        "modifiedBy": None,
        "modifiedDate": None,
        "activeStatus": None,
    }


@functools.cache
def _rows(year: int) -> tuple[dict[str, Any], ...]:
    real = snapshots.holidays(year)
    if real is not None:
        return tuple(real)
    if year == 2026:
        # newest first, like the real lists
        ordered = sorted(SYNTHETIC_2026, key=lambda item: item[0], reverse=True)
        return tuple(_row(day, description) for day, description in ordered)
    return ()


def holiday_rows(year: int) -> list[dict[str, Any]]:
    """GET /api/nots/holiday/list?year=YYYY. Years without a list answer an empty list."""
    return [dict(row) for row in _rows(year)]


def holiday_years() -> list[int]:
    """GET /api/nots/holiday/year."""
    return snapshots.holiday_years()


@functools.cache
def holiday_dates() -> frozenset[date]:
    return frozenset(
        date.fromisoformat(row["holidayDate"]) for year in (2024, 2025, 2026) for row in _rows(year)
    )
