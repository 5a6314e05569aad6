from __future__ import annotations

from datetime import date

from ntx_assets_tests.standin.salter import SalterClient
from ntx_assets_tests.tools.standin import StandinConfig, StandinServer, running_standin


def _answers(server: StandinServer) -> list[bytes]:
    client = SalterClient(server.base_url)
    try:
        document = server.data.reports(131)[0]["applicationDocumentDetailsList"][0]
        # a company with a bonus (it has a dividend notice too) and its ex date, the day it re-bases
        event = next(e for e in server.data.book_closures if e.kind == "bonus")
        return [
            client.get("/api/nots/nepse-data/market-open").content,
            client.today_price(size=500).content,
            client.today_price(size=500, businessDate=server.data.sessions[3].isoformat()).content,
            client.get("/api/nots/market/history/security/131", params={"size": 500}).content,
            client.get("/api/nots/security/promoters", params={"size": 500}).content,
            client.get("/api/nots/security/classification", params={"size": 500}).content,
            client.get("/api/nots/security/profile/9192").content,
            client.security_detail(9192).content,
            client.get("/api/nots/application/reports/131").content,
            client.get(
                "/api/nots/security/fetchFiles", params={"fileLocation": document["filePath"]}
            ).content,
            client.get(f"/api/nots/security/corporate-actions/{event.security_id}").content,
            client.get(f"/api/nots/application/dividend/{event.security_id}").content,
            client.get(f"/api/nots/application/agm/{event.security_id}").content,
            client.today_price(size=500, businessDate=event.ex_date.isoformat()).content,
        ]
    finally:
        client.close()


def test_same_seed_same_bytes_and_another_seed_differs() -> None:
    def config(seed: int) -> StandinConfig:
        return StandinConfig(seed=seed, end_date=date(2026, 5, 15), days=120)

    with running_standin(config(21)) as first, running_standin(config(21)) as second:
        assert first.base_url != second.base_url
        a, b = _answers(first), _answers(second)
        assert first.data.escaping_document_symbol == second.data.escaping_document_symbol
    assert a == b
    assert all(len(answer) > 50 for answer in a)
    with running_standin(config(22)) as other:
        c = _answers(other)
    assert c[1] != a[1] and c[3] != a[3]
