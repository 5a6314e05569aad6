from __future__ import annotations

import re
from datetime import date
from typing import Any

import httpx
import pytest

from ntx_assets_tests.standin.conftest import OVERSIZE_BYTES
from ntx_assets_tests.standin.salter import SalterClient
from ntx_assets_tests.tools.standin import StandinConfig, StandinServer
from ntx_assets_tests.tools.standin.data import StandinData
from ntx_assets_tests.tools.standin.reports import period_ends

# Decides by the calendar: rerun under faketime with `make test-calendar` (pytest -m calendar).
pytestmark = pytest.mark.calendar


def assert_valid_pdf(data: bytes) -> None:
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", data).group(1))  # type: ignore[union-attr]
    assert data[start : start + 4] == b"xref"
    offsets = [int(x) for x in re.findall(rb"(\d{10}) 00000 n \n", data[start:])]
    assert offsets
    for number, offset in enumerate(offsets, start=1):
        assert data[offset:].startswith(b"%d 0 obj" % number)


def test_reports_shape_and_documents(server: StandinServer, client: SalterClient) -> None:
    reports = client.get("/api/nots/application/reports/131").json()
    assert reports == server.data.reports(131)
    names = {r["fiscalReport"]["reportTypeMaster"]["reportName"] for r in reports}
    assert names == {"Quarterly Report", "Annual Report"}
    quarterly = [r for r in reports if r["fiscalReport"]["quarterMaster"] is not None]
    assert len(quarterly) >= 4
    for report in reports:
        assert list(report) == [
            "id", "activeStatus", "modifiedDate", "applicationType", "applicationStatus",
            "fiscalReport", "applicationDocumentDetailsList",
        ]  # fmt: skip
        fiscal = report["fiscalReport"]
        assert set(fiscal["financialYear"]) == {"id", "fyName", "fyNameNepali", "fromYear", "toYear"}
        # three fiscal years: 2082-2083 contains the window's end (2026-05-15), and the two before it
        assert fiscal["financialYear"]["fyNameNepali"] in {"2080-2081", "2081-2082", "2082-2083"}
        documents = report["applicationDocumentDetailsList"]
        assert len(documents) == 1
        document = documents[0]
        assert document["filePath"].startswith(f"nabil_user/{document['submittedDate']}/Nabil Bank Limited ")
        by_path = client.get("/api/nots/security/fetchFiles", params={"fileLocation": document["filePath"]})
        by_id = client.get(
            "/api/nots/application/fetchFiles", params={"encryptedId": document["encryptedId"]}
        )
        assert by_path.status_code == by_id.status_code == 200
        assert by_path.headers["content-type"] == "application/pdf"
        assert by_path.content == by_id.content == server.data.document_bytes(document["filePath"])
        assert 300 < len(by_path.content) < 10_000
        assert_valid_pdf(by_path.content)
    assert any(" 1st Quarter.pdf" in r["applicationDocumentDetailsList"][0]["filePath"] for r in reports)


def test_reports_only_for_active_equity(client: SalterClient) -> None:
    assert client.get("/api/nots/application/reports/2886").json() == []  # a debenture
    assert client.get("/api/nots/application/reports/999999").json() == []


def test_unknown_documents_are_404(client: SalterClient) -> None:
    assert client.get("/api/nots/security/fetchFiles", params={"fileLocation": "nope.pdf"}).status_code == 404
    assert client.get("/api/nots/application/fetchFiles", params={"encryptedId": "nope"}).status_code == 404


def _extra_documents(server: StandinServer, symbol: str) -> list[dict[str, str]]:
    company = next(c for c in server.data.companies if c["symbol"] == symbol)
    documents = [d for r in server.data.reports(company["id"]) for d in r["applicationDocumentDetailsList"]]
    return documents


def test_escaping_document(server: StandinServer, client: SalterClient) -> None:
    symbol = server.data.escaping_document_symbol
    escaping = [d for d in _extra_documents(server, symbol) if ".." in d["filePath"]]
    assert len(escaping) == 1
    response = client.get("/api/nots/security/fetchFiles", params={"fileLocation": escaping[0]["filePath"]})
    assert response.status_code == 200
    assert_valid_pdf(response.content)


