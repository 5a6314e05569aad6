"""The stand-in's price archive (archive.py) and the real prices it gives its companies (prices.py).

Served over HTTP like github.com/Aabishkar2/nepse-data's company files, conditional (ETag, Last-Modified,
304), 404 without a file, 500 for the failing symbols, counted per path; the product's own HTTP source
downloads nothing unchanged on a re-run. The stand-in's NEPSE prices of the 20 archived companies are their
archive rows on every overlapping session, synthetic after the archive's last date (2026-08-21), so the
product's disagreement check finds nothing by default and exactly the planted disagreement on request.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest

from ntx_assets.archive.company_csv import read_company_csv
from ntx_assets.archive.merge import disagreements
from ntx_assets.archive.rules import CleanRow, clean
from ntx_assets.archive.sources import open_archive
from ntx_assets_tests.tools.standin import StandinConfig, StandinData, StandinServer, running_standin
from ntx_assets_tests.tools.standin.archive import DEFAULT_ARCHIVE_DIR, archive_path, archive_prices
from ntx_assets_tests.tools.standin.cli import config_from_args, parse_args

END = date(2026, 11, 20)  # the suite's shared stand-in window: 2025-11-21 .. 2026-11-20
ARCHIVE_END = date(2026, 8, 21)
PLANTED = ("NICA", "2026-01-05", 1.5)
CONFIG = StandinConfig(
    seed=7, end_date=END, archive_failing_symbols=("EBL",), archive_disagreements=(PLANTED,)
)
SYMBOLS = sorted(path.stem for path in DEFAULT_ARCHIVE_DIR.glob("*.csv"))


@pytest.fixture(scope="module")
def archive_server() -> Iterator[StandinServer]:
    with running_standin(CONFIG) as server:
        yield server


@pytest.fixture(scope="module")
def data(archive_server: StandinServer) -> StandinData:
    return archive_server.data


def _sid(data: StandinData, symbol: str) -> int:
    return next(listing.security_id for listing in data.universe.listings if listing.symbol == symbol)


def _url(server: StandinServer, symbol: str) -> str:
    return server.base_url + archive_path(symbol)


def _clean(text: str, symbol: str) -> list[CleanRow]:
    rows, unreadable = read_company_csv(text, symbol)
    return clean(symbol, rows, unreadable).rows


def _nepse_rows(data: StandinData, security_id: int) -> dict[date, dict[str, float]]:
    return {
        date.fromisoformat(row["businessDate"]): {
            "close": row["closePrice"],
            "high": row["highPrice"],
            "low": row["lowPrice"],
            "volume": row["totalTradedQuantity"],
        }
        for row in data.history(security_id)
    }


def _archive_rows(symbol: str, rows: list[CleanRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"symbol": symbol, "business_date": r.business_date, "close": r.close, "high": r.high,
             "low": r.low, "volume": r.volume}
            for r in rows
        ]
    )  # fmt: skip


# --- HTTP --------------------------------------------------------------------------------------------


def test_a_file_is_served_byte_for_byte_with_a_strong_etag_and_last_modified(
    archive_server: StandinServer,
) -> None:
    import hashlib

    answer = httpx.get(_url(archive_server, "ADBL"))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    body = (DEFAULT_ARCHIVE_DIR / "ADBL.csv").read_bytes()
    assert answer.content == body
    assert answer.headers["etag"] == f'"{hashlib.sha256(body).hexdigest()}"'
    modified = parsedate_to_datetime(answer.headers["last-modified"])
    assert int(modified.timestamp()) == int((DEFAULT_ARCHIVE_DIR / "ADBL.csv").stat().st_mtime)
    assert archive_server.archive_url == archive_server.base_url + "/archive/data/company-wise"


def test_conditional_requests_get_304_and_a_changed_tag_gets_the_file(archive_server: StandinServer) -> None:
    first = httpx.get(_url(archive_server, "HBL"))
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    same = httpx.get(_url(archive_server, "HBL"), headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == etag
    assert httpx.get(_url(archive_server, "HBL"), headers={"If-Modified-Since": modified}).status_code == 304
    # If-None-Match decides when both are sent; a weak or other tag is no match.
    other = httpx.get(
        _url(archive_server, "HBL"), headers={"If-None-Match": '"0"', "If-Modified-Since": modified}
    )
    assert other.status_code == 200 and other.content == first.content
    assert httpx.get(_url(archive_server, "HBL"), headers={"If-None-Match": "W/" + etag}).status_code == 200
    older = format_datetime(parsedate_to_datetime(modified).replace(year=2020), usegmt=True)
    assert httpx.get(_url(archive_server, "HBL"), headers={"If-Modified-Since": older}).status_code == 200


def test_unknown_symbols_get_404_and_failing_ones_500(archive_server: StandinServer) -> None:
    assert httpx.get(_url(archive_server, "NABIL")).status_code == 404
    assert httpx.get(archive_server.base_url + "/archive/data/company-wise/..%2FADBL.csv").status_code == 404
    assert httpx.get(_url(archive_server, "EBL")).status_code == 500


def test_requests_are_counted_per_path_and_a_rerun_downloads_nothing(archive_server: StandinServer) -> None:
    archive_server.reset_counts()
    source = open_archive(archive_server.archive_url, requests_per_second=100.0)
    try:
        first = {symbol: source.fetch(symbol, None) for symbol in ("NICA", "SCB", "NABIL")}
        assert first["NICA"].text and first["SCB"].text and first["NABIL"].missing
        again = {symbol: source.fetch(symbol, first[symbol].state) for symbol in ("NICA", "SCB")}
    finally:
        source.close()  # type: ignore[attr-defined]
    assert all(fetched.unchanged for fetched in again.values())
    assert archive_server.archive_request_counts() == {
        "GET " + archive_path("NICA"): 2,
        "GET " + archive_path("SCB"): 2,
        "GET " + archive_path("NABIL"): 1,
    }
    assert archive_server.request_counts() == {"GET /archive/data/company-wise/{symbol}.csv": 5}


def test_the_planted_disagreement_is_in_the_served_file_only(archive_server: StandinServer) -> None:
    symbol, day, rupees = PLANTED
    real = _clean((DEFAULT_ARCHIVE_DIR / f"{symbol}.csv").read_text(), symbol)
    served = _clean(httpx.get(_url(archive_server, symbol)).text, symbol)
    assert [r.business_date for r in served] == [r.business_date for r in real]
    changed = [(a, b) for a, b in zip(real, served, strict=True) if a != b]
    assert [b.business_date for _, b in changed] == [date.fromisoformat(day), date(2026, 1, 6)]
    (before, after), (next_before, next_after) = changed
    assert after.close == pytest.approx(before.close + rupees) and after.low <= after.close <= after.high
    assert (after.high, after.low, after.volume) == (max(before.high, after.close), before.low, before.volume)
    # per_change of the row and the next follow the shifted close: no re-basing appears in the file
    assert next_after.close == next_before.close and next_after.previous_close == after.close
    assert after.previous_close == before.previous_close
    assert (
        archive_server.data.close_price(_sid(archive_server.data, symbol), before.business_date)
        == before.close
    )


# --- the prices ------------------------------------------------------------------------------------------


def test_the_archived_companies_trade_their_archive_rows_up_to_its_end(data: StandinData) -> None:
    archive = archive_prices(DEFAULT_ARCHIVE_DIR)
    sessions = set(data.sessions)
    assert len(archive) == 20
    checked = 0
    for symbol, rows in archive.items():
        security_id = _sid(data, symbol)
        nepse = _nepse_rows(data, security_id)
        real = {
            r.business_date: r for r in rows if data.sessions[0] <= r.business_date <= rows[-1].business_date
        }
        served = {day: row for day, row in nepse.items() if day <= rows[-1].business_date}
        # every archived session the stand-in has, and nothing else: no row = the company did not trade
        assert set(served) == {day for day in real if day in sessions}, symbol
        for day, row in served.items():
            archived = real[day]
            for column in ("close", "high", "low"):
                value = getattr(archived, column)
                assert abs(row[column] - value) <= 0.05 + 1e-9, (symbol, day, column)  # the Rs 0.1 tick
                if round(value * 10) == value * 10:
                    assert row[column] == value, (symbol, day, column)
            assert row["volume"] == archived.volume
            checked += 1
    assert checked > 3000


def test_after_the_archive_the_walk_continues_from_the_last_real_close(data: StandinData) -> None:
    table = data.prices
    for symbol in ("NICA", "ADBL", "SHL"):
        security_id = _sid(data, symbol)
        r = table.row_of[security_id]
        until = table.archived_until[r]
        assert table.sessions[until] == ARCHIVE_END
        after = [t for t in range(until + 1, len(table.sessions)) if table.traded[r, t]]
        assert after, symbol
        assert table.previous_close(r, after[0]) == int(table.close[r, until]) / 10
        archive_dates = {row.business_date for row in archive_prices(DEFAULT_ARCHIVE_DIR)[symbol]}
        assert not archive_dates & {table.sessions[t] for t in after}


def test_archived_companies_get_no_seeded_book_closure_or_band_move_on_real_sessions(
    data: StandinData,
) -> None:
    table = data.prices
    archived = {table.security_ids[r] for r in table.archived_until}
    assert not archived & {event.security_id for event in data.book_closures}
    assert not [(r, t) for r, t in table.band_moves if table.is_archived(r, t)]


def test_real_rebasings_are_served_as_nepse_s_base(data: StandinData) -> None:
    """AHPC 2026-01-04: per_change implies NEPSE's base 260.85 (not the previous close)."""
    security_id = _sid(data, "AHPC")
    (row,) = [r for r in data.today_rows(date(2026, 1, 4)) if r["securityId"] == security_id]
    assert row["previousDayClosePrice"] == 260.85
    assert (security_id, date(2026, 1, 4), 260.85) in data.prices.archive_rebasings()
    assert all(
        data.prices.is_archived(data.prices.row_of[s], data.sessions.index(d))
        for s, d, _ in data.prices.archive_rebasings()
    )


