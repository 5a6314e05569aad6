from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest

from ntx_assets_tests.standin.conftest import END_DATE
from ntx_assets_tests.standin.salter import SalterClient
from ntx_assets_tests.tools.standin import StandinServer, snapshots

PAGE_KEYS = list(snapshots.load("static__classifications"))


def _ticks(value: float) -> int:
    ticks = round(value * 10)
    assert abs(ticks - value * 10) < 1e-6, value
    return ticks


def _paisa(value: float) -> int:
    """Prices are whole ticks of Rs 0.1, but an adjusted base after a book closure is exact to the paisa."""
    paisa = round(value * 100)
    assert abs(paisa - value * 100) < 1e-6, value
    return paisa


def test_company_list_is_the_real_one(client: SalterClient) -> None:
    companies = client.get("/api/nots/company/list").json()
    assert companies == snapshots.companies()
    assert len(companies) == 612
    assert sum(1 for c in companies if c["status"] == "A" and c["instrumentType"] == "Equity") == 259


def test_security_list_is_the_real_one(client: SalterClient) -> None:
    securities = client.get("/api/nots/security", params={"nonDelisted": "true"}).json()
    assert securities == snapshots.securities()
    assert len(securities) == 543
    everything = client.get("/api/nots/security").json()
    assert len(everything) > 543 and {row["activeStatus"] for row in everything} == {"A", "S", "D"}


def test_classification_page_envelope_and_size_cap(client: SalterClient) -> None:
    first = client.get("/api/nots/security/classification").json()
    real = snapshots.load("static__classifications")
    assert list(first) == PAGE_KEYS
    assert {k: v for k, v in first.items() if k != "content"} == {
        k: v for k, v in real.items() if k != "content"
    }
    assert first["content"] == real["content"]  # page 0 is the real capture
    big = client.get("/api/nots/security/classification", params={"size": 10000}).json()
    assert big["size"] == 2000 and big["pageable"]["pageSize"] == 2000
    assert (
        big["totalElements"] == 259
        and big["numberOfElements"] == 259
        and big["last"]
        and big["totalPages"] == 1
    )
    last = client.get("/api/nots/security/classification", params={"size": 50, "page": 5}).json()
    assert last["number"] == 5 and last["numberOfElements"] == 9 and last["last"] and not last["first"]
    assert last["pageable"]["offset"] == 250 and last["totalPages"] == 6
    beyond = client.get("/api/nots/security/classification", params={"size": 50, "page": 9}).json()
    assert beyond["content"] == [] and beyond["empty"] and beyond["numberOfElements"] == 0
    ids = {row["id"] for row in big["content"]}
    assert ids == {
        c["id"] for c in snapshots.companies() if c["status"] == "A" and c["instrumentType"] == "Equity"
    }


def test_promoters_are_full_objects_for_every_promoter_share(client: SalterClient) -> None:
    page = client.get("/api/nots/security/promoters", params={"size": 500}).json()
    company_ids = {c["id"] for c in snapshots.companies()}
    promoter_ids = {s["id"] for s in snapshots.securities() if s["id"] not in company_ids}
    assert {row["id"] for row in page["content"]} == promoter_ids
    template_keys = list(snapshots.promoter_templates()[0])
    for row in page["content"]:
        assert row["isPromoter"] == "Y"
        assert list(row) == template_keys
        assert set(row["companyId"]) == set(snapshots.promoter_templates()[0]["companyId"])


def test_profile_and_detail_shapes(client: SalterClient) -> None:
    profile = client.get("/api/nots/security/profile/131").json()
    assert list(profile) == [
        "companyName", "companyEmail", "companyProfile", "companyContactPerson", "logoFilePath",
        "addressType", "addressField", "phoneNumber", "fax", "town",
    ]  # fmt: skip
    assert client.get("/api/nots/security/profile/999999").status_code == 404
    detail = client.security_detail(131).json()
    assert list(detail) == [
        "securityDailyTradeDto", "security", "stockListedShares", "paidUpCapital", "issuedCapital",
        "marketCapitalization", "publicShares", "publicPercentage", "promoterShares", "promoterPercentage",
        "updatedDate", "securityId",
    ]  # fmt: skip
    dto = detail["securityDailyTradeDto"]
    assert dto["securityId"] == "131" and detail["securityId"] == 131
    assert dto["lowPrice"] <= dto["closePrice"] <= dto["highPrice"]


