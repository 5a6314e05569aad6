"""The archive import into a real warehouse (SQLite and PostgreSQL): rows with their source, NEPSE's row
wins and disagreements are counted, idempotent, conditional over HTTP, one company failing alone, and the
price_archive asset materialized by Dagster."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import dagster as dg
import pandas as pd
import pytest
from sqlalchemy import Engine, func, insert, select

from ntx_assets.archive.company_csv import read_company_csv
from ntx_assets.archive.importer import import_archive
from ntx_assets.archive.merge import archive_prices
from ntx_assets.archive.rules import clean
from ntx_assets.archive.sources import HttpArchive, open_archive
from ntx_assets.defs.archive.assets import ARCHIVE_AGREES, ARCHIVE_READ, price_archive
from ntx_assets.resources import PriceArchiveResource, WarehouseResource
from ntx_assets.warehouse import create_warehouse_engine, migrate
from ntx_assets.warehouse.schema import (
    archive_files,
    archive_set_aside,
    companies,
    company_symbols,
    daily_prices,
)

ARCHIVE = Path(__file__).parents[1] / "data" / "price-archive"
SOURCE = "archive:test"
NOW = dt.datetime(2026, 11, 20, 16, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=45)))
# Real symbols with made-up ids; NOFILE is a company the archive has no file for.
COMPANIES = {"HDL": 11, "NICA": 12, "CBBL": 13, "NOFILE": 14}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = _warehouse(database_url)
    yield engine
    engine.dispose()


def _warehouse(url: str) -> Engine:
    engine = create_warehouse_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        for symbol, security_id in COMPANIES.items():
            conn.execute(
                insert(companies).values(
                    security_id=security_id, symbol=symbol, name=symbol, included=symbol != "CBBL",
                    reason="included" if symbol != "CBBL" else "delisted", first_seen=dt.date(2025, 12, 1),
                    last_seen=dt.date(2025, 12, 1),
                )
            )  # fmt: skip
            conn.execute(
                insert(company_symbols).values(
                    security_id=security_id, symbol=symbol, first_seen=dt.date(2025, 12, 1)
                )
            )
    return engine


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "archive"
    target.mkdir()
    for symbol in ("HDL", "NICA", "CBBL", "ADBL"):  # ADBL: a file the warehouse has no company for
        shutil.copy(ARCHIVE / f"{symbol}.csv", target)
    return target


def _expected_rows(symbol: str) -> int:
    rows, unreadable = read_company_csv((ARCHIVE / f"{symbol}.csv").read_text(), symbol)
    return len(clean(symbol, rows, unreadable).rows)


def _count(engine: Engine, table, *conditions) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*conditions)).scalar_one())


def test_import_stores_every_kept_row_with_its_source_and_every_set_aside_row(
    engine: Engine, folder: Path
) -> None:
    report = import_archive(engine, open_archive(str(folder)), SOURCE, NOW)
    assert (report.companies, report.imported, report.not_in_archive) == (4, 3, 1)
    assert report.unknown_symbols == ["ADBL"]
    for symbol, security_id in COMPANIES.items():
        stored = _count(engine, daily_prices, daily_prices.c.security_id == security_id)
        assert stored == (0 if symbol == "NOFILE" else _expected_rows(symbol)), symbol
    assert _count(engine, daily_prices, daily_prices.c.source != SOURCE) == 0
    # A delisted company's history is imported too (CBBL is not included): no survivorship bias.
    assert _count(engine, daily_prices, daily_prices.c.security_id == 13) > 3000
    assert _count(engine, archive_set_aside) == sum(report.set_aside.values()) > 0
    assert report.prices.inserted == sum(_expected_rows(s) for s in ("HDL", "NICA", "CBBL"))
    with engine.connect() as conn:
        opens = conn.execute(
            select(func.count()).where(
                daily_prices.c.open.is_not(None), daily_prices.c.business_date < dt.date(2018, 2, 18)
            )
        ).scalar_one()
    assert opens == 0  # before 2018-02-18 the archive's open is the previous close: not stored as an open


def test_a_rerun_with_nothing_new_writes_nothing_and_a_changed_file_is_reread(
    engine: Engine, folder: Path
) -> None:
    import_archive(engine, open_archive(str(folder)), SOURCE, NOW)
    again = import_archive(engine, open_archive(str(folder)), SOURCE, NOW)
    assert (again.unchanged, again.imported, again.prices.inserted, again.prices.updated) == (3, 0, 0, 0)
    # One file gains a session and loses its first row: only that company is rewritten, exactly.
    lines = (folder / "HDL.csv").read_text().splitlines()
    (folder / "HDL.csv").write_text(
        "\n".join([lines[0], *lines[2:], "2026-08-24,1000,1010,990,1005,0.5,10,10050,0"]) + "\n"
    )
    changed = import_archive(engine, open_archive(str(folder)), SOURCE, NOW)
    assert (changed.imported, changed.unchanged, changed.prices.inserted, changed.removed) == (1, 2, 1, 1)


def test_nepse_s_row_wins_and_each_disagreement_beyond_a_tick_is_counted(
    engine: Engine, folder: Path
) -> None:
    rows, unreadable = read_company_csv((ARCHIVE / "NICA.csv").read_text(), "NICA")
    prices = archive_prices(clean("NICA", rows, unreadable), 12, SOURCE)
    archived = {
        r["business_date"]: r for r in prices.astype(object).where(prices.notna(), None).to_dict("records")
    }
    agree, differ = sorted(archived)[-2:]
    with engine.begin() as conn:
        for day, shift in ((agree, 0.05), (differ, 1.5)):  # within a tick, and beyond it
            row = {**archived[day], "source": "nepse", "close": archived[day]["close"] + shift,
                   "high": archived[day]["high"] + shift}  # fmt: skip
            conn.execute(insert(daily_prices).values(row))
    report = import_archive(engine, open_archive(str(folder)), SOURCE, NOW)
    assert [(d.symbol, d.business_date) for d in report.disagreements] == [("NICA", differ), ("NICA", differ)]
    assert {d.column for d in report.disagreements} == {"close", "high"}
    assert report.nepse_sessions_kept == 2
    with engine.connect() as conn:
        kept = conn.execute(select(daily_prices.c.source, daily_prices.c.close).where(
            daily_prices.c.security_id == 12, daily_prices.c.business_date == differ)).one()  # fmt: skip
    assert kept == ("nepse", archived[differ]["close"] + 1.5)


class _Archive(http.server.BaseHTTPRequestHandler):
    folder: Path
    requests: ClassVar[list[tuple[str, str | None]]] = []
    failing: ClassVar[set[str]] = set()

    def do_GET(self) -> None:
        symbol = self.path.rsplit("/", 1)[-1].removesuffix(".csv")
        self.requests.append((symbol, self.headers.get("If-None-Match")))
        path = self.folder / f"{symbol}.csv"
        if symbol in self.failing:
            self.send_response(503)
            self.end_headers()
            return
        if not path.is_file():
            self.send_response(404)
            self.end_headers()
            return
        data = path.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest() + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_archive(folder: Path) -> Iterator[str]:
    handler = type("Handler", (_Archive,), {"folder": folder, "requests": [], "failing": set()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.handler = handler  # type: ignore[attr-defined]
    yield server
    server.shutdown()


def test_over_http_a_rerun_is_conditional_and_a_failed_download_fails_that_company_alone(
    engine: Engine, http_archive
) -> None:  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:{http_archive.server_address[1]}/data/company-wise"
    handler = http_archive.handler
    handler.failing = {"CBBL"}
    first = import_archive(engine, HttpArchive(url, requests_per_second=50, timeout=5), SOURCE, NOW)
    assert set(first.failures) == {"CBBL"} and "503" in first.failures["CBBL"]
    assert first.imported == 2  # HDL and NICA landed
    assert _count(engine, daily_prices, daily_prices.c.security_id == 13) == 0
    handler.failing = set()
    handler.requests.clear()
    second = import_archive(engine, HttpArchive(url, requests_per_second=50, timeout=5), SOURCE, NOW)
    assert (second.unchanged, second.imported, second.failures) == (2, 1, {})
    # One GET per company: the unchanged two sent their ETag and got 304; CBBL and NOFILE had none stored.
    etag = {symbol: '"' + _sha(symbol) + '"' for symbol in ("HDL", "NICA")}
    expected = [("CBBL", None), ("HDL", etag["HDL"]), ("NICA", etag["NICA"]), ("NOFILE", None)]
    assert sorted(handler.requests) == sorted(expected)
    assert _count(engine, archive_files) == 3


def _sha(symbol: str) -> str:
    return hashlib.sha256((ARCHIVE / f"{symbol}.csv").read_bytes()).hexdigest()


def test_the_asset_reports_the_import_and_its_checks(engine: Engine, folder: Path, database_url: str) -> None:
    resources = {
        "warehouse": WarehouseResource(database_url=database_url),
        "price_archive": PriceArchiveResource(location=str(folder), name="test"),
    }
    result = dg.materialize([price_archive], resources=resources)
    assert result.success
    metadata = result.asset_materializations_for_node("price_archive")[0].metadata
    assert metadata["imported"].value == 3 and metadata["archive_symbols_unknown"].value == ["ADBL"]
    assert metadata["set_aside"].value and metadata["rules"].value["open_is_previous_close"] > 0
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {ARCHIVE_AGREES: True, ARCHIVE_READ: True}


def test_the_asset_without_an_archive_fails_saying_what_to_set(database_url: str) -> None:
    resources = {
        "warehouse": WarehouseResource(database_url=database_url),
        "price_archive": PriceArchiveResource(),
    }
    with pytest.raises(dg.Failure, match="set NTX_PRICE_ARCHIVE"):
        dg.materialize([price_archive], resources=resources)


def test_before_a_rebasing_of_unknown_factor_prices_are_unknown_in_the_view_and_the_backtest(
    engine: Engine, folder: Path
) -> None:
    from sqlalchemy import text

    from ntx_assets.warehouse import backtest as reads
    from ntx_assets.warehouse.schema import price_adjustments

    import_archive(engine, open_archive(str(folder)), SOURCE, NOW)
    unknown = dt.date(2019, 12, 1)  # HDL: a fall beyond the band with the raw change (factor unknown)
    with engine.begin() as conn:
        conn.execute(
            insert(price_adjustments).values(
                security_id=11, ex_date=unknown, symbol="HDL", prior_close=300.0, adjusted_base=None,
                factor=None, factor_to_latest=None, explanation="unexplained", factor_source="unexplained",
            )
        )  # fmt: skip
        first, last = dt.date(2019, 11, 1), dt.date(2019, 12, 31)
        ours = reads.adjusted_prices(conn, first, last)
        view = conn.execute(
            text("SELECT business_date, close FROM adjusted_prices WHERE security_id = 11 "
                 "AND business_date BETWEEN :a AND :b"), {"a": first, "b": last}
        ).all()  # fmt: skip
        raw = dict(
            conn.execute(
                text("SELECT business_date, close FROM daily_prices WHERE security_id = 11 "
                     "AND business_date BETWEEN :a AND :b"), {"a": first, "b": last}
            ).all()
        )  # fmt: skip
    hdl = ours[(ours["security_id"] == 11) & (ours["business_date"] >= str(first))]
    before = hdl[hdl["business_date"] < str(unknown)]
    after = hdl[hdl["business_date"] >= str(unknown)]
    # The view cannot put a close before it in today's basis: NULL. The backtest keeps it in the basis of
    # its own stretch (basis 1, no other re-basing: the raw close), so returns inside that stretch are
    # known, and one across the re-basing is left out (the engine's unknown_factor).
    assert all((close is None) == (str(day)[:10] < str(unknown)) for day, close in view)
    assert len(before) and set(before["basis"]) == {1} and set(after["basis"]) == {0}
    by_day = {str(day)[:10]: float(close) for day, close in raw.items()}
    assert all(row.close == pytest.approx(by_day[str(row.business_date)[:10]]) for row in hdl.itertuples())


def test_a_file_of_another_format_fails_that_company_alone_while_the_next_is_read_ahead(
    engine: Engine, folder: Path
) -> None:
    # Companies are read one ahead on a worker thread: its error must still belong to its company only.
    import_archive(engine, open_archive(str(folder)), SOURCE, NOW)
    before = _count(engine, daily_prices, daily_prices.c.security_id == 12)
    (folder / "NICA.csv").write_text("date,price\n2026-08-24,1000\n")
    (folder / "HDL.csv").write_text(
        (ARCHIVE / "HDL.csv").read_text() + "2026-08-24,1000,1010,990,1005,0.5,10,10050,0\n"
    )
    report = import_archive(engine, open_archive(str(folder)), SOURCE, NOW)
    assert set(report.failures) == {"NICA"} and "header" in report.failures["NICA"]
    assert (report.imported, report.unchanged, report.prices.inserted) == (1, 1, 1)  # HDL landed, CBBL as was
    assert _count(engine, daily_prices, daily_prices.c.security_id == 12) == before  # NICA untouched


def test_a_renamed_company_s_files_are_one_history_and_its_later_symbol_s_row_wins(
    engine: Engine, folder: Path
) -> None:
    """HDL carried OLDHDL before (seen first in 2020): OLDHDL's file holds two earlier sessions and one
    HDL's file also holds, with other prices. One history under security 11; the shared session is HDL's."""
    hdl = clean("HDL", *read_company_csv((ARCHIVE / "HDL.csv").read_text(), "HDL"))
    first = hdl.rows[0]
    earlier = [first.business_date - dt.timedelta(days=n) for n in (3, 2)]
    (folder / "OLDHDL.csv").write_text(
        "published_date,open,high,low,close,per_change,traded_quantity,traded_amount,status\n"
        + "".join(f"{day},,{first.high},{first.low},{first.close},0.0,10,100,0\n" for day in earlier)
        + f"{first.business_date},,{first.high + 5},{first.low},{first.high + 5},0.0,10,100,0\n"
    )
    with engine.begin() as conn:
        conn.execute(
            insert(company_symbols).values(security_id=11, symbol="OLDHDL", first_seen=dt.date(2020, 1, 1))
        )
    report = import_archive(engine, open_archive(str(folder)), SOURCE, NOW)
    assert report.rules["rename_overlap"] == 1 and not report.failures
    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                select(daily_prices.c.business_date, daily_prices.c.close).where(
                    daily_prices.c.security_id == 11
                )
            ).all()
        )
        files = dict(conn.execute(select(archive_files.c.symbol, archive_files.c.rows)).all())
    assert len(stored) == len(hdl.rows) + 2
    assert stored[first.business_date] == pytest.approx(first.close)  # HDL's row, not OLDHDL's
    assert all(stored[day] == pytest.approx(first.close) for day in earlier)
    assert files["OLDHDL"] == 2 and files["HDL"] == len(hdl.rows)


@pytest.mark.postgres
def test_writer_processes_store_exactly_what_one_process_stores(
    pg_database_url: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """workers=2 on PostgreSQL: two spawned processes parse and write companies side by side. Their
    import equals the in-process one row for row: prices, set-aside rows, file states, every count, a
    disagreement with NEPSE and a file of another format failing its company alone."""
    monkeypatch.setattr("ntx_assets.archive.importer.POOL_FROM_COMPANIES", 1)
    engine = _warehouse(pg_database_url)
    nica = archive_prices(
        clean("NICA", *read_company_csv((ARCHIVE / "NICA.csv").read_text(), "NICA")), 12, SOURCE
    )
    last = {name: None if pd.isna(value) else getattr(value, "item", lambda v=value: v)()
            for name, value in nica.iloc[-1].to_dict().items()}  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(daily_prices).values({**last, "source": "nepse", "close": last["close"] + 1.5}))
    (folder / "CBBL.csv").write_text("date,price\n2026-08-24,1000\n")
    try:
        pooled = import_archive(engine, open_archive(str(folder)), SOURCE, NOW, workers=2)
        stored = _archive_tables(engine)
        with engine.begin() as conn:
            for table in (archive_files, archive_set_aside):
                conn.execute(table.delete())
            conn.execute(daily_prices.delete().where(daily_prices.c.source == SOURCE))
        alone = import_archive(engine, open_archive(str(folder)), SOURCE, NOW, workers=1)
        assert _archive_tables(engine) == stored
    finally:
        engine.dispose()
    assert (pooled.writer_processes, alone.writer_processes) == (2, 0)
    assert set(pooled.failures) == {"CBBL"} and "header" in pooled.failures["CBBL"]
    assert [str(d) for d in pooled.disagreements] == [str(d) for d in alone.disagreements] != []
    for name in ("companies", "imported", "not_in_archive", "prices", "removed", "nepse_sessions_kept",
                 "rules", "set_aside", "failures", "first", "last"):  # fmt: skip
        assert getattr(pooled, name) == getattr(alone, name), name


def _archive_tables(engine: Engine) -> dict[str, list[tuple]]:
    """What an import leaves in the warehouse, in a stable order (without the import's timestamp)."""
    with engine.connect() as conn:
        return {
            "daily_prices": sorted(conn.execute(select(daily_prices)).all()),
            "archive_set_aside": sorted(
                tuple(row)
                for row in conn.execute(select(*(c for c in archive_set_aside.c if c.name != "id")))
            ),
            "archive_files": sorted(
                tuple(row)
                for row in conn.execute(select(*(c for c in archive_files.c if c.name != "imported_at")))
            ),
        }
