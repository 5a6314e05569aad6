"""The NRB ratio reader (ntx_assets.filings.ratios) on the project's own documents: the stand-in's bank
reports in both formats (bank_reports.py) and hand-laid text, and on hostile documents within bounds."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ntx_assets.filings.ratios import (
    NFRS,
    PRE_NFRS,
    RATIO_KEYS,
    Limits,
    read_ratios_from_text,
    read_report_ratios,
)
from ntx_assets.filings.ratios.documents import extract_layout_text
from ntx_assets.filings.ratios.labels import ratio_for_label
from ntx_assets_tests.tools.standin.bank_reports import (
    BankReport,
    Traits,
    columns,
    expected_reading,
    render_bank_report,
    traits,
)
from ntx_assets_tests.tools.standin.pdf import Page, TextRun, render_pages, render_pdf
from ntx_assets_tests.tools.standin.reports import period_ends

SEED = 11


def _report(symbol: str, sector: str, start_year: int = 2024, quarter: int = 2) -> BankReport:
    return BankReport(
        seed=SEED,
        symbol=symbol,
        name=f"{symbol} Bank Limited",
        sector=sector,
        start_year=start_year,
        quarter=quarter,
        period_end=period_ends(start_year)[quarter - 1],
    )


def find_report(sector: str, wanted: Callable[[Traits], bool]) -> BankReport:
    """The first made-up institution of `sector` whose seeded traits are the ones wanted."""
    for number in range(2000):
        report = _report(f"T{number}", sector, quarter=1 + number % 4)
        if wanted(traits(report)):
            return report
    raise AssertionError("no such report among 2000 made-up institutions")


def _read(report: BankReport) -> dict:
    return read_report_ratios(render_bank_report(report).to_bytes()).as_json()


def _this_quarter(report: BankReport, entity: str = "bank") -> dict[str, float]:
    return {key: figures[0] for key, figures in columns(report, entity).items()}


@pytest.mark.parametrize("format_", [PRE_NFRS, NFRS])
@pytest.mark.parametrize("sector", ["Commercial Banks", "Development Banks", "Finance"])
def test_both_formats_read_this_quarters_figures(format_: str, sector: str) -> None:
    report = find_report(sector, lambda t: t.format == format_ and t.text_layer == "text" and t.group is None)
    reading = _read(report)
    assert reading == expected_reading(report)
    assert reading["format"] == format_
    assert reading["ratios"] == _this_quarter(report)
    assert set(reading) == {"format", "period", "ratios", "problems"}
    assert list(reading["ratios"]) == list(RATIO_KEYS)


@pytest.mark.parametrize("format_", [PRE_NFRS, NFRS])
def test_the_previous_years_and_previous_quarters_columns_are_not_taken(format_: str) -> None:
    report = find_report("Commercial Banks", lambda t: t.format == format_ and t.text_layer == "text")
    reading = _read(report)
    figures = columns(report)
    for key in RATIO_KEYS:
        this_quarter, previous_quarter, previous_year = figures[key]
        assert reading["ratios"][key] == this_quarter
        assert this_quarter not in (previous_quarter, previous_year)  # drawn apart, so the test can tell


@pytest.mark.parametrize("format_", [PRE_NFRS, NFRS])
@pytest.mark.parametrize("side", ["left", "right"])
def test_the_banks_own_column_not_the_groups(format_: str, side: str) -> None:
    report = find_report(
        "Commercial Banks", lambda t: t.format == format_ and t.group == side and t.text_layer == "text"
    )
    reading = _read(report)
    bank, group = _this_quarter(report, "bank"), _this_quarter(report, "group")
    assert reading["ratios"] == bank
    assert all(bank[key] != group[key] for key in RATIO_KEYS)
    assert reading["problems"] == []


def test_nfrs_takes_the_ytd_column_where_this_quarters_is_filled_too() -> None:
    report = find_report(
        "Development Banks",
        lambda t: t.format == NFRS and t.quarter_columns and t.group is None and t.text_layer == "text",
    )
    reading = _read(report)
    # The stand-in prints This Quarter's cost of funds and spread 0.07 above the YTD figures.
    assert reading["ratios"] == _this_quarter(report)


@pytest.mark.parametrize("format_", [PRE_NFRS, NFRS])
def test_microfinance_credit_to_deposit_and_borrowing_is_the_cd_ratio(format_: str) -> None:
    report = find_report("Microfinance", lambda t: t.format == format_ and t.text_layer == "text")
    pdf = render_bank_report(report).to_bytes()
    text = extract_layout_text(pdf).text
    assert text is not None and "Credit to Deposit and Borrowing Ratio" in text
    assert "Credit to Deposit Ratio" not in text
    reading = read_report_ratios(pdf).as_json()
    assert reading == expected_reading(report)
    assert reading["ratios"]["cd_ratio_pct"] == columns(report)["cd_ratio_pct"][0]


def test_wrapped_labels_are_joined() -> None:
    report = find_report(
        "Finance", lambda t: t.format == PRE_NFRS and t.wrapped_labels and t.text_layer == "text"
    )
    assert _read(report) == expected_reading(report)


@pytest.mark.parametrize("layer", ["image", "outlines"])
def test_no_text_layer_is_the_reason(layer: str) -> None:
    report = find_report("Commercial Banks", lambda t: t.text_layer == layer)
    reading = _read(report)
    assert reading["format"] is None and reading["period"] is None
    assert reading["ratios"] == dict.fromkeys(RATIO_KEYS)
    assert len(reading["problems"]) == 1 and reading["problems"][0].startswith("no text layer")


def test_no_ratio_table_is_the_reason() -> None:
    pdf = render_pdf(["Hydro Power Company Limited", "Quarterly Report - Second Quarter", "EPS: 12.5"], "t")
    reading = read_report_ratios(pdf.to_bytes()).as_json()
    assert reading["format"] is None
    assert reading["ratios"] == dict.fromkeys(RATIO_KEYS)
    assert reading["problems"] == [
        "no ratio table: neither '4 Ratios' nor 'Ratios as per NRB Directive' is printed"
    ]


# Hand-laid layout text: the reader is pure, so its rules can be shown on text alone.
def _at(*cells: tuple[int, str]) -> str:
    """One line of layout text with each cell's text starting at its column."""
    line = ""
    for column, text in cells:
        line = line.ljust(column) + text
    return line + "\n"