def test_market_open_shape(server: StandinServer, client: SalterClient) -> None:
    status = client.get("/api/nots/nepse-data/market-open").json()
    assert status == {
        "isOpen": "CLOSE",
        "asOf": f"{server.data.sessions[-1]}T15:00:00",
        "id": server.data.market_id,
    }
    from datetime import datetime

    server.set_market_status("OPEN", datetime(2026, 5, 15, 11, 30))
    try:
        assert client.get("/api/nots/nepse-data/market-open").json()["isOpen"] == "OPEN"
    finally:
        server.set_market_status(None)


def _check_row(row: dict[str, Any], real: bool = False) -> None:
    """`real`: a session of the price archive's real prices (prices.py), which need not keep the band and
    whose turnover / volume may leave the day's range (a handful of archived rows do)."""
    opened, high, low, close = (_ticks(row[k]) for k in ("openPrice", "highPrice", "lowPrice", "closePrice"))
    previous = _paisa(row["previousDayClosePrice"])
    assert low <= min(opened, close) and max(opened, close) <= high
    # NEPSE's daily band: +/-10% of the previous close (the adjusted base on an ex date), in paisa
    assert real or (high * 100 <= previous * 11 and low * 100 >= previous * 9)
    assert _ticks(row["fiftyTwoWeekLow"]) <= low and high <= _ticks(row["fiftyTwoWeekHigh"])
    assert row["totalTradedQuantity"] >= row["totalTrades"] >= 1
    if not real:
        assert row["lowPrice"] <= row["averageTradedPrice"] <= row["highPrice"]
    assert abs(row["averageTradedPrice"] * row["totalTradedQuantity"] - row["totalTradedValue"]) <= (
        0.005 * row["totalTradedQuantity"] + 0.1
    )
    assert row["id"] is None and row["lastUpdatedPrice"] == row["closePrice"]
    assert row["lastUpdatedTime"].startswith(row["businessDate"] + "T1")


def test_today_price_lists_only_traded_securities(server: StandinServer, client: SalterClient) -> None:
    real_row = snapshots.load("daily__2025-12-04__today_price")["content"][0]
    day = server.data.sessions[-10]
    page = client.today_price(size=2000, businessDate=day.isoformat()).json()
    rows = page["content"]
    assert rows == server.data.today_prices(day)
    assert page["totalElements"] == len(rows) < len(snapshots.securities())
    suspended = {s["id"] for s in snapshots.securities() if s["activeStatus"] == "S"}
    for row in rows:
        assert list(row) == list(real_row)
        assert row["securityId"] not in suspended and row["businessDate"] == day.isoformat()
        _check_row(row, _is_real(server, row))
    default = client.today_price().json()
    assert (
        default["size"] == 20
        and default["content"][0]["businessDate"] == server.data.sessions[-1].isoformat()
    )


def test_every_session_row_is_consistent(server: StandinServer) -> None:
    table = server.data.prices
    traded = table.traded
    previous_paisa = table.prev_close * 10
    for (r, t), base in table.rebased.items():  # the ex dates of bonus and right issues
        previous_paisa[r, t] = base
    low, high, opened, close, prev = (
        a[traded] for a in (table.low, table.high, table.open, table.close, previous_paisa)
    )
    assert (low <= opened).all() and (opened <= high).all() and (low <= close).all() and (close <= high).all()
    assert (table.low_52w[traded] <= low).all() and (high <= table.high_52w[traded]).all()
    # The band binds the synthetic sessions; the price archive's real ones need not keep it (prices.py).
    synthetic = traded & ~table.archived_mask()
    high, low, prev = (a[synthetic] for a in (table.high, table.low, previous_paisa))
    assert (high * 100 <= prev * 11).all() and (low * 100 >= prev * 9).all()
    for day in server.data.sessions[::7]:
        for row in server.data.today_prices(day):
            _check_row(row, _is_real(server, row))