def test_by_default_archive_and_nepse_agree_and_the_planted_row_disagrees(
    archive_server: StandinServer, data: StandinData
) -> None:
    found = []
    for symbol in SYMBOLS:
        if symbol == "EBL":
            continue  # answers 500 here; served as on disk otherwise
        text = httpx.get(_url(archive_server, symbol)).text
        security_id = _sid(data, symbol)
        found += disagreements(_archive_rows(symbol, _clean(text, symbol)), _nepse_rows(data, security_id))
    assert [(d.symbol, d.business_date.isoformat(), d.column) for d in found] == [
        ("NICA", "2026-01-05", "close")
    ]
    ebl = _clean((DEFAULT_ARCHIVE_DIR / "EBL.csv").read_text(), "EBL")
    assert not disagreements(_archive_rows("EBL", ebl), _nepse_rows(data, _sid(data, "EBL")))


# --- configuration --------------------------------------------------------------------------------------


def test_no_archive_serves_404_and_synthetic_prices() -> None:
    with running_standin(StandinConfig(seed=7, end_date=END, days=60, archive_dir=None)) as server:
        assert httpx.get(_url(server, "NICA")).status_code == 404
        assert not server.data.prices.archived_until


def test_the_cli_flags(tmp_path: Path) -> None:
    config = config_from_args(
        parse_args(
            [
                "--archive-dir",
                str(tmp_path),
                "--archive-fail",
                "EBL,NICA",
                "--archive-disagree",
                "NICA:2026-01-05:1.5",
            ]
        )
    )
    assert config.archive_dir == tmp_path and config.archive_failing_symbols == ("EBL", "NICA")
    assert config.archive_disagreements == (("NICA", "2026-01-05", 1.5),)
    assert config_from_args(parse_args(["--no-archive"])).archive_dir is None
    assert config_from_args(parse_args([])).archive_dir == DEFAULT_ARCHIVE_DIR
    with pytest.raises(ValueError):
        StandinConfig(archive_disagreements=(("NICA", "5 Jan", 1.5),))
