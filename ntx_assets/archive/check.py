"""`python -m ntx_assets.archive check`: read an archive and say what an import would do; write nothing."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ntx_assets.archive.company_csv import ArchiveFormatError, read_company_csv
from ntx_assets.archive.merge import file_rebasings
from ntx_assets.archive.rules import CleanFile, clean
from ntx_assets.archive.sources import ArchiveFetchError, ArchiveSource


@dataclass(frozen=True)
class CompanyCheck:
    symbol: str
    rows: int
    first: str | None
    last: str | None
    set_aside: dict[str, int]
    rules: dict[str, int]
    rebasings: list[dict[str, Any]]
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        out = {
            "symbol": self.symbol,
            "rows": self.rows,
            "first": self.first,
            "last": self.last,
            "set_aside": self.set_aside,
            "rules": self.rules,
            "rebasings": self.rebasings,
        }
        if self.problem:
            out["problem"] = self.problem
        return out


def check_company(symbol: str, text: str) -> CompanyCheck:
    rows, unreadable = read_company_csv(text, symbol)
    cleaned = clean(symbol, rows, unreadable)
    return summarize(cleaned)


def summarize(cleaned: CleanFile) -> CompanyCheck:
    found = file_rebasings(cleaned)
    rebasings = [
        {
            "date": row.ex_date.isoformat(),
            "factor": None if math.isnan(row.factor) else round(float(row.factor), 6),
            "source": row.factor_source,
        }
        for row in found.itertuples(index=False)
    ]
    return CompanyCheck(
        symbol=cleaned.symbol,
        rows=len(cleaned.rows),
        first=cleaned.first.isoformat() if cleaned.first else None,
        last=cleaned.last.isoformat() if cleaned.last else None,
        set_aside=cleaned.set_aside_counts(),
        rules={name: count for name, count in sorted(cleaned.counts.items()) if count},
        rebasings=rebasings,
    )


def check_archive(source: ArchiveSource, symbols: list[str] | None) -> list[CompanyCheck]:
    """One CompanyCheck per symbol (all the folder's when `symbols` is None); a file that cannot be read
    or parsed is reported with its problem, and the others are still checked."""
    wanted = symbols if symbols is not None else source.symbols()
    if wanted is None:
        raise ArchiveFetchError(
            f"{source.location} is a URL, which cannot be listed: name the companies with --symbols A,B"
        )
    results: list[CompanyCheck] = []
    for symbol in wanted:
        try:
            fetched = source.fetch(symbol, None)
            if fetched.missing or fetched.text is None:
                results.append(CompanyCheck(symbol, 0, None, None, {}, {}, [], "no file in the archive"))
                continue
            results.append(check_company(symbol, fetched.text))
        except (ArchiveFetchError, ArchiveFormatError) as error:
            results.append(CompanyCheck(symbol, 0, None, None, {}, {}, [], str(error)))
    return results
