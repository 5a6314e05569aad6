"""Announced corporate actions -> warehouse rows, and which action explains each price re-basing (pure).

Two NEPSE endpoints announce what a company distributes (docs/NEPSE_API.md section 8; neither shape verified
against the live site): the corporate actions (`sdId`, bonusPercentage, rightPercentage,
rightAmountPerShare, cashDividend, fiscalYear, submittedDate) and the dividend notices (`id`,
companyNews.dividendsNotice: cashDividend, bonusShare, rightShare, financialYear). Both become rows of one
table keyed on (source, NEPSE's id of the row).

A re-basing (ntx_assets.prices.adjustments) is explained by an action when NEPSE's published formula, applied
to the close stored before the re-basing (MP), gives the base NEPSE served (previousDayClosePrice):

- bonus b and right r (fractions) at issue price P (rightAmountPerShare, else the Rs 100 par):
  base = (MP + P x r) / (1 + b + r)   (a bonus alone: MP / (1 + b); a right alone: (MP + P r) / (1 + r);
  both on one book closure: the same formula, which NEPSE has not published [unverified]);
- a cash dividend of c% of the Rs 100 face value: base = MP - c (rupees per share) [NEPSE adjusts only
  large ones; unverified].

It matches when |formula - served base| <= max(1 paisa, 0.1% of the served base): NEPSE rounds the base
to the paisa, and 0.1% is narrower than the gap between neighbouring bonus rates (5% vs 5.5% differ by
0.47%). A bonus announced in one row and a right in another (the same fiscal year) may explain one
re-basing together. Each announced action explains at most one re-basing; only actions announced on or
before the ex-date, within 400 days, are candidates (an announcement without a date is always one).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ntx_assets.common.text import clean_text
from ntx_assets.nepse.models import (
    AgmApplication,
    CompanyNews,
    CorporateAction,
    DividendApplication,
    FinancialYear,
    SecurityShares,
    nepse_field,
)
from ntx_assets.prices.band import beyond_band
from ntx_assets.prices.rebasings import ANNOUNCEMENT, EXCHANGE_BASE, BandExplainer, find_rebasings

CORPORATE_ACTION = "corporate_action"
DIVIDEND_NOTICE = "dividend_notice"
AGM_NOTICE = "agm_notice"

BONUS = "bonus"
RIGHT = "right"
BONUS_AND_RIGHT = "bonus_and_right"
CASH_DIVIDEND = "cash_dividend"
UNEXPLAINED = "unexplained"

# A company's share counts are fetched again after this many days (one call per company a month).
SHARES_MAX_AGE_DAYS = 30
PAR_VALUE = 100.0  # NEPSE's face value per share; rights are issued at par unless announced otherwise
ABSOLUTE_TOLERANCE = 0.01
RELATIVE_TOLERANCE = 0.001
CANDIDATE_DAYS = 400


class BadCorporateAction(ValueError):
    """An announced action that must not reach the warehouse."""

    def __init__(self, *, symbol: str, nepse_id: int, field: str, problem: str) -> None:
        self.symbol, self.nepse_id, self.field = symbol, nepse_id, field
        super().__init__(
            f"corporate actions of {symbol}: row {nepse_id} field {field!r} {problem}; nothing of {symbol} "
            "was written. Re-run the partition once NEPSE serves corrected data, or teach "
            "ntx_assets/corporate_actions/announcements.py the new format."
        )


def action_rows(
    actions: Iterable[CorporateAction],
    notices: Iterable[DividendApplication],
    *,
    security_id: int,
    symbol: str,
) -> list[dict[str, Any]]:
    """The warehouse rows of one security's announced actions (both endpoints, typed by the client)."""
    rows = [_action_row(action, security_id, symbol) for action in actions]
    rows += [_notice_row(notice, security_id, symbol) for notice in notices]
    return rows


def _action_row(action: CorporateAction, security_id: int, symbol: str) -> dict[str, Any]:
    bonus = action.bonus_percentage
    given = action.bonus_percentage is not None or action.right_percentage is not None
    if not given and action.ratio_num is not None and action.ratio_den:
        # Only when no percentage is given: go-nepse's sample reads ratioNum 185000 / ratioDen 1000000 as
        # an 18.5% bonus, but the ratio counts every new share per old one (a right's too).
        bonus = 100.0 * action.ratio_num / action.ratio_den
    return {
        "source": CORPORATE_ACTION,
        "nepse_id": action.sd_id,
        "security_id": security_id,
        "symbol": symbol,
        "fiscal_year": clean_text(action.fiscal_year),
        "status": clean_text(action.active_status),
        "announced_on": _date(
            action.submitted_date, symbol, action.sd_id, nepse_field(CorporateAction, "submitted_date")
        ),
        "bonus_pct": bonus,
        "right_pct": action.right_percentage,
        "right_price": action.right_amount_per_share,
        "cash_dividend_pct": action.cash_dividend,
    }


