"""Nepali fiscal years as the stand-in names them (reports, dividend notices)."""

from __future__ import annotations

from datetime import date
from typing import Any


def fiscal_year_start(day: date) -> int:
    """Gregorian year in which the Nepali fiscal year containing `day` starts (Shrawan 1, ~July 17)."""
    return day.year if day >= date(day.year, 7, 17) else day.year - 1


def financial_year(start_year: int) -> dict[str, Any]:
    """The `financialYear` object of a report (and of a 2026-09 dividend notice, with activeStatus)."""
    return {
        "id": start_year - 1990,
        "fyName": f"{start_year}-{start_year + 1}",
        "fyNameNepali": f"{start_year + 57}-{start_year + 58}",
        "fromYear": f"{start_year}-07-17",
        "toYear": f"{start_year + 1}-07-16",
    }
