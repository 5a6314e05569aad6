"""An archive import: for every company the warehouse knows, its file read (conditionally), cleaned by the
rules and written in one transaction per company. No Dagster here: the price_archive asset reports it.

- Companies are the warehouse's (`company_symbols`, every status: delisted, suspended and merged companies
  keep their history, which is what keeps old screens free of survivorship bias). A renamed company's
  files (one per symbol it carried) become one history under its one security id; where two of its files
  hold the same session, the later symbol's row is kept and the overlap counted.
- An archive file whose symbol the warehouse does not know is not imported (it has no security id to
  store it under): it is listed, so that a company_universe refresh, or the company's own absence from
  NEPSE, can be checked.
- NEPSE's own row wins: sessions NEPSE serves are left out of the write, and every archive value that
  differs from NEPSE's by more than a tick is a `Disagreement`.
- A re-run with nothing new writes nothing: an unchanged file (same ETag, or same bytes) is not parsed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import Engine

from ntx_assets.archive.company_csv import ArchiveFormatError, SetAside, read_company_csv
from ntx_assets.archive.merge import Disagreement, archive_price_rows, disagreements
from ntx_assets.archive.rules import clean
from ntx_assets.archive.sources import ArchiveFetchError, ArchiveSource, FileState
from ntx_assets.warehouse.archive import file_states, known_symbols, nepse_rows, write_company
from ntx_assets.warehouse.upsert import UpsertCounts

RENAME_OVERLAP = "rename_overlap"


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


def import_archive(engine: Engine, archive: ArchiveSource, source: str, now: dt.datetime) -> ImportReport:
    report = ImportReport()
    with engine.connect() as conn:
        symbols = known_symbols(conn)
        states = file_states(conn, source)
    by_security: dict[int, list[str]] = {}
    for symbol, security_id in sorted(symbols.items()):
        by_security.setdefault(security_id, []).append(symbol)
    listed = archive.symbols()
    if listed is not None:
        report.unknown_symbols = sorted(set(listed) - set(symbols))
    companies = sorted(by_security.items())
    # The next company is fetched and parsed on one worker thread while this one is written: the write is
    # mostly waiting on PostgreSQL (COPY into an indexed table, commit), which releases the GIL, so the
    # parse of one company overlaps the database's work on the other. One worker: the archive source is
    # used by one thread at a time, in the companies' order, and at most one company waits in memory.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-read") as reader:

        def read(index: int) -> Future[CompanyRead]:
            security_id, company_symbols = companies[index]
            return reader.submit(_read_company, archive, source, security_id, company_symbols, states)

        pending = read(0) if companies else None
        for index, (security_id, company_symbols) in enumerate(companies):
            report.companies += 1
            assert pending is not None
            current, pending = pending, read(index + 1) if index + 1 < len(companies) else None
            try:
                _record_and_write(engine, source, security_id, current.result(), now, report)
            except (ArchiveFetchError, ArchiveFormatError) as error:
                report.failures["/".join(company_symbols)] = str(error)
    return report


@dataclass
class CompanyRead:
    """What one company's files hold, before the warehouse is touched (`status` other than "read": there
    is nothing to write)."""

    status: str  # read | unchanged | not_in_archive
    rows: list[dict] = field(default_factory=list)  # sorted by date, one per session
    set_aside: list[SetAside] = field(default_factory=list)
    rules: Counter = field(default_factory=Counter)
    set_aside_counts: Counter = field(default_factory=Counter)
    files: dict[str, FileState] = field(default_factory=dict)


def _read_company(
    archive: ArchiveSource, source: str, security_id: int, symbols: list[str], states: dict[str, FileState]
) -> CompanyRead:
    fetched = [archive.fetch(symbol, states.get(symbol)) for symbol in symbols]
    present = [f for f in fetched if not f.missing]
    if not present:
        return CompanyRead("not_in_archive")
    if all(f.unchanged for f in present):
        return CompanyRead("unchanged")
    # One file changed: the company's history is rebuilt from all its files (a rename has several).
    texts = {f.symbol: f.text if f.text is not None else archive.fetch(f.symbol, None).text for f in present}
    result = CompanyRead("read", files={f.symbol: f.state for f in present if f.state is not None})
    by_date: dict[dt.date, dict] = {}
    for symbol in symbols:
        if texts.get(symbol) is None:
            continue
        rows, unreadable = read_company_csv(texts[symbol], symbol)
        cleaned = clean(symbol, rows, unreadable)
        result.rules.update({k: v for k, v in cleaned.counts.items() if v})
        result.set_aside_counts.update(cleaned.set_aside_counts())
        result.set_aside.extend(cleaned.set_aside)
        for row in archive_price_rows(cleaned, security_id, source):
            if row["business_date"] in by_date:
                result.rules[RENAME_OVERLAP] += 1
            by_date[row["business_date"]] = row
    result.rows = [by_date[day] for day in sorted(by_date)]
    return result


def _record_and_write(
    engine: Engine, source: str, security_id: int, read: CompanyRead, now: dt.datetime, report: ImportReport
) -> None:
    """Count what the company's files held and write it in one transaction of its own."""
    if read.status == "not_in_archive":
        report.not_in_archive += 1
        return
    if read.status == "unchanged":
        report.unchanged += 1
        return
    report.rules.update(read.rules)
    report.set_aside.update(read.set_aside_counts)
    with engine.begin() as conn:
        nepse = nepse_rows(conn, security_id)
        report.disagreements.extend(disagreements(read.rows, nepse))
        kept = [row for row in read.rows if row["business_date"] not in nepse]
        report.nepse_sessions_kept += len(read.rows) - len(kept)
        written = write_company(
            conn, source=source, security_id=security_id, rows=kept, set_aside=read.set_aside,
            files=read.files, imported_at=now,
        )  # fmt: skip
    report.imported += 1
    report.prices += written.prices
    report.removed += written.removed
    if kept:
        first, last = kept[0]["business_date"], kept[-1]["business_date"]
        report.first = min(report.first or first, first)
        report.last = max(report.last or last, last)
