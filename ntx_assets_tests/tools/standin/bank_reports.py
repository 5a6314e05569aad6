"""The quarterly report documents of the stand-in's banks, development banks, finance companies and
microfinance institutions, in the two formats Nepal Rastra Bank prescribed, with their real labels and
layouts (made by the project: no real document or its text is copied here).

- "pre_nfrs_unaudited": the one-page "Unaudited Financial Results (Quarterly)", sections 1 Total Capital
  and Liabilities, 2 Total Assets, 3 Profit and Loss Account, 4 Ratios (4.1-4.7), Additional Information;
  columns This Quarter / Previous Quarter / Corresponding Previous Year Quarter.
- "nfrs_interim": the NFRS interim report, four pages: Condensed Statement of Financial Position, of
  Profit or Loss, "Ratios as per NRB Directive" with the statement of distributable profit, notes;
  columns Current Year / Corresponding Previous Year, each This Quarter and Upto This Quarter (YTD).

Which format, whether a Group column is printed beside the bank's (some commercial banks), whether the
NFRS "This Quarter" columns are filled or only the YTD ones, whether long labels wrap, and whether a
document has a text layer at all (about 1 in 10 is a scanned image or text drawn as outlines) are drawn
per company or per document from the seed; the figures are drawn per (company, ratio, quarter), so a
document's "previous quarter" column is the previous quarter's own figure. Microfinance institutions
print "Credit to Deposit and Borrowing Ratio" for the CD ratio.

A document is described by a `BankReport` (its identity only); everything else is derived when it is
rendered, so building the stand-in's report book stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import nepali_datetime

from ntx_assets_tests.tools.standin.pdf import Page, PdfFile, TextRun, render_pages
from ntx_assets_tests.tools.standin.seeding import numpy_rng

FINANCIAL_SECTORS = ("Commercial Banks", "Development Banks", "Finance", "Microfinance")
PRE_NFRS = "pre_nfrs_unaudited"
NFRS = "nfrs_interim"
RATIO_KEYS = (
    "capital_fund_to_rwa_pct",
    "npl_pct",
    "provision_to_npl_pct",
    "cost_of_funds_pct",
    "cd_ratio_pct",
    "base_rate_pct",
    "spread_pct",
)
# Ranges the figures are drawn from (percent), by kind of institution.
_RANGES = {
    "bank": {
        "capital_fund_to_rwa_pct": (11.5, 15.5),
        "npl_pct": (0.3, 4.5),
        "provision_to_npl_pct": (85.0, 260.0),
        "cost_of_funds_pct": (4.5, 8.5),
        "cd_ratio_pct": (74.0, 89.5),
        "base_rate_pct": (7.0, 10.5),
        "spread_pct": (3.6, 4.4),
    },
    "microfinance": {
        "capital_fund_to_rwa_pct": (8.5, 14.0),
        "npl_pct": (1.0, 7.5),
        "provision_to_npl_pct": (80.0, 180.0),
        "cost_of_funds_pct": (7.5, 11.0),
        "cd_ratio_pct": (85.0, 110.0),
        "base_rate_pct": (11.0, 15.0),
        "spread_pct": (5.0, 7.0),
    },
}
_QUARTER_MONTHS = {1: (6, "Ashwin"), 2: (9, "Poush"), 3: (12, "Chaitra"), 4: (3, "Ashadh")}
_ORDINAL = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th"}
_ORDINAL_WORD = {1: "First", 2: "Second", 3: "Third", 4: "Fourth"}


@dataclass(frozen=True)
class BankReport:
    """One quarterly report document of a financial institution."""

    seed: int
    symbol: str
    name: str
    sector: str
    start_year: int  # the Gregorian year its fiscal year starts (Shrawan 1)
    quarter: int
    period_end: date  # the quarter's end, Gregorian


@dataclass(frozen=True)
class Traits:
    format: str
    group: str | None  # None: the bank's figures only; "left" / "right": where the Group columns are
    wrapped_labels: bool
    quarter_columns: bool  # NFRS: This Quarter columns filled besides the YTD ones
    text_layer: str  # "text", "image" or "outlines"


def traits(report: BankReport) -> Traits:
    rng = numpy_rng(report.seed, f"bank-report-traits:{report.symbol}")
    draws = rng.random(5)
    group = None
    if report.sector == "Commercial Banks" and draws[1] < 0.45:
        group = "left" if draws[2] < 0.5 else "right"
    layer_draw = numpy_rng(
        report.seed, f"bank-report-layer:{report.symbol}:{report.start_year}:{report.quarter}"
    )
    u = float(layer_draw.random())
    text_layer = "image" if u < 0.06 else "outlines" if u < 0.10 else "text"
    return Traits(
        format=PRE_NFRS if draws[0] < 0.3 else NFRS,
        group=group,
        wrapped_labels=bool(draws[3] < 0.5),
        quarter_columns=bool(draws[4] < 0.5),
        text_layer=text_layer,
    )


def _kind(report: BankReport) -> str:
    return "microfinance" if report.sector == "Microfinance" else "bank"


def ratio(report: BankReport, key: str, start_year: int, quarter: int, entity: str = "bank") -> float:
    """The figure of `key` at the end of (start_year, quarter), for the bank or its group."""
    rng = numpy_rng(report.seed, f"bank-ratio:{report.symbol}:{key}:{start_year}:{quarter}:{entity}")
    low, high = _RANGES[_kind(report)][key]
    return round(float(rng.uniform(low, high)), 2)


def _previous_quarter(start_year: int, quarter: int) -> tuple[int, int]:
    return (start_year, quarter - 1) if quarter > 1 else (start_year - 1, 4)


def columns(report: BankReport, entity: str = "bank") -> dict[str, tuple[float, float, float]]:
    """Each ratio's figures: this quarter, the previous quarter, the previous year's same quarter."""
    y, q = report.start_year, report.quarter
    pq = _previous_quarter(y, q)
    return {
        key: (
            ratio(report, key, y, q, entity),
            ratio(report, key, *pq, entity),
            ratio(report, key, y - 1, q, entity),
        )
        for key in RATIO_KEYS
    }


def _quarter_only(key: str, value: float) -> float:
    # NFRS "This Quarter" column: the stock ratios as at the quarter's end equal the YTD ones; the cost
    # of funds and the spread of the quarter alone differ a little from the year-to-date average.
    return round(value + 0.07, 2) if key in ("cost_of_funds_pct", "spread_pct") else value


def bs_end(report: BankReport) -> tuple[int, int, int]:
    day = nepali_datetime.date.from_datetime_date(report.period_end)
    return day.day, day.month, day.year


def fiscal_year_bs(report: BankReport) -> str:
    return f"{report.start_year + 57}/{(report.start_year + 58) % 100:02d}"


def as_at(report: BankReport) -> str:
    day, month, year = bs_end(report)
    if traits(report).format == PRE_NFRS:
        return f"{day:02d}/{month:02d}/{year}"
    return f"{day} {_QUARTER_MONTHS[report.quarter][1]} {year}"


def expected_reading(report: BankReport) -> dict[str, Any]:
    """What a faithful reader gives for this document (the shape of RatioReading.as_json())."""
    t = traits(report)
    if t.text_layer != "text":
        return {
            "format": None,
            "period": None,
            "ratios": dict.fromkeys(RATIO_KEYS),
            "problems": ["no text layer"],
        }
    figures = columns(report)
    return {
        "format": t.format,
        "period": {"fiscal_year": fiscal_year_bs(report), "quarter": report.quarter, "as_at": as_at(report)},
        "ratios": {key: figures[key][0] for key in RATIO_KEYS},
        "problems": [],
    }


# ----------------------------------------------------------------------------------------- rendering


def _pct(value: float, sign: bool) -> str:
    return f"{value:.2f}%" if sign else f"{value:.2f}"


def _amount(rng: Any, low: float, high: float) -> str:
    return f"{int(rng.uniform(low, high)):,}"


def _labels(report: BankReport, wrapped: bool) -> list[tuple[str, str, list[str]]]:
    """(serial, first line, continuation lines) of the pre-NFRS rows 4.1-4.7."""
    cd = (
        "Credit to Deposit and Borrowing Ratio"
        if _kind(report) == "microfinance"
        else "Credit to Deposit Ratio"
    )
    rows = [
        ("4.1", "Capital Fund to Risk Weighted Assets (RWA)", []),
        ("4.2", "Non Performing Loan (NPL) to Total Loan", []),
        ("4.3", "Total Loan Loss Provision to Total NPL", []),
        ("4.4", "Cost of Fund (Annualized)", []),
        ("4.5", f"{cd} (Calculated as per NRB Directives)", []),
        ("4.6", "Base Rate", []),
        ("4.7", "Average Monthly Interest Rate Spread LCY (Calculated as per NRB Directives)", []),
    ]
    if wrapped:
        rows[4] = ("4.5", f"{cd} (Calculated as per NRB", ["Directives)"])
        rows[6] = ("4.7", "Average Monthly Interest Rate Spread LCY (Calculated", ["as per NRB Directives)"])
    return rows


class _Sheet:
    """Lines of text placed from the top of a page down."""

    def __init__(self, top: float, leading: float, size: float) -> None:
        self.y, self.leading, self.size = top, leading, size
        self.runs: list[TextRun] = []

    def put(self, x: float, text: str, align: str = "left", size: float | None = None) -> None:
        self.runs.append(TextRun(x, self.y, text, size or self.size, align))

    def down(self, lines: float = 1.0) -> None:
        self.y -= self.leading * lines


def _pre_nfrs_pages(report: BankReport, t: Traits) -> list[Page]:
    rng = numpy_rng(report.seed, f"bank-report-amounts:{report.symbol}:{report.start_year}:{report.quarter}")
    sheet = _Sheet(top=575, leading=8.0, size=6.5)
    sheet.put(421, report.name, "center", 10)
    sheet.down(1.4)
    sheet.put(421, "Corporate Office, Kathmandu", "center", 8)
    sheet.down(1.2)
    sheet.put(421, "Unaudited Financial Results (Quarterly)", "center", 9)
    sheet.down(1.6)
    day, month, year = bs_end(report)
    sheet.put(
        421,
        f"As at end of the {_ORDINAL[report.quarter]} Quarter ({day:02d}/{month:02d}/{year}) "
        f"of the Fiscal Year {fiscal_year_bs(report)}",
        "center",
        8,
    )
    sheet.down(1.2)
    sheet.put(815, "Rs. in '000", "right")
    sheet.down()
    if t.group is None:
        centers = [520.0, 640.0, 760.0]
        entities = ["bank"] * 3
    else:
        centers = [400.0 + 72 * i for i in range(6)]
        entities = ["group"] * 3 + ["bank"] * 3 if t.group == "left" else ["bank"] * 3 + ["group"] * 3
    periods = [0, 1, 2] * (len(centers) // 3)

    def entity_heading() -> None:
        if t.group is None:
            return
        for block in (0, 1):
            span = centers[block * 3 : block * 3 + 3]
            sheet.put(sum(span) / 3, "Group" if entities[block * 3] == "group" else "Bank", "center", 7)
        sheet.down()

    headings = [
        ["This Quarter Ending", "Unaudited"],
        ["Previous Quarter Ending", "Unaudited"],
        ["Corresponding Previous Year", "Quarter Ending", "Audited"],
    ]
    entity_heading()
    for line in range(3):
        if line == 1:
            sheet.put(30, "S. N.")
            sheet.put(150, "Particulars", "center")
        for center, period in zip(centers, periods, strict=True):
            if line < len(headings[period]):
                sheet.put(center, headings[period][line], "center")
        sheet.down()
    rows: list[tuple[str, str, float, float]] = [
        ("1", "Total Capital and Liabilities (1.1 to 1.7)", 4e7, 9e7),
        ("1.1", "Paid Up Capital", 2e6, 9e6),
        ("1.2", "Reserve and Surplus", 1e6, 5e6),
        ("1.3", "Debenture and Bond", 0, 2e6),
        ("1.4", "Borrowings", 0, 1e6),
        ("1.5", "Deposits (a+b)", 3e7, 8e7),
        ("1.6", "Income Tax Liability", 0, 1e5),
        ("1.7", "Other Liabilities", 5e5, 2e6),
        ("2", "Total Assets (2.1 to 2.7)", 4e7, 9e7),
        ("2.1", "Cash and Bank Balance", 3e6, 9e6),
        ("2.2", "Money at Call and Short Notice", 0, 1e6),
        ("2.3", "Investments", 5e6, 2e7),
        ("2.4", "Loans and Advances (Net)", 2e7, 6e7),
        ("2.5", "Fixed Assets (Net)", 3e5, 1e6),
        ("2.6", "Non Banking Assets (Net)", 0, 5e4),
        ("2.7", "Other Assets", 5e5, 2e6),
        ("3", "Profit and Loss Account", 0, 0),
        ("3.1", "Interest Income", 1e6, 5e6),
        ("3.2", "Interest Expenses", 6e5, 3e6),
        ("", "A. Net Interest Income (3.1-3.2)", 4e5, 2e6),
        ("3.3", "Fees, Commission and Discount", 1e5, 4e5),
        ("3.4", "Other Operating Income", 5e4, 3e5),
        ("3.5", "Foreign Exchange Gain/Loss (Net)", 2e4, 2e5),
        ("", "B. Total Operating Income (A.+3.3+3.4+3.5)", 6e5, 3e6),
        ("3.6", "Staff Expenses", 2e5, 6e5),
        ("3.7", "Other Operating Expenses", 2e5, 6e5),
        ("", "C. Operating Profit Before Provision (B.-3.6-3.7)", 3e5, 2e6),
        ("3.8", "Provision for Possible Losses", 5e4, 2e5),
        ("", "D. Operating Profit (C.-3.8)", 3e5, 2e6),
        ("3.9", "Non Operating Income/Expenses (Net)", 0, 2e4),
        ("3.10", "Write Back of Provision for Possible Loss", 1e4, 1e5),
        ("", "E. Profit From Regular Activities (D + 3.9+3.10)", 3e5, 2e6),
        ("3.11", "Extraordinary Income/Expenses (Net)", 0, 3e4),
        ("", "F. Profit before Bonus and Taxes (E + 3.11)", 3e5, 2e6),
        ("3.12", "Provision for Staff Bonus", 3e4, 2e5),
        ("3.13", "Provision for Tax", 9e4, 5e5),
        ("", "G. Net Profit/Loss (F-3.12-3.13)", 2e5, 1.5e6),
    ]
    for serial, label, low, high in rows:
        sheet.put(30, serial)
        sheet.put(52, label)
        if high:
            for center in centers:
                sheet.put(center + 28, _amount(rng, low, high), "right")
        sheet.down()
    # 4 Ratios: its headings stand around the section's own line, as printed.
    entity_heading()
    ratio_headings = [
        ["At the End of this", "Quarter"],
        ["At the End of", "Previous Quarter"],
        ["At the End of", "Corresponding", "Previous Year", "Quarter"],
    ]
    for line in range(4):
        if line == 1:
            sheet.put(32, "4")
            sheet.put(150, "Ratios", "center")
        for center, period in zip(centers, periods, strict=True):
            if line < len(ratio_headings[period]):
                sheet.put(center, ratio_headings[period][line], "center")
        sheet.down()
    figures = {"bank": columns(report, "bank"), "group": columns(report, "group")}
    keys = iter(RATIO_KEYS)
    for serial, label, continuation in _labels(report, t.wrapped_labels):
        key = next(keys)
        sheet.put(30, serial)
        sheet.put(52, label)
        for center, period, entity in zip(centers, periods, entities, strict=True):
            sheet.put(center + 28, _pct(figures[entity][key][period], True), "right")
        sheet.down()
        for text in continuation:
            sheet.put(52, text)
            sheet.down()
    sheet.put(52, "Additional Information")
    sheet.down()
    for label in ("Average Yield (Local Currency) (Annualized)", "Return on Equity (Annualized)"):
        sheet.put(52, label)
        for center in centers:
            sheet.put(center + 28, _pct(float(rng.uniform(6, 22)), True), "right")
        sheet.down()
    sheet.down(0.5)
    sheet.put(
        30,
        "The above figures may undergo change on completion of statutory audit and/ or as per directives of",
    )
    sheet.down()
    sheet.put(
        30, f"Nepal Rastra Bank. Synthetic document of the ntx_assets NEPSE stand-in (seed {report.seed})."
    )
    return [Page(tuple(sheet.runs), text_layer=t.text_layer)]


def _nfrs_columns(t: Traits) -> tuple[list[float], list[str], list[str], list[str]]:
    """Column centres with their entity, year ("current"/"previous") and span ("quarter"/"ytd")."""
    if t.group is None:
        return (
            [430.0, 540.0, 660.0, 770.0],
            ["bank"] * 4,
            ["current", "current", "previous", "previous"],
            [
                "quarter",
                "ytd",
                "quarter",
                "ytd",
            ],
        )
    entities = ["group", "group", "bank", "bank"] if t.group == "left" else ["bank", "bank", "group", "group"]
    return [430.0, 540.0, 660.0, 770.0], entities, ["current", "previous"] * 2, ["ytd"] * 4


def _nfrs_headings(
    sheet: _Sheet, t: Traits, centers: list[float], entities: list[str], years: list[str]
) -> None:
    if t.group is None:
        sheet.put((centers[0] + centers[1]) / 2, "Current Year", "center")
        sheet.put((centers[2] + centers[3]) / 2, "Corresponding Previous Year", "center")
        sheet.down()
        sheet.put(30, "Particulars")
        for center in (centers[1], centers[3]):
            sheet.put(center, "Upto This", "center")
        sheet.down()
        for center in (centers[0], centers[2]):
            sheet.put(center, "This Quarter", "center")
        for center in (centers[1], centers[3]):
            sheet.put(center, "Quarter (YTD)", "center")
        sheet.down(1.5)
        return
    for pair in (0, 2):
        sheet.put((centers[pair] + centers[pair + 1]) / 2, entities[pair].capitalize(), "center")
    sheet.down()
    sheet.put(30, "Particulars")
    for center, year in zip(centers, years, strict=True):
        sheet.put(center, "Current Year" if year == "current" else "Previous Year", "center")
    sheet.down()
    for center in centers:
        sheet.put(center, "Upto This Quarter (YTD)", "center")
    sheet.down(1.5)


def _nfrs_pages(report: BankReport, t: Traits) -> list[Page]:
    rng = numpy_rng(report.seed, f"bank-report-amounts:{report.symbol}:{report.start_year}:{report.quarter}")
    day, _, bs_year = bs_end(report)
    month_name = _QUARTER_MONTHS[report.quarter][1]
    ended = f"{day} {month_name} {bs_year}"
    pages: list[Page] = []

    def title(sheet: _Sheet, heading: str, dated: str) -> None:
        sheet.put(421, report.name, "center", 10)
        sheet.down(1.4)
        sheet.put(421, heading, "center", 9)
        sheet.down(1.2)
        sheet.put(421, dated, "center")
        sheet.down(1.2)

    # Page 1: financial position (two columns per entity).
    sheet = _Sheet(top=570, leading=11.0, size=8)
    title(sheet, "Condensed Statement of Financial Position", f"As on Quarter ended {ended}")
    sheet.put(815, "Amount in NPR", "right")
    sheet.down()
    position_centers = [480.0, 620.0] if t.group is None else [430.0, 540.0, 660.0, 770.0]
    if t.group is not None:
        for pair in (0, 2):
            first = "Group" if (t.group == "left") == (pair == 0) else "Bank"
            sheet.put((position_centers[pair] + position_centers[pair + 1]) / 2, first, "center")
        sheet.down()
    for center in position_centers[::2]:
        sheet.put(center, "This Quarter Ending", "center")
    for center in position_centers[1::2]:
        sheet.put(center, "Immediate Previous Year Ending", "center")
    sheet.down(1.5)
    for label in (
        "Cash and cash equivalent",
        "Due from Nepal Rastra Bank",
        "Placement with Bank and Financial Institutions",
        "Loans and advances to B/FIs",
        "Loans and advances to customers",
        "Investment securities",
        "Property and equipment",
        "Other assets",
        "Total Assets",
        "Due to Bank and Financial Institutions",
        "Deposits from customers",
        "Borrowing",
        "Other liabilities",
        "Total Liabilities",
        "Share capital",
        "Retained earnings",
        "Reserves",
        "Total Equity",
    ):
        sheet.put(30, label)
        for center in position_centers:
            sheet.put(center + 40, _amount(rng, 1e7, 9e9), "right")
        sheet.down()
    pages.append(Page(tuple(sheet.runs), text_layer=t.text_layer))

    # Page 2: profit or loss.
    centers, entities, years, spans = _nfrs_columns(t)
    sheet = _Sheet(top=570, leading=11.0, size=8)
    title(sheet, "Condensed Statement of Profit or Loss", f"For the Quarter ended {ended}")
    _nfrs_headings(sheet, t, centers, entities, years)
    for label in (
        "Interest income",
        "Interest expense",
        "Net interest income",
        "Fee and commission income",
        "Net fee and commission income",
        "Other operating income",
        "Total operating income",
        "Impairment charge/(reversal) for loans and other losses",
        "Personnel expenses",
        "Other operating expenses",
        "Operating profit",
        "Profit before income tax",
        "Income tax expense",
        "Profit for the period",
        "Basic earnings per share",
    ):
        sheet.put(30, label)
        for center in centers:
            sheet.put(center + 40, _amount(rng, 1e6, 9e8), "right")
        sheet.down()
    pages.append(Page(tuple(sheet.runs), text_layer=t.text_layer))

    # Page 3: the ratios, then the distributable profit.
    sheet = _Sheet(top=570, leading=11.0, size=8)
    sheet.put(421, report.name, "center", 10)
    sheet.down(1.4)
    sheet.put(421, "Ratios as per NRB Directive", "center", 9)
    sheet.down(1.8)
    _nfrs_headings(sheet, t, centers, entities, years)
    cd = (
        "Credit to Deposit and Borrowing Ratio (%)"
        if _kind(report) == "microfinance"
        else "Credit to Deposit Ratio (CCD Ratio as per NRB) (%)"
    )
    labels = (
        "Capital Fund to RWA (%)",
        "Non-Performing Loan (NPL) to Total Loan (%)",
        "Total Loan Loss Provision to Total NPL (%)",
        "Cost of Funds (%)",
        cd,
        "Base Rate (%)",
        "Interest Rate Spread (%)",
    )
    figures = {"bank": columns(report, "bank"), "group": columns(report, "group")}
    for key, label in zip(RATIO_KEYS, labels, strict=True):
        sheet.put(30, label)
        for center, entity, column_year, span in zip(centers, entities, years, spans, strict=True):
            value = figures[entity][key][0 if column_year == "current" else 2]
            if span == "quarter":
                if not t.quarter_columns:
                    continue
                value = _quarter_only(key, value)
            sheet.put(center + 40, _pct(value, False), "right")
        sheet.down()
    sheet.down(1.5)
    sheet.put(421, "Condensed Statement of distributable profit or loss", "center", 9)
    sheet.down(1.5)
    for label in (
        f"Net profit or (loss) for the period end {month_name} {bs_year}",
        "1. Appropriations",
        "a. General reserve",
        "b. Regulatory reserve",
        f"Net profit for the period end {month_name} {bs_year} available for distribution",
    ):
        sheet.put(30, label)
        sheet.put(800, _amount(rng, 1e6, 9e8), "right")
        sheet.down()
    pages.append(Page(tuple(sheet.runs), text_layer=t.text_layer))

    # Page 4: notes.
    sheet = _Sheet(top=570, leading=11.0, size=8)
    sheet.put(421, "Notes to the Interim Financial Statements", "center", 9)
    sheet.down(2)
    for text in (
        "1. Basis of Preparation",
        "The interim financial statements are prepared in accordance with Nepal Financial Reporting",
        "Standards (NFRS).",
        "2. Disclosure as prescribed by Securities Registration and Issuance Regulation, 2073",
        f"(Related to Sub rule (1) of Rule 26), for the {_ORDINAL_WORD[report.quarter]} quarter of "
        f"Fiscal Year {fiscal_year_bs(report)}",
        f"Synthetic document of the ntx_assets NEPSE stand-in (seed {report.seed}).",
    ):
        sheet.put(30, text)
        sheet.down()
    pages.append(Page(tuple(sheet.runs), text_layer=t.text_layer))
    return pages


def render_bank_report(report: BankReport) -> PdfFile:
    t = traits(report)
    pages = _pre_nfrs_pages(report, t) if t.format == PRE_NFRS else _nfrs_pages(report, t)
    return render_pages(pages, f"{report.name} quarterly report")