_HEAD = (
    _at((14, "Nepal Example Bank Ltd."))
    + _at((14, "Unaudited Financial Results (Quarterly)"))
    + _at((3, "As at end of the 2nd Quarter (29/09/2081) of the Fiscal Year 2081/82"))
    + _at((50, "At the End of this"), (72, "At the End of"), (92, "At the End of"))
    + _at((1, "4"), (10, "Ratios"), (56, "Quarter"), (70, "Previous Quarter"), (92, "Corresponding"))
    + _at((92, "Previous Year"))
)


def _row(serial: str, label: str, *figures: str) -> str:
    cells = "".join(f"{figure:>20}" for figure in figures)
    return f" {serial:<8} {label:<42}{cells}\n"


def test_an_implausible_figure_is_set_aside_with_its_reason() -> None:
    text = (
        _HEAD
        + _row("4.1", "Capital Fund to Risk Weighted Assets (RWA)", "145.20%", "12.10%", "12.00%")
        + _row("4.2", "Non Performing Loan (NPL) to Total Loan", "1.20%", "1.30%", "1.40%")
        + _row("4.3", "Total Loan Loss Provision to Total NPL", "2,450.00%", "150.00%", "140.00%")
        + _row("4.4", "Cost of Fund (Annualized)", "(5.10)%", "5.20%", "5.30%")
    )
    reading = read_ratios_from_text(text).as_json()
    assert reading["format"] == PRE_NFRS
    assert reading["period"] == {"fiscal_year": "2081/82", "quarter": 2, "as_at": "29/09/2081"}
    assert reading["ratios"]["capital_fund_to_rwa_pct"] is None
    assert reading["ratios"]["provision_to_npl_pct"] is None
    assert reading["ratios"]["cost_of_funds_pct"] is None
    assert reading["ratios"]["npl_pct"] == 1.2
    assert (
        "capital_fund_to_rwa_pct: 145.20% is outside the plausible range 0 to 100%; set aside"
        in (reading["problems"])
    )
    assert (
        "provision_to_npl_pct: 2,450.00% is outside the plausible range 0 to 2000%; set aside"
        in (reading["problems"])
    )
    assert (
        "cost_of_funds_pct: (5.10)% is outside the plausible range 0 to 25%; set aside" in reading["problems"]
    )
    for key in ("cd_ratio_pct", "base_rate_pct", "spread_pct"):
        assert f"{key}: not printed in the ratio table" in reading["problems"]


