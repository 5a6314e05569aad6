"""Quarterly and annual financial reports of the active equity companies, with one document each.

A financial institution's quarterly report document is in NRB's format with its ratios (bank_reports.py).
Covers three Nepali fiscal years: the one that contains the window's end date and the two before it. A
quarterly report is submitted 12-40 days after its quarter ends, an annual one 120-200 days after its year
ends, and a report appears only once its submission date has passed, so the current year is usually
incomplete, as on the live site. Two reports carry an extra, deliberately hostile document: one whose
filePath tries to escape a download directory, and one oversize document.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from ntx_assets_tests.tools.standin.bank_reports import FINANCIAL_SECTORS, BankReport
from ntx_assets_tests.tools.standin.documents import Document, DocumentStore, encrypted_id
from ntx_assets_tests.tools.standin.facts import FactBook
from ntx_assets_tests.tools.standin.fiscal_years import financial_year, fiscal_year_start
from ntx_assets_tests.tools.standin.market_rows import close_on_or_before
from ntx_assets_tests.tools.standin.prices import PriceTable
from ntx_assets_tests.tools.standin.seeding import numpy_rng
from ntx_assets_tests.tools.standin.universe import Universe

QUARTER_NAMES = ("First Quarter", "Second Quarter", "Third Quarter", "Fourth Quarter")
QUARTERLY = {"id": 1, "reportName": "Quarterly Report"}
ANNUAL = {"id": 2, "reportName": "Annual Report"}
# Integer codes as go-nepse types them; their meaning on the live site is unknown.
APPLICATION_TYPE = 5
APPLICATION_STATUS = 2
_FIRST_REPORT_ID = 40_001
REPORT_YEARS = 3  # fiscal years with reports: the current one (containing the window's end) and two before
# Days after a period's end on which its report is submitted, inclusive.
QUARTERLY_DELAY_DAYS = (12, 40)
ANNUAL_DELAY_DAYS = (120, 200)


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def period_ends(start_year: int) -> tuple[date, date, date, date]:
    # Ends of Asoj, Poush, Chaitra and Asar, approximated in the Gregorian calendar.
    return (
        date(start_year, 10, 16),
        date(start_year + 1, 1, 13),
        date(start_year + 1, 4, 12),
        date(start_year + 1, 7, 16),
    )


@dataclass(frozen=True)
class ReportBook:
    by_security: dict[int, list[dict[str, Any]]]
    documents: DocumentStore
    escaping_document_symbol: str
    oversize_document_symbol: str


class _Builder:
    def __init__(
        self,
        universe: Universe,
        facts: FactBook,
        prices: PriceTable,
        seed: int,
        listed_shares: Callable[[int, date], int],
    ) -> None:
        self.universe, self.facts, self.prices, self.seed = universe, facts, prices, seed
        self.listed_shares = listed_shares  # (security id, day) -> shares listed that day
        self.rng = numpy_rng(seed, "reports")
        self.documents = DocumentStore()
        self.next_id = _FIRST_REPORT_ID

    def take_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def document(
        self,
        submitted: date,
        file_path: str,
        lines: list[str],
        size: int | None = None,
        bank_report: BankReport | None = None,
    ) -> dict[str, Any]:
        document_id = self.take_id()
        document = Document(
            document_id=document_id,
            file_path=file_path,
            encrypted_id=encrypted_id(self.seed, document_id),
            title=lines[0],
            lines=tuple(lines),
            padded_size=size,
            bank_report=bank_report,
        )
        self.documents.add(document)
        return {
            "id": document_id,
            "submittedDate": submitted.isoformat(),
            "filePath": file_path,
            "encryptedId": document.encrypted_id,
        }

    def report(
        self, company: dict[str, Any], start_year: int, quarter: int | None, submitted: date
    ) -> dict[str, Any]:
        security_id = company["id"]
        symbol, name = company["symbol"], company["companyName"].strip()
        company_facts = self.facts.companies[security_id]
        security_facts = self.facts.securities[security_id]
        shares = self.listed_shares(security_id, submitted)  # grows with bonus and right issues
        years_on = start_year - 2024 + (quarter or 4) / 4
        eps = round(company_facts.annual_eps * (1 + 0.08 * years_on) + float(self.rng.normal(0.0, 2.5)), 2)
        price = close_on_or_before(self.prices, security_id, submitted)
        pe = round(price / eps, 2) if eps != 0 else None
        # profitAmount is year-to-date, as NABIL's live quarterly reports show it: the annualised EPS times
        # the shares times the share of the year elapsed (Q1 a quarter of a year's profit, Q3 three).
        share_of_year = (quarter or 4) / 4
        profit = round(eps * shares * share_of_year, 2)
        net_worth = round(company_facts.net_worth_per_share * (1 + 0.03 * years_on), 2)
        paid_up = float(shares * security_facts.face_value)
        fy = financial_year(start_year)
        kind = QUARTERLY if quarter else ANNUAL
        label = f"{_ordinal(quarter)} Quarter" if quarter else f"Annual Report {fy['fyName']}"
        lines = [
            f"{name} ({symbol})",
            f"{kind['reportName']}" + (f" - {QUARTER_NAMES[quarter - 1]}" if quarter else ""),
            f"Fiscal year {fy['fyName']} ({fy['fyNameNepali']})",
            f"Submitted {submitted.isoformat()}",
            f"EPS (annualised): {eps}",
            f"P/E: {pe}",
            f"Paid-up capital: Rs {paid_up:,.2f}",
            f"Net profit: Rs {profit:,.2f}",
            f"Net worth per share: Rs {net_worth}",
            "",
            f"Synthetic filing generated by the ntx_assets NEPSE stand-in (seed {self.seed}).",
        ]
        bank_report = None
        if quarter and company.get("sectorName") in FINANCIAL_SECTORS:
            # A bank's, development bank's, finance company's or microfinance institution's quarterly
            # report is the NRB-format document with its ratios (bank_reports.py); its own seeded streams
            # leave this builder's draws as they were.
            bank_report = BankReport(
                seed=self.seed,
                symbol=symbol,
                name=name,
                sector=company["sectorName"],
                start_year=start_year,
                quarter=quarter,
                period_end=period_ends(start_year)[quarter - 1],
            )
        report_id = self.take_id()
        seconds = int(self.rng.integers(9 * 3600, 18 * 3600))
        millis = int(self.rng.integers(0, 1000))
        clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{millis:03d}"
        modified = f"{submitted.isoformat()}T{clock}"
        return {
            "id": report_id,
            "activeStatus": "A",
            "modifiedDate": modified,
            "applicationType": APPLICATION_TYPE,
            "applicationStatus": APPLICATION_STATUS,
            "fiscalReport": {
                "id": report_id + 500_000,
                "quarterMaster": {"id": quarter, "quarterName": QUARTER_NAMES[quarter - 1]}
                if quarter
                else None,
                "reportTypeMaster": dict(kind),
                "financialYear": fy,
                "peValue": pe,
                "epsValue": eps,
                "paidUpCapital": paid_up,
                "profitAmount": profit,
                "netWorthPerShare": net_worth,
                "remarks": None,
            },
            "applicationDocumentDetailsList": [
                self.document(
                    submitted,
                    f"{symbol.lower()}_user/{submitted.isoformat()}/{name} {label}.pdf",
                    lines,
                    bank_report=bank_report,
                )
            ],
        }

    def company_reports(self, company: dict[str, Any], end: date) -> list[dict[str, Any]]:
        """The fiscal years current-2, current-1 and current (the one containing `end`), each report only
        once submitted by `end`, newest first. A report's profitAmount is year-to-date."""
        current = fiscal_year_start(end)
        reports: list[dict[str, Any]] = []
        for start_year in range(current - REPORT_YEARS + 1, current + 1):
            for quarter, period_end in enumerate(period_ends(start_year), start=1):
                low, high = QUARTERLY_DELAY_DAYS
                submitted = period_end + timedelta(days=int(self.rng.integers(low, high + 1)))
                if submitted <= end:
                    reports.append(self.report(company, start_year, quarter, submitted))
            low, high = ANNUAL_DELAY_DAYS
            submitted = period_ends(start_year)[3] + timedelta(days=int(self.rng.integers(low, high + 1)))
            if submitted <= end:
                reports.append(self.report(company, start_year, None, submitted))
        reports.sort(key=lambda r: (r["modifiedDate"], r["id"]), reverse=True)
        return reports


