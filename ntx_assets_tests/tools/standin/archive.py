"""A public NEPSE price archive over HTTP, and the real prices it gives the stand-in's companies.

The archive is github.com/Aabishkar2/nepse-data's layout, one CSV per company
(`data/company-wise/<SYMBOL>.csv`); the stand-in serves the files of a folder (`StandinConfig.archive_dir`,
by default the 20 real files of ntx_assets_tests/data/price-archive) under

    GET /archive/data/company-wise/<SYMBOL>.csv

so `NTX_PRICE_ARCHIVE=http://127.0.0.1:<port>/archive/data/company-wise` points the product at it. Each
answer carries a strong ETag (the sha256 of the bytes served) and Last-Modified (the file's mtime); a
matching If-None-Match, or else an If-Modified-Since not older than Last-Modified, gets 304 without a
body; a symbol without a file gets 404; `archive_failing_symbols` answer 500. Requests are counted per
path (`ArchiveFiles.counter`, `StandinServer.archive_request_counts`).

`archive_disagreements` plants rows that disagree with NEPSE: the served file's row of (symbol, date) has
its close shifted by the given rupees (its high or low follow when the close leaves the day's range, and
that row's and the next row's per_change are recomputed around the shifted close, so the importer sees a
disagreement and no re-basing); the stand-in's NEPSE prices keep the real row.

`archive_prices` reads the same folder with the product's own reader and cleaning rules
(ntx_assets.archive), so the prices the stand-in serves for those companies are exactly what the importer
accepts (prices.py uses them).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ntx_assets.archive.company_csv import read_company_csv
from ntx_assets.archive.rules import CleanRow, clean
from ntx_assets_tests.tools.standin.counter import RequestCounter
from ntx_assets_tests.tools.standin.responses import error

DEFAULT_ARCHIVE_DIR = Path(__file__).resolve().parents[2] / "data" / "price-archive"
ROUTE_PREFIX = "/archive/data/company-wise"
ROUTE_PATH = ROUTE_PREFIX + "/{symbol}.csv"
CSV_MEDIA_TYPE = "text/csv"

# (symbol, YYYY-MM-DD, rupees added to that row's close in the served file)
Disagreement = tuple[str, str, float]


def archive_path(symbol: str) -> str:
    return f"{ROUTE_PREFIX}/{symbol}.csv"


@functools.lru_cache(maxsize=8)
def _cleaned(folder: str) -> dict[str, tuple[CleanRow, ...]]:
    rows_of: dict[str, tuple[CleanRow, ...]] = {}
    for path in sorted(Path(folder).glob("*.csv")):
        rows, unreadable = read_company_csv(path.read_text(encoding="utf-8-sig"), path.stem)
        rows_of[path.stem] = tuple(clean(path.stem, rows, unreadable).rows)
    return rows_of


def archive_prices(folder: str | Path | None) -> dict[str, tuple[CleanRow, ...]]:
    """The cleaned rows of every file of `folder` by symbol, oldest first ({} for None)."""
    if folder is None:
        return {}
    return _cleaned(str(Path(folder).resolve()))


@dataclass(frozen=True)
class ServedFile:
    body: bytes
    etag: str  # quoted sha256 of body
    last_modified: datetime  # UTC, whole seconds


def _parse_disagreements(disagreements: tuple[Disagreement, ...]) -> dict[tuple[str, str], float]:
    planted: dict[tuple[str, str], float] = {}
    for symbol, day, rupees in disagreements:
        date.fromisoformat(day)
        planted[(symbol, day)] = planted.get((symbol, day), 0.0) + float(rupees)
    return planted


def plant_disagreements(text: str, shifts: Mapping[str, float]) -> str:
    """`text` (one company's file) with the close of the rows dated in `shifts` moved by that many rupees;
    high/low widened to keep the close inside the day's range, and per_change of the row and of the next
    row recomputed against the shifted close. Every other line is kept byte for byte."""
    lines = text.splitlines(keepends=True)
    if not lines:
        return text
    header = next(csv.reader([lines[0]]))
    col = {name.strip(): i for i, name in enumerate(header)}
    parsed: list[list[str] | None] = [None] + [next(csv.reader([line]), None) for line in lines[1:]]
    dated = [(i, fields) for i, fields in enumerate(parsed) if fields and len(fields) > col["close"]]
    order = sorted(dated, key=lambda item: item[1][col["published_date"]][:10])
    changed: dict[int, list[str]] = {}
    for position, (i, fields) in enumerate(order):
        shift = shifts.get(fields[col["published_date"]][:10])
        if not shift:
            continue
        fields = list(changed.get(i, fields))
        close = round(float(fields[col["close"]]) + shift, 2)
        fields[col["close"]] = _number(close)
        if close > float(fields[col["high"]]):
            fields[col["high"]] = _number(close)
        if close < float(fields[col["low"]]):
            fields[col["low"]] = _number(close)
        if position > 0:
            fields[col["per_change"]] = _change(close, float(order[position - 1][1][col["close"]]))
        changed[i] = fields
        if position + 1 < len(order):
            j, following = order[position + 1]
            following = list(changed.get(j, following))
            following[col["per_change"]] = _change(float(following[col["close"]]), close)
            changed[j] = following
    for i, fields in changed.items():
        ending = lines[i][len(lines[i].rstrip("\r\n")) :]
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(fields)
        lines[i] = out.getvalue() + ending
    return "".join(lines)


def _number(value: float) -> str:
    return repr(float(value))


def _change(close: float, previous: float) -> str:
    return f"{(close / previous - 1) * 100:.2f}"


class ArchiveFiles:
    """The served files of one folder, read once each, and the requests they got."""

    def __init__(
        self,
        folder: str | Path | None,
        failing_symbols: tuple[str, ...] = (),
        disagreements: tuple[Disagreement, ...] = (),
    ) -> None:
        self.folder = Path(folder) if folder is not None else None
        self.failing_symbols = frozenset(failing_symbols)
        self._shifts: dict[str, dict[str, float]] = {}
        for (symbol, day), rupees in _parse_disagreements(disagreements).items():
            self._shifts.setdefault(symbol, {})[day] = rupees
        self._files: dict[str, ServedFile | None] = {}
        self.counter = RequestCounter()  # keyed "GET /archive/data/company-wise/NICA.csv"

    def file(self, symbol: str) -> ServedFile | None:
        if symbol not in self._files:
            self._files[symbol] = self._read(symbol)
        return self._files[symbol]

    def _read(self, symbol: str) -> ServedFile | None:
        if self.folder is None or not symbol or "/" in symbol or "\\" in symbol or symbol.startswith("."):
            return None
        path = self.folder / f"{symbol}.csv"
        if not path.is_file():
            return None
        body = path.read_bytes()
        if symbol in self._shifts:
            body = plant_disagreements(body.decode("utf-8-sig"), self._shifts[symbol]).encode("utf-8")
        modified = datetime.fromtimestamp(int(path.stat().st_mtime), UTC)
        return ServedFile(body, f'"{hashlib.sha256(body).hexdigest()}"', modified)

    def answer(self, method: str, path: str, symbol: str, headers: Mapping[str, str]) -> Response:
        self.counter.add(method, path)
        if symbol in self.failing_symbols:
            return error(500, path, "injected archive failure")
        served = self.file(symbol)
        if served is None:
            return error(404, path, "no archive file for this symbol")
        answer_headers = {
            "ETag": served.etag,
            "Last-Modified": format_datetime(served.last_modified, usegmt=True),
            "Cache-Control": "no-cache",
        }
        if _not_modified(served, headers):
            return Response(status_code=304, headers=answer_headers)
        return Response(
            served.body if method == "GET" else b"",
            media_type=CSV_MEDIA_TYPE,
            headers={**answer_headers, "Content-Length": str(len(served.body))},
        )


def _not_modified(served: ServedFile, headers: Mapping[str, str]) -> bool:
    """RFC 9110 13.1: If-None-Match decides when present (strong comparison of the listed tags, or *);
    If-Modified-Since only without it."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip() for tag in if_none_match.split(",")}
        return "*" in tags or served.etag in tags
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return served.last_modified <= since
    return False


async def archive_file(request: Request) -> Response:
    files: ArchiveFiles = request.app.state.archive
    return files.answer(request.method, request.url.path, request.path_params["symbol"], request.headers)


ROUTES = [Route(ROUTE_PATH, archive_file, methods=["GET", "HEAD"])]
