from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, inspect, select

from ntx_assets.warehouse import (
    UpsertCounts,
    create_warehouse_engine,
    current_revision,
    head_revision,
    migrate,
    upsert,
)
from ntx_assets.warehouse.schema import companies, daily_prices, metadata


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = create_warehouse_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def _price(security_id: int, day: int, close: float = 510.2, volume: int = 25_319) -> dict:
    return {
        "security_id": security_id,
        "business_date": dt.date(2025, 12, day),
        "symbol": f"S{security_id}",
        "open": None,
        "high": 515.0,
        "low": 510.0,
        "close": close,
        "previous_close": 512.1,
        "volume": volume,
        "turnover": 12_928_141.9,
        "trades": 275,
        "average_traded_price": 1017.27,
        "fifty_two_week_high": 1284.9,
        "fifty_two_week_low": 950.0,
    }


def test_migrations_create_every_table_from_empty(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    migrate(engine)  # a second upgrade is a no-op
    assert current_revision(engine) == head_revision()


def test_migrated_columns_match_the_schema(engine: Engine) -> None:
    inspector = inspect(engine)
    for table in metadata.sorted_tables:
        assert {c["name"] for c in inspector.get_columns(table.name)} == set(table.c.keys()), table.name


def test_insert_then_rerun_then_change_one_field(engine: Engine) -> None:
    rows = [_price(sid, day) for sid in (131, 132, 2790) for day in (1, 2, 3)]
    with engine.begin() as conn:
        assert upsert(conn, daily_prices, rows) == UpsertCounts(inserted=9)
    with engine.begin() as conn:
        assert upsert(conn, daily_prices, rows) == UpsertCounts(unchanged=9)
    rows[4] = _price(132, 2, close=511.0)
    with engine.begin() as conn:
        assert upsert(conn, daily_prices, [*rows, _price(9, 1)]) == UpsertCounts(
            inserted=1, updated=1, unchanged=8
        )
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(daily_prices)).scalar_one() == 10
        close = conn.execute(
            select(daily_prices.c.close).where(
                daily_prices.c.security_id == 132, daily_prices.c.business_date == dt.date(2025, 12, 2)
            )
        ).scalar_one()
    assert close == 511.0


def test_types_round_trip(engine: Engine) -> None:
    row = _price(131, 3, close=float(Decimal("1234567.8912")), volume=9_876_543_210_123)
    row["turnover"] = 98_765_432_109.55
    with engine.begin() as conn:
        upsert(conn, daily_prices, [row])
    with engine.connect() as conn:
        stored = conn.execute(select(daily_prices)).mappings().one()
    assert stored["business_date"] == dt.date(2025, 12, 3)
    assert stored["close"] == pytest.approx(1234567.8912, abs=1e-9)
    assert stored["turnover"] == pytest.approx(98_765_432_109.55, abs=1e-6)
    assert stored["volume"] == 9_876_543_210_123
    assert stored["open"] is None
    assert isinstance(stored["close"], float)


def test_insert_only_columns_keep_their_first_value(engine: Engine) -> None:
    company = {
        "security_id": 132,
        "symbol": "NIB",
        "name": "Nepal Investment Bank",
        "sector": "Commercial Banks",
        "instrument_type": "Equity",
        "status": "A",
        "included": True,
        "reason": "included",
        "first_seen": dt.date(2025, 1, 1),
        "last_seen": dt.date(2025, 1, 1),
    }
    with engine.begin() as conn:
        upsert(conn, companies, [company], insert_only={"first_seen"})
    renamed = company | {
        "symbol": "NIMB",
        "first_seen": dt.date(2025, 6, 1),
        "last_seen": dt.date(2025, 6, 1),
    }
    with engine.begin() as conn:
        assert upsert(conn, companies, [renamed], insert_only={"first_seen"}) == UpsertCounts(updated=1)
    with engine.connect() as conn:
        stored = conn.execute(select(companies)).mappings().one()
    assert (stored["symbol"], stored["first_seen"], stored["last_seen"]) == (
        "NIMB",
        dt.date(2025, 1, 1),
        dt.date(2025, 6, 1),
    )


def test_a_failed_batch_writes_nothing(engine: Engine) -> None:
    bad = [_price(131, 1), _price(132, 1) | {"close": None}]  # close is NOT NULL
    with pytest.raises(Exception), engine.begin() as conn:  # noqa: B017 - the driver's own error type
        upsert(conn, daily_prices, bad)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(daily_prices)).scalar_one() == 0


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([_price(131, 1), _price(131, 1)], "appears twice"),
        ([_price(131, 1) | {"bogus": 1}], "unknown columns"),
        ([_price(131, 1), {k: v for k, v in _price(132, 1).items() if k != "trades"}], "same columns"),
        ([{k: v for k, v in _price(131, 1).items() if k != "business_date"}], "key columns"),
    ],
)
def test_bad_batches_are_refused_with_a_clear_error(engine: Engine, rows: list[dict], message: str) -> None:
    with pytest.raises(ValueError, match=message), engine.begin() as conn:
        upsert(conn, daily_prices, rows)


def test_empty_batch_is_a_no_op(engine: Engine) -> None:
    with engine.begin() as conn:
        assert upsert(conn, daily_prices, []) == UpsertCounts()