def test_a_label_not_recognised_is_named_and_not_guessed() -> None:
    text = (
        _HEAD
        + _row("4.1", "Capital Fund to Risk Weighted Assets (RWA)", "12.20%", "12.10%", "12.00%")
        + _row("4.2", "Liquidity Ratio", "31.00%", "30.00%", "29.00%")
        + _row("4.3", "Non Performing Assets to Total Assets", "1.00%", "1.10%", "1.20%")
    )
    reading = read_ratios_from_text(text).as_json()
    assert reading["ratios"]["capital_fund_to_rwa_pct"] == 12.2
    assert reading["ratios"]["npl_pct"] is None
    assert "label not recognised: '4.2 Liquidity Ratio' (31.00% 30.00% 29.00%)" in reading["problems"]
    assert any(p.startswith("label not recognised: '4.3 Non Performing Assets") for p in reading["problems"])
    assert "npl_pct: not printed in the ratio table" in reading["problems"]


def test_a_blank_figure_in_this_quarters_column_is_null_with_its_reason() -> None:
    text = _HEAD + _row("4.6", "Base Rate", "-", "9.10%", "9.00%")
    reading = read_ratios_from_text(text).as_json()
    assert reading["ratios"]["base_rate_pct"] is None
    assert "base_rate_pct: printed as '-' in this quarter's column" in reading["problems"]


def test_headings_that_do_not_say_which_column_is_this_quarters_give_nothing() -> None:
    text = (
        "  Unaudited Financial Results (Quarterly)\n"
        " 4        Ratios                                     Column A            Column B\n"
        + _row("4.1", "Capital Fund to Risk Weighted Assets (RWA)", "12.20%", "12.10%")
    )
    reading = read_ratios_from_text(text).as_json()
    assert reading["ratios"] == dict.fromkeys(RATIO_KEYS)
    assert "column headings not recognised: cannot tell which column is this quarter's" in reading["problems"]


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("4.1 Capital Fund to Risk Weighted Assets (RWA)", "capital_fund_to_rwa_pct"),
        ("Capital Fund to RWA (%)", "capital_fund_to_rwa_pct"),
        ("4.2 Non  Performing Loan (NPL) to Total Loan", "npl_pct"),
        ("Non-Performing Loan (NPL) to Total Loan (%)", "npl_pct"),
        ("Total Loan Loss Provision to Total NPL (%)", "provision_to_npl_pct"),
        ("4.4 Cost of Fund (Annualized)", "cost_of_funds_pct"),
        ("Cost of Funds (%)", "cost_of_funds_pct"),
        ("4.5 Credit to Deposit Ratio (Calculated as per NRB Directives)", "cd_ratio_pct"),
        ("Credit to Deposit Ratio (CCD Ratio as per NRB) (%)", "cd_ratio_pct"),
        ("Credit to Deposit and Borrowing Ratio (%)", "cd_ratio_pct"),
        ("4.6 Base Rate", "base_rate_pct"),
        ("Base Rate (%)", "base_rate_pct"),
        ("4.7 Average Monthly Interest Rate Spread LCY (Calculated as per NRB Directives)", "spread_pct"),
        ("Interest Rate Spread (%)", "spread_pct"),
        ("Net Interest Spread (Local Currency)", None),  # the pre-NFRS "Additional Information", not 4.7
        ("Average Yield (Local Currency) (Annualized)", None),
        ("Return on Equity (Annualized)", None),
    ],
)
def test_label_variants(label: str, key: str | None) -> None:
    assert ratio_for_label(label) == key