def test_oversize_document_is_streamed_whole(server: StandinServer, client: SalterClient) -> None:
    symbol = server.data.oversize_document_symbol
    assert symbol != server.data.escaping_document_symbol
    documents = _extra_documents(server, symbol)
    oversize = [d for d in documents if d["filePath"].endswith("Full Annual Report Scan.pdf")]
    assert len(oversize) == 1
    with client.http.stream(
        "GET", "/api/nots/application/fetchFiles", params={"encryptedId": oversize[0]["encryptedId"]},
        headers=client.headers,
    ) as response:  # fmt: skip
        assert response.status_code == 200
        assert int(response.headers["content-length"]) == OVERSIZE_BYTES
        data = b"".join(response.iter_bytes())
    assert len(data) == OVERSIZE_BYTES
    assert_valid_pdf(data)


def test_default_oversize_is_60_mib() -> None:
    assert StandinConfig().oversize_bytes == 60 * 1024 * 1024


def test_documents_need_a_token(server: StandinServer) -> None:
    path = server.data.reports(131)[0]["applicationDocumentDetailsList"][0]["filePath"]
    response = httpx.get(f"{server.base_url}/api/nots/security/fetchFiles", params={"fileLocation": path})
    assert response.status_code == 401


# --- three fiscal years (data only: no clock involved) ------------------------------------------------


def _fiscal_years(reports: list[dict[str, Any]]) -> set[str]:
    return {r["fiscalReport"]["financialYear"]["fyNameNepali"] for r in reports}


@pytest.mark.parametrize(
    ("end", "years"), [(date(2026, 11, 20), (2024, 2025, 2026)), (date(2026, 5, 15), (2023, 2024, 2025))]
)
def test_three_fiscal_years_each_report_weeks_after_its_period(end: date, years: tuple[int, ...]) -> None:
    data = StandinData(StandinConfig(seed=7, end_date=end, days=365))
    nepali = {f"{y + 57}-{y + 58}" for y in years}
    companies = data.universe.active_equity()
    seen: set[str] = set()
    for company in companies:
        reports = data.reports(company["id"])
        seen |= _fiscal_years(reports)
        assert _fiscal_years(reports) <= nepali
        stamps = [(r["modifiedDate"], r["id"]) for r in reports]
        assert stamps == sorted(stamps, reverse=True)
        for report in reports:
            fiscal = report["fiscalReport"]
            start = int(fiscal["financialYear"]["fyName"][:4])
            submitted = date.fromisoformat(report["modifiedDate"][:10])
            assert submitted <= end
            quarter = fiscal["quarterMaster"]
            if quarter is None:
                assert 120 <= (submitted - period_ends(start)[3]).days <= 200, report
            else:
                assert 12 <= (submitted - period_ends(start)[quarter["id"] - 1]).days <= 40, report
            # profitAmount is year-to-date: EPS x shares x quarters elapsed / 4
            shares = fiscal["paidUpCapital"] / 100.0
            quarters = 4 if quarter is None else quarter["id"]
            assert fiscal["profitAmount"] == pytest.approx(
                fiscal["epsValue"] * shares * quarters / 4, abs=0.01
            )
    assert seen == nepali
    # the oldest of the three years is complete for every company: four quarters and the annual report
    oldest = f"{years[0] + 57}-{years[0] + 58}"
    for company in companies:
        periods = [
            r["fiscalReport"]["quarterMaster"]
            for r in data.reports(company["id"])
            if r["fiscalReport"]["financialYear"]["fyNameNepali"] == oldest
        ]
        assert sorted((q or {"id": 5})["id"] for q in periods) == [1, 2, 3, 4, 5]


def test_reports_are_deterministic_in_the_seed() -> None:
    first, again, other = (StandinData(StandinConfig(seed=s, end_date=date(2026, 11, 20))) for s in (7, 7, 8))
    assert first.reports(131) == again.reports(131) and first.reports(131) != other.reports(131)