def _pick_symbol(
    requested: str | None, candidates: list[str], rng: np.random.Generator, avoid: str | None
) -> str:
    if requested is not None:
        if requested not in candidates:
            raise ValueError(f"{requested!r} is not an active equity company with reports")
        return requested
    pool = [symbol for symbol in candidates if symbol != avoid]
    return pool[int(rng.integers(len(pool)))]


def build_reports(
    universe: Universe,
    facts: FactBook,
    prices: PriceTable,
    listed_shares: Callable[[int, date], int],
    end: date,
    seed: int,
    oversize_bytes: int,
    escaping_symbol: str | None = None,
    oversize_symbol: str | None = None,
) -> ReportBook:
    builder = _Builder(universe, facts, prices, seed, listed_shares)
    by_security: dict[int, list[dict[str, Any]]] = {}
    for company in universe.active_equity():
        by_security[company["id"]] = builder.company_reports(company, end)
    with_reports = {c["symbol"]: c["id"] for c in universe.active_equity() if by_security[c["id"]]}
    if len(with_reports) < 2:
        raise ValueError("the window ends too early for any company to have filed a report")
    pick_rng = numpy_rng(seed, "hostile-documents")
    escaping = _pick_symbol(escaping_symbol, sorted(with_reports), pick_rng, None)
    oversize = _pick_symbol(oversize_symbol, sorted(with_reports), pick_rng, escaping)

    # The hostile documents ride on the newest report of their company, after its regular document.
    escaping_report = by_security[with_reports[escaping]][0]
    submitted = date.fromisoformat(escaping_report["modifiedDate"][:10])
    escaping_report["applicationDocumentDetailsList"].append(
        builder.document(
            submitted,
            f"{escaping.lower()}_user/{submitted.isoformat()}/../../../../etc/passwd",
            ["Path-escaping document", "Its filePath climbs out of any download directory."],
        )
    )
    oversize_report = by_security[with_reports[oversize]][0]
    submitted = date.fromisoformat(oversize_report["modifiedDate"][:10])
    company_name = universe.company_by_id[with_reports[oversize]]["companyName"].strip()
    oversize_report["applicationDocumentDetailsList"].append(
        builder.document(
            submitted,
            f"{oversize.lower()}_user/{submitted.isoformat()}/{company_name} Full Annual Report Scan.pdf",
            ["Oversize document", f"Padded to {oversize_bytes} bytes."],
            size=oversize_bytes,
        )
    )
    return ReportBook(by_security, builder.documents, escaping, oversize)
