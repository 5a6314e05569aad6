"""Seeded per-company and per-security facts that the real lists do not carry.

Where a real security object exists in the snapshots (page 0 of classification and promoters), its
values win, so those securities look exactly as on 2025-12-04.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from ntx_assets_tests.tools.standin import snapshots
from ntx_assets_tests.tools.standin.seeding import numpy_rng
from ntx_assets_tests.tools.standin.universe import Kind, Listing, Universe

_FIRST_NAMES = (
    "Ram", "Sita", "Hari", "Gita", "Krishna", "Sabina", "Bikash", "Anita", "Rajesh", "Sunita",
    "Prakash", "Kamala", "Suman", "Binod", "Sarita", "Dipak", "Manisha", "Niraj", "Pooja", "Santosh",
)  # fmt: skip
_LAST_NAMES = (
    "Shrestha", "Sharma", "Adhikari", "Karki", "Thapa", "Gurung", "Maharjan", "Bhandari", "Poudel",
    "KC", "Rai", "Tamang", "Joshi", "Pandey", "Khadka", "Dahal", "Bhattarai", "Shakya", "Rana", "Koirala",
)  # fmt: skip
_TOWNS = (
    "Kathmandu", "Kathmandu", "Kathmandu", "Kathmandu", "Lalitpur", "Lalitpur", "Pokhara", "Biratnagar",
    "Butwal", "Birgunj", "Bharatpur", "Hetauda", "Dhangadhi", "Nepalgunj",
)  # fmt: skip

# First and last plausible listing year per sector; the newest sectors listed latest.
_LISTING_YEARS: dict[str, tuple[int, int]] = {
    "Commercial Banks": (1986, 2018),
    "Development Banks": (2004, 2018),
    "Finance": (1995, 2012),
    "Hydro Power": (2010, 2023),
    "Microfinance": (2010, 2023),
    "Life Insurance": (1995, 2023),
    "Non Life Insurance": (1995, 2023),
    "Manufacturing And Processing": (1994, 2023),
    "Hotels And Tourism": (1995, 2023),
    "Investment": (2010, 2023),
    "Others": (2000, 2023),
    "Tradings": (1995, 2015),
    "Mutual Fund": (2012, 2023),
}
_FACE_VALUE: dict[Kind, float] = {
    "equity": 100.0,
    "promoter": 100.0,
    "mutual_fund": 10.0,
    "debenture": 1000.0,
    "preference": 100.0,
}
_ISIN_CLASS: dict[Kind, str] = {"equity": "0", "promoter": "4", "mutual_fund": "5", "debenture": "D"}


def isin_check_digit(body: str) -> int:
    """ISO 6166 check digit: letters become two digits (A=10), then Luhn from the right."""
    digits = "".join(str(int(ch, 36)) for ch in body)
    total = 0
    for position, ch in enumerate(reversed(digits)):
        value = int(ch) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return (10 - total % 10) % 10


def make_isin(issuer_code: int, kind: Kind) -> str:
    body = f"NPE{issuer_code:03d}A{_ISIN_CLASS.get(kind, '0')}000"
    return body + str(isin_check_digit(body))


@dataclass(frozen=True)
class CompanyFacts:
    company_id: int
    contact_person: str
    registration_number: str | None
    town: str
    phone: str
    has_description: bool
    listing_date: date
    net_worth_per_share: float  # at the start of the report history
    annual_eps: float  # the level quarterly EPS figures wander around


@dataclass(frozen=True)
class SecurityFacts:
    security_id: int
    company_key: int  # key of company_facts: the company-list id, or the promoter's own id if orphaned
    listing_date: date
    isin: str
    cds_stock_ref_id: int | None
    face_value: float
    listed_shares: int
    promoter_percentage: float
    share_group: str  # "A", "B", "G" or "Z"
    networth_base_price: float | None


def _templates() -> dict[int, dict[str, Any]]:
    objects = snapshots.classification_templates() + snapshots.promoter_templates()
    return {obj["id"]: obj for obj in objects}


def company_key(listing: Listing) -> int:
    return listing.company["id"] if listing.company is not None else listing.security_id


class FactBook:
    """All seeded facts, built once at startup."""

    def __init__(self, universe: Universe, seed: int) -> None:
        self.templates = _templates()
        rng = numpy_rng(seed, "facts")
        self.companies: dict[int, CompanyFacts] = {}
        self.securities: dict[int, SecurityFacts] = {}
        template_by_company = self._template_by_company(universe)
        for position, company in enumerate(universe.companies):
            template = template_by_company.get(company["id"])
            self.companies[company["id"]] = self._company_facts(
                rng, company["sectorName"], 2000 + position, template
            )
        for position, listing in enumerate(universe.listings):
            key = company_key(listing)
            if key not in self.companies:  # a promoter share whose company is not in the list
                template = self.templates.get(listing.security_id)
                self.companies[key] = self._company_facts(rng, "Others", 3000 + position, template)
            self.securities[listing.security_id] = self._security_facts(rng, listing, key, position)

    def _template_by_company(self, universe: Universe) -> dict[int, dict[str, Any]]:
        """Real companyId objects, keyed by company-list id (via the ordinary share or a promoter share)."""
        found: dict[int, dict[str, Any]] = {}
        for security_id, template in self.templates.items():
            listing = universe.by_id.get(security_id)
            if listing is not None and listing.company is not None:
                found.setdefault(listing.company["id"], template)
        return found

    @staticmethod
    def _company_facts(
        rng: np.random.Generator, sector: str, synthetic_id: int, template: dict[str, Any] | None
    ) -> CompanyFacts:
        first_year, last_year = _LISTING_YEARS.get(sector, (1995, 2023))
        listing = date(first_year, 1, 1) + timedelta(
            days=int(rng.integers(0, (date(last_year, 12, 31) - date(first_year, 1, 1)).days))
        )
        contact = (
            f"{_FIRST_NAMES[rng.integers(len(_FIRST_NAMES))]} {_LAST_NAMES[rng.integers(len(_LAST_NAMES))]}"
        )
        year = int(rng.integers(40, 80))
        registration: str | None = f"{int(rng.integers(1, 2000))}/0{year}/{year + 1}"
        town = _TOWNS[int(rng.integers(len(_TOWNS)))]
        phone = (
            f"01-4{int(rng.integers(100000, 999999))}"
            if rng.random() < 0.7
            else f"98{int(rng.integers(10000000, 99999999))}"
        )
        has_description = bool(rng.random() < 0.8)
        net_worth = round(float(rng.uniform(95.0, 320.0)), 2)
        eps = round(float(np.clip(rng.normal(22.0, 11.0), -15.0, 90.0)), 2)
        company_id = synthetic_id
        if template is not None:
            company = template["companyId"]
            company_id = company["id"]
            contact = company["companyContactPerson"] or contact
            registration = company["companyRegistrationNumber"]
            listing = date.fromisoformat(template["listingDate"])
        return CompanyFacts(
            company_id, contact, registration, town, phone, has_description, listing, net_worth, eps
        )

    def _security_facts(
        self, rng: np.random.Generator, listing: Listing, key: int, position: int
    ) -> SecurityFacts:
        company = self.companies[key]
        kind = listing.kind
        if kind == "promoter":
            listing_date = company.listing_date + timedelta(days=int(rng.integers(0, 3 * 365)))
            listing_date = min(listing_date, date(2023, 12, 31))
            shares = float(np.exp(rng.normal(np.log(1.5e7), 0.9)))
            promoter_pct, group = 100.0, ("Z" if rng.random() < 0.9 else "A")
        elif kind == "debenture":
            listing_date = date(2018, 1, 1) + timedelta(days=int(rng.integers(0, 6 * 365)))
            shares = float(np.exp(rng.normal(np.log(2.5e6), 0.7)))
            promoter_pct, group = 0.0, "A"
        elif kind == "mutual_fund":
            listing_date = company.listing_date
            shares = float(np.exp(rng.normal(np.log(1.0e8), 0.6)))
            promoter_pct, group = 0.0, "A"
        else:
            listing_date = company.listing_date
            sector = listing.company["sectorName"] if listing.company else ""
            scale = {"Commercial Banks": 1.5e8, "Microfinance": 6e6, "Development Banks": 3e7}.get(
                sector, 2e7
            )
            shares = float(np.exp(rng.normal(np.log(scale), 0.8)))
            promoter_pct = round(float(rng.uniform(30.0, 70.0)), 2)
            draw = rng.random()
            group = "G" if listing_date.year >= 2021 and draw < 0.5 else ("A" if draw < 0.75 else "B")
            if draw > 0.95:
                group = "Z"
        template = self.templates.get(listing.security_id)
        isin = make_isin(100 + position % 900, kind)
        cds: int | None = 5000 + position
        networth: float | None = 100.0
        if template is not None:
            listing_date = date.fromisoformat(template["listingDate"])
            isin = template["isin"]
            cds = template["cdsStockRefId"]
            networth = template["networthBasePrice"]
            group = template["shareGroupId"]["name"]
        return SecurityFacts(
            security_id=listing.security_id,
            company_key=key,
            listing_date=listing_date,
            isin=isin,
            cds_stock_ref_id=cds,
            face_value=_FACE_VALUE[kind],
            listed_shares=int(np.clip(shares, 1e5, 2e9)),
            promoter_percentage=promoter_pct,
            share_group=group,
            networth_base_price=networth,
        )