def _notice_row(notice: DividendApplication, security_id: int, symbol: str) -> dict[str, Any]:
    news = notice.company_news
    details = news.dividends_notice if news else None
    year = details.financial_year if details else None
    # Notices captured in 2026-09 carry no modifiedDate, only companyNews.addedDate (the April capture had
    # both): the announcement's day is the first of the two that is there.
    added = news.added_date if news else None
    dated, field = (
        (notice.modified_date, nepse_field(DividendApplication, "modified_date"))
        if notice.modified_date
        else (added, nepse_field(CompanyNews, "added_date"))
    )
    return {
        "source": DIVIDEND_NOTICE,
        "nepse_id": notice.id,
        "security_id": security_id,
        "symbol": symbol,
        "fiscal_year": _fiscal_year(year),
        "status": clean_text(notice.active_status),
        "announced_on": _date(dated, symbol, notice.id, field),
        "bonus_pct": details.bonus_share if details else None,
        "right_pct": details.right_share if details else None,
        "right_price": None,
        "cash_dividend_pct": details.cash_dividend if details else None,
    }


def closure_rows(agms: Iterable[AgmApplication], *, security_id: int, symbol: str) -> list[dict[str, Any]]:
    """The `book_closures` rows of one security's AGM notices: those that announce a book-close date."""
    rows = []
    for agm in agms:
        news = agm.company_news
        notice = news.agm_notice if news else None
        if notice is None or notice.book_close_date is None:
            continue
        rows.append(
            {
                "source": AGM_NOTICE,
                "nepse_id": agm.id,
                "security_id": security_id,
                "symbol": symbol,
                "fiscal_year": _fiscal_year(notice.financial_year),
                "announced_on": _date(
                    news.added_date if news else None, symbol, agm.id, nepse_field(CompanyNews, "added_date")
                ),
                "book_close_date": notice.book_close_date,
                "agm_date": notice.agm_date,
                "bonus_pct": notice.bonus_share,
                "cash_dividend_pct": notice.cash_dividend,
            }
        )
    return rows


def _fiscal_year(year: FinancialYear | None) -> str | None:
    """Nepali when given (2082-2083), as the corporate-actions rows write it; else NEPSE's English name."""
    return clean_text(year.fy_name_nepali or year.fy_name) if year else None


# --- explaining re-basings ------------------------------------------------------------------------------

EXPLANATION_COLUMNS = ("explanation", "expected_base", "action_source", "action_id")


@dataclass(frozen=True)
class _Candidate:
    kind: str
    keys: tuple[tuple[str, int], ...]  # (source, nepse_id) of the action(s) used
    announced_on: dt.date | None
    bonus: float  # fractions
    right: float
    right_price: float
    cash: float  # rupees per share
    closes_on: dt.date | None = None  # the book closure announced for it, when known

    def expected_base(self, prior_close: float) -> float:
        if self.kind == CASH_DIVIDEND:
            return prior_close - self.cash
        return (prior_close + self.right_price * self.right) / (1.0 + self.bonus + self.right)


