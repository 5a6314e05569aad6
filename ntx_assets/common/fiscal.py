"""Nepal's fiscal year (pure): it runs from Shrawan 1 to the end of Asar of the Bikram Sambat calendar,
mid-July to mid-July (2082-2083 = 2025-07-17 .. 2026-07-16, as NEPSE's reports give fromYear / toYear).

NEPSE names a fiscal year in Nepali ("2082-2083", `fyNameNepali`, the corporate actions' `fiscalYear`) and in
English ("2025-2026", `fyName`); the two differ by 57 years. Here a fiscal year is the int of its Nepali
start year (2082), which orders and subtracts.
"""

from __future__ import annotations

import datetime as dt
import re

import nepali_datetime

SHRAWAN = 4  # the fourth month of the Bikram Sambat year, when the fiscal year starts
_BS_MINUS_AD = 57
_NAME = re.compile(r"^\s*(\d{4})\s*[-/]\s*(\d{2}|\d{4})\s*$")
# Years below this are Gregorian (AD 2025); BS years of the exchange's life are above 2040.
_FIRST_BS_YEAR = 2040


def fiscal_year_of(day: dt.date) -> int:
    """The Nepali start year of the fiscal year that contains `day` (2025-07-17 -> 2082)."""
    bs = nepali_datetime.date.from_datetime_date(day)
    return bs.year if bs.month >= SHRAWAN else bs.year - 1


def fiscal_year_start(year: int) -> dt.date:
    """Shrawan 1 of the Nepali year `year`: the first day of fiscal year `year`-`year + 1`."""
    return nepali_datetime.date(year, SHRAWAN, 1).to_datetime_date()


def parse_fiscal_year(name: object) -> int | None:
    """ "2082-2083", "2082/83" or "2025-2026" -> 2082; None when it is not a fiscal year's name."""
    if not isinstance(name, str):
        return None
    match = _NAME.match(name)
    if match is None:
        return None
    start = int(match.group(1))
    return start if start >= _FIRST_BS_YEAR else start + _BS_MINUS_AD


def fiscal_year_name(year: int) -> str:
    """2082 -> "2082-2083"."""
    return f"{year}-{year + 1}"