def _is_real(server: StandinServer, row: dict[str, Any]) -> bool:
    table = server.data.prices
    t = table.session_index(date.fromisoformat(row["businessDate"]))
    return t is not None and table.is_archived(table.row_of[row["securityId"]], t)


def test_history_newest_first_without_open_price(server: StandinServer, client: SalterClient) -> None:
    real = snapshots.load("historical__securities__security_131_extended")
    page = client.get("/api/nots/market/history/security/131", params={"size": 500}).json()
    assert list(page) == list(real)
    rows = page["content"]
    assert rows and list(rows[0]) == list(real["content"][0]) and "openPrice" not in rows[0]
    dates = [row["businessDate"] for row in rows]
    assert dates == sorted(dates, reverse=True)
    assert dates[0] <= END_DATE.isoformat() and dates[-1] >= server.data.sessions[0].isoformat()
    clamped = client.get(
        "/api/nots/market/history/security/131",
        params={"startDate": "2020-01-01", "endDate": "2025-06-30", "size": 10000},
    ).json()
    assert clamped["size"] == 2000
    assert all(
        server.data.sessions[0].isoformat() <= r["businessDate"] <= "2025-06-30" for r in clamped["content"]
    )
    empty = client.get("/api/nots/market/history/security/136", params={"size": 10000}).json()
    assert empty == snapshots.load("historical__securities__security_136_history")


def test_holidays(client: SalterClient) -> None:
    for year in (2024, 2025):
        assert client.get("/api/nots/holiday/list", params={"year": year}).json() == snapshots.holidays(year)
    synthetic = client.get("/api/nots/holiday/list", params={"year": 2026}).json()
    assert synthetic and all(list(row) == list(snapshots.holidays(2025)[0]) for row in synthetic)
    assert all(date.fromisoformat(row["holidayDate"]).year == 2026 for row in synthetic)
    assert client.get("/api/nots/holiday/year").json() == snapshots.holiday_years()


def test_index_history_is_a_year_of_the_markets_capitalization(
    server: StandinServer, client: SalterClient
) -> None:
    """GET /index/history/58: the capture's Page and row fields, newest first, about one year (the real one
    had 227 rows), each close moving with the active equities' capitalization (closes x listed shares)."""
    real = snapshots.load("historical__indices__index_58_history")
    page = client.get("/api/nots/index/history/58", params={"size": 500}).json()
    assert list(page) == list(real) and list(page["pageable"]) == list(real["pageable"])
    rows = page["content"]
    assert list(rows[0]) == list(real["content"][0])
    dates = [date.fromisoformat(row["businessDate"]) for row in rows]
    assert dates == sorted(dates, reverse=True) and dates[0] == server.data.sessions[-1]
    assert (dates[0] - dates[-1]).days < 365 and 200 <= page["totalElements"] == len(rows) <= 260
    equities = [s.security_id for s in server.data.universe.listings if s.kind == "equity" and s.trades]

    def capitalization(day: date) -> float:
        closes = {i: server.data.close_price(i, day) for i in equities}
        return sum(float(close or 0) * server.data.listed_shares(i, day) for i, close in closes.items())

    for newer, older in itertools.pairwise(rows[:31]):
        moved = capitalization(date.fromisoformat(newer["businessDate"])) / capitalization(
            date.fromisoformat(older["businessDate"])
        )
        assert newer["closingIndex"] / older["closingIndex"] == pytest.approx(moved, rel=1e-5)
        assert newer["absChange"] == pytest.approx(newer["closingIndex"] - older["closingIndex"], abs=0.011)
        assert newer["lowIndex"] <= min(newer["openIndex"], newer["closingIndex"]) <= newer["highIndex"]
    second = client.get("/api/nots/index/history/58", params={"size": 20, "page": 1}).json()
    assert second["content"] == rows[20:40] and second["number"] == 1 and not second["first"]
    assert client.get("/api/nots/index/history/51").json()["totalElements"] == 0
