"""Seeded dividend record: what each company declared over the six fiscal years before the current one,
with the AGM notice that names each declaration's book-close date.

For each active equity company that trades, and each Nepali fiscal year current-6 .. current-1 (current:
the year containing the window's end), the company declares cash and/or bonus from that year's profits
3-8 months after the year ends (so mostly in the following fiscal year). About 15% of companies never
pay; the others declare in about 82% of their years, about 70% of company-years in all. A declaration is
in the record once announced by the window's end.

- A declaration announced, or closing its books, on or after the window's first session is CASH ONLY: a
  cash dividend does not re-base the stand-in's price, a bonus would have to, and only the 13 seeded
  events (`book_closures.py`) do. Before the window, any mix (cash only, bonus only, bonus with cash).
- The companies of the seeded events get cash-only history, no second declaration for the fiscal year of
  their seeded event, and no cash figure whose `base = MP - c` formula could pass for their re-basing
  (the product accepts cash dividends as explanations, announced up to 400 days before the ex date).
- Book closure: the first session 10-40 days after the announcement. AGM notice: published (addedDate) on
  or after the announcement and 7-20 days before the book closure; the AGM 1-5 days after it. The seeded
  events get an AGM notice too (their book-close date is their `book_close_date`, the last session on the
  old basis), the right issue included.
- The AGM's number (`agmNo`): the company's meetings counted one a fiscal year, the first for the year it
  listed in (or for the first year of its record, when that is earlier), so a company's numbers rise by
  one a year and never repeat (one declaration per company and fiscal year).

Draws come from the "dividend-history" stream only, so the book closures and prices stay as they were.
The corporate-action and dividend rows are made by `book_closures.corporate_action_row` and
`dividend_notice_row`, the AGM row by `agm_notice_row` (its `agmNotice` keys as a public probe recorded them).
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from ntx_assets.prices.sessions import is_session
from ntx_assets_tests.tools.standin.book_closures import (
    BookClosure,
    ClosureKind,
    bonus_tax_pct,
    fiscal_year_names,
    terms_text,
)
from ntx_assets_tests.tools.standin.fiscal_years import fiscal_year_start
from ntx_assets_tests.tools.standin.seeding import python_rng
from ntx_assets_tests.tools.standin.universe import Universe

HISTORY_YEARS = 6  # fiscal years before the current one
NEVER_PAYS = 0.15  # share of companies that never declare
DECLARES = 0.82  # chance a paying company declares in a year: 0.85 x 0.82 ~ 70% of company-years
ANNOUNCED_AFTER_YEAR_END_DAYS = (92, 243)  # 3 to 8 months after Asar end (~July 16)
BOOK_CLOSE_AFTER_ANNOUNCEMENT_DAYS = (10, 40)  # as the seeded events (then the next session)
AGM_NOTICE_BEFORE_BOOK_CLOSE_DAYS = (7, 20)
AGM_AFTER_BOOK_CLOSE_DAYS = (1, 5)
CASH_RANGE = (2.0, 35.0)  # percent of the Rs 100 face value
BONUS_CHOICES = (5.0, 6.0, 7.0, 7.5, 8.0, 10.0, 11.0, 12.0, 12.5, 14.0, 15.0, 16.0, 18.0, 20.0, 22.0, 25.0)
# Share of pre-window declarations that are cash only, bonus only; the rest are a bonus with cash.
CASH_ONLY_SHARE, BONUS_ONLY_SHARE = 0.45, 0.25
# Ids, disjoint from the seeded events' (sdId 7101-7257, notice 61001-61037, news 88001-88037) and from
# each other: a historical declaration's notice news id is book_closures.FIRST_NEWS_ID + (notice id -
# FIRST_NOTICE_ID), i.e. 90001 on.
FIRST_HISTORY_SD_ID = 20_001
FIRST_HISTORY_NOTICE_ID = 63_001
FIRST_AGM_ID = 70_001  # the AGM row's id; its companyNews id and agmNotice id follow it
FIRST_AGM_NEWS_ID = 96_001
FIRST_AGM_NOTICE_ID = 5_001
# The explainer's tolerance is max(1 paisa, 0.1% of the base); a historical cash figure of a re-based
# company keeps well clear of it.
_CLEAR_OF_MATCH = (0.05, 0.005)
EXPLAINER_DAYS = 400
# AGM rows: integer codes as for the other applications; their meaning on the live site is unknown.
AGM_APPLICATION_TYPE = 9
AGM_APPLICATION_STATUS = 2
# companyNews.newsType and newsSource of the AGM row a public probe recorded in 2026-09 (public-captures
# README); agmNotice.agmType is the stand-in's own value, an ordinary annual meeting.
AGM_NEWS_TYPE = "Annual General Meeting"
AGM_NEWS_SOURCE = "Letter/Newspaper"
AGM_TYPE = "AGM"
_VENUES = (
    "Hotel Yak & Yeti, Durbarmarg, Kathmandu",
    "Hotel Annapurna, Durbarmarg, Kathmandu",
    "Hotel Soaltee, Tahachal, Kathmandu",
    "Hotel Radisson, Lazimpat, Kathmandu",
    "the company's corporate office",
    "Army Officers' Club, Bhadrakali, Kathmandu",
)


@dataclass(frozen=True)
class Declaration:
    """One declaration as the tests see it (`StandinData.dividend_history`), historical or seeded."""

    security_id: int
    symbol: str
    kind: ClosureKind  # "cash", "bonus" (perhaps with a cash part); seeded ones also "right", "bonus_right"
    fiscal_year: str  # Nepali, e.g. 2081-2082: the year whose profits are distributed
    fy_name: str  # the same year's English name, e.g. 2024-2025
    cash_pct: float  # percent of the Rs 100 face value; 0.0 when none
    bonus_pct: float  # 0.0 when none
    right_pct: float  # seeded rights only
    right_price: float | None
    announced: date  # the day of the corporate action's submittedDate and the notice's addedDate/modifiedDate
    book_close_date: date  # a session day (for the seeded events: the last session on the old basis)
    agm_published: date  # companyNews.addedDate of the AGM notice; served once on or before the end date
    agm_date: date
    venue: str
    agm_no: int  # the company's meeting number, one a fiscal year (module docstring)
    sd_id: int  # corporate-actions row
    notice_id: int | None  # dividend row; None for a right without bonus (a right is no dividend)
    agm_notice_id: int  # AGM row
    seeded: bool  # one of the 13 events of `book_closures.py`

    @property
    def rebases(self) -> bool:
        return self.bonus_pct > 0 or self.right_pct > 0


def _session_on_or_after(day: date, holidays: Collection[date]) -> date:
    while not is_session(day, holidays):
        day += timedelta(days=1)
    return day


def _cash(rng: random.Random) -> float:
    """2-35%: whole, half or to the hundredth."""
    low, high = CASH_RANGE
    style = rng.random()
    value = rng.uniform(low, high)
    if style < 0.4:
        return float(min(max(round(value), low), high))
    if style < 0.7:
        return min(max(round(value * 2) / 2, low), high)
    return round(value, 2)


def _clear_of(event: BookClosure, cash: float) -> float:
    """A cash figure whose `MP - c` does not pass for `event`'s base, nudged if it would."""
    absolute, relative = _CLEAR_OF_MATCH
    gap = event.prior_close - event.adjusted_base  # the c that MP - c would need
    margin = max(absolute, relative * event.adjusted_base)
    if abs(gap - cash) > margin:
        return cash
    above = round(gap + margin + 1.0, 2)
    return above if above <= CASH_RANGE[1] else round(max(gap - margin - 1.0, CASH_RANGE[0]), 2)