def explain_rebasings(
    rebasings: pd.DataFrame, actions: pd.DataFrame, closures: pd.DataFrame | None = None
) -> pd.DataFrame:
    """`rebasings` (security_id, ex_date, prior_close, adjusted_base, ...) with EXPLANATION_COLUMNS added:
    the kind of action whose formula gives adjusted_base from prior_close (or `unexplained`), the base it
    gives, and the action's (source, nepse_id) ("+"-joined ids when a bonus row and a right row together
    explain it). `actions`: rows as `action_rows` makes them; `closures`: book_closures rows
    (security_id, fiscal_year, book_close_date). Re-basings are explained in ex-date order, and the result
    does not depend on the order of the rows given (NEPSE lists them oldest first; the stand-in could do
    either).

    Among the actions whose formula fits, the one whose announced book closure precedes the re-basing
    wins (the closest such closure), then one with no closure known, then one whose closure comes later;
    then the closest fit, then the latest announcement. An action's closure: `assign_closures`."""
    out = rebasings.sort_values(["security_id", "ex_date"], kind="stable").reset_index(drop=True)
    explained: list[tuple[str, float | None, str | None, str | None]] = []
    used: set[tuple[str, int]] = set()
    by_security = (
        {
            sid: group
            for sid, group in actions.sort_values(
                ["security_id", "announced_on", "source", "nepse_id"], kind="stable", na_position="first"
            ).groupby("security_id")
        }
        if len(actions)
        else {}
    )
    closures_of = _closures_by_security(closures)
    closing = {
        security_id: assign_closures(group, closures_of.get(security_id, []))
        for security_id, group in by_security.items()
    }
    for row in out.itertuples(index=False):
        group = by_security.get(row.security_id)
        candidates = (
            _candidates(group, row.ex_date, used, closing.get(row.security_id, {}))
            if group is not None
            else []
        )
        best = _best(candidates, float(row.prior_close), float(row.adjusted_base), row.ex_date)
        if best is None:
            explained.append((UNEXPLAINED, None, None, None))
            continue
        candidate, expected = best
        used.update(candidate.keys)
        explained.append(
            (
                candidate.kind,
                round(expected, 4),
                "+".join(sorted({source for source, _ in candidate.keys})),
                "+".join(str(nepse_id) for _, nepse_id in candidate.keys),
            )
        )
    for index, column in enumerate(EXPLANATION_COLUMNS):
        # Object dtype: pandas would infer its str dtype and turn the None of "no action" into NaN.
        out[column] = pd.Series([values[index] for values in explained], dtype=object, index=out.index)
    return out


def matches(expected: float, served: float) -> bool:
    return abs(expected - served) <= max(ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE * abs(served))


def _best(
    candidates: list[_Candidate], prior_close: float, served: float, ex_date: dt.date
) -> tuple[_Candidate, float] | None:
    scored = [(abs(c.expected_base(prior_close) - served), c) for c in candidates]
    fitting = [(error, c) for error, c in scored if matches(c.expected_base(prior_close), served)]
    if not fitting:
        return None

    def preference(item: tuple[float, _Candidate]) -> tuple[int, int, float, int]:  # smaller is better
        error, candidate = item
        closes = candidate.closes_on
        # 0: its closure precedes the re-basing (the latest such first); 1: none known; 2: it closes later.
        timing = 1 if closes is None else 0 if closes < ex_date else 2
        return (timing, -_ordinal(closes) if timing == 0 else 0, error, -_ordinal(candidate.announced_on))

    _, candidate = min(fitting, key=preference)
    return candidate, candidate.expected_base(prior_close)


@dataclass(frozen=True)
class _Closure:
    closes: dt.date
    fiscal_year: str | None
    bonus: float | None  # % the AGM approves, when its notice says
    cash: float | None


def _closures_by_security(closures: pd.DataFrame | None) -> dict[int, list[_Closure]]:
    """security id -> its announced book closures, earliest first."""
    if closures is None or closures.empty:
        return {}
    out: dict[int, list[_Closure]] = {}
    columns = ["security_id", "book_close_date", "fiscal_year", "bonus_pct", "cash_dividend_pct"]
    for row in closures.reindex(columns=columns).itertuples(index=False):
        if isinstance(row.book_close_date, dt.date):
            year = row.fiscal_year if isinstance(row.fiscal_year, str) else None
            closure = _Closure(
                row.book_close_date, year, _number(row.bonus_pct), _number(row.cash_dividend_pct)
            )
            out.setdefault(int(row.security_id), []).append(closure)
    return {security_id: sorted(found, key=lambda c: c.closes) for security_id, found in out.items()}