# ----------------------------------------------------------------------------- hostile documents


def test_not_a_pdf() -> None:
    assert read_report_ratios(b"<html>not found</html>").problems == [
        "not a PDF: the file does not start with %PDF-"
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
        b"%PDF-1.7\n" + bytes(range(256)) * 64,
    ],
)
def test_a_malformed_pdf_fails_alone_with_its_reason(data: bytes) -> None:
    reading = read_report_ratios(data)
    assert reading.format is None and reading.read_count == 0
    assert len(reading.problems) == 1
    assert reading.problems[0].startswith(("malformed PDF", "the PDF reader failed", "no text layer"))


def test_a_truncated_report_fails_alone_and_the_next_one_is_still_read() -> None:
    good = find_report("Finance", lambda t: t.format == NFRS and t.text_layer == "text")
    data = render_bank_report(good).to_bytes()
    readings = [read_report_ratios(data[: len(data) // 3]), read_report_ratios(data)]
    assert readings[0].read_count == 0 and readings[0].problems
    assert readings[1].as_json() == expected_reading(good)


def test_a_huge_document_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    huge = render_pdf(["Oversize document"], "huge", total_size=21 * 1024 * 1024)
    path = tmp_path / "huge.pdf"
    with path.open("wb") as handle:
        for chunk in huge.chunks():
            handle.write(chunk)
    started = time.monotonic()
    reading = read_report_ratios(path)
    assert time.monotonic() - started < 1.0  # refused on its size, not read
    assert reading.problems == [f"document too big: {21 * 1024 * 1024} bytes (limit {20 * 1024 * 1024})"]
    small_limit = Limits(max_bytes=1000)
    data = render_bank_report(find_report("Finance", lambda t: t.text_layer == "text")).to_bytes()
    assert read_report_ratios(data, small_limit).problems == [
        f"document too big: {len(data)} bytes (limit 1000)"
    ]


def test_too_many_pages() -> None:
    pages = [Page((TextRun(50, 500, f"Page {n}"),)) for n in range(61)]
    reading = read_report_ratios(render_pages(pages, "long").to_bytes())
    assert reading.problems == ["too many pages: 61 (limit 60)"]


def test_a_slow_document_is_stopped_at_the_time_limit() -> None:
    # A page of 80,000 text runs takes pypdf's layout mode about 7 s here, far over the 1 s allowed.
    runs = tuple(TextRun(20 + (n % 80) * 10, 20 + (n // 80) % 780, "x 1.0%", 4) for n in range(80_000))
    data = render_pages([Page(runs)], "slow").to_bytes()
    started = time.monotonic()
    reading = read_report_ratios(data, Limits(seconds=1.0))
    assert time.monotonic() - started < 5.0
    assert reading.problems == ["reading the PDF took longer than 1 s; stopped"]


def test_a_missing_file() -> None:
    reading = read_report_ratios("/nonexistent/report.pdf")
    assert reading.problems and reading.problems[0].startswith("cannot open the document")


# ------------------------------------------------------------------------------------------ the CLI


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ntx_assets.filings.ratios", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )


def test_cli_json(tmp_path: Path) -> None:
    report = find_report("Microfinance", lambda t: t.format == NFRS and t.text_layer == "text")
    path = tmp_path / "report.pdf"
    path.write_bytes(render_bank_report(report).to_bytes())
    printed = json.loads(_cli(str(path), "--format", "json").stdout)
    assert printed == expected_reading(report)
    assert list(printed) == ["format", "period", "ratios", "problems"]
    assert list(printed["ratios"]) == list(RATIO_KEYS)
    assert list(printed["period"]) == ["fiscal_year", "quarter", "as_at"]


def test_cli_table_and_a_failed_document(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\nthis is not a pdf body")
    table = _cli(str(path), "--format", "table").stdout
    assert "format       -" in table and "capital_fund_to_rwa_pct" in table and "problem: " in table
    printed = json.loads(_cli(str(path)).stdout)
    assert printed["ratios"] == dict.fromkeys(RATIO_KEYS) and printed["problems"]
