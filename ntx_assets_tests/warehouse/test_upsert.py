from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal

import pandas as pd
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
from ntx_assets.warehouse.schema import companies, company_symbols, daily_prices, metadata

# The module (the package re-exports the function under the same name).
upsert_module = importlib.import_module("ntx_assets.warehouse.upsert")


NIB = {
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
    company = dict(NIB)
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


def test_new_keys_go_straight_into_the_table_without_the_merge(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path (COPY / plain INSERT into the table) when no key of the batch is stored: a new
    session next to stored ones, then a batch touching a stored key takes the merge."""
    with engine.begin() as conn:
        assert upsert(conn, daily_prices, [_price(sid, 1) for sid in (131, 132)]) == UpsertCounts(inserted=2)

    def no_merge(*args: object, **kwargs: object) -> UpsertCounts:
        raise AssertionError("the merge ran for a batch of new keys only")

    with monkeypatch.context() as patch:
        patch.setattr(upsert_module, "_merge_batch", no_merge)
        with engine.begin() as conn:
            # Same companies, a later date: outside the stored keys' bounding box.
            assert upsert(conn, daily_prices, [_price(sid, 2) for sid in (131, 132, 2790)]) == UpsertCounts(
                inserted=3
            )
    merged: list[int] = []
    real_merge = upsert_module._merge_batch

    def counting_merge(*args: object, **kwargs: object) -> UpsertCounts:
        merged.append(1)
        return real_merge(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(upsert_module, "_merge_batch", counting_merge)
    with engine.begin() as conn:
        assert upsert(conn, daily_prices, [_price(131, 2, close=600.0), _price(9, 3)]) == UpsertCounts(
            inserted=1, updated=1
        )
    assert merged == [1]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(daily_prices)).scalar_one() == 6


def test_keys_stored_by_another_writer_after_the_probe_are_merged_with_exact_counts(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe said "none stored" but some keys are (a concurrent writer): the batch still lands once,
    idempotently, and counts what it changed."""
    with engine.begin() as conn:
        upsert(conn, daily_prices, [_price(131, 1), _price(132, 1)])
    monkeypatch.setattr(upsert_module, "_any_key_stored", lambda *args: False)
    batch = [_price(131, 1), _price(132, 1, close=520.0), _price(2790, 1), _price(9, 1)]
    with engine.begin() as conn:
        assert upsert(conn, daily_prices, batch) == UpsertCounts(inserted=2, updated=1, unchanged=1)
    with engine.begin() as conn:
        assert upsert(conn, daily_prices, batch) == UpsertCounts(unchanged=4)
    with engine.connect() as conn:
        stored = dict(conn.execute(select(daily_prices.c.security_id, daily_prices.c.close)).all())
    assert stored == {131: 510.2, 132: 520.0, 2790: 510.2, 9: 510.2}


def test_string_keys_are_not_bounded_by_python_order(engine: Engine) -> None:
    """company_symbols is keyed on (security_id, symbol): a collation may order symbols unlike Python, so
    the probe ranges only the id and lists the symbols themselves, and a stored (id, one of them) sends the
    batch to the merge."""
    company = dict(NIB)
    with engine.begin() as conn:
        upsert(conn, companies, [company])
        first = {"security_id": 132, "symbol": "nib", "first_seen": dt.date(2025, 1, 1)}
        assert upsert(conn, company_symbols, [first]) == UpsertCounts(inserted=1)
        assert upsert(
            conn,
            company_symbols,
            [first, {"security_id": 132, "symbol": "NIMB", "first_seen": dt.date(2025, 6, 1)}],
        ) == UpsertCounts(inserted=1, unchanged=1)


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def test_a_frame_is_upserted_as_its_rows_are(engine: Engine) -> None:
    """A DataFrame is the columnar way in (COPY's CSV written by Arrow on PostgreSQL): NaN and None are
    NULL, and the counts and stored rows are those of the same rows given as mappings."""
    rows = [_price(sid, day) for sid in (131, 132) for day in (1, 2, 3)]
    rows[1]["previous_close"] = None
    with engine.begin() as conn:
        assert upsert(conn, daily_prices, _frame(rows)) == UpsertCounts(inserted=6)
    with engine.begin() as conn:
        assert upsert(conn, daily_prices, _frame(rows)) == UpsertCounts(unchanged=6)
    rows[4] = _price(132, 2, close=511.0)
    with engine.begin() as conn:
        assert upsert(conn, daily_prices, _frame([*rows, _price(9, 1)])) == UpsertCounts(
            inserted=1, updated=1, unchanged=5
        )
    with engine.connect() as conn:
        by_frame = sorted(conn.execute(select(daily_prices)).all())
        conn.execute(daily_prices.delete())
        conn.commit()
    with engine.begin() as conn:
        upsert(conn, daily_prices, [*rows, _price(9, 1)])
    with engine.connect() as conn:
        assert sorted(conn.execute(select(daily_prices)).all()) == by_frame
    stored = {(r.security_id, r.business_date.day): r for r in by_frame}
    assert stored[(131, 2)].previous_close is None and stored[(131, 1)].open is None


def test_a_frame_s_text_survives_copy_as_written(engine: Engine) -> None:
    """CSV's quoting on PostgreSQL: commas, quotes, newlines, tabs and backslashes come back as written,
    an empty string stays an empty string and None stays NULL."""
    names = ['Nabil, "the" bank', "line\nbreak", "tab\there", "back\\slash", "", "Nepal Investment Bank"]
    rows = [
        NIB | {"security_id": 100 + n, "name": name, "website": None if n % 2 else f"https://{n}.np"}
        for n, name in enumerate(names)
    ]
    with engine.begin() as conn:
        assert upsert(conn, companies, _frame(rows)) == UpsertCounts(inserted=len(rows))
    with engine.connect() as conn:
        stored = {r.security_id: (r.name, r.website) for r in conn.execute(select(companies))}
    assert stored == {row["security_id"]: (row["name"], row["website"]) for row in rows}


def test_a_frame_with_a_repeated_key_is_refused_naming_it(engine: Engine) -> None:
    with pytest.raises(ValueError, match="appears twice"), engine.begin() as conn:
        upsert(conn, daily_prices, _frame([_price(131, 1), _price(131, 1)]))


@pytest.mark.postgres
def test_copy_s_csv_and_its_rows_one_by_one_store_the_same_values(
    pg_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Arrow's CSV and psycopg's own row formatting (the path when Arrow cannot type a column) write the
    same numbers: the numerics of an awkward float are equal to the last digit."""
    engine = create_warehouse_engine(pg_database_url)
    migrate(engine)
    rows = [_price(131, day, close=close) for day, close in ((1, 0.1 + 0.2), (2, 1e-4), (3, 123456789.1234))]
    try:
        with engine.begin() as conn:
            upsert(conn, daily_prices, _frame(rows))
        with engine.connect() as conn:
            by_csv = sorted(conn.execute(select(daily_prices)).all())
            conn.execute(daily_prices.delete())
            conn.commit()
        monkeypatch.setattr(upsert_module, "_csv", lambda frame: None)
        with engine.begin() as conn:
            upsert(conn, daily_prices, _frame(rows))
        with engine.connect() as conn:
            assert sorted(conn.execute(select(daily_prices)).all()) == by_csv
    finally:
        engine.dispose()