def assign_closures(actions: pd.DataFrame, closures: list[_Closure]) -> dict[tuple[str, int], dt.date]:
    """Each action's book closure, for one company: in announcement order, the first closure on or after
    the action's announcement not yet taken by an earlier action of the same source (each endpoint lists a
    declaration once, and one closure serves one declaration), that is of the same fiscal year (when both
    name one), else approves the same bonus and cash percentages (an AGM notice gives those, not its fiscal
    year), else names neither."""
    assigned: dict[tuple[str, int], dt.date] = {}
    taken: set[tuple[str, dt.date]] = set()
    ordered = actions.sort_values(["announced_on", "nepse_id"], kind="stable", na_position="first")
    for action in ordered.itertuples(index=False):
        announced = action.announced_on if isinstance(action.announced_on, dt.date) else None
        year = action.fiscal_year if isinstance(action.fiscal_year, str) else None
        terms = (_number(action.bonus_pct) or 0.0, _number(action.cash_dividend_pct) or 0.0)
        free = [
            c
            for c in closures
            if (announced is None or c.closes >= announced) and (action.source, c.closes) not in taken
        ]
        for fits in (
            lambda c, year=year: c.fiscal_year is not None and c.fiscal_year == year,
            lambda c, terms=terms: (c.bonus is not None or c.cash is not None) and _same_terms(c, terms),
            lambda c: c.fiscal_year is None and c.bonus is None and c.cash is None,
        ):
            found = [c.closes for c in free if fits(c)]
            if found:
                assigned[(action.source, int(action.nepse_id))] = found[0]
                taken.add((action.source, found[0]))
                break
    return assigned


def _same_terms(closure: _Closure, terms: tuple[float, float]) -> bool:
    bonus, cash = terms
    return abs((closure.bonus or 0.0) - bonus) < 0.005 and abs((closure.cash or 0.0) - cash) < 0.005


def _candidates(
    actions: pd.DataFrame,
    ex_date: dt.date,
    used: set[tuple[str, int]],
    closing: dict[tuple[str, int], dt.date],
) -> list[_Candidate]:
    earliest = ex_date - dt.timedelta(days=CANDIDATE_DAYS)
    singles: list[_Candidate] = []
    for action in actions.itertuples(index=False):
        key = (action.source, int(action.nepse_id))
        announced = action.announced_on if isinstance(action.announced_on, dt.date) else None
        if key in used or (announced is not None and not earliest <= announced <= ex_date):
            continue
        bonus, right = _fraction(action.bonus_pct), _fraction(action.right_pct)
        price = _number(action.right_price) or PAR_VALUE
        cash = _number(action.cash_dividend_pct) or 0.0
        closes = closing.get(key)
        if bonus or right:
            kind = BONUS_AND_RIGHT if bonus and right else BONUS if bonus else RIGHT
            singles.append(_Candidate(kind, (key,), announced, bonus, right, price, 0.0, closes))
        if cash:
            # Rupees per share: c% of the face value.
            singles.append(
                _Candidate(CASH_DIVIDEND, (key,), announced, 0.0, 0.0, price, cash * PAR_VALUE / 100, closes)
            )
    pairs = [
        _Candidate(
            BONUS_AND_RIGHT,
            keys=bonus.keys + right.keys,
            announced_on=max(bonus.announced_on, right.announced_on, key=_ordinal),
            bonus=bonus.bonus,
            right=right.right,
            right_price=right.right_price,
            cash=0.0,
            closes_on=bonus.closes_on or right.closes_on,
        )
        for bonus, right in itertools.permutations(singles, 2)
        if bonus.kind == BONUS and right.kind == RIGHT and bonus.keys != right.keys
    ]
    return singles + pairs


def _ordinal(day: dt.date | None) -> int:
    return day.toordinal() if day else 0


