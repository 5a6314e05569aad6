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
    for security_id, company_symbols in sorted(by_security.items()):
        report.companies += 1
        label = "/".join(company_symbols)
        try:
            _import_company(engine, archive, source, security_id, company_symbols, states, now, report)
        except (ArchiveFetchError, ArchiveFormatError) as error:
            report.failures[label] = str(error)
    return report


def _import_company(
    engine: Engine,
    archive: ArchiveSource,
    source: str,
    security_id: int,
    symbols: list[str],
    states: dict[str, FileState],
    now: dt.datetime,
    report: ImportReport,
) -> None:
    fetched = [archive.fetch(symbol, states.get(symbol)) for symbol in symbols]
    present = [f for f in fetched if not f.missing]
    if not present:
        report.not_in_archive += 1
        return
    if all(f.unchanged for f in present):
        report.unchanged += 1
        return
    # One file changed: the company's history is rebuilt from all its files (a rename has several).
    texts = {f.symbol: f.text if f.text is not None else archive.fetch(f.symbol, None).text for f in present}
    by_date: dict[dt.date, dict] = {}
    set_aside: list[SetAside] = []
    for symbol in symbols:
        if texts.get(symbol) is None:
            continue
        rows, unreadable = read_company_csv(texts[symbol], symbol)
        cleaned = clean(symbol, rows, unreadable)
        report.rules.update({k: v for k, v in cleaned.counts.items() if v})
        report.set_aside.update(cleaned.set_aside_counts())
        set_aside.extend(cleaned.set_aside)
        for row in archive_price_rows(cleaned, security_id, source):
            if row["business_date"] in by_date:
                report.rules[RENAME_OVERLAP] += 1
            by_date[row["business_date"]] = row
    with engine.begin() as conn:
        nepse = nepse_rows(conn, security_id)
        ordered = [by_date[day] for day in sorted(by_date)]
        report.disagreements.extend(disagreements(ordered, nepse))
        kept = [row for row in ordered if row["business_date"] not in nepse]
        report.nepse_sessions_kept += len(ordered) - len(kept)
        files = {f.symbol: f.state for f in present if f.state is not None}
        written = write_company(
            conn, source=source, security_id=security_id, rows=kept, set_aside=set_aside, files=files,
            imported_at=now,
        )  # fmt: skip
    report.imported += 1
    report.prices += written.prices
    report.removed += written.removed
    if kept:
        first, last = kept[0]["business_date"], kept[-1]["business_date"]
        report.first = min(report.first or first, first)
        report.last = max(report.last or last, last)
