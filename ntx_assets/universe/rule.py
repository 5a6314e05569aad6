"""Which NEPSE securities the screener covers: the product's one statement of the universe rule.

Inputs are the rows of three endpoints (docs/NEPSE_API.md sections 2.1, 2.2 and 3), as the client typed them
(ids are integers and symbols text, or the client refused the row):

- `GET /api/nots/company/list` (the primary source; every company ever listed, promoter shares excluded),
- `GET /api/nots/security?nonDelisted=true` (optional; adds promoter shares and a second status),
- `GET /api/nots/security/promoters` (optional; the `content` rows of every page, concatenated).

THE RULE. A security is included iff

1. the company list has it with `status == "A"` and `instrumentType == "Equity"`,
2. it is not a promoter share: not listed by the promoters endpoint with `isPromoter == "Y"`, and its
   `securityName` does not match /promot(e|o)r share/i, and
3. no other list gives it a status other than "A" (the security list marks suspended ones "S").

Nothing else is consulted. In particular there is no filter on sector (mutual funds carry their sponsor's
sector: SEF, NBF2 and KSY say "Commercial Banks") and none on other name patterns (/yojana|kosh/ would drop
the hydro companies RURU and UPPER and the bank SAPDBL).

Every security seen in any list gets one row, keyed on the security id (ids survive renames such as
NIB -> NIMB), with `reason` saying why it is in or out. The precedence of reasons is "what it is" before
"what state it is in", so the reason names what would still exclude the row if its status changed:

1. instrument type from the company list: `mutual_fund`, `debenture`, `preference_share`, or
   `unknown_instrument:<value>` for a type NEPSE has not used so far (a new type is excluded loudly rather
   than silently included),
2. `promoter_share`,
3. `not_a_company`: in the security or promoter list only, and not recognisably a promoter share,
4. status, the most severe one any list gives: `delisted` (D), `suspended` (S), `inactive` (I), or
   `unknown_status:<value>`,
5. otherwise `included`.

The module is pure: no I/O, no Dagster.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd

from ntx_assets.common.text import clean_text
from ntx_assets.nepse.models import Company, Security, SecurityDetail, nepse_field

R = TypeVar("R", Company, Security, SecurityDetail)

INCLUDED = "included"
MUTUAL_FUND = "mutual_fund"
DEBENTURE = "debenture"
PREFERENCE_SHARE = "preference_share"
PROMOTER_SHARE = "promoter_share"
DELISTED = "delisted"
SUSPENDED = "suspended"
INACTIVE = "inactive"
NOT_A_COMPANY = "not_a_company"
# NEPSE's classification list marks the security permittedToTrade = "N": it cannot be traded, like a
# suspended one, whatever its status says.
NOT_PERMITTED_TO_TRADE = "not_permitted_to_trade"
# Set by company_universe, not by classify: a stored security that no NEPSE list carries any more.
NOT_LISTED = "not_listed"
UNKNOWN_INSTRUMENT_PREFIX = "unknown_instrument:"
UNKNOWN_STATUS_PREFIX = "unknown_status:"

# Every fixed reason, in precedence order (the two prefixed ones carry the unexpected value).
REASONS: tuple[str, ...] = (
    MUTUAL_FUND,
    DEBENTURE,
    PREFERENCE_SHARE,
    PROMOTER_SHARE,
    NOT_A_COMPANY,
    DELISTED,
    SUSPENDED,
    INACTIVE,
    NOT_PERMITTED_TO_TRADE,
    INCLUDED,
)

EQUITY = "Equity"
ACTIVE = "A"

# The four instrumentType strings seen in 2021, 2025 and 2026 (docs/NEPSE_API.md section 3).
INSTRUMENT_REASONS: Mapping[str, str] = {
    EQUITY: INCLUDED,
    "Mutual Funds": MUTUAL_FUND,
    "Non-Convertible Debentures": DEBENTURE,
    "Preference Shares": PREFERENCE_SHARE,
}

# Most severe first: a company the company list calls A but the security list calls S is suspended.
STATUS_REASONS: Mapping[str, str] = {"D": DELISTED, "S": SUSPENDED, "I": INACTIVE}

# Part of the rule: applies to every row, including company-list rows.
PROMOTER_SHARE_NAME = re.compile(r"promot(e|o)r share", re.IGNORECASE)
# Only a label, never the rule: 40 of the 137 security-list-only rows on 2025-12-04 end in a bare
# "Promoter"/"promotor" (HBLPO "Himalayan Bank Ltd. Promoter"). Those rows are excluded anyway (they are
# not in the company list); this just files them under promoter_share instead of not_a_company.
PROMOTER_WORD = re.compile(r"\bpromot(e|o)r\b", re.IGNORECASE)

# The warehouse's companies.reason column is VARCHAR(64).
MAX_REASON_LENGTH = 64

COLUMNS: tuple[str, ...] = (
    "security_id",
    "symbol",
    "name",
    "security_name",
    "sector",
    "instrument_type",
    "status",
    "included",
    "reason",
    "website",
    "company_status",
    "security_status",
    "in_company_list",
    "in_security_list",
    "in_promoter_list",
    "is_promoter",
)
_BOOL_COLUMNS = frozenset(
    {"included", "in_company_list", "in_security_list", "in_promoter_list", "is_promoter"}
)


@dataclass(frozen=True)
class _Row:
    """One list's view of one security, reduced to the fields the rule and the output use."""

    security_id: int
    symbol: str
    name: str | None
    security_name: str | None
    sector: str | None
    instrument_type: str | None
    status: str | None
    website: str | None
    is_promoter_flag: bool


