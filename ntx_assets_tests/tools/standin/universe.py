"""Who is listed: the real company and security lists, each security classified and tied to its company."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from ntx_assets_tests.tools.standin import snapshots

Kind = Literal["equity", "mutual_fund", "debenture", "preference", "promoter"]

_KIND_BY_INSTRUMENT: dict[str, Kind] = {
    "Equity": "equity",
    "Mutual Funds": "mutual_fund",
    "Non-Convertible Debentures": "debenture",
    "Preference Shares": "preference",
}
_PROMOTER_SUFFIX = re.compile(r"\s*promot(e|o)r\s+share.*$", re.IGNORECASE)


@dataclass(frozen=True)
class Listing:
    """One row of the security list, with what the generators need to know about it."""

    security_id: int
    symbol: str
    security_name: str
    status: str  # "A" or "S" (the list is nonDelisted)
    kind: Kind
    company: dict[str, Any] | None  # own company-list row, or the parent's for a promoter share

    @property
    def trades(self) -> bool:
        return self.status == "A"


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower().replace("limited", "ltd"))


class _ParentFinder:
    """Finds the company a promoter share belongs to: by name first, then by symbol stem (NABILP -> NABIL)."""

    def __init__(self, companies: list[dict[str, Any]]) -> None:
        self._by_name: dict[str, dict[str, Any]] = {}
        for company in companies:
            for key in (company["companyName"], company["securityName"]):
                self._by_name.setdefault(_normalise(key), company)
        self._by_symbol = {company["symbol"]: company for company in companies}

    def find(self, row: dict[str, Any]) -> dict[str, Any] | None:
        found = self._by_name.get(_normalise(_PROMOTER_SUFFIX.sub("", row["securityName"])))
        if found is not None:
            return found
        for suffix in ("PO", "P"):
            stem = row["symbol"][: -len(suffix)]
            if row["symbol"].endswith(suffix) and stem in self._by_symbol:
                return self._by_symbol[stem]
        return None


@dataclass(frozen=True)
class Universe:
    companies: list[dict[str, Any]]  # GET /company/list, 612 real rows
    securities: list[dict[str, Any]]  # GET /security?nonDelisted=true, 543 real rows
    listings: tuple[Listing, ...]  # aligned with securities
    by_id: dict[int, Listing]
    company_by_id: dict[int, dict[str, Any]]

    def active_equity(self) -> list[dict[str, Any]]:
        """The product rule: company-list rows with status A and instrumentType Equity."""
        return [c for c in self.companies if c["status"] == "A" and c["instrumentType"] == "Equity"]

    def promoter_listings(self) -> list[Listing]:
        return [listing for listing in self.listings if listing.kind == "promoter"]


def load_universe() -> Universe:
    companies = snapshots.companies()
    securities = snapshots.securities()
    company_by_id = {company["id"]: company for company in companies}
    parents = _ParentFinder(companies)
    listings: list[Listing] = []
    for row in securities:
        own = company_by_id.get(row["id"])
        if own is not None:
            kind = _KIND_BY_INSTRUMENT[own["instrumentType"]]
            company = own
        else:
            # The company list leaves promoter shares out; everything else in the security list is in it.
            kind = "promoter"
            company = parents.find(row)
        listings.append(
            Listing(
                security_id=row["id"],
                symbol=row["symbol"],
                security_name=row["securityName"],
                status=row["activeStatus"],
                kind=kind,
                company=company,
            )
        )
    return Universe(
        companies=companies,
        securities=securities,
        listings=tuple(listings),
        by_id={listing.security_id: listing for listing in listings},
        company_by_id=company_by_id,
    )
