"""The closing summary: universe against target, table sizes, checks, API calls, wall time, a screener."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from sqlalchemy import Engine, func, inspect, select

from ntx_assets.warehouse import queries
from ntx_assets.warehouse.schema import metadata, price_adjustments
from ntx_assets.warehouse.schema import screener as screener_table
from ntx_assets_tests.tools.demo.backtest import DemoBacktest
from ntx_assets_tests.tools.demo.backtest import summary_lines as backtest_lines
from ntx_assets_tests.tools.demo.progress import clock
from ntx_assets_tests.tools.demo.runner import CheckOutcome, RunOutcome

SCREENER_ROWS = 10
UNIVERSE_CHECK = "universe_count_matches_target"

# Request keys of the stand-in's counter ("METHOD /route/template") -> what the call is for.
_ENDPOINTS: tuple[tuple[str, str], ...] = (
    ("/api/authenticate/", "auth handshake"),
    ("css.wasm", "auth handshake"),
    ("/nepse-data/today-price", "today-price (prices)"),
    ("/security/profile/", "company profiles"),
    ("/company/list", "universe lists"),
    ("/security/promoters", "universe lists"),
    ("/security/classification", "universe lists"),
    ("/holiday/list", "holiday lists"),
    ("/nepse-data/market-open", "market status"),
    ("/application/reports/", "reports (filings)"),
    ("/security/corporate-actions/", "announcements"),
    ("/application/dividend/", "announcements"),
    ("/application/agm/", "announcements"),
    ("POST /api/nots/security/{id}", "security detail (listed shares)"),
    ("fetchFiles", "document downloads"),
)
# Calls that are per-run overhead (a handshake per client, the payload id's market id), not data.
OVERHEAD = ("auth handshake", "market status")
ENDPOINT_ORDER = (
    "universe lists",
    "company profiles",
    "holiday lists",
    "today-price (prices)",
    "reports (filings)",
    "announcements",
    "security detail (listed shares)",
    "document downloads",
    "auth handshake",
    "market status",
    "other",
)


def endpoint_label(request_key: str) -> str:
    if request_key.endswith(" /api/nots/security"):
        return "universe lists"
    for fragment, label in _ENDPOINTS:
        if fragment in request_key:
            return label
    return "other"


def data_calls(counts: Mapping[str, int]) -> int:
    """Requests that fetched data (what the plan counts), without the per-run handshakes."""
    return sum(calls for key, calls in counts.items() if endpoint_label(key) not in OVERHEAD)


def calls_by_label(counts: Mapping[str, int]) -> Counter[str]:
    by_label: Counter[str] = Counter()
    for key, calls in counts.items():
        by_label[endpoint_label(key)] += calls
    return by_label


@dataclass(frozen=True)
class ScreenerRow:
    symbol: str
    sector: str | None
    close: float
    change_pct: float | None
    turnover: float
    pe: float | None
    rsi_14: float | None
    sma_20: float | None
    sma_50: float | None
    sma_200: float | None
    low_52w: float | None
    high_52w: float | None


@dataclass(frozen=True)
class Rebasing:
    symbol: str
    ex_date: dt.date
    factor: float | None  # None: unknown (a move beyond the band nothing explains)
    explanation: str


@dataclass
class DemoReport:
    """Everything the summary shows; the demo's result, also for tests."""

    universe_count: int
    universe_target: int | str  # a number, or "auto" (NEPSE's own count)
    universe_check_passed: bool | None
    table_rows: dict[str, int]
    runs: list[RunOutcome]
    skipped: list[str]
    calls: Counter[str] | None  # by endpoint label; None when the server is not the demo's stand-in
    minimum_calls: dict[str, int]
    minimum_notes: dict[str, str]
    wall_seconds: float
    screener_date: dt.date | None
    screener: list[ScreenerRow]
    base_url: str
    previous: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    interrupted: bool = False
    rebasings: list[Rebasing] = field(default_factory=list)
    past_screen: PastScreen | None = None
    backtest: DemoBacktest | None = None

    @property
    def checks(self) -> list[CheckOutcome]:
        return [check for run in self.runs for check in run.checks]

    @property
    def checks_passed(self) -> int:
        return sum(1 for check in self.checks if check.passed)

    @property
    def checks_failed(self) -> int:
        """Failed checks of severity ERROR: what makes the demo's result a failure."""
        return sum(1 for check in self.checks if not check.passed and check.severity != WARN)

    @property
    def checks_warned(self) -> int:
        """Failed checks of severity WARN (Dagster shows them as warnings): named, not a failure."""
        return sum(1 for check in self.checks if not check.passed and check.severity == WARN)

    @property
    def failed_runs(self) -> list[RunOutcome]:
        return [run for run in self.runs if not run.success]

    @property
    def total_calls(self) -> int:
        if self.calls is not None:
            return sum(self.calls.values())
        return sum(run.api_calls_reported for run in self.runs)

    @property
    def ok(self) -> bool:
        backtest_ok = self.backtest is None or self.backtest.exit_code == 0
        return not self.interrupted and not self.failed_runs and self.checks_failed == 0 and backtest_ok


