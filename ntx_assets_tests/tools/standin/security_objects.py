"""Full security objects (as embedded in classification, promoters and detail) and company profiles."""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

from ntx_assets_tests.tools.standin import snapshots
from ntx_assets_tests.tools.standin.facts import FactBook, company_key
from ntx_assets_tests.tools.standin.universe import Kind, Listing, Universe

# Sector ids as NEPSE numbers them (docs/NEPSE_API.md 2.3).
SECTOR_IDS: dict[str, int] = {
    "Commercial Banks": 37,
    "Manufacturing And Processing": 38,
    "Hotels And Tourism": 39,
    "Others": 40,
    "Hydro Power": 41,
    "Tradings": 42,
    "Non Life Insurance": 43,
    "Development Banks": 44,
    "Finance": 45,
    "Mutual Fund": 46,
    "Microfinance": 49,
    "Life Insurance": 50,
    "Investment": 52,
}
# Only Equity's id and code are known from real objects; the other three are plausible guesses.
INSTRUMENT_TYPES: dict[Kind, dict[str, Any]] = {
    "equity": {"id": 1, "code": "EQ", "description": "Equity", "activeStatus": "A"},
    "promoter": {"id": 1, "code": "EQ", "description": "Equity", "activeStatus": "A"},
    "mutual_fund": {"id": 2, "code": "MF", "description": "Mutual Funds", "activeStatus": "A"},
    "debenture": {"id": 3, "code": "NCD", "description": "Non-Convertible Debentures", "activeStatus": "A"},
    "preference": {"id": 4, "code": "PS", "description": "Preference Shares", "activeStatus": "A"},
}
CAPITAL_GAIN_BASE_DATE = date(2006, 12, 29)
TRADING_SYSTEM_START = date(2007, 7, 25)

# The one real profile capture (SCB, docs/NEPSE_API.md 2.4); every other profile is synthesized.
REAL_PROFILES: dict[int, dict[str, Any]] = {
    133: {
        "companyName": "Standard Chartered Bank  Nepal Limited",
        "companyEmail": "Legal.Nepal@sc.com",
        "companyProfile": None,
        "companyContactPerson": "Gopi Krishna Bhandari",
        "logoFilePath": "scb_user/2024-02-26/SCB Logo-67x31inch_1708947438500.jpg",
        "addressType": "Corporate Office",
        "addressField": "Kathmandu",
        "phoneNumber": "9775970500",
        "fax": "",
        "town": "Kathmandu",
    }
}
_PROMOTER_SUFFIX = re.compile(r"\s*promot(e|o)r\s+share.*$", re.IGNORECASE)


