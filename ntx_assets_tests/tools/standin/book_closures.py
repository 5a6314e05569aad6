"""Seeded book closures: bonus and right issues that re-base a price, and cash dividends that do not.

docs/NEPSE_API.md section 8: on the book-closure session of a bonus or right issue NEPSE computes an adjusted
base from that session's close MP, and the company's next traded session starts from it (its today-price
`previousDayClosePrice` is the base, not the stored close):

    bonus b:                      MP / (1 + b)
    right r at issue price P:     (MP + P * r) / (1 + r)
    both on one book closure:     (MP + P * r) / (1 + b + r)     [the combination is our assumption]

rounded half-up to the paisa. Cash dividends leave the price alone.

Planning (which company, which session, what kind) happens before the price walk and depends only on the
seed and the session calendar; `prices.generate_prices` applies the plan and records each base; the events
(`BookClosure`) and the served rows of `GET /security/corporate-actions/{id}` and
`GET /application/dividend/{id}` are built afterwards from the plan and the price table.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ntx_assets_tests.tools.standin.config import DividendNoticeShape
from ntx_assets_tests.tools.standin.documents import Document, encrypted_id
from ntx_assets_tests.tools.standin.fiscal_years import financial_year
from ntx_assets_tests.tools.standin.seeding import python_rng
from ntx_assets_tests.tools.standin.sessions import NPT
from ntx_assets_tests.tools.standin.universe import Universe

if TYPE_CHECKING:
    from ntx_assets_tests.tools.standin.prices import PriceTable

ClosureKind = Literal["bonus", "right", "bonus_right", "cash"]

ACTIVE_STATUS: dict[ClosureKind, str] = {
    "bonus": "BONUS_APPROVED",
    "right": "RIGHT_APPROVED",
    "bonus_right": "BONUS_RIGHT_APPROVED",
    "cash": "CASH_DIVIDEND_APPROVED",
}
RATIO_DEN = 1_000_000  # ratioNum / ratioDen, JSON integers as captured (185000 / 1000000 = 18.5%)
# documentId of every corporate-action row: the two captures both send 1 with filePath "" (its meaning is
# unknown; no corporate action links a document here).
CORPORATE_ACTION_DOCUMENT_ID = 1
RIGHT_PRICE = 100.0  # rights are issued at the Rs 100 par
# Integer codes of a dividend application; their meaning on the live site is unknown (as for reports).
DIVIDEND_APPLICATION_TYPE = 7
DIVIDEND_APPLICATION_STATUS = 2
FIRST_SD_ID = 7_101  # the seeded events' sdIds: FIRST_SD_ID + 13 * position (7101..7257 for 13 events)
FIRST_NOTICE_ID = 61_001  # their dividend notice ids: FIRST_NOTICE_ID + 3 * k
FIRST_NEWS_ID = 88_001  # a notice's companyNews id: FIRST_NEWS_ID + (notice id - FIRST_NOTICE_ID)
# 2026-09 shape only: companyNews.dividendsNotice.id and the attached document's id, offset like the news id
# (the document ids stay clear of the reports' 40001.. and of encrypted-id collisions).
FIRST_DIVIDENDS_NOTICE_ID = 10_001
FIRST_DIVIDEND_DOCUMENT_ID = 160_001
DIVIDEND_DOCUMENT_TYPE = 54  # documentType of both captured dividend and report documents
# companyNews.security of the 2026-09 capture: these keys of the full security object, in this order (no
# companyId, tradingStartDate, networthBasePrice, securityTradeCycle, isPromoter; shareGroupId without its
# modifiedBy and modifiedDate).
NEWS_SECURITY_KEYS = (
    "id", "symbol", "isin", "permittedToTrade", "listingDate", "creditRating", "tickSize", "instrumentType",
    "capitalGainBaseDate", "faceValue", "highRangeDPR", "issuerName", "meInstanceNumber", "parentId",
    "recordType", "schemeDescription", "schemeName", "secured", "series", "shareGroupId", "activeStatus",
    "divisor", "cdsStockRefId", "securityName",
)  # fmt: skip
NEWS_SHARE_GROUP_KEYS = ("id", "name", "description", "capitalRangeMin", "activeStatus", "isDefault")
# Fewer sessions than this and the window gets no events (a short window is a unit-test window).
_MIN_SESSIONS = 30
# The demo loads the last 20 closed sessions (tools/demo/options.py); the last one may still be open.
# Book closures placed with their book-closure session in [count - RECENT_FROM_END, count - RECENT_TO_END]
# and their ex date before the last session fall inside that window.
RECENT_FROM_END = 17
RECENT_TO_END = 7
_MAX_GAP = 4  # sessions without trades after the one company's book closure

_BONUS_CHOICES = (5.0, 6.0, 7.5, 8.0, 10.0, 11.0, 12.0, 14.25, 15.0, 16.0, 18.5, 20.0, 25.0, 30.0)
_CASH_CHOICES = (5.0, 8.5, 10.0, 12.0, 15.0, 20.0, 25.0, 35.0)


@dataclass(frozen=True)
class PlannedClosure:
    """What the price walk needs: where the book closes, how long the company then stays idle, the terms."""

    security_id: int
    symbol: str
    kind: ClosureKind
    book_close_index: int  # session index of the last session on the old basis (forced traded)
    gap: int  # sessions without trades after the book closure; the next session is the ex date
    bonus_pct: float
    right_pct: float
    right_price: float | None
    cash_pct: float
    announced: date

    @property
    def ex_index(self) -> int:
        return self.book_close_index + 1 + self.gap

    @property
    def rebases(self) -> bool:
        return self.bonus_pct > 0 or self.right_pct > 0

    @property
    def share_factor(self) -> Fraction:
        """New shares per old share: 1 + b + r."""
        return 1 + (_fraction(self.bonus_pct) + _fraction(self.right_pct)) / 100

    def base_paisa(self, close_ticks: int) -> int:
        """The adjusted base, in paisa, from the book-closure close in ticks of Rs 0.1."""
        if not self.rebases:
            return close_ticks * 10
        right = _fraction(self.right_pct) / 100 * _fraction(self.right_price or 0.0) * 100  # paisa per share
        value = (Fraction(close_ticks * 10) + right) / self.share_factor
        return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))


@dataclass(frozen=True)
class BookClosure:
    """One event as the tests see it (`StandinData.book_closures`)."""

    security_id: int
    symbol: str
    kind: ClosureKind
    announced: date  # submittedDate of the corporate action
    book_close_date: date  # the last session on the old basis; prior_close is its close
    ex_date: date  # the first traded session on the new basis
    bonus_pct: float  # 0.0 when none
    right_pct: float
    right_price: float | None
    cash_pct: float
    prior_close: float  # MP
    adjusted_base: float  # previousDayClosePrice of the ex date (== prior_close for cash only)
    share_factor: float  # 1 + b + r
    fiscal_year: str  # Nepali, e.g. 2082-2083: the year whose profits are distributed
    sd_id: int
    notice_id: int | None  # None for a right without bonus: rights are no dividend

    @property
    def rebases(self) -> bool:
        return self.bonus_pct > 0 or self.right_pct > 0


class Announcement(Protocol):
    """What the corporate-action and dividend rows are made of: a seeded `BookClosure` or a historical
    `dividend_history.Declaration`."""

    @property
    def security_id(self) -> int: ...
    @property
    def symbol(self) -> str: ...
    @property
    def kind(self) -> ClosureKind: ...
    @property
    def announced(self) -> date: ...
    @property
    def book_close_date(self) -> date: ...
    @property
    def bonus_pct(self) -> float: ...
    @property
    def right_pct(self) -> float: ...
    @property
    def right_price(self) -> float | None: ...
    @property
    def cash_pct(self) -> float: ...
    @property
    def fiscal_year(self) -> str: ...
    @property
    def sd_id(self) -> int: ...
    @property
    def notice_id(self) -> int | None: ...


def _fraction(value: float) -> Fraction:
    return Fraction(str(value))


def _pct(value: float) -> str:
    return f"{value:g}%"


def plan_book_closures(
    universe: Universe, sessions: list[date], seed: int, exclude: Collection[int] = ()
) -> list[PlannedClosure]:
    """The year's events: 8 bonus issues (one company idle 2-4 sessions after its book closure, two with
    a cash part for the bonus tax), a 1:1 right at par, a bonus with a right, and 3 cash-only dividends.

    Four of them (the idle company, the bonus with a right, one bonus, one cash dividend) close their books
    in the last sessions, inside the demo's default window. No event goes to a company in `exclude` (those
    with real archived prices in the window, data.py): an event drawn for one goes to another company
    drawn from its own stream, so the other events stay where they were. Deterministic in (seed, sessions,
    exclude)."""
    count = len(sessions)
    if count < _MIN_SESSIONS:
        return []
    rng = python_rng(seed, "book-closures")
    candidates = sorted(
        (c["id"], c["symbol"])
        for c in universe.active_equity()
        if c["id"] in universe.by_id and universe.by_id[c["id"]].trades
    )
    bonuses = [10.0, 12.5, 20.0] + [rng.choice(_BONUS_CHOICES) for _ in range(5)]
    terms: list[tuple[ClosureKind, float, float, float]] = [("bonus", b, 0.0, 0.0) for b in bonuses]
    for i in (3, 5):  # a cash part that pays the 5% tax on the bonus
        kind, bonus, right, _ = terms[i]
        terms[i] = (kind, bonus, right, bonus_tax_pct(bonus))
    terms.append(("right", 0.0, 100.0, 0.0))
    terms.append(("bonus_right", rng.choice((5.0, 10.0, 15.0)), rng.choice((25.0, 50.0)), 0.0))
    terms += [("cash", 0.0, 0.0, rng.choice(_CASH_CHOICES)) for _ in range(3)]
    picked = rng.sample(candidates, len(terms))
    if exclude and any(security_id in exclude for security_id, _ in picked):
        others = python_rng(seed, "book-closures-archive")
        spare = [c for c in candidates if c[0] not in exclude and c not in picked]
        picked = [c if c[0] not in exclude else spare.pop(others.randrange(len(spare))) for c in picked]
    # indices into terms: 0 the idle company's bonus, 1 a plain bonus, 9 the bonus with a right, 10 a cash
    recent = (0, 1, 9, 10)
    gap_of = {0: rng.randint(2, _MAX_GAP)}

    recent_slots = rng.sample(range(count - RECENT_FROM_END, count - RECENT_TO_END + 1), len(recent))
    older_hi = max(6, count - RECENT_FROM_END - 5)
    older_slots = [rng.randint(5, older_hi) for _ in range(len(terms) - len(recent))]
    slots = dict(zip(recent, recent_slots, strict=True))
    slots.update(zip((i for i in range(len(terms)) if i not in recent), older_slots, strict=True))

    plans: list[PlannedClosure] = []
    for i, ((security_id, symbol), (kind, bonus, right, cash)) in enumerate(zip(picked, terms, strict=True)):
        book_close = slots[i]
        plans.append(
            PlannedClosure(
                security_id=security_id,
                symbol=symbol,
                kind=kind,
                book_close_index=book_close,
                gap=gap_of.get(i, 0),
                bonus_pct=bonus,
                right_pct=right,
                right_price=RIGHT_PRICE if right else None,
                cash_pct=cash,
                announced=sessions[book_close] - timedelta(days=rng.randint(10, 40)),
            )
        )
    plans.sort(key=lambda p: (p.book_close_index, p.security_id))
    return plans


def fiscal_year_names(announced: date) -> tuple[str, str]:
    """The fiscal year whose profits a declaration distributes: the one before the year it is made in, as
    (English, Nepali) names, e.g. ("2024-2025", "2081-2082")."""
    start = (announced.year if announced >= date(announced.year, 7, 17) else announced.year - 1) - 1
    return f"{start}-{start + 1}", f"{start + 57}-{start + 58}"


def build_book_closures(plans: list[PlannedClosure], table: PriceTable) -> list[BookClosure]:
    events: list[BookClosure] = []
    notice_id = FIRST_NOTICE_ID
    for position, plan in enumerate(plans):
        r = table.row_of[plan.security_id]
        prior_ticks = int(table.close[r, plan.book_close_index])
        base_paisa = table.rebased.get((r, plan.ex_index), prior_ticks * 10)
        has_notice = plan.kind != "right"
        events.append(
            BookClosure(
                security_id=plan.security_id,
                symbol=plan.symbol,
                kind=plan.kind,
                announced=plan.announced,
                book_close_date=table.sessions[plan.book_close_index],
                ex_date=table.sessions[plan.ex_index],
                bonus_pct=plan.bonus_pct,
                right_pct=plan.right_pct,
                right_price=plan.right_price,
                cash_pct=plan.cash_pct,
                prior_close=prior_ticks / 10,
                adjusted_base=base_paisa / 100,
                share_factor=float(plan.share_factor),
                fiscal_year=fiscal_year_names(plan.announced)[1],
                sd_id=FIRST_SD_ID + 13 * position,
                notice_id=notice_id if has_notice else None,
            )
        )
        notice_id += 3 if has_notice else 0
    return events


def bonus_tax_pct(bonus_pct: float) -> float:
    """The cash part that pays the 5% tax on a bonus share: b x 5 / 95, to the hundredth of a percent."""
    return round(bonus_pct * 5 / 95, 2)


def is_bonus_tax(event: Announcement) -> bool:
    return bool(event.bonus_pct and event.cash_pct and event.cash_pct == bonus_tax_pct(event.bonus_pct))


def terms_text(event: Announcement) -> str:
    parts = []
    if event.bonus_pct:
        parts.append(f"{_pct(event.bonus_pct)} bonus share")
    if event.right_pct:
        parts.append(f"{_pct(event.right_pct)} right share at Rs {event.right_price:g} per share")
    if event.cash_pct:
        parts.append(f"{_pct(event.cash_pct)} cash dividend")
    return " and ".join(parts)


def announcement_moment(event: Announcement) -> str:
    """When the declaration was announced, `YYYY-MM-DDTHH:MM:SS.mmm` (as captured, 2026-09-06T14:02:26.493):
    the corporate action's submittedDate and the dividend notice's modifiedDate (2026-04 shape) or
    companyNews.addedDate (2026-09 shape); between 10:00 and 16:00 of the announcement day."""
    seconds = 10 * 3600 + (event.sd_id * 37) % (6 * 3600)
    clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{event.sd_id % 1000:03d}"
    return f"{event.announced.isoformat()}T{clock}"


def corporate_action_row(event: Announcement) -> dict[str, Any]:
    """A row of `GET /api/nots/security/corporate-actions/{securityId}`, with the keys, key order and JSON
    types of the live captures (public-captures/ca_pratap22.json): submittedDate a timestamp, filePath "",
    documentId, ratioNum and ratioDen integers, absent amounts null.

    ratioNum / ratioDen is the new shares per old share (b + r) as a fraction; 0 for a cash dividend."""
    ratio = (_fraction(event.bonus_pct) + _fraction(event.right_pct)) / 100 * RATIO_DEN
    if ratio.denominator != 1:
        raise ValueError(f"{event.symbol}: b + r = {float(ratio)} / {RATIO_DEN} is no whole ratioNum")
    return {
        "activeStatus": ACTIVE_STATUS[event.kind],
        "authorizationComments": f"{terms_text(event)} for FY {event.fiscal_year} approved.",
        "submittedDate": announcement_moment(event),
        "filePath": "",
        "documentId": CORPORATE_ACTION_DOCUMENT_ID,
        "ratioNum": int(ratio),
        "ratioDen": RATIO_DEN,
        "cashDividend": event.cash_pct or None,
        "fiscalYear": event.fiscal_year,
        "rightAmountPerShare": event.right_price,
        "bonusPercentage": event.bonus_pct or None,
        "rightPercentage": event.right_pct or None,
        "sdId": event.sd_id,
    }


def dividend_notice_row(
    event: Announcement,
    company_name: str,
    *,
    shape: DividendNoticeShape = "2026-09",
    security: dict[str, Any] | None = None,
    seed: int = 7,  # the document's encryptedId and text; StandinConfig.seed
) -> dict[str, Any] | None:
    """A row of `GET /api/nots/application/dividend/{securityId}`; None for a right without bonus.

    "2026-09" (default): the keys and nesting of the 2026-09 capture (public-captures/
    div_ghaleyanish_asstored.json): no modifiedDate or modifiedBy; companyNews with the company's security
    object (`security`, trimmed to the captured keys; id and symbol when not given), addedDate (the
    announcement moment), dividendsNotice with ids and a full financialYear, and one attached document
    (`dividend_document`, downloadable). Amounts the capture sends as 0.0 (its rightShare) are 0.0, not null.
    "2026-04": the row the stand-in served before, dated by modifiedDate (div_pratap22.json has it)."""
    if event.notice_id is None:
        return None
    if shape == "2026-04":
        return _dividend_notice_row_2026_04(event, company_name)
    offset = event.notice_id - FIRST_NOTICE_ID
    fy_name, fy_nepali = fiscal_year_names(event.announced)
    year = financial_year(int(fy_name[:4]))
    document = dividend_document(event, company_name, seed)
    return {
        "id": event.notice_id,
        "activeStatus": "A",
        "applicationType": DIVIDEND_APPLICATION_TYPE,
        "applicationStatus": DIVIDEND_APPLICATION_STATUS,
        "companyNews": {
            "id": FIRST_NEWS_ID + offset,
            "activeStatus": "A",
            "newsSource": "Letter",
            "newsHeadline": f"Declaration of Dividend-{company_name} [{event.symbol}] ",
            "newsBody": _news_body(event, fy_nepali),
            "newsType": "Dividend Declaration",
            "security": _news_security(event, security),
            "boardMeetingDate": None,
            "expiryDate": event.book_close_date.isoformat(),
            "oldNewsReference": None,
            "publishToWebsite": True,
            "remarks": None,
            "dividendsNotice": {
                "id": FIRST_DIVIDENDS_NOTICE_ID + offset,
                "activeStatus": "A",
                "financialYear": {
                    "id": year["id"],
                    "activeStatus": "A",
                    "fyName": year["fyName"],
                    "fromYear": year["fromYear"],
                    "toYear": year["toYear"],
                    "fyNameNepali": year["fyNameNepali"],
                },
                "cashDividend": float(event.cash_pct),
                "bonusShare": float(event.bonus_pct),
                "rightShare": float(event.right_pct),
                "remarks": _remarks(event),
            },
            "bookCloseNotice": None,
            "agmNotice": None,
            "addedDate": announcement_moment(event),
        },
        "fiscalReport": None,
        "applicationDocumentDetailsList": [
            {
                "id": document.document_id,
                "activeStatus": "A",
                "application": event.notice_id,
                "documentType": DIVIDEND_DOCUMENT_TYPE,
                "submittedDate": event.announced.isoformat(),
                "filePath": document.file_path,
                "encryptedId": document.encrypted_id,
            }
        ],
    }


def dividend_document(event: Announcement, company_name: str, seed: int) -> Document:
    """The letter attached to a 2026-09 dividend row, named as captured
    (`nabil_user/2026-09-06/Nabil Bank Limited -Dividend Declaration_1788682541081.pdf`: the number is the
    upload moment in epoch milliseconds)."""
    if event.notice_id is None:
        raise ValueError(f"{event.symbol}: a right issue alone has no dividend notice")
    document_id = FIRST_DIVIDEND_DOCUMENT_ID + (event.notice_id - FIRST_NOTICE_ID)
    moment = datetime.fromisoformat(announcement_moment(event)).replace(tzinfo=NPT)
    millis = int(moment.timestamp() * 1000)
    day = event.announced.isoformat()
    fy_name, fy_nepali = fiscal_year_names(event.announced)
    lines = [
        f"{company_name} ({event.symbol})",
        "Dividend Declaration",
        f"Fiscal year {fy_nepali} ({fy_name})",
        *_news_body(event, fy_nepali).splitlines()[2:],
        f"Book closure date: {event.book_close_date.isoformat()}",
        "",
        f"Synthetic filing generated by the ntx_assets NEPSE stand-in (seed {seed}).",
    ]
    return Document(
        document_id=document_id,
        file_path=f"{event.symbol.lower()}_user/{day}/{company_name} -Dividend Declaration_{millis}.pdf",
        encrypted_id=encrypted_id(seed, document_id),
        title=lines[0],
        lines=tuple(lines),
    )


def _news_body(event: Announcement, fy_nepali: str) -> str:
    """As captured: "Dividend Declaration of NABIL\nFiscal Year: 2082-2083\nCash Dividend: 10.8%\nBonus
    Shares: 5%". A term of 0 is left out, as the capture leaves out its rightShare of 0.0 [assumed]."""
    lines = [f"Dividend Declaration of {event.symbol}", f"Fiscal Year: {fy_nepali}"]
    if event.cash_pct:
        lines.append(f"Cash Dividend: {_pct(event.cash_pct)}")
    if event.bonus_pct:
        lines.append(f"Bonus Shares: {_pct(event.bonus_pct)}")
    if event.right_pct:
        lines.append(f"Right Shares: {_pct(event.right_pct)}")
    return "\n".join(lines)