# --- warehouse queries -----------------------------------------------------------------------------


def table_rows(engine: Engine) -> dict[str, int]:
    present = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
            if table.name in present
        }


def included_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return queries.included_count(conn)


def screener(engine: Engine, rows: int = SCREENER_ROWS) -> tuple[dt.date | None, list[ScreenerRow]]:
    """The top of the `screener` table (what the app reads) by turnover, on its latest session."""
    t = screener_table
    with engine.connect() as conn:
        if not inspect(conn).has_table(t.name):
            return None, []
        latest = conn.execute(select(func.max(t.c.session_date))).scalar_one()
        if latest is None:
            return None, []
        query = (
            select(
                t.c.symbol,
                t.c.sector,
                t.c.close,
                t.c.change_pct,
                t.c.turnover,
                t.c.pe,
                t.c.rsi_14,
                t.c.sma_20,
                t.c.sma_50,
                t.c.sma_200,
                t.c.low_52w,
                t.c.high_52w,
            )
            .where(t.c.session_date == latest)
            .order_by(t.c.turnover.desc(), t.c.symbol)
            .limit(rows)
        )
        found = [ScreenerRow(**row) for row in conn.execute(query).mappings()]
    return _as_date(latest), found


WARN = dg.AssetCheckSeverity.WARN.value

# The screen the demo runs as of a past session: value within its sector, by the product's command.
PAST_SCREEN = "pe < pe_sector_median and roe > roe_sector_median"
FORWARD_SESSIONS = 20


@dataclass(frozen=True)
class PastScreen:
    """A screen run as of a past session with `python -m ntx_assets.screener`, and what it printed."""

    session: dt.date
    forward: int
    command: str
    output: str


def past_screen(engine: Engine, database_url: str) -> PastScreen | None:
    """The demo's screen as of the stored session FORWARD_SESSIONS before the latest (fewer when fewer are
    stored), with its forward return; None with fewer than two stored sessions."""
    from ntx_assets.screener.__main__ import main as screener_command

    t = screener_table
    with engine.connect() as conn:
        if not inspect(conn).has_table(t.name):
            return None
        sessions = list(
            conn.execute(select(t.c.session_date).distinct().order_by(t.c.session_date)).scalars()
        )
    if len(sessions) < 2:
        return None
    forward = min(FORWARD_SESSIONS, len(sessions) - 1)
    session = _as_date(sessions[-1 - forward])
    args = ["--as-of", session.isoformat(), "--where", PAST_SCREEN, "--sort", "-turnover", "--limit", "10"]
    args += ["--columns", "symbol,sector,close,pe,pe_sector_median,roe,roe_sector_median,turnover"]
    args += ["--forward", str(forward), "--changes"]
    out = io.StringIO()
    screener_command(["--database-url", database_url, *args], out=out)
    shown = " ".join(f"'{arg}'" if " " in arg else arg for arg in args)
    return PastScreen(session, forward, f"python -m ntx_assets.screener {shown}", out.getvalue())


