"""An archive import: for every company the warehouse knows, its file read (conditionally), cleaned by the
rules and written in one transaction per company. No Dagster here: the price_archive asset reports it.

- Companies are the warehouse's (`company_symbols`, every status: delisted, suspended and merged companies
  keep their history, which is what keeps old screens free of survivorship bias). A renamed company's
  files (one per symbol it carried) become one history under its one security id; where two of its files
  hold the same session, the row of the symbol it carried later (company_symbols.first_seen) is kept
  and the overlap counted.
- An archive file whose symbol the warehouse does not know is not imported (it has no security id to
  store it under): it is listed, so that a company_universe refresh, or the company's own absence from
  NEPSE, can be checked.
- NEPSE's own row wins: sessions NEPSE serves are left out of the write, and every archive value that
  differs from NEPSE's by more than a tick is a `Disagreement`.
- A re-run with nothing new writes nothing: an unchanged file (same ETag, or same bytes) is not parsed.
- Reading is columnar (company_csv, rules), and on PostgreSQL companies are imported by a pool of writer
  processes (`workers`): parsing and formatting COPY rows is CPU work that one process cannot overlap with
  PostgreSQL's own (docs/benchmark.md has the figures).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import Engine

from ntx_assets.archive.company_csv import ArchiveFormatError
from ntx_assets.archive.company_read import read_company
from ntx_assets.archive.merge import Disagreement, disagreements
from ntx_assets.archive.sources import ArchiveFetchError, ArchiveSource, FileState
from ntx_assets.warehouse.archive import file_states, known_symbols, nepse_rows, write_company
from ntx_assets.warehouse.engine import create_warehouse_engine
from ntx_assets.warehouse.upsert import UpsertCounts


@dataclass
class ImportReport:
    companies: int = 0
    unchanged: int = 0
    imported: int = 0
    not_in_archive: int = 0
    prices: UpsertCounts = field(default_factory=UpsertCounts)
    removed: int = 0
    nepse_sessions_kept: int = 0
    rules: Counter = field(default_factory=Counter)
    set_aside: Counter = field(default_factory=Counter)
    disagreements: list[Disagreement] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    unknown_symbols: list[str] = field(default_factory=list)
    first: dt.date | None = None
    last: dt.date | None = None
    writer_processes: int = 0  # 0: the companies were imported in this process


def import_archive(
    engine: Engine, archive: ArchiveSource, source: str, now: dt.datetime, *, workers: int = 1
) -> ImportReport:
    """Import every company the warehouse knows from `archive`. `workers` > 1 on PostgreSQL: that many
    processes parse, clean and write companies side by side, each company in its own transaction on its
    own connection (companies never share a row, so they never wait on each other); below
    POOL_FROM_COMPANIES companies, or on SQLite (one writer at a time), it all runs in this process."""
    report = ImportReport()
    with engine.connect() as conn:
        symbols = known_symbols(conn)
        states = file_states(conn, source)
    by_security: dict[int, list[str]] = {}
    for symbol, security_id in symbols.items():  # in the order first seen: a rename's new symbol last
        by_security.setdefault(security_id, []).append(symbol)
    listed = archive.symbols()
    if listed is not None:
        report.unknown_symbols = sorted(set(listed) - set(symbols))
    companies = sorted(by_security.items())
    pooled = workers > 1 and engine.dialect.name == "postgresql" and len(companies) >= POOL_FROM_COMPANIES
    report.writer_processes = workers if pooled else 0
    # A thread fetches the next company's files (conditional GETs, paced: I/O) while companies are
    # imported; the archive source is used by that one thread, in the companies' order. At most `workers`
    # companies are being imported at once, and their results are recorded in the companies' order.
    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-fetch") as fetcher,
        _writers(engine, workers if pooled else 1) as (writers, import_one),
    ):

        def fetch(index: int) -> Future[Fetched]:
            return fetcher.submit(_fetch, archive, companies[index][1], states)

        imports: deque[tuple[str, Future[CompanyImport]]] = deque()
        pending = fetch(0) if companies else None
        for index, (security_id, company_symbols) in enumerate(companies):
            report.companies += 1
            label = "/".join(company_symbols)
            assert pending is not None
            current, pending = pending, fetch(index + 1) if index + 1 < len(companies) else None
            try:
                fetched = current.result()
            except ArchiveFetchError as error:
                report.failures[label] = str(error)
                continue
            if fetched.status == "not_in_archive":
                report.not_in_archive += 1
            elif fetched.status == "unchanged":
                report.unchanged += 1
            else:
                imports.append(
                    (
                        label,
                        writers.submit(import_one, security_id, source, fetched.texts, fetched.files, now),
                    )
                )
            while len(imports) > (2 * workers if pooled else 0):
                _record(report, *imports.popleft())
        while imports:
            _record(report, *imports.popleft())
    return report


# A pool of writer processes pays ~1 s to start (each imports pandas and the warehouse): worth it from
# this many companies on (the whole archive has 372).
POOL_FROM_COMPANIES = 40


@dataclass
class Fetched:
    """One company's files as fetched: `status` read (`texts`: symbol -> text of each of its files, in the
    order they are merged), unchanged or not_in_archive (nothing to write)."""

    status: str
    texts: dict[str, str] = field(default_factory=dict)
    files: dict[str, FileState] = field(default_factory=dict)


def _fetch(archive: ArchiveSource, symbols: list[str], states: dict[str, FileState]) -> Fetched:
    fetched = [archive.fetch(symbol, states.get(symbol)) for symbol in symbols]
    present = [f for f in fetched if not f.missing]
    if not present:
        return Fetched("not_in_archive")
    if all(f.unchanged for f in present):
        return Fetched("unchanged")
    # One file changed: the company's history is rebuilt from all its files (a rename has several).
    texts = {f.symbol: f.text if f.text is not None else archive.fetch(f.symbol, None).text for f in present}
    in_order = {symbol: text for symbol in symbols if (text := texts.get(symbol)) is not None}
    return Fetched("read", in_order, {f.symbol: f.state for f in present if f.state is not None})


@dataclass
class CompanyImport:
    """What one company's import found and wrote (plain data: it comes back from a writer process)."""

    rules: Counter
    set_aside: Counter
    disagreements: list[Disagreement]
    nepse_sessions_kept: int
    prices: UpsertCounts
    removed: int
    first: dt.date | None
    last: dt.date | None


