from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select

from ntx_assets.warehouse import create_warehouse_engine, migrate, upsert
from ntx_assets.warehouse.queries import read_frame
from ntx_assets.warehouse.schema import daily_prices


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = create_warehouse_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def _row(security_id: int, day: dt.date, close: float, open_: float | None) -> dict:
    return {
        "security_id": security_id,
        "symbol": f"S{security_id}",
        "business_date": day,
        "open": open_,
        "high": close + 1,
        "low": close - 1,
        "close": close,
        "volume": 100,
        "turnover": close * 100,
    }


def test_read_frame_keeps_the_query_s_columns_order_and_values(engine: Engine) -> None:
    day = dt.date(2026, 11, 30)
    with engine.begin() as conn:
        upsert(conn, daily_prices, [_row(131, day, 510.2, None), _row(132, day, 99.5, 99.0)])
    t = daily_prices
    query = select(t.c.close, t.c.security_id, t.c.business_date, t.c.open).order_by(t.c.security_id)
    with engine.connect() as conn:
        frame = read_frame(conn, query)
    assert list(frame.columns) == ["close", "security_id", "business_date", "open"]
    assert frame["close"].tolist() == [510.2, 99.5] and frame["security_id"].tolist() == [131, 132]
    assert frame["business_date"].tolist() == [day, day]
    assert frame["open"].isna().tolist() == [True, False] and frame["open"].iloc[1] == 99.0


def test_read_frame_of_no_rows_still_has_the_columns(engine: Engine) -> None:
    t = daily_prices
    with engine.connect() as conn:
        frame = read_frame(conn, select(t.c.security_id, t.c.close).where(t.c.close < 0))
    assert frame.empty and list(frame.columns) == ["security_id", "close"]
