"""The reader on real bank reports, read from ../shared/bank-reports when it is there (never committed:
the files have no licence; see PROVENANCE.txt there). The expected figures were read by eye from each
document's ratio table (`pdftotext -layout`): this quarter's column, the bank's own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ntx_assets.filings.ratios import NFRS, PRE_NFRS, read_report_ratios

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "bank-reports"

EXPECTED = {
    # Nepal SBI Bank, "Unaudited Financial Results (Quarterly)", 4th quarter (31/03/2069) of FY 2068/69.
    # Its table stops at 4.5: no base rate, no spread (4.6 and 4.7 came later).
    "NSBL_FY2068-69_Q4_unaudited_results.pdf": {
        "format": PRE_NFRS,
        "period": {"fiscal_year": "2068/69", "quarter": 4, "as_at": "31/03/2069"},
        "ratios": {
            "capital_fund_to_rwa_pct": 11.37,
            "npl_pct": 0.54,
            "provision_to_npl_pct": 223.55,
            "cost_of_funds_pct": 5.49,
            "cd_ratio_pct": 73.09,
            "base_rate_pct": None,
            "spread_pct": None,
        },
        "problems": [
            "base_rate_pct: not printed in the ratio table",
            "spread_pct: not printed in the ratio table",
        ],
    },
    # Nepal SBI Bank, 4th quarter (31/03/2072) of FY 2071/72: labels 4.5 and 4.7 wrap onto a second line.
    "NSBL_FY2071-72_Q4_unaudited_results.pdf": {
        "format": PRE_NFRS,
        "period": {"fiscal_year": "2071/72", "quarter": 4, "as_at": "31/03/2072"},
        "ratios": {
            "capital_fund_to_rwa_pct": 13.47,
            "npl_pct": 0.19,
            "provision_to_npl_pct": 657.59,
            "cost_of_funds_pct": 3.17,
            "cd_ratio_pct": 79.11,
            "base_rate_pct": 7.71,
            "spread_pct": 5.43,
        },
        "problems": [],
    },
    # Mahalaxmi Bikas Bank, NFRS interim report, quarter ended 29 Poush 2076 (2nd of FY 2076/77): only
    # the "Upto This Quarter (YTD)" columns are filled; the previous year's (16.22, 4.41, ...) not taken.
    "MLBL_FY2076-77_Q2_Poush2076_interim.pdf": {
        "format": NFRS,
        "period": {"fiscal_year": "2076/77", "quarter": 2, "as_at": "29 Poush 2076"},
        "ratios": {
            "capital_fund_to_rwa_pct": 12.54,
            "npl_pct": 2.76,
            "provision_to_npl_pct": 93.30,
            "cost_of_funds_pct": 8.44,
            "cd_ratio_pct": 74.79,
            "base_rate_pct": 11.23,
            "spread_pct": 5.33,
        },
        "problems": [],
    },
}


def _sample(name: str) -> Path:
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"the real sample {path} is not there (../shared/bank-reports is only beside a checkout)")
    return path


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_sample_reads_what_the_document_prints(name: str) -> None:
    reading = read_report_ratios(_sample(name))
    assert reading.as_json() == EXPECTED[name]


def test_real_sample_from_bytes_and_through_the_cli() -> None:
    name = "MLBL_FY2076-77_Q2_Poush2076_interim.pdf"
    path = _sample(name)
    assert read_report_ratios(path.read_bytes()).as_json() == EXPECTED[name]
    done = subprocess.run(
        [sys.executable, "-m", "ntx_assets.filings.ratios", str(path), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(done.stdout) == EXPECTED[name]