def import_company(
    engine: Engine,
    security_id: int,
    source: str,
    texts: dict[str, str],
    files: dict[str, FileState],
    now: dt.datetime,
) -> CompanyImport:
    """Read one company's files and write what they hold in one transaction of its own: NEPSE's own rows
    win (their sessions are left out and every disagreement beyond a tick is returned)."""
    read = read_company(texts, security_id, source)
    with engine.begin() as conn:
        nepse = nepse_rows(conn, security_id)
        found = disagreements(read.prices, nepse)
        kept = read.prices[~read.prices["business_date"].isin(list(nepse))] if nepse else read.prices
        written = write_company(
            conn, source=source, security_id=security_id, rows=kept, set_aside=read.set_aside, files=files,
            imported_at=now,
        )  # fmt: skip
    dates = kept["business_date"]
    return CompanyImport(
        read.rules, read.set_aside_counts, found, len(read.prices) - len(kept), written.prices,
        written.removed, dates.iat[0] if len(dates) else None, dates.iat[-1] if len(dates) else None,
    )  # fmt: skip


def _record(report: ImportReport, label: str, future: Future[CompanyImport]) -> None:
    try:
        done = future.result()
    except ArchiveFormatError as error:
        report.failures[label] = str(error)
        return
    report.imported += 1
    report.rules.update(done.rules)
    report.set_aside.update(done.set_aside)
    report.disagreements.extend(done.disagreements)
    report.nepse_sessions_kept += done.nepse_sessions_kept
    report.prices += done.prices
    report.removed += done.removed
    if done.first is not None and done.last is not None:
        report.first = min(report.first or done.first, done.first)
        report.last = max(report.last or done.last, done.last)


# --- where companies are imported: this process, or a pool of writer processes with an engine each


@contextmanager
def _writers(engine: Engine, workers: int) -> Iterator[tuple[Executor, Callable[..., CompanyImport]]]:
    """An executor for the companies' imports, and the function it runs for one."""
    if workers == 1:
        yield _InProcess(), partial(import_company, engine)
        return
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),  # never fork a process that holds threads
        initializer=_open_worker_engine,
        initargs=(engine.url.render_as_string(hide_password=False),),
    ) as pool:
        yield pool, _import_in_worker


_worker_engine: Engine | None = None


def _open_worker_engine(url: str) -> None:
    global _worker_engine
    _worker_engine = create_warehouse_engine(url)


def _import_in_worker(*args: Any) -> CompanyImport:
    assert _worker_engine is not None, "a writer process starts with _open_worker_engine"
    return import_company(_worker_engine, *args)


class _InProcess(Executor):
    """An executor without threads or processes: each call runs where it is submitted."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # delivered through the future, as a pool delivers it
            future.set_exception(error)
        return future
