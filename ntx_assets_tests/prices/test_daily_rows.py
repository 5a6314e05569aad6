from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from ntx_assets.nepse.models import TodayPrice
from ntx_assets.prices.daily_rows import BadPriceData, CloseNotPublished
from ntx_assets.prices.daily_rows import price_rows as price_rows_of_records
from ntx_assets_tests.tools.standin.snapshots import SNAPSHOT_DIR

SNAPSHOT = SNAPSHOT_DIR / "daily__2025-12-04__today_price.json"
SESSION = dt.date(2025, 12, 3)


def price_rows(payload: list[dict], session: dt.date, universe: dict[int, str]) -> list[dict]:
    """What the asset does: the client types the rows (TodayPrice), pricing checks the records."""
    return price_rows_of_records([TodayPrice.model_validate(row) for row in payload], session, universe)


@pytest.fixture
def payload() -> list[dict]:
    return json.loads(SNAPSHOT.read_text())["content"]


def test_real_payload_maps_to_rows_of_universe_companies_only(payload: list[dict]) -> None:
    universe = {row["securityId"]: row["symbol"] for row in payload[:5]}
    rows = price_rows(payload, SESSION, universe)
    assert [r["security_id"] for r in rows] == [row["securityId"] for row in payload[:5]]
    first, raw = rows[0], payload[0]
    assert first == {
        "security_id": raw["securityId"],
        "business_date": SESSION,
        "symbol": raw["symbol"],
        "open": raw["openPrice"],
        "high": raw["highPrice"],
        "low": raw["lowPrice"],
        "close": raw["closePrice"],
        "previous_close": raw["previousDayClosePrice"],
        "volume": raw["totalTradedQuantity"],
        "turnover": raw["totalTradedValue"],
        "trades": raw["totalTrades"],
        "average_traded_price": raw["averageTradedPrice"],
        "fifty_two_week_high": raw["fiftyTwoWeekHigh"],
        "fifty_two_week_low": raw["fiftyTwoWeekLow"],
        "market_capitalization": raw["marketCapitalization"],
        "source": "nepse",
    }


def test_a_zero_market_capitalization_keeps_the_session(payload: list[dict]) -> None:
    payload[0]["marketCapitalization"] = 0.0
    rows = price_rows(payload[:1], SESSION, {payload[0]["securityId"]: "X"})
    assert rows[0]["market_capitalization"] == 0.0


def test_missing_open_is_allowed(payload: list[dict]) -> None:
    del payload[0]["openPrice"]
    rows = price_rows(payload[:1], SESSION, {payload[0]["securityId"]: "X"})
    assert rows[0]["open"] is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("closePrice", None, "'closePrice' is missing"),
        ("lowPrice", -5.0, "'lowPrice' is -5.0, not > 0"),
        ("totalTradedQuantity", -1, "'totalTradedQuantity' is -1, negative"),
        ("totalTradedValue", -10.0, "'totalTradedValue' is -10.0, negative"),
        ("marketCapitalization", -1.0, "'marketCapitalization' is -1.0, negative"),
        ("lowPrice", 99999.0, "'lowPrice' is 99999.0, above highPrice"),
        ("openPrice", 1.0, "'openPrice' is 1.0, outside the day's range"),
        ("businessDate", "2025-12-02", "'businessDate' is 2025-12-02, not the requested session date"),
    ],
)
def test_bad_rows_name_symbol_date_and_field(
    payload: list[dict], field: str, value: object, message: str
) -> None:
    bad = copy.deepcopy(payload)
    if value is None:
        del bad[3][field]
    else:
        bad[3][field] = value
    universe = {row["securityId"]: row["symbol"] for row in bad}
    with pytest.raises(BadPriceData) as info:
        price_rows(bad, SESSION, universe)
    text = str(info.value)
    assert bad[3]["symbol"] in text and "2025-12-03" in text and message in text
    assert info.value.field == field


def test_wrong_date_is_rejected_even_for_securities_outside_the_universe(payload: list[dict]) -> None:
    payload[7]["businessDate"] = "2025-12-01"
    with pytest.raises(BadPriceData, match=payload[7]["symbol"]):
        price_rows(payload, SESSION, {payload[0]["securityId"]: payload[0]["symbol"]})


def test_a_security_twice_in_one_session_is_rejected(payload: list[dict]) -> None:
    doubled = [payload[0], dict(payload[0])]
    with pytest.raises(BadPriceData, match="appears twice"):
        price_rows(doubled, SESSION, {payload[0]["securityId"]: "X"})


CAPTURES = Path(__file__).parents[1] / "data" / "public-captures"


def test_the_live_intraday_row_makes_the_session_pending_not_bad() -> None:
    """ACLBSL at 11:53 on 2026-04-02 (public capture, tp_pratap22.json): no close and no market
    capitalization yet. Refused as not published, whatever the rest of the session holds."""
    intraday = json.loads((CAPTURES / "tp_pratap22.json").read_text())
    day = dt.date(2026, 4, 2)
    with pytest.raises(CloseNotPublished, match="closing prices are not published yet") as raised:
        price_rows(intraday, day, {2790: "ACLBSL"})
    assert (raised.value.symbol, raised.value.business_date) == ("ACLBSL", day)
    assert not isinstance(raised.value, BadPriceData)
    # The same row with its market capitalization filled but still no close is bad data, named.
    half = [{**intraday[0], "marketCapitalization": 3708.15}]
    with pytest.raises(BadPriceData, match="field 'closePrice' is missing"):
        price_rows(half, day, {2790: "ACLBSL"})
    # Once NEPSE publishes both, the row loads.
    closed = [{**intraday[0], "closePrice": 1019.2, "marketCapitalization": 3741.7}]
    assert price_rows(closed, day, {2790: "ACLBSL"})[0]["close"] == 1019.2