def rebasings(engine: Engine) -> list[Rebasing]:
    """Every re-basing price_adjustments found, with what explains it (empty before it has run)."""
    a = price_adjustments
    with engine.connect() as conn:
        rows = conn.execute(
            select(a.c.symbol, a.c.ex_date, a.c.factor, a.c.explanation).order_by(a.c.ex_date, a.c.symbol)
        ).all()
    return [Rebasing(str(s), _as_date(d), None if f is None else float(f), str(e)) for s, d, f, e in rows]


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


# --- rendering ---------------------------------------------------------------------------------------


def render(report: DemoReport) -> str:
    lines: list[str] = ["", "=" * 100, "NEPSE warehouse demo: summary", "=" * 100]
    verdict = {True: "PASS", False: "FAIL", None: "not evaluated"}[report.universe_check_passed]
    lines.append(
        f"Universe: {report.universe_count} listed companies, target {report.universe_target} "
        f"(check {UNIVERSE_CHECK}: {verdict})"
    )
    lines += ["", "Runs (through the Dagster instance):"]
    for run in report.runs:
        status = "ok" if run.success else "FAILED"
        lines.append(f"  {status:<6} {run.seconds:6.1f} s  {run.phase:<9} {run.label}")
        if run.error:
            lines.append(f"         {run.error[:200]}")
    lines += [f"  {'skip':<6} {'':>8}  {'':<9} {item}" for item in report.skipped]

    lines += ["", "Warehouse rows:"]
    width = max((len(name) for name in report.table_rows), default=10)
    lines += [f"  {name:<{width}}  {rows:>9,}" for name, rows in report.table_rows.items()]

    warned = f", {report.checks_warned} warned" if report.checks_warned else ""
    lines += ["", f"Asset checks: {report.checks_passed} passed, {report.checks_failed} failed{warned}"]
    by_check: dict[tuple[str, str], list[CheckOutcome]] = {}
    for check in report.checks:
        by_check.setdefault((check.asset, check.name), []).append(check)
    for (asset, name), checks in sorted(by_check.items()):
        passed = sum(check.passed for check in checks)
        failed = len(checks) - passed
        word = "WARNED" if checks[0].severity == WARN else "FAILED"
        state = f"{passed} passed" + (f", {failed} {word}" if failed else "")
        lines.append(f"  {asset}.{name}: {state}")
    for check in report.checks:
        if not check.passed:
            word = "WARN  " if check.severity == WARN else "FAILED"
            lines.append(f"    {word} {check.asset}.{check.name}: {check.description or ''}")

    lines += ["", *_calls_section(report)]
    lines += ["", f"Wall time: {clock(report.wall_seconds)} ({report.wall_seconds:.1f} s)"]
    if report.previous:
        previous = report.previous
        calls = previous.get("api_calls")
        lines.append(
            f"Previous demo ({previous.get('finished', '?')}): "
            f"{f'{calls:,}' if isinstance(calls, int) else '?'} API calls "
            f"in {float(previous.get('wall_seconds', 0.0)):.1f} s; this one: {report.total_calls:,} calls "
            f"in {report.wall_seconds:.1f} s"
        )

    lines += _rebasings_section(report)
    lines += ["", *_screener_section(report)]
    lines += _past_screen_section(report)
    if report.backtest is not None:
        lines += backtest_lines(report.backtest)
    lines += [f"Note: {note}" for note in report.notes]
    if report.ok:
        lines.append("Result: OK" + (f" ({report.checks_warned} check warning(s), above)" if warned else ""))
    else:
        stopped = "interrupted; " if report.interrupted else ""
        failed = f"{len(report.failed_runs)} run(s) failed, {report.checks_failed} check(s) failed"
        if report.backtest is not None and report.backtest.exit_code != 0:
            failed += ", the backtest failed"
        lines.append(f"Result: {stopped}{failed}")
    return "\n".join(lines)


