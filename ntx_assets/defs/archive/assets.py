"""price_archive: fifteen years of daily prices from a public archive, under NEPSE's own year.

Off by default: without NTX_PRICE_ARCHIVE the asset is in the graph but nothing materializes it (no
automation, no schedule) and a manual run fails saying what to set. With it, one run imports every company
the warehouse knows (ntx_assets.archive.importer: one transaction per company; an unchanged file is not even
parsed), and price_adjustments, which depends on it, re-derives the re-basings of the whole history. The
indicators and screener of the archive's years are then a backfill of their date partitions
(docs/price-archive.md).
"""

from collections.abc import Iterator

import dagster as dg

from ntx_assets.archive.importer import ImportReport, import_archive
from ntx_assets.archive.sources import ArchiveFetchError, open_archive
from ntx_assets.common.clock import nepal_now
from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.resources import PriceArchiveResource, WarehouseResource

ARCHIVE_AGREES = "price_archive_agrees_with_nepse"
ARCHIVE_READ = "price_archive_every_file_read"
_EXAMPLES = 20


@dg.asset(
    deps=[company_universe],
    group_name="prices",
    kinds={"python", "sql"},
    description=(
        "Daily prices before NEPSE's one-year window, from a public per-company archive "
        "(NTX_PRICE_ARCHIVE: a clone of github.com/Aabishkar2/nepse-data or a base URL of its files). "
        "Stored in daily_prices with source archive:<name>; NEPSE's own row wins; every quirk of the "
        "archive handled by a named rule, rows set aside kept in archive_set_aside "
        "with their reason. Off when NTX_PRICE_ARCHIVE is unset."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            ARCHIVE_AGREES,
            asset="price_archive",
            description="Archive rows of the sessions NEPSE also serves agree with NEPSE's within a tick "
            "(close, high, low; volume exactly). WARN with examples: NEPSE's row is the one stored.",
        ),
        dg.AssetCheckSpec(
            ARCHIVE_READ,
            asset="price_archive",
            description="Every company file the archive has was read (a failed download fails that "
            "company alone: re-run, unchanged files cost nothing).",
        ),
    ],
)
def price_archive(
    context: dg.AssetExecutionContext, price_archive: PriceArchiveResource, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    if not price_archive.location:
        raise dg.Failure(
            "No price archive is configured: set NTX_PRICE_ARCHIVE to a clone of "
            "github.com/Aabishkar2/nepse-data (a folder) or to a base URL of its company files, e.g. "
            "https://raw.githubusercontent.com/Aabishkar2/nepse-data/main/data/company-wise, then run "
            "`python -m ntx_assets.archive check <it>` before the first import (docs/price-archive.md)."
        )
    try:
        archive = open_archive(price_archive.location, requests_per_second=price_archive.requests_per_second)
    except ArchiveFetchError as error:
        raise dg.Failure(str(error)) from error
    report = import_archive(
        warehouse.engine, archive, price_archive.source, nepal_now(), workers=price_archive.workers
    )
    for label, problem in report.failures.items():
        context.log.error(f"{label}: {problem}")
    yield dg.MaterializeResult(
        metadata={
            "source": price_archive.source,
            "companies": report.companies,
            "imported": report.imported,
            "unchanged": report.unchanged,
            "not_in_archive": report.not_in_archive,
            "failed": len(report.failures),
            "first_session": str(report.first) if report.first else "-",
            "last_session": str(report.last) if report.last else "-",
            **report.prices.as_metadata(),
            "rows_removed": report.removed,
            "writer_processes": report.writer_processes,
            "nepse_sessions_kept": report.nepse_sessions_kept,
            "rules": dg.MetadataValue.json(dict(sorted(report.rules.items()))),
            "set_aside": dg.MetadataValue.json(dict(sorted(report.set_aside.items()))),
            "archive_symbols_unknown": dg.MetadataValue.json(report.unknown_symbols[:100]),
            "archive_symbols_unknown_count": len(report.unknown_symbols),
        }
    )
    yield dg.AssetCheckResult(
        check_name=ARCHIVE_AGREES,
        passed=not report.disagreements,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "disagreements": len(report.disagreements),
            "by_column": dg.MetadataValue.json(_by_column(report)),
            "examples": dg.MetadataValue.json([str(d) for d in report.disagreements[:_EXAMPLES]]),
        },
    )
    yield dg.AssetCheckResult(
        check_name=ARCHIVE_READ,
        passed=not report.failures,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"failed": dg.MetadataValue.json(dict(list(report.failures.items())[:_EXAMPLES]))},
    )
    if report.failures:
        raise dg.Failure(
            f"{len(report.failures)} archive file(s) could not be read "
            f"({', '.join(list(report.failures)[:5])}"
            f"{', ...' if len(report.failures) > 5 else ''}); every other company landed. Re-run "
            "price_archive: unchanged files are skipped, so only these are fetched again."
        )


def _by_column(report: ImportReport) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in report.disagreements:
        counts[item.column] = counts.get(item.column, 0) + 1
    return counts
