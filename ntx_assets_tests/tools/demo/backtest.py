"""The demo's last step: one backtest of its screen with the product's command, written next to the exports.

`python -m ntx_assets.screener.backtest` runs on the warehouse the demo just filled: the demo's screen
(summary.PAST_SCREEN: value within its sector) rebalanced on every stored session of a fixed stride, with
NEPSE's trading costs. The whole table goes to `<exports>/backtest.txt` and the cumulative return against
the universe to `<exports>/backtest.png`; the demo prints the command and the summary.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, select

from ntx_assets.warehouse.schema import screener as screener_table

TABLE_FILE = "backtest.txt"
PICTURE_FILE = "backtest.png"
# Monthly (20 sessions) on a long history; on the demo's few weeks a stride that still gives periods.
LONG_STRIDE = 20
PERIODS_ON_A_SHORT_SPAN = 4
_PERIOD_ROW = re.compile(r"^\d{4}-\d{2}-\d{2}\s{2}")  # a period's line; its notes read "YYYY-MM-DD: ..."


@dataclass(frozen=True)
class DemoBacktest:
    command: str
    table: Path
    picture: Path
    output: str  # what the command printed (its error when it failed)
    exit_code: int


def stride(sessions: int) -> int:
    """Sessions between rebalances (and held): monthly, or a quarter of a short span (at least 1)."""
    return max(1, min(LONG_STRIDE, sessions // PERIODS_ON_A_SHORT_SPAN))


def run_demo_backtest(engine: Engine, database_url: str, exports: Path, where: str) -> DemoBacktest | None:
    """The backtest of `where` over every stored screener session; None with fewer than two sessions."""
    from ntx_assets.screener.backtest.__main__ import main as backtest_command

    t = screener_table
    with engine.connect() as conn:
        if not inspect(conn).has_table(t.name):
            return None
        sessions = conn.execute(select(t.c.session_date).distinct()).scalars().all()
    if len(sessions) < 2:
        return None
    n = stride(len(sessions))
    exports.mkdir(parents=True, exist_ok=True)
    table, picture = exports / TABLE_FILE, exports / PICTURE_FILE
    args = ["--where", where, "--sort", "-turnover", "--limit", "10", "--every", str(n), "--hold", str(n)]
    args += ["--costs", "nepse", "--plot", str(picture)]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = backtest_command(["--database-url", database_url, *args], out=out)
    table.write_text(out.getvalue())
    shown = " ".join(f"'{arg}'" if " " in arg else arg for arg in args)
    output = out.getvalue() if code == 0 else err.getvalue()
    return DemoBacktest(f"python -m ntx_assets.screener.backtest {shown}", table, picture, output, code)


def summary_lines(backtest: DemoBacktest) -> list[str]:
    """The command, then the summary it printed (the periods are in the table file)."""
    lines = [
        "",
        "A backtest of the screen over every stored session (its picks point in time, NEPSE's costs):",
    ]
    lines.append(f"  $ {backtest.command}")
    output = backtest.output.rstrip().splitlines()
    start = next((i for i, line in enumerate(output) if line.startswith("summary (")), None)
    if backtest.exit_code != 0 or start is None:
        lines.append(
            f"  the backtest did not run (exit {backtest.exit_code}): {backtest.output.strip()[:300]}"
        )
        return lines
    periods = sum(1 for line in output[:start] if _PERIOD_ROW.match(line))
    lines += [f"  {line}" for line in output[start:]]
    lines.append(
        f"  {periods} periods in {backtest.table}; cumulative return against the universe: {backtest.picture}"
    )
    return lines
