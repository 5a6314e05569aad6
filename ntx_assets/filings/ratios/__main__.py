"""`python -m ntx_assets.filings.ratios FILE.pdf [--format json|table]`: what the reader finds in one PDF."""

from __future__ import annotations

import argparse
import json
import sys

from ntx_assets.filings.ratios import RATIO_KEYS, RatioReading, read_report_ratios


def _table(reading: RatioReading) -> str:
    period = reading.period or {}
    lines = [
        f"format       {reading.format or '-'}",
        "period       "
        + (
            f"fiscal year {period.get('fiscal_year') or '?'}, quarter {period.get('quarter') or '?'}, "
            f"as at {period.get('as_at') or '?'}"
            if period
            else "-"
        ),
    ]
    for key in RATIO_KEYS:
        value = reading.ratios.get(key)
        lines.append(f"{key:<24} {'-' if value is None else f'{value:g}'}")
    for problem in reading.problems:
        lines.append(f"problem: {problem}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ntx_assets.filings.ratios",
        description="Read the NRB ratios (capital fund to RWA, NPL, provision to NPL, cost of funds, "
        "CD ratio, base rate, spread) from one quarterly report PDF's text layer.",
    )
    parser.add_argument("file", help="the report PDF")
    parser.add_argument("--format", choices=("json", "table"), default="json")
    args = parser.parse_args(argv)
    reading = read_report_ratios(args.file)
    if args.format == "json":
        print(json.dumps(reading.as_json(), indent=2))
    else:
        print(_table(reading))
    return 0


if __name__ == "__main__":
    sys.exit(main())