def _news_security(event: Announcement, security: dict[str, Any] | None) -> dict[str, Any]:
    if security is None:
        return {"id": event.security_id, "symbol": event.symbol}
    out = {key: security[key] for key in NEWS_SECURITY_KEYS if key in security}
    group = out.get("shareGroupId")
    if isinstance(group, dict):
        out["shareGroupId"] = {key: group[key] for key in NEWS_SHARE_GROUP_KEYS if key in group}
    return out


def _remarks(event: Announcement) -> str | None:
    return "Cash dividend for the tax on the bonus share." if is_bonus_tax(event) else None


def _dividend_notice_row_2026_04(event: Announcement, company_name: str) -> dict[str, Any]:
    """The stand-in's row before the 2026-09 capture (nepsepy's names; modifiedDate)."""
    assert event.notice_id is not None
    fy_name, fy_nepali = fiscal_year_names(event.announced)
    return {
        "id": event.notice_id,
        "activeStatus": "A",
        "modifiedDate": announcement_moment(event),
        "applicationType": DIVIDEND_APPLICATION_TYPE,
        "applicationStatus": DIVIDEND_APPLICATION_STATUS,
        "fiscalReport": None,  # nepsepy lists both keys; a declaration has no report or documents [assumed]
        "applicationDocumentDetailsList": [],
        "companyNews": {
            "id": FIRST_NEWS_ID + (event.notice_id - FIRST_NOTICE_ID),
            "newsSource": company_name,
            "newsHeadline": f"{company_name} ({event.symbol}) declares {terms_text(event)} "
            f"for FY {fy_nepali}",
            "newsBody": f"The annual general meeting of {company_name} approved {terms_text(event)} "
            f"from the profits of fiscal year {fy_nepali} ({fy_name}). Book closure date: "
            f"{event.book_close_date.isoformat()}.",
            "newsType": "Dividend Declaration",
            "expiryDate": event.book_close_date.isoformat(),
            "dividendsNotice": {
                "financialYear": {"fyName": fy_name, "fyNameNepali": fy_nepali},
                "cashDividend": event.cash_pct or None,
                "bonusShare": event.bonus_pct or None,
                "rightShare": event.right_pct or None,
                "remarks": _remarks(event),
            },
        },
    }
