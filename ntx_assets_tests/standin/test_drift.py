"""Changed shapes on request (`StandinConfig.drift`, tools/standin/drift.py): each name changes every answer
of its endpoint and nothing else, the stand-in's data stays as it was, and the product's models see the
change (a refused value, a field they do not declare, a declared field missing)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from ntx_assets.nepse.models import AgmApplication, Company, DividendApplication, Report, TodayPrice
from ntx_assets_tests.pinned import PINNED_TODAY
from ntx_assets_tests.standin.salter import SalterClient, npt_day, variant_id
from ntx_assets_tests.tools.standin import StandinConfig, StandinServer, cli, drift, running_standin
from ntx_assets_tests.tools.standin.config import DRIFTS

ALL = ("text_prices", "unknown_fields", "renamed_field", "missing_bookclose")
NABIL = 131


@pytest.fixture(scope="module")
def drifted() -> Iterator[StandinServer]:
    with running_standin(StandinConfig(seed=7, end_date=PINNED_TODAY, days=120, drift=ALL)) as server:
        yield server


@pytest.fixture(scope="module")
def client(drifted: StandinServer) -> Iterator[SalterClient]:
    salter = SalterClient(drifted.base_url)
    yield salter
    salter.close()


def _announcing(server: StandinServer) -> list[int]:
    """Companies with a seeded event (each has dividend and AGM rows), NABIL first."""
    return [NABIL, *sorted({e.security_id for e in server.data.book_closures if e.notice_id is not None})]


# --- the names --------------------------------------------------------------------------------------------


def test_the_names_are_these_four_and_an_unknown_one_is_refused() -> None:
    assert tuple(DRIFTS) == ALL
    with pytest.raises(ValueError, match="unknown drift 'text_price'") as caught:
        StandinConfig(drift=("text_price",))
    for name in ALL:
        assert name in str(caught.value)
    with pytest.raises(ValueError, match="tuple of names"):
        StandinConfig(drift="text_prices")  # type: ignore[arg-type]
    assert StandinConfig(drift=ALL).drift == ALL


def test_the_command_line_takes_the_names(capsys: pytest.CaptureFixture[str]) -> None:
    args = cli.parse_args(
        [
            "--drift",
            "text_prices,missing_bookclose",
            "--announcements-reversed",
            "--dividend-notice-shape",
            "2026-04",
        ]
    )
    config = cli.config_from_args(args)
    assert config.drift == ("text_prices", "missing_bookclose")
    assert config.announcements_reversed is True and config.dividend_notice_shape == "2026-04"
    default = cli.config_from_args(cli.parse_args([]))
    assert (default.drift, default.announcements_reversed, default.dividend_notice_shape) == (
        (),
        False,
        "2026-09",
    )
    with pytest.raises(SystemExit):
        cli.parse_args(["--drift", "text_prices,lot_size"])
    err = capsys.readouterr().err
    assert "unknown drift 'lot_size'" in err and all(name in err for name in ALL)


# --- each change, served ----------------------------------------------------------------------------------


def test_text_prices(drifted: StandinServer, client: SalterClient) -> None:
    data = drifted.data
    for day in (None, data.sessions[-5]):
        params = {"size": 2000} | ({"businessDate": day.isoformat()} if day else {})
        page = client.today_price(**params).json()
        payload = {"id": variant_id(client.market_id(), npt_day(), client.salts, "B")}
        whole = client.post(
            "/api/nots/nepse-data/todays-price/",
            payload,
            params={"businessDate": day.isoformat()} if day else {},
        ).json()
        truth = data.today_rows(day or data.last_session)
        assert len(truth) > 100
        for served in (page["content"], whole):
            assert len(served) == len(truth)
            for row, true in zip(served, truth, strict=True):
                assert isinstance(true["closePrice"], float)  # the data does not drift
                assert (
                    row["closePrice"] == json.dumps(true["closePrice"])
                    and float(row["closePrice"]) == true["closePrice"]
                )
                assert {k: v for k, v in row.items() if k != "closePrice"} == {
                    k: v for k, v in true.items() if k != "closePrice"
                }
        with pytest.raises(ValidationError, match="closePrice"):
            TodayPrice.model_validate(page["content"][0])
    assert drift.today_rows([{"closePrice": None}], ALL) == [{"closePrice": None}]


def test_unknown_fields(drifted: StandinServer, client: SalterClient) -> None:
    data = drifted.data
    companies = client.get("/api/nots/company/list").json()
    assert len(companies) == len(data.companies) > 600
    for row, true in zip(companies, data.companies, strict=True):
        assert row == {**true, "lotSize": 10} and "lotSize" not in true
    assert Company.model_validate(companies[0]).model_extra == {"lotSize": 10}
    reports = client.get(f"/api/nots/application/reports/{NABIL}").json()
    truth = data.reports(NABIL)
    assert len(reports) == len(truth) > 3
    for row, true in zip(reports, truth, strict=True):
        assert row["fiscalReport"] == {**true["fiscalReport"], "auditStatus": "Unaudited"}
        assert {k: v for k, v in row.items() if k != "fiscalReport"} == {
            k: v for k, v in true.items() if k != "fiscalReport"
        }
        assert "auditStatus" not in true["fiscalReport"]
        report = Report.model_validate(row)
        assert report.fiscal_report is not None and report.fiscal_report.model_extra == {
            "auditStatus": "Unaudited"
        }


def test_renamed_field(drifted: StandinServer, client: SalterClient) -> None:
    data = drifted.data
    checked = 0
    for security_id in _announcing(drifted):
        rows = client.get(f"/api/nots/application/dividend/{security_id}").json()
        truth = data.dividend_notices(security_id)
        assert len(rows) == len(truth)
        for row, true in zip(rows, truth, strict=True):
            notice, true_notice = (
                row["companyNews"]["dividendsNotice"],
                true["companyNews"]["dividendsNotice"],
            )
            assert "cashDividend" not in notice and "cashDividendPercent" not in true_notice
            # the same value in the same place, under the new name
            assert list(notice) == [
                "cashDividendPercent" if key == "cashDividend" else key for key in true_notice
            ]
            assert notice["cashDividendPercent"] == true_notice["cashDividend"]
            parsed = DividendApplication.model_validate(row).company_news.dividends_notice  # type: ignore[union-attr]
            assert parsed is not None and parsed.cash_dividend is None
            before = DividendApplication.model_validate(true).company_news.dividends_notice  # type: ignore[union-attr]
            assert before is not None and before.cash_dividend == true_notice["cashDividend"]
            # one field the model does not declare more than the truth has
            extra = {"cashDividendPercent": true_notice["cashDividend"]}
            assert parsed.model_extra == {**(before.model_extra or {}), **extra}
            checked += 1
    assert checked > 10
    # the 2026-04 shape has a dividendsNotice too
    old = data.dividend_notices(NABIL)
    assert drift.dividend_notices(old, ("renamed_field",)) != old


def test_missing_bookclose(drifted: StandinServer, client: SalterClient) -> None:
    data = drifted.data
    checked = 0
    for security_id in _announcing(drifted):
        rows = client.get(f"/api/nots/application/agm/{security_id}").json()
        truth = data.agm_notices(security_id)
        assert len(rows) == len(truth)
        for row, true in zip(rows, truth, strict=True):
            assert "bookCloseDate" in true["companyNews"]["agmNotice"]
            kept = {k: v for k, v in true["companyNews"]["agmNotice"].items() if k != "bookCloseDate"}
            assert row["companyNews"]["agmNotice"] == kept
            assert {
                **row,
                "companyNews": {**row["companyNews"], "agmNotice": true["companyNews"]["agmNotice"]},
            } == true
            notice = AgmApplication.model_validate(row).company_news.agm_notice  # type: ignore[union-attr]
            assert notice is not None and notice.book_close_date is None and notice.agm_date is not None
            checked += 1
    assert checked > 10


def test_the_other_endpoints_do_not_drift(drifted: StandinServer, client: SalterClient) -> None:
    data = drifted.data
    for security_id in _announcing(drifted)[:4]:
        served = client.get(f"/api/nots/security/corporate-actions/{security_id}").json()
        assert served == data.corporate_actions(security_id)
    assert client.get("/api/nots/security", params={"nonDelisted": "true"}).json() == data.securities
    history = client.get(f"/api/nots/market/history/security/{NABIL}", params={"size": 500}).json()
    assert history["content"] == data.history(NABIL)


@pytest.mark.parametrize("name", ALL)
def test_each_name_changes_only_its_own_answers(name: str, drifted: StandinServer) -> None:
    data = drifted.data
    day = data.last_session
    assert day is not None
    answers: dict[str, tuple[Any, Any]] = {
        "text_prices": (data.today_rows(day), drift.today_rows),
        "unknown_fields": (data.companies, drift.companies),
        "renamed_field": (data.dividend_notices(NABIL), drift.dividend_notices),
        "missing_bookclose": (data.agm_notices(NABIL), drift.agm_notices),
    }
    reports = data.reports(NABIL)
    for endpoint, (rows, change) in answers.items():
        assert rows, endpoint
        before = json.dumps(rows)
        changed = change(rows, (name,))
        assert json.dumps(rows) == before  # the truth is never edited in place
        assert (changed != rows) is (endpoint == name), endpoint
    assert (drift.reports(reports, (name,)) != reports) is (name == "unknown_fields")
    assert all(change(rows, ()) is rows for rows, change in answers.values())