def classify(
    companies: Iterable[Company],
    securities: Iterable[Security] | None = None,
    promoters: Iterable[SecurityDetail] | None = None,
    not_permitted_to_trade: Collection[int] = (),
) -> pd.DataFrame:
    """Apply the universe rule; one row per security id seen in any list, sorted by security_id.

    `not_permitted_to_trade`: the security ids NEPSE's classification list marks permittedToTrade "N";
    a company the rule would include is excluded with reason `not_permitted_to_trade`.

    Columns: see `COLUMNS`. `name` is the company name (for a mutual fund that is its sponsor; the fund's
    own name is `security_name`). `status` is the most severe status any list gives; `company_status` and
    `security_status` are the raw values (None when the list lacks the row). Text columns are object dtype
    holding None for missing values, so rows go to the database as NULL rather than NaN.

    Raises ValueError for input the rule cannot be applied to: an empty company list, a blank symbol, a
    company-list row without `status` or `instrumentType`, an id listed twice in one list with different
    values, and two included ids sharing a symbol.
    """
    company_rows = _index(_company_row, companies, "company list (GET /api/nots/company/list)")
    if not company_rows:
        raise ValueError(
            "the company list is empty; the universe cannot be derived without it. Check the response of "
            "GET /api/nots/company/list (an empty body usually means an authentication or payload problem) "
            "and retry instead of publishing an empty universe."
        )
    security_rows = _index(
        _security_row, securities or (), "security list (GET /api/nots/security?nonDelisted=true)"
    )
    promoter_rows = _index(
        _promoter_row, promoters or (), "promoter list (GET /api/nots/security/promoters content rows)"
    )

    records = []
    for security_id in sorted(company_rows.keys() | security_rows.keys() | promoter_rows.keys()):
        company = company_rows.get(security_id)
        security = security_rows.get(security_id)
        promoter = promoter_rows.get(security_id)
        # The company list is the primary source, so its symbol wins when the lists disagree (a rename
        # caught between two requests); the security id is what stays fixed.
        first = company or security or promoter
        assert first is not None  # the id came from one of the three dicts
        seen = [r for r in (company, security, promoter) if r is not None]

        is_promoter = any(r.is_promoter_flag for r in seen) or any(
            PROMOTER_SHARE_NAME.search(r.security_name or "") for r in seen
        )
        if company is None and not is_promoter:
            is_promoter = any(PROMOTER_WORD.search(r.security_name or "") for r in seen)

        status = _most_severe(r.status for r in seen)
        reason = _reason(company, is_promoter, status)
        if reason == INCLUDED and security_id in not_permitted_to_trade:
            reason = NOT_PERMITTED_TO_TRADE
        records.append(
            {
                "security_id": security_id,
                "symbol": first.symbol,
                "name": _first(r.name for r in seen) or first.symbol,
                "security_name": _first(r.security_name for r in seen),
                "sector": _first(r.sector for r in seen),
                "instrument_type": _first(r.instrument_type for r in seen),
                "status": status,
                "included": reason == INCLUDED,
                "reason": reason[:MAX_REASON_LENGTH],
                "website": _first(r.website for r in seen),
                "company_status": company.status if company else None,
                "security_status": security.status if security else None,
                "in_company_list": company is not None,
                "in_security_list": security is not None,
                "in_promoter_list": promoter is not None,
                "is_promoter": is_promoter,
            }
        )

    # Built column by column with explicit dtypes: pandas 3 infers its str dtype for text and turns None
    # into NaN, which would reach the database as 'NaN' rather than NULL.
    frame = pd.DataFrame(
        {
            column: pd.Series(
                [record[column] for record in records],
                dtype="int64" if column == "security_id" else bool if column in _BOOL_COLUMNS else object,
            )
            for column in COLUMNS
        }
    )
    _check_unique_included_symbols(frame)
    return frame


def included_symbols(universe: pd.DataFrame) -> list[str]:
    """The symbols of the included rows, sorted."""
    return sorted(universe.loc[universe["included"], "symbol"].tolist())


def summarize(universe: pd.DataFrame) -> dict[str, Any]:
    """Plain-int counts for asset metadata: rows, included, by reason, included by sector."""
    included = universe[universe["included"]]
    by_sector = Counter(included["sector"].fillna("(none)"))
    return {
        "rows": len(universe),
        "included": len(included),
        "excluded": len(universe) - len(included),
        "by_reason": {k: int(v) for k, v in sorted(Counter(universe["reason"]).items())},
        "included_by_sector": {k: int(v) for k, v in sorted(by_sector.items())},
    }


