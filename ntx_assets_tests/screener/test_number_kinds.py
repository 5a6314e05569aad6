"""The screener command prints each number by its kind; CSV and JSON keep the stored precision."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest

from ntx_assets.screener.__main__ import main as screener_command
from ntx_assets.screener.number_kinds import KINDS, Kind, kind_of, readable, readable_cell
from ntx_assets.screener.table import COLUMNS
from ntx_assets.warehouse import create_warehouse_engine
from ntx_assets.warehouse.engine import migrate
from ntx_assets.warehouse.schema import screener

SESSION = dt.date(2026, 11, 20)


def test_every_stored_column_has_a_kind() -> None:
    assert set(COLUMNS) <= set(KINDS), sorted(set(COLUMNS) - set(KINDS))
    with pytest.raises(KeyError, match=r"number_kinds\.py"):
        kind_of("not_a_column")


@pytest.mark.parametrize(
    ("column", "value", "printed"),
    [
        ("change_pct", -4.8093, "-4.81%"),  # stored in percent
        ("pct_from_52w_high", -12.0, "-12.00%"),
        ("return_20d", -0.04809, "-4.81%"),  # a fraction, read as percent
        ("roe", 0.1178, "11.78%"),
        ("dividend_yield", 0.0325, "3.25%"),
        ("forward_20", 0.5, "50.00%"),
        ("pe", 18.8634, "18.86"),
        ("pe_vs_sector", 0.8, "0.80"),
        ("rsi_14", 34.567, "34.57"),
        ("turnover", 12_345_678.904, "12,345,678.90"),
        ("close", 1010.0, "1,010.00"),
        ("market_cap", 3_708_149_350.0, "3,708,149,350.00"),
        ("volume", 1234.0, "1,234"),
        ("listed_shares", 3_671_435.0, "3,671,435"),
        ("days_traded_20", 20, "20"),
        ("pe", None, "-"),
        ("return_20d", float("nan"), "-"),
        ("symbol", "NABIL", "NABIL"),
        ("as_of", SESSION, "2026-11-20"),
    ],
)
def test_a_number_reads_by_its_kind(column: str, value: object, printed: str) -> None:
    assert readable_cell(column, value) == printed


def test_the_kinds_differ_where_the_units_do() -> None:
    assert readable(0.05, Kind.PERCENT) == "0.05%"
    assert readable(0.05, Kind.FRACTION) == "5.00%"
    assert readable(0.05, Kind.RATIO) == "0.05"
    assert readable(1234.4, Kind.COUNT) == "1,234"


ROWS = [
    {
        "session_date": SESSION,
        "security_id": 131,
        "symbol": "NABIL",
        "sector": "Commercial Banks",
        "as_of": SESSION,
        "close": 535.1,
        "change_pct": -4.80934,
        "market_cap": 144_800_123_456.789,
        "pe": 18.86341,
        "pb": 2.3456,
        "roe": 0.117812,
        "dividend_yield": 0.020187,
        "rsi_14": 34.5678,
        "pct_from_52w_high": -12.3456,
        "turnover": 12_345_678.904,
        "volume": 23_071.0,
    },
    {
        "session_date": SESSION,
        "security_id": 2790,
        "symbol": "ACLBSL",
        "sector": "Microfinance",
        "as_of": SESSION,
        "close": 1010.0,
        "change_pct": None,
        "turnover": 1_000.0,
    },
]


@pytest.fixture
def warehouse(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    engine = create_warehouse_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        for row in ROWS:
            conn.execute(screener.insert().values(**row))
    engine.dispose()
    return url


def run(url: str, *args: str) -> str:
    out = io.StringIO()
    assert screener_command(["--database-url", url, *args], out=out) == 0
    return out.getvalue()


def test_the_table_prints_numbers_as_people_read_them(warehouse: str) -> None:
    out = run(warehouse, "--sort", "-turnover")
    lines = out.splitlines()
    assert lines[0] == "screen of 2026-11-20" and lines[-1] == "(2 rows)"
    header, nabil, aclbsl = (cells(line) for line in lines[1:4])
    assert dict(zip(header, nabil, strict=True)) == {
        "symbol": "NABIL",
        "sector": "Commercial Banks",
        "as_of": "2026-11-20",
        "close": "535.10",
        "change_pct": "-4.81%",
        "market_cap": "144,800,123,456.79",
        "pe": "18.86",
        "pb": "2.35",
        "roe": "11.78%",
        "dividend_yield": "2.02%",
        "rsi_14": "34.57",
        "pct_from_52w_high": "-12.35%",
        "turnover": "12,345,678.90",
    }
    assert dict(zip(header, aclbsl, strict=True))["change_pct"] == "-"
    assert dict(zip(header, aclbsl, strict=True))["close"] == "1,010.00"


def cells(line: str) -> list[str]:
    # Columns are joined by two blanks and right-aligned; no printed cell holds two blanks in a row.
    return re.split(r"\s{2,}", line.strip())


def test_csv_and_json_keep_full_precision(warehouse: str) -> None:
    columns = "symbol,change_pct,roe,pe,turnover,volume"
    rows = list(csv.DictReader(io.StringIO(run(warehouse, "--format", "csv", "--columns", columns))))
    assert rows[0] == {
        "symbol": "NABIL",
        "change_pct": "-4.80934",
        "roe": "0.117812",
        "pe": "18.86341",
        "turnover": "12345678.904",
        "volume": "23071.0",
    }
    assert rows[1]["change_pct"] == ""
    data = json.loads(run(warehouse, "--format", "json", "--columns", columns))
    assert data[0]["roe"] == 0.117812 and data[0]["pe"] == 18.86341 and data[1]["change_pct"] is None
