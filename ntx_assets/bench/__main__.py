"""Run the benchmark: `make bench` (or `python -m ntx_assets.bench --help`).

Its last line is `BENCH {json}`, so runs can be compared over time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path

from ntx_assets.bench import warehouse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=264, help="companies in the synthetic load")
    parser.add_argument("--sessions", type=int, default=1500, help="sessions per company in the load")
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("NTX_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()

    figures: dict[str, object] = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_version()}"
    }
    rows = warehouse.synthetic_prices(args.symbols, args.sessions)
    print(f"warehouse load: {len(rows):,} OHLCV rows ({args.symbols} companies x {args.sessions} sessions)")
    with tempfile.TemporaryDirectory() as scratch:
        sqlite = warehouse.measure(f"sqlite:///{Path(scratch) / 'bench.db'}", rows)
    with warehouse.scratch_postgres(args.pg_admin_url) as url:
        postgres = warehouse.measure(url, rows)
    for load in (sqlite, postgres):
        ratio = (
            f", {load.upsert_vs_copy:.2f} x raw COPY ({load.raw_copy_rows_per_s:,.0f} rows/s)"
            if load.raw_copy_rows_per_s
            else ""
        )
        print(
            f"  {load.backend:<10} upsert {load.upsert_rows_per_s:>10,.0f} rows/s{ratio}; "
            f"unchanged re-run {load.rerun_rows_per_s:,.0f} rows/s"
        )
        figures[f"warehouse_{load.backend}"] = {
            "rows": load.rows,
            "upsert_rows_per_s": round(load.upsert_rows_per_s),
            "rerun_rows_per_s": round(load.rerun_rows_per_s),
            "raw_copy_rows_per_s": round(load.raw_copy_rows_per_s) if load.raw_copy_rows_per_s else None,
            "upsert_vs_raw_copy": round(load.upsert_vs_copy, 3) if load.upsert_vs_copy else None,
        }
    print("BENCH " + json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