def _reason(company: _Row | None, is_promoter: bool, status: str | None) -> str:
    if company is not None:
        instrument = company.instrument_type
        kind = INSTRUMENT_REASONS.get(instrument) if instrument is not None else None
        if kind is None:
            return f"{UNKNOWN_INSTRUMENT_PREFIX}{instrument}"
        if kind != INCLUDED:
            return kind
    if is_promoter:
        return PROMOTER_SHARE
    if company is None:
        return NOT_A_COMPANY
    if status in STATUS_REASONS:
        return STATUS_REASONS[status]
    if status != ACTIVE:
        return f"{UNKNOWN_STATUS_PREFIX}{status}"
    # The rule asks the company list itself for "A"; a null there must not be outvoted by another list.
    if company.status != ACTIVE:
        return f"{UNKNOWN_STATUS_PREFIX}{company.status}"
    return INCLUDED


def _most_severe(statuses: Iterable[str | None]) -> str | None:
    """D > S > I > anything unexpected > A; None (a list without a status) has no say."""
    known = [s for s in statuses if s is not None]
    for status in STATUS_REASONS:
        if status in known:
            return status
    unexpected = sorted(s for s in known if s != ACTIVE)
    if unexpected:
        return unexpected[0]
    return ACTIVE if known else None


def _first(values: Iterable[str | None]) -> str | None:
    return next((v for v in values if v), None)


def _index(parse: Callable[[R, int, str], _Row], rows: Iterable[R], source: str) -> dict[int, _Row]:
    indexed: dict[int, _Row] = {}
    for position, record in enumerate(rows):
        row = parse(record, position, source)
        previous = indexed.get(row.security_id)
        if previous is not None and previous != row:
            field = "symbol" if previous.symbol != row.symbol else _first_difference(previous, row)
            raise ValueError(
                f"security id {row.security_id} appears twice in the {source} with different {field} "
                f"({getattr(previous, field)!r} and {getattr(row, field)!r}); one list must have one row per "
                "id. Refetch the list (it may have changed between pages) instead of merging the copies."
            )
        indexed[row.security_id] = row
    return indexed


def _first_difference(a: _Row, b: _Row) -> str:
    return next(f for f in a.__dataclass_fields__ if getattr(a, f) != getattr(b, f))


def _company_row(company: Company, position: int, source: str) -> _Row:
    # Absent is a schema change to refuse; present but null is a value the rule files under unknown_*.
    for attribute in ("status", "instrument_type"):
        if attribute not in company.model_fields_set:
            raise ValueError(_missing(nepse_field(Company, attribute), company, position, source))
    return _Row(
        security_id=company.id,
        symbol=_symbol(company, position, source),
        name=clean_text(company.company_name) or clean_text(company.security_name),
        security_name=clean_text(company.security_name),
        sector=clean_text(company.sector_name),
        instrument_type=clean_text(company.instrument_type),
        status=clean_text(company.status),
        website=clean_text(company.website),
        is_promoter_flag=False,
    )


def _security_row(security: Security, position: int, source: str) -> _Row:
    return _Row(
        security_id=security.id,
        symbol=_symbol(security, position, source),
        name=clean_text(security.security_name),
        security_name=clean_text(security.security_name),
        sector=None,
        instrument_type=None,
        status=clean_text(security.active_status),
        website=None,
        # A full security object (as /security/{id} returns) may carry the flag; the list rows do not.
        is_promoter_flag=clean_text(security.is_promoter) == "Y",
    )


def _promoter_row(promoter: SecurityDetail, position: int, source: str) -> _Row:
    company = promoter.company
    return _Row(
        security_id=promoter.id,
        symbol=_symbol(promoter, position, source),
        name=clean_text(promoter.security_name),
        security_name=clean_text(promoter.security_name),
        sector=clean_text(promoter.sector_name),
        # Here instrumentType is an object ({"code": "EQ", "description": "Equity"}), not a string.
        instrument_type=clean_text(promoter.instrument_type and promoter.instrument_type.description),
        status=clean_text(promoter.active_status),
        website=clean_text(company.company_website) if company else None,
        is_promoter_flag=clean_text(promoter.is_promoter) == "Y",
    )


def _symbol(record: Company | Security | SecurityDetail, position: int, source: str) -> str:
    symbol = clean_text(record.symbol)
    if symbol is None:
        raise ValueError(_missing("symbol", record, position, source))
    return symbol


def _missing(key: str, record: Company | Security | SecurityDetail, position: int, source: str) -> str:
    return (
        f"row {position} of the {source} (id {record.id}, symbol {record.symbol!r}) has no {key!r}; every "
        "row needs one. Check whether NEPSE has renamed the field."
    )


def _check_unique_included_symbols(frame: pd.DataFrame) -> None:
    included = frame[frame["included"]]
    duplicated = included[included["symbol"].duplicated(keep=False)]
    if not duplicated.empty:
        pairs = ", ".join(
            f"{symbol}: ids {sorted(group['security_id'].tolist())}"
            for symbol, group in duplicated.groupby("symbol")
        )
        raise ValueError(
            f"two included securities share a symbol ({pairs}); prices and filings are looked up by symbol "
            "as well as id, so this would mix two companies. Check the company list for a stale row."
        )
