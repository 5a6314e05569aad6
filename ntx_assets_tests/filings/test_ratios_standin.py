"""The ratio reader on the documents the stand-in serves: every financial institution's quarterly report
is in NRB's format (bank_reports.py), and the reader gives what each one prints."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from ntx_assets.filings.ratios import NFRS, PRE_NFRS, read_report_ratios
from ntx_assets_tests.tools.standin.bank_reports import FINANCIAL_SECTORS, expected_reading, traits
from ntx_assets_tests.tools.standin.config import StandinConfig
from ntx_assets_tests.tools.standin.data import StandinData
from ntx_assets_tests.tools.standin.documents import Document


@pytest.fixture(scope="module")
def data() -> StandinData:
    return StandinData(StandinConfig(seed=7, end_date=date(2026, 5, 15), days=365))


def _documents(data: StandinData) -> Iterator[tuple[dict, dict, Document]]:
    for company in data.universe.active_equity():
        for report in data.reports(company["id"]):
            for entry in report["applicationDocumentDetailsList"]:
                document = data.document(entry["filePath"])
                assert document is not None
                yield company, report, document


def _kind(document: Document) -> tuple[str, str, bool, bool]:
    assert document.bank_report is not None
    t = traits(document.bank_report)
    return t.format, t.text_layer, t.group is not None, document.bank_report.sector == "Microfinance"


def test_every_financial_institutions_quarterly_report_is_an_nrb_format_document(data: StandinData) -> None:
    kinds: set[tuple[str, str, bool, bool]] = set()
    for company, report, document in _documents(data):
        quarterly = report["fiscalReport"]["quarterMaster"] is not None
        is_regular = document.title.startswith(company["companyName"].strip())
        wanted = company["sectorName"] in FINANCIAL_SECTORS and quarterly and is_regular
        assert (document.bank_report is not None) == wanted, document.file_path
        if document.bank_report is not None:
            kinds.add(_kind(document))
    formats = {kind[0] for kind in kinds}
    layers = {kind[1] for kind in kinds}
    assert formats == {PRE_NFRS, NFRS}
    assert layers == {"text", "image", "outlines"}
    assert any(group for _, layer, group, _ in kinds if layer == "text")
    assert {(f, True) for f in formats} <= {(f, mfi) for f, layer, _, mfi in kinds if layer == "text"}


def test_the_reader_reads_one_document_of_each_kind_the_stand_in_serves(data: StandinData) -> None:
    first: dict[tuple[str, str, bool, bool], Document] = {}
    for _, _, document in _documents(data):
        if document.bank_report is not None:
            first.setdefault(_kind(document), document)
    assert len(first) >= 10
    for kind, document in sorted(first.items()):
        assert document.bank_report is not None
        served = data.document_bytes(document.file_path)
        assert served is not None
        reading = read_report_ratios(served).as_json()
        expected = expected_reading(document.bank_report)
        if kind[1] == "text":
            assert reading == expected, (kind, document.file_path)
        else:
            assert reading["ratios"] == expected["ratios"] and reading["problems"][0].startswith(
                "no text layer"
            )