def _fraction(percent: Any) -> float:
    value = _number(percent)
    return value / 100.0 if value else 0.0


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _date(value: str | None, symbol: str, nepse_id: int, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        # A date or a timestamp ("2026-08-06T09:37:02.187"): the day is what matters.
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise BadCorporateAction(
            symbol=symbol, nepse_id=nepse_id, field=field, problem=f"is {value!r}, not an ISO date"
        ) from None


def band_explainer(actions: pd.DataFrame, closures: pd.DataFrame | None = None) -> BandExplainer:
    """For `find_rebasings`: the base an announced bonus or right issue gives a move beyond the price band
    (its formula applied to the previous close), when exactly one fits: its book closure (when known)
    precedes the move, it was announced within CANDIDATE_DAYS before it, and the close is within the band
    of that base. Several fitting with different bases, or none: None (the factor stays unknown)."""
    by_security = {sid: group for sid, group in actions.groupby("security_id")} if len(actions) else {}
    closures_of = _closures_by_security(closures)
    closing = {sid: assign_closures(group, closures_of.get(sid, [])) for sid, group in by_security.items()}

    def explain(security_id: int, ex_date: dt.date, prior_close: float, close: float) -> float | None:
        group = by_security.get(security_id)
        if group is None:
            return None
        bases = {
            round(candidate.expected_base(prior_close), 4)
            for candidate in _candidates(group, ex_date, set(), closing.get(security_id, {}))
            if candidate.kind != CASH_DIVIDEND
            and (candidate.closes_on is None or candidate.closes_on < ex_date)
            and not beyond_band(np.array([close]), np.array([candidate.expected_base(prior_close)]),
                                np.array([ex_date], dtype="datetime64[D]"))[0]
        }  # fmt: skip
        return bases.pop() if len(bases) == 1 else None

    return explain


def adjustment_rows(
    prices: pd.DataFrame, actions: pd.DataFrame, closures: pd.DataFrame | None = None
) -> list[dict]:
    """The price_adjustments rows of the stored prices, announced actions and book closures (pure): every
    re-basing `find_rebasings` finds, the exchange's explained by `explain_rebasings`, a move beyond the band
    by the announcement that fits it (or unknown: factor NULL)."""
    found = find_rebasings(prices, band_explainer(actions, closures))
    if found.empty:
        return []
    served = prices.set_index(["security_id", "business_date"])
    keys = list(zip(found["security_id"], found["ex_date"], strict=True))
    found["symbol"] = served.loc[keys, "symbol"].to_numpy()
    found["adjusted_base"] = found["base"]
    exchange = found["factor_source"] == EXCHANGE_BASE
    explained = explain_rebasings(found[exchange], actions, closures)
    others = found[~exchange].copy()
    others["explanation"] = np.where(
        others["factor_source"] == ANNOUNCEMENT, "announced_band_move", UNEXPLAINED
    )
    others["expected_base"] = others["base"]
    others["action_source"] = None
    others["action_id"] = None
    explained = pd.concat([frame for frame in (explained, others) if len(frame)], ignore_index=True)
    explained = explained.sort_values(["security_id", "ex_date"], kind="stable")
    # The product of this factor and every later one of the security, for the adjusted_prices view (NaN,
    # i.e. unknown, at and before a re-basing whose factor is unknown).
    explained["factor_to_latest"] = explained.groupby("security_id")["factor"].transform(
        lambda factors: np.cumprod(factors.to_numpy(dtype=float)[::-1])[::-1]
    )
    return [
        {
            "security_id": int(row.security_id),
            "ex_date": row.ex_date,
            "symbol": str(row.symbol),
            "prior_close": round(float(row.prior_close), 4),
            "adjusted_base": _number(row.adjusted_base),
            "factor": _number(row.factor),
            "factor_to_latest": _number(row.factor_to_latest),
            "factor_source": str(row.factor_source),
            "explanation": str(row.explanation),
            "expected_base": None if pd.isna(row.expected_base) else float(row.expected_base),
            "action_source": None if pd.isna(row.action_source) else str(row.action_source),
            "action_id": None if pd.isna(row.action_id) else str(row.action_id),
        }
        for row in explained.itertuples(index=False)
    ]


def shares_row(security_id: int, shares: SecurityShares, fetched_on: dt.date) -> dict[str, Any]:
    """A `security_shares` row (also what `companies` keeps as the current counts): whole numbers of
    shares, as NEPSE's float counts mean."""
    return {
        "security_id": security_id,
        "fetched_on": fetched_on,
        "listed_shares": _whole(shares.stock_listed_shares),
        "promoter_shares": _whole(shares.promoter_shares),
        "public_shares": _whole(shares.public_shares),
        "paid_up_capital": shares.paid_up_capital,
    }


def shares_due(
    fetched_on: Mapping[int, dt.date | None], last_rebasing: Mapping[int, dt.date], today: dt.date
) -> set[int]:
    """Companies whose share counts to fetch: never fetched, re-based on or after the day they were, or
    fetched more than SHARES_MAX_AGE_DAYS ago (the promoter/public split changes without a re-basing: the
    screener keeps their history)."""
    oldest = today - dt.timedelta(days=SHARES_MAX_AGE_DAYS)
    due = set()
    for security_id, fetched in fetched_on.items():
        rebased = last_rebasing.get(security_id)
        if fetched is None or fetched < oldest or (rebased is not None and rebased >= fetched):
            due.add(security_id)
    return due


def _whole(value: float | None) -> int | None:
    return None if value is None else round(value)