def build_dividend_history(
    universe: Universe,
    first_session: date,
    end: date,
    seed: int,
    book_closures: list[BookClosure],
    holidays: Collection[date],
    listed: Mapping[int, date] | None = None,
) -> list[Declaration]:
    """Every declaration announced by `end`: the history and the seeded events, oldest announcement first.

    `first_session` is the window's first session (its start when it has none); `listed` the listing date
    by security id, which numbers the AGMs (a company missing from it counts from its first declaration)."""
    rng = python_rng(seed, "dividend-history")
    current = fiscal_year_start(end)
    seeded_of: dict[int, BookClosure] = {}
    for event in book_closures:
        if event.security_id in seeded_of:
            raise ValueError(f"two seeded events for {event.symbol}: one per company is assumed")
        seeded_of[event.security_id] = event
    companies = sorted(
        (c["id"], c["symbol"])
        for c in universe.active_equity()
        if c["id"] in universe.by_id and universe.by_id[c["id"]].trades
    )
    history: list[Declaration] = []
    for security_id, symbol in companies:
        never = rng.random() < NEVER_PAYS
        seeded = seeded_of.get(security_id)
        for start_year in range(current - HISTORY_YEARS, current):
            # Every draw is made whatever is decided, so one decision never shifts the next company's draws.
            declares = rng.random() < DECLARES
            announce_days = rng.randint(*ANNOUNCED_AFTER_YEAR_END_DAYS)
            close_days = rng.randint(*BOOK_CLOSE_AFTER_ANNOUNCEMENT_DAYS)
            mix = rng.random()
            cash = _cash(rng)
            bonus = rng.choice(BONUS_CHOICES)
            pays_bonus_tax = rng.random() < 0.5
            fy_name, fiscal_year = f"{start_year}-{start_year + 1}", f"{start_year + 57}-{start_year + 58}"
            if never or not declares or (seeded is not None and seeded.fiscal_year == fiscal_year):
                continue
            announced = date(start_year + 1, 7, 16) + timedelta(days=announce_days)
            if announced > end:
                continue  # not declared yet
            book_close = _session_on_or_after(announced + timedelta(days=close_days), holidays)
            if seeded is not None or announced >= first_session or book_close >= first_session:
                bonus = 0.0  # cash only
            elif mix < CASH_ONLY_SHARE:
                bonus = 0.0
            elif mix < CASH_ONLY_SHARE + BONUS_ONLY_SHARE:
                cash = 0.0
            elif pays_bonus_tax:
                cash = bonus_tax_pct(bonus)
            explainable = seeded is not None and seeded.rebases and cash > 0
            if explainable and seeded.ex_date - timedelta(days=EXPLAINER_DAYS) <= announced <= seeded.ex_date:
                cash = _clear_of(seeded, cash)
            history.append(
                Declaration(
                    security_id=security_id,
                    symbol=symbol,
                    kind="bonus" if bonus else "cash",
                    fiscal_year=fiscal_year,
                    fy_name=fy_name,
                    cash_pct=cash,
                    bonus_pct=bonus,
                    right_pct=0.0,
                    right_price=None,
                    announced=announced,
                    book_close_date=book_close,
                    agm_published=announced,  # set below
                    agm_date=book_close,
                    venue="",
                    agm_no=0,
                    sd_id=0,
                    notice_id=None,
                    agm_notice_id=0,
                    seeded=False,
                )
            )
    history.sort(key=lambda d: (d.announced, d.security_id))
    history = [
        replace(d, sd_id=FIRST_HISTORY_SD_ID + i, notice_id=FIRST_HISTORY_NOTICE_ID + i)
        for i, d in enumerate(history)
    ]
    seeded_declarations = [
        Declaration(
            security_id=e.security_id,
            symbol=e.symbol,
            kind=e.kind,
            fiscal_year=e.fiscal_year,
            fy_name=fiscal_year_names(e.announced)[0],
            cash_pct=e.cash_pct,
            bonus_pct=e.bonus_pct,
            right_pct=e.right_pct,
            right_price=e.right_price,
            announced=e.announced,
            book_close_date=e.book_close_date,
            agm_published=e.announced,
            agm_date=e.book_close_date,
            venue="",
            agm_no=0,
            sd_id=e.sd_id,
            notice_id=e.notice_id,
            agm_notice_id=0,
            seeded=True,
        )
        for e in book_closures
    ]
    record = sorted(history + seeded_declarations, key=lambda d: (d.announced, d.sd_id))
    # The first fiscal year each company counts its AGMs from: the one it listed in, or its record's first.
    first_year: dict[int, int] = {}
    for d in record:
        year = _start_year(d)
        first_year[d.security_id] = min(first_year.get(d.security_id, year), year)
    for security_id, day in (listed or {}).items():
        if security_id in first_year:
            first_year[security_id] = min(first_year[security_id], day.year)
    # The AGM notices, in announcement order.
    out: list[Declaration] = []
    for i, d in enumerate(record):
        low, high = AGM_NOTICE_BEFORE_BOOK_CLOSE_DAYS
        earliest = max(d.announced, d.book_close_date - timedelta(days=high))
        latest = d.book_close_date - timedelta(days=low)
        published = earliest + timedelta(days=rng.randint(0, (latest - earliest).days))
        agm_date = d.book_close_date + timedelta(days=rng.randint(*AGM_AFTER_BOOK_CLOSE_DAYS))
        venue = rng.choice(_VENUES)
        out.append(
            replace(
                d,
                agm_published=published,
                agm_date=agm_date,
                venue=venue,
                agm_no=_start_year(d) - first_year[d.security_id] + 1,
                agm_notice_id=FIRST_AGM_ID + i,
            )
        )
    return out


