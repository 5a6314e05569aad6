"""The three announcement endpoints in the order and shape the public captures suggest
(ntx_assets_tests/data/public-captures/): corporate actions as ca_pratap22.json, oldest announcement first;
dividend rows as the 2026-09 capture div_ghaleyanish_asstored.json (keys and nesting; its values were stored
as text), newest first; AGM rows newest published first; and the reversed order and older shape on request.

Runs against the suite's session stand-in (seed 7, 365 days ending on the pinned today) and, for the options,
stand-in data of its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ntx_assets.corporate_actions.announcements import action_rows
from ntx_assets.nepse.models import CorporateAction, DividendApplication
from ntx_assets_tests.pinned import PINNED_TODAY
from ntx_assets_tests.standin.salter import SalterClient
from ntx_assets_tests.tools.standin import StandinConfig, StandinServer, running_standin
from ntx_assets_tests.tools.standin.data import StandinData

CAPTURES = Path(__file__).parents[1] / "data" / "public-captures"
CORPORATE_ACTIONS = "/api/nots/security/corporate-actions/{}"
DIVIDEND = "/api/nots/application/dividend/{}"
AGM = "/api/nots/application/agm/{}"
MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}")  # 2026-09-06T14:02:26.493
NABIL = 131


def _capture(name: str) -> list[dict[str, Any]]:
    return json.loads((CAPTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def salter(standin: StandinServer) -> Iterator[SalterClient]:
    client = SalterClient(standin.base_url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def older(standin: StandinServer) -> StandinData:
    """The same seed and window, in the reversed order and the 2026-04 dividend shape."""
    return StandinData(
        StandinConfig(
            seed=7,
            end_date=standin.data.end_date,
            announcements_reversed=True,
            dividend_notice_shape="2026-04",
        )
    )


def _announcing(data: StandinData) -> list[int]:
    return sorted({d.security_id for d in data.dividend_history})


# --- order -----------------------------------------------------------------------------------------------


def test_each_announcement_endpoint_lists_in_the_captured_order(
    standin: StandinServer, salter: SalterClient
) -> None:
    """Corporate actions oldest first (both captures begin with NABIL's oldest row); dividend and AGM notices
    newest first (the 2026-09 probe's first row of each is NABIL's newest)."""
    data = standin.data
    companies = _announcing(data)
    assert len(companies) > 150
    several = 0
    for security_id in companies:
        actions = data.corporate_actions(security_id)
        stamps = [(row["submittedDate"], row["sdId"]) for row in actions]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
        notices = data.dividend_notices(security_id)
        added = [row["companyNews"]["addedDate"] for row in notices]
        assert added == sorted(added, reverse=True)
        # the notices are the corporate actions reversed (one per declaration but a right issue's)
        sd_order = [row["submittedDate"] for row in actions[::-1]]
        assert [a for a in sd_order if a in set(added)] == added
        agms = data.agm_notices(security_id)
        published = [(row["companyNews"]["addedDate"], row["id"]) for row in agms]
        assert published == sorted(published, reverse=True)
        several += len(actions) >= 3
    assert several > 100  # the order is tested on lists that have one
    # served as the data holds them, including NABIL, the captured company
    for security_id in [NABIL, *(e.security_id for e in data.book_closures)]:
        assert salter.get(CORPORATE_ACTIONS.format(security_id)).json() == data.corporate_actions(security_id)
        assert salter.get(DIVIDEND.format(security_id)).json() == data.dividend_notices(security_id)
        assert salter.get(AGM.format(security_id)).json() == data.agm_notices(security_id)
    nabil = data.corporate_actions(NABIL)
    assert len(nabil) >= 3 and nabil[0]["submittedDate"] < nabil[-1]["submittedDate"]
    notices, agms = data.dividend_notices(NABIL), data.agm_notices(NABIL)
    assert (
        len(notices) >= 3 and notices[0]["companyNews"]["addedDate"] > notices[-1]["companyNews"]["addedDate"]
    )
    assert len(agms) >= 3 and agms[0]["companyNews"]["addedDate"] > agms[-1]["companyNews"]["addedDate"]


def test_reversed_on_request_is_the_same_rows_reversed(standin: StandinServer, older: StandinData) -> None:
    data = standin.data
    for security_id in _announcing(data):
        assert older.corporate_actions(security_id) == data.corporate_actions(security_id)[::-1]
        assert older.agm_notices(security_id) == data.agm_notices(security_id)[::-1]
        assert [row["id"] for row in older.dividend_notices(security_id)] == [
            row["id"] for row in data.dividend_notices(security_id)[::-1]
        ]
    # nothing else moves
    assert older.dividend_history == data.dividend_history and older.book_closures == data.book_closures
    assert older.reports(NABIL) == data.reports(NABIL)


# --- corporate actions -----------------------------------------------------------------------------------


def test_corporate_action_rows_have_the_captured_keys_and_types(standin: StandinServer) -> None:
    (captured,) = _capture("ca_pratap22.json")
    (as_stored,) = _capture("ca_ghaleyanish_asstored.json")
    assert list(as_stored) == list(captured)  # the two captures agree on the keys and their order
    data = standin.data
    rows = [row for security_id in _announcing(data) for row in data.corporate_actions(security_id)]
    assert len(rows) == len(data.dividend_history) > 800
    for row in rows:
        assert list(row) == list(captured)
        assert MOMENT.fullmatch(row["submittedDate"])
        assert row["filePath"] == "" and type(row["documentId"]) is int
        assert type(row["ratioNum"]) is int and type(row["ratioDen"]) is int and row["ratioDen"] == 1_000_000
        assert type(row["sdId"]) is int and isinstance(row["authorizationComments"], str)
        assert re.fullmatch(r"\d{4}-\d{4}", row["fiscalYear"])
        for field in ("cashDividend", "bonusPercentage", "rightPercentage", "rightAmountPerShare"):
            # absent amounts null, as captured (cashDividend, rightPercentage null beside an 18.5% bonus)
            assert row[field] is None or (type(row[field]) is float and row[field] > 0)
        CorporateAction.model_validate(row)
    bonus = next(row for row in rows if row["bonusPercentage"] and not row["rightPercentage"])
    assert bonus["ratioNum"] / bonus["ratioDen"] == pytest.approx(bonus["bonusPercentage"] / 100)
    # the captured row parses as the served ones do
    action = CorporateAction.model_validate(captured)
    assert (action.document_id, action.file_path, action.ratio_num) == (1, "", 185000)


# --- dividend rows, 2026-09 -------------------------------------------------------------------------------


def _kind(text: str) -> type | None:
    """The JSON type a value the probe stored as text had: "None" null, "True" a boolean, "47328" an int,
    "10.8" a float, anything else a string."""
    if text == "None":
        return None
    if text in ("True", "False"):
        return bool
    if re.fullmatch(r"-?\d+", text):
        return int
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float
    return str


def _same_shape(served: Any, stored: Any, path: str, nullable_text: set[str]) -> None:
    """`served` has the keys, nesting and (typed) JSON values of the text-stored capture."""
    if isinstance(stored, dict):
        assert isinstance(served, dict) and list(served) == list(stored), path
        for key in stored:
            _same_shape(served[key], stored[key], f"{path}.{key}", nullable_text)
    elif isinstance(stored, list):
        assert isinstance(served, list) and len(served) == len(stored), path
        for i, (a, b) in enumerate(zip(served, stored, strict=True)):
            _same_shape(a, b, f"{path}[{i}]", nullable_text)
    else:
        kind = _kind(stored)
        if kind is None:
            assert served is None or (path in nullable_text and isinstance(served, str)), (path, served)
        else:
            assert type(served) is kind, (path, served, stored)


def test_dividend_rows_have_the_shape_captured_in_2026_09(standin: StandinServer) -> None:
    (captured,) = _capture("div_ghaleyanish_asstored.json")
    data = standin.data
    nabil = data.dividend_notices(NABIL)
    assert nabil
    # NABIL's security object is the real one, so every value has the captured JSON type
    for row in nabil:
        _same_shape(row, captured, "row", {"row.companyNews.dividendsNotice.remarks"})
    news_keys, notice_keys = list(captured["companyNews"]), list(captured["companyNews"]["dividendsNotice"])
    rows = [row for security_id in _announcing(data) for row in data.dividend_notices(security_id)]
    assert len(rows) > 800
    for row in rows:
        assert list(row) == list(captured) and "modifiedDate" not in row and "modifiedBy" not in row
        news = row["companyNews"]
        assert list(news) == news_keys and list(news["dividendsNotice"]) == notice_keys
        assert news["newsSource"] == "Letter" and news["newsType"] == "Dividend Declaration"
        assert news["bookCloseNotice"] is None and news["agmNotice"] is None and row["fiscalReport"] is None
        assert MOMENT.fullmatch(news["addedDate"])
        assert {"id", "symbol"} <= set(news["security"]) and set(news["security"]) <= set(
            captured["companyNews"]["security"]
        )
        year = news["dividendsNotice"]["financialYear"]
        assert list(year) == list(captured["companyNews"]["dividendsNotice"]["financialYear"])
        (document,) = row["applicationDocumentDetailsList"]
        assert list(document) == list(captured["applicationDocumentDetailsList"][0])
        assert document["application"] == row["id"] and document["submittedDate"] == news["addedDate"][:10]
        DividendApplication.model_validate(row)


def test_a_dividend_row_says_what_was_declared(standin: StandinServer, salter: SalterClient) -> None:
    data = standin.data
    by_notice = {d.notice_id: d for d in data.dividend_history if d.notice_id is not None}
    mixed = next(
        d for d in data.dividend_history if d.cash_pct and d.bonus_pct and d.notice_id and not d.seeded
    )
    (row,) = [r for r in data.dividend_notices(mixed.security_id) if r["id"] == mixed.notice_id]
    news = row["companyNews"]
    company = data.universe.company_by_id[mixed.security_id]
    assert news["newsBody"] == (
        f"Dividend Declaration of {mixed.symbol}\nFiscal Year: {mixed.fiscal_year}\n"
        f"Cash Dividend: {mixed.cash_pct:g}%\nBonus Shares: {mixed.bonus_pct:g}%"
    )
    assert (
        news["newsHeadline"] == f"Declaration of Dividend-{company['companyName'].strip()} [{mixed.symbol}] "
    )
    assert news["security"]["id"] == mixed.security_id and news["security"]["symbol"] == mixed.symbol
    assert news["addedDate"].startswith(mixed.announced.isoformat() + "T")
    terms = news["dividendsNotice"]
    assert (terms["cashDividend"], terms["bonusShare"], terms["rightShare"]) == (
        mixed.cash_pct,
        mixed.bonus_pct,
        0.0,
    )
    assert terms["financialYear"]["fyName"] == mixed.fy_name
    assert terms["financialYear"]["fyNameNepali"] == mixed.fiscal_year
    for security_id in _announcing(data):
        for notice in data.dividend_notices(security_id):
            d = by_notice[notice["id"]]
            if not d.bonus_pct:
                assert "Bonus Shares" not in notice["companyNews"]["newsBody"]
    # the attached letter downloads by its filePath and by its encryptedId, and says the same
    (document,) = row["applicationDocumentDetailsList"]
    assert document["filePath"].startswith(f"{mixed.symbol.lower()}_user/{mixed.announced.isoformat()}/")
    assert document["filePath"].endswith(".pdf") and "-Dividend Declaration_" in document["filePath"]
    by_path = salter.get("/api/nots/security/fetchFiles", params={"fileLocation": document["filePath"]})
    by_id = salter.get("/api/nots/application/fetchFiles", params={"encryptedId": document["encryptedId"]})
    assert by_path.status_code == by_id.status_code == 200
    assert by_path.content == by_id.content and by_path.content.startswith(b"%PDF")
    assert by_path.headers["content-type"] == "application/pdf"


def test_both_dividend_shapes_announce_on_the_same_moment(standin: StandinServer, older: StandinData) -> None:
    """Same rows, ids, terms and announcement: modifiedDate (2026-04) = companyNews.addedDate (2026-09), and
    the product reads the same day, fiscal year and amounts from either."""
    data = standin.data
    compared = 0
    for security_id in _announcing(data):
        new = data.dividend_notices(security_id)
        old = older.dividend_notices(security_id)[::-1]
        assert [row["id"] for row in new] == [row["id"] for row in old]
        for a, b in zip(new, old, strict=True):
            assert "modifiedDate" in b and "addedDate" not in b["companyNews"]
            assert a["companyNews"]["addedDate"] == b["modifiedDate"]
            assert a["companyNews"]["id"] == b["companyNews"]["id"]
            assert a["companyNews"]["expiryDate"] == b["companyNews"]["expiryDate"]
            new_terms, old_terms = a["companyNews"]["dividendsNotice"], b["companyNews"]["dividendsNotice"]
            for key in ("cashDividend", "bonusShare", "rightShare", "remarks"):
                assert (new_terms[key] or None) == old_terms[key], key
            for key in ("fyName", "fyNameNepali"):
                assert new_terms["financialYear"][key] == old_terms["financialYear"][key]
            compared += 1
        symbol = data.universe.company_by_id[security_id]["symbol"]
        read = [
            action_rows(
                [],
                [DividendApplication.model_validate(row) for row in rows],
                security_id=security_id,
                symbol=symbol,
            )
            for rows in (new, old)
        ]
        for a, b in zip(*read, strict=True):
            assert (a["nepse_id"], a["announced_on"], a["fiscal_year"]) == (
                b["nepse_id"],
                b["announced_on"],
                b["fiscal_year"],
            )
            for key in ("cash_dividend_pct", "bonus_pct", "right_pct"):
                assert (a[key] or None) == b[key]
    assert compared > 800
    # the corporate actions are the same in both
    assert all(older.corporate_actions(s)[::-1] == data.corporate_actions(s) for s in _announcing(data))


def test_the_2026_04_shape_is_the_one_served_before(older: StandinData) -> None:
    """modifiedDate present (div_pratap22.json), no addedDate, no document; null for a term not declared."""
    (captured,) = _capture("div_pratap22.json")
    assert "modifiedDate" in captured and MOMENT.fullmatch(captured["modifiedDate"])
    for security_id in _announcing(older)[:60]:
        for row in older.dividend_notices(security_id):
            assert list(row) == [
                "id", "activeStatus", "modifiedDate", "applicationType", "applicationStatus", "fiscalReport",
                "applicationDocumentDetailsList", "companyNews",
            ]  # fmt: skip
            assert MOMENT.fullmatch(row["modifiedDate"]) and row["applicationDocumentDetailsList"] == []
            terms = row["companyNews"]["dividendsNotice"]
            assert list(terms["financialYear"]) == ["fyName", "fyNameNepali"]
            assert 0.0 not in (terms["cashDividend"], terms["bonusShare"], terms["rightShare"])
            notice = DividendApplication.model_validate(row)
            assert notice.modified_date == row["modifiedDate"]


# --- the options ------------------------------------------------------------------------------------------


def test_the_options_default_to_the_live_order_and_shape() -> None:
    config = StandinConfig()
    assert config.announcements_reversed is False
    assert config.dividend_notice_shape == "2026-09"
    assert config.drift == ()
    with pytest.raises(ValueError, match="dividend_notice_shape must be one of"):
        StandinConfig(dividend_notice_shape="2025-01")  # type: ignore[arg-type]


def test_served_reversed_and_in_the_2026_04_shape_on_request() -> None:
    """Reversed: corporate actions newest first, dividend and AGM notices oldest first."""
    config = StandinConfig(
        seed=7,
        end_date=PINNED_TODAY,
        days=120,
        announcements_reversed=True,
        dividend_notice_shape="2026-04",
    )
    with running_standin(config) as server:
        client = SalterClient(server.base_url)
        try:
            event = next(e for e in server.data.book_closures if e.kind == "bonus")
            actions = client.get(CORPORATE_ACTIONS.format(event.security_id)).json()
            notices = client.get(DIVIDEND.format(event.security_id)).json()
            agms = client.get(AGM.format(event.security_id)).json()
        finally:
            client.close()
    assert len(actions) >= 2 and len(notices) >= 2 and len(agms) >= 2
    stamps = [row["submittedDate"] for row in actions]
    assert stamps == sorted(stamps, reverse=True)
    modified = [row["modifiedDate"] for row in notices]
    assert modified == sorted(modified) and all("addedDate" not in n["companyNews"] for n in notices)
    added = [row["companyNews"]["addedDate"] for row in agms]
    assert added == sorted(added)
