"""python -m ntx_assets.archive check PATH_OR_URL [--symbols A,B] [--format table|json]

A dry run before the first import: reads the archive (a folder or an HTTP base URL), applies every quirk
rule and the re-basing rules, and prints per company the rows it would store, their dates, what it sets
aside and why, and the re-basings with the source of each factor. Writes nothing. Re-basings explained by
announcements need the warehouse, so here a move beyond the band is `unexplained` until the import.
"""

from __future__ import annotations

import argparse
import json
import sys

from ntx_assets.archive.check import CompanyCheck, check_archive
from ntx_assets.archive.sources import ArchiveFetchError, open_archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ntx_assets.archive", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="read an archive and report what an import would store")
    check.add_argument("location", metavar="PATH_OR_URL")
    check.add_argument("--symbols", help="comma-separated symbols (required for a URL)")
    check.add_argument("--format", choices=("table", "json"), default="table")
    check.add_argument("--requests-per-second", type=float, default=2.0)
    args = parser.parse_args(argv)
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()] if args.symbols else None
    try:
        results = check_archive(
            open_archive(args.location, requests_per_second=args.requests_per_second), symbols
        )
    except ArchiveFetchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.format == "json":
        json.dump({"companies": [r.as_json() for r in results]}, sys.stdout, indent=2)
        print()
    else:
        print(_table(results))
    return 1 if any(r.problem for r in results) else 0


def _table(results: list[CompanyCheck]) -> str:
    header = (
        f"{'symbol':<8} {'rows':>6} {'first':<10} {'last':<10} {'set aside':>9} "
        f"{'re-basings (known/unknown)':>27}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        if r.problem:
            lines.append(f"{r.symbol:<8} {'-':>6} {'':<10} {'':<10} {'':>9} {'':>27}  {r.problem}")
            continue
        unknown = sum(1 for b in r.rebasings if b["factor"] is None)
        lines.append(
            f"{r.symbol:<8} {r.rows:>6,} {r.first:<10} {r.last:<10} {sum(r.set_aside.values()):>9,} "
            f"{f'{len(r.rebasings) - unknown}/{unknown}':>27}"
        )
    totals = {}
    for r in results:
        for reason, count in r.set_aside.items():
            totals[reason] = totals.get(reason, 0) + count
    if totals:
        lines.append("")
        lines.append(
            "set aside: " + ", ".join(f"{reason} {count:,}" for reason, count in sorted(totals.items()))
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