def _start_year(d: Declaration) -> int:
    """The Gregorian year the declaration's fiscal year starts in (2024 for 2024-2025)."""
    return int(d.fy_name[:4])


def _agenda(d: Declaration) -> str:
    items = [
        f"To approve the annual report, the audited financial statements of fiscal year {d.fiscal_year} and "
        "the auditor's report",
        f"To approve the {terms_text(d)}",
        "To appoint the auditor for the next fiscal year and fix the remuneration",
    ]
    return "; ".join(f"{n}. {item}" for n, item in enumerate(items, start=1))


def agm_notice_row(d: Declaration, company_name: str) -> dict[str, Any]:
    """A row of `GET /api/nots/application/agm/{securityId}`.

    From the AGM row a public probe recorded on 2026-09-28 (public-captures/README.md; keys only, its
    values were stored as text): `companyNews.newsType` "Annual General Meeting", `newsSource`
    "Letter/Newspaper", and `agmNotice` with exactly the keys id, activeStatus, agmType, agmDate, agmNo,
    bookCloseDate, cashDividend, bonusShare, agenda, venue, remarks, in that order (no financialYear).
    The values are the stand-in's own, in the natural JSON types: agmType "AGM", agmNo the company's
    meeting number, cashDividend and bonusShare the declaration's percentages (0.0 when none, as the
    dividend rows send an undeclared term), remarks null.

    The rest keeps the stand-in's earlier row and is ASSUMED (codes, headline, body, expiryDate). Its
    companyNews keys are a subset of the recorded row's, which has the dividend row's full set (activeStatus,
    security, boardMeetingDate, oldNewsReference, publishToWebsite, remarks too) and one attached document;
    those are not served here. `companyNews.addedDate`, the publication moment the product dates a notice
    by, is kept: the recorded row has that key too, the time of day and its format here are ours."""
    offset = d.agm_notice_id - FIRST_AGM_ID
    seconds = 10 * 3600 + (d.agm_notice_id * 53) % (7 * 3600)
    clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{d.agm_notice_id % 1000:03d}"
    agenda = _agenda(d)
    return {
        "id": d.agm_notice_id,  # assumed
        "activeStatus": "A",  # assumed
        "applicationType": AGM_APPLICATION_TYPE,  # assumed
        "applicationStatus": AGM_APPLICATION_STATUS,  # assumed
        "fiscalReport": None,  # assumed
        "applicationDocumentDetailsList": [],  # assumed
        "companyNews": {  # a subset of the recorded keys (docstring), in the stand-in's earlier order
            "id": FIRST_AGM_NEWS_ID + offset,
            "newsSource": AGM_NEWS_SOURCE,  # as recorded
            "newsHeadline": f"Notice of the annual general meeting of {company_name} ({d.symbol})",
            "newsBody": f"The annual general meeting of {company_name} will be held on "
            f"{d.agm_date.isoformat()} at {d.venue}. Agenda: {agenda}. Book closure date: "
            f"{d.book_close_date.isoformat()}.",
            "newsType": AGM_NEWS_TYPE,  # as recorded
            "expiryDate": d.agm_date.isoformat(),  # assumed
            # the publication moment (the key as recorded; the clock ours, as on the dividend rows)
            "addedDate": f"{d.agm_published.isoformat()}T{clock}",
            "dividendsNotice": None,
            "bookCloseNotice": None,
            "agmNotice": {  # the recorded keys, in the recorded order; the values ours
                "id": FIRST_AGM_NOTICE_ID + offset,
                "activeStatus": "A",
                "agmType": AGM_TYPE,
                "agmDate": d.agm_date.isoformat(),
                "agmNo": d.agm_no,
                "bookCloseDate": d.book_close_date.isoformat(),
                "cashDividend": float(d.cash_pct),
                "bonusShare": float(d.bonus_pct),
                "agenda": agenda,
                "venue": d.venue,
                "remarks": None,
            },
        },
    }