def _calls_section(report: DemoReport) -> list[str]:
    if report.calls is None:
        return [
            f"API calls to {report.base_url}: {report.total_calls} (as reported by the assets' api_calls "
            "metadata; per-endpoint counts need the demo's own stand-in)"
        ]
    lines = [f"API calls to the stand-in at {report.base_url} (this demo):"]
    lines.append(f"  {'endpoint':<22} {'calls':>7} {'minimum':>8}")
    labels = [label for label in ENDPOINT_ORDER if label in report.calls or label in report.minimum_calls]
    for label in labels:
        minimum = report.minimum_calls.get(label)
        shown = "-" if minimum is None else f"{minimum:,}"
        note = report.minimum_notes.get(label, "overhead" if label in OVERHEAD else "")
        lines.append(f"  {label:<22} {report.calls.get(label, 0):>7,} {shown:>8}  {note}".rstrip())
    data_calls = sum(calls for label, calls in report.calls.items() if label not in OVERHEAD)
    overhead = report.total_calls - data_calls
    lines.append(
        f"  {'total':<22} {report.total_calls:>7,} {sum(report.minimum_calls.values()):>8,}  "
        f"({data_calls:,} data calls + {overhead:,} overhead)"
    )
    return lines


def _screener_section(report: DemoReport) -> list[str]:
    if report.screener_date is None:
        return ["Screener: no prices in the warehouse yet"]
    lines = [
        f"Screener: top {len(report.screener)} by turnover on {report.screener_date} "
        "(the `screener` table; also exported as screener.json; indicators adjusted for bonus/right issues)",
        f"  {'symbol':<9} {'sector':<24} {'close':>9} {'chg %':>7} {'turnover':>15} {'P/E':>7} "
        f"{'RSI 14':>7} {'SMA 20':>9} {'SMA 50':>9} {'SMA 200':>9}  52-week range",
    ]
    for row in report.screener:
        week52 = (
            f"{row.low_52w:,.1f} - {row.high_52w:,.1f}"
            if row.low_52w is not None and row.high_52w is not None
            else "-"
        )
        lines.append(
            f"  {row.symbol:<9} {(row.sector or '-')[:24]:<24} {row.close:>9,.1f} "
            f"{_num(row.change_pct, '+.2f'):>7} "
            f"{row.turnover:>15,.0f} {_num(row.pe, '.1f'):>7} {_num(row.rsi_14, '.1f'):>7} "
            f"{_num(row.sma_20, ',.1f'):>9} {_num(row.sma_50, ',.1f'):>9} "
            f"{_num(row.sma_200, ',.1f'):>9}  {week52}"
        )
    if report.screener and all(row.sma_200 is None for row in report.screener):
        lines.append(
            "  (SMA 200 needs 200 stored sessions and the 52-week range a year: `python -m "
            "ntx_assets_tests.tools.demo --sessions 240` fills them; P/E needs the company's filings)"
        )
    return lines


def _past_screen_section(report: DemoReport) -> list[str]:
    screen = report.past_screen
    if screen is None:
        return []
    return [
        "",
        f"Screening history: the screen as of {screen.session}, knowing only what was known at its close, "
        f"and what its picks did over the next {screen.forward} sessions:",
        f"  $ {screen.command}",
        *(f"  {line}" for line in screen.output.rstrip().splitlines()),
        "",
    ]


def _rebasings_section(report: DemoReport) -> list[str]:
    if not report.rebasings:
        return []
    kinds = Counter(r.explanation for r in report.rebasings)
    unexplained = kinds.get("unexplained", 0)
    lines = [
        "",
        "Re-basings in the stored prices (bonus/right issues; indicators are back-adjusted point in time): "
        f"{len(report.rebasings)}, explained {len(report.rebasings) - unexplained}, "
        f"unexplained {unexplained}",
    ]
    lines += [f"  {r.symbol:<9} {r.ex_date}  {_factor(r.factor)}  {r.explanation}" for r in report.rebasings]
    return lines


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _factor(factor: float | None) -> str:
    return "factor unknown" if factor is None else f"factor {factor:.4f}"