def _share_groups(templates: dict[int, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    groups = {obj["shareGroupId"]["name"]: obj["shareGroupId"] for obj in templates.values()}
    # B and G were never captured; their ids and descriptions are invented.
    groups.setdefault(
        "B",
        {
            "id": 39,
            "name": "B",
            "description": "Companies that do not meet the A group criteria",
            "capitalRangeMin": 0,
            "modifiedBy": None,
            "modifiedDate": None,
            "activeStatus": "A",
            "isDefault": "Y",
        },
    )
    groups.setdefault(
        "G",
        {
            "id": 40,
            "name": "G",
            "description": "Newly listed companies",
            "capitalRangeMin": 0,
            "modifiedBy": None,
            "modifiedDate": None,
            "activeStatus": "A",
            "isDefault": "N",
        },
    )
    return groups


def _orphan_sector(name: str) -> str:
    lowered = name.lower()
    if "development bank" in lowered:
        return "Development Banks"
    if "finance" in lowered:
        return "Finance"
    return "Others"


class SecurityObjects:
    def __init__(self, universe: Universe, facts: FactBook) -> None:
        self._universe = universe
        self._facts = facts
        self._templates = facts.templates
        self._groups = _share_groups(self._templates)
        self._equity_skeleton = snapshots.classification_templates()[0]
        self._promoter_skeleton = snapshots.promoter_templates()[0]
        self._company_templates: dict[int, dict[str, Any]] = {}
        for security_id, template in self._templates.items():
            listing = universe.by_id.get(security_id)
            if listing is not None:
                self._company_templates.setdefault(company_key(listing), template["companyId"])
        self._cache: dict[int, dict[str, Any]] = {}

    def company_object(self, listing: Listing) -> dict[str, Any]:
        key = company_key(listing)
        template = self._company_templates.get(key)
        if template is not None:
            return copy.deepcopy(template)
        facts = self._facts.companies[key]
        company = listing.company
        if company is None:
            name = _PROMOTER_SUFFIX.sub("", listing.security_name)
            stem = re.sub(r"P(O)?$", "", listing.symbol)
            sector, regulator, email, website, status = _orphan_sector(name), "N/A", None, None, "A"
        else:
            name, stem = company["companyName"], company["symbol"]
            sector, regulator = company["sectorName"], company["regulatoryBody"]
            email, website, status = company["companyEmail"], company["website"], company["status"]
        return {
            "id": facts.company_id,
            "companyShortName": stem,
            "companyName": name,
            "email": email,
            "companyWebsite": website,
            "companyContactPerson": facts.contact_person,
            "sectorMaster": {
                "id": SECTOR_IDS.get(sector, 40),
                "sectorDescription": sector,
                "activeStatus": "A",
                "regulatoryBody": regulator,
            },
            "companyRegistrationNumber": facts.registration_number,
            "activeStatus": status,
        }

    def security(self, security_id: int) -> dict[str, Any] | None:
        """The full security object; real where the snapshots hold it, synthesized otherwise."""
        listing = self._universe.by_id.get(security_id)
        if listing is None:
            return None
        if security_id not in self._cache:
            self._cache[security_id] = self._build(listing)
        return copy.deepcopy(self._cache[security_id])

    def _build(self, listing: Listing) -> dict[str, Any]:
        template = self._templates.get(listing.security_id)
        if template is not None:
            return copy.deepcopy(template)
        facts = self._facts.securities[listing.security_id]
        skeleton = self._promoter_skeleton if listing.kind == "promoter" else self._equity_skeleton
        obj = copy.deepcopy(skeleton)
        obj.update(
            {
                "id": listing.security_id,
                "symbol": listing.symbol,
                "isin": facts.isin,
                "permittedToTrade": "Y" if listing.status == "A" else "N",
                "listingDate": facts.listing_date.isoformat(),
                "instrumentType": dict(INSTRUMENT_TYPES[listing.kind]),
                "capitalGainBaseDate": max(facts.listing_date, CAPITAL_GAIN_BASE_DATE).isoformat(),
                "faceValue": facts.face_value,
                "shareGroupId": copy.deepcopy(self._groups[facts.share_group]),
                "activeStatus": listing.status,
                "cdsStockRefId": facts.cds_stock_ref_id,
                "securityName": listing.security_name,
                "tradingStartDate": f"{max(facts.listing_date, TRADING_SYSTEM_START).isoformat()}T00:00:00",
                "networthBasePrice": facts.networth_base_price,
                "isPromoter": "Y" if listing.kind == "promoter" else "N",
                "companyId": self.company_object(listing),
            }
        )
        return obj

    def _ordered(self, wanted: list[Listing], template_order: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # The real page 0 comes first and in its real order, so page 0 matches the capture.
        wanted_ids = {listing.security_id for listing in wanted}
        first = [obj["id"] for obj in template_order if obj["id"] in wanted_ids]
        rest = [listing.security_id for listing in wanted if listing.security_id not in set(first)]
        return [obj for sid in first + rest if (obj := self.security(sid)) is not None]

    def classification(self) -> list[dict[str, Any]]:
        """GET /security/classification: the active equity companies (259 on 2025-12-04)."""
        wanted = [self._universe.by_id[c["id"]] for c in self._universe.active_equity()]
        return self._ordered(wanted, snapshots.classification_templates())

    def promoters(self) -> list[dict[str, Any]]:
        """GET /security/promoters: every promoter share of the security list, isPromoter "Y"."""
        return self._ordered(self._universe.promoter_listings(), snapshots.promoter_templates())

    def profile(self, security_id: int) -> dict[str, Any] | None:
        """GET /security/profile/{id}; a promoter share answers with its company's profile."""
        listing = self._universe.by_id.get(security_id)
        if listing is None:
            return None
        key = company_key(listing)
        if key in REAL_PROFILES:
            return dict(REAL_PROFILES[key])
        facts = self._facts.companies[key]
        company = self.company_object(listing)
        symbol = company["companyShortName"]
        sector = company["sectorMaster"]["sectorDescription"]
        description = (
            f"{company['companyName'].strip()} ({symbol}) has been listed on the Nepal Stock Exchange since "
            f"{facts.listing_date.year}. It operates in the {sector} sector and its corporate office is in "
            f"{facts.town}."
            if facts.has_description
            else None
        )
        uploaded = date(2023, 1, 1).toordinal() + (facts.company_id * 37) % 1000
        stamp = (facts.company_id * 7919) % 10**9 + 1_690_000_000_000
        folder = f"{symbol.lower()}_user/{date.fromordinal(uploaded).isoformat()}"
        return {
            "companyName": company["companyName"],
            "companyEmail": company["email"],
            "companyProfile": description,
            "companyContactPerson": facts.contact_person,
            "logoFilePath": f"{folder}/{symbol} Logo_{stamp}.jpg",
            "addressType": "Corporate Office",
            "addressField": facts.town,
            "phoneNumber": facts.phone,
            "fax": "",
            "town": facts.town,
        }
