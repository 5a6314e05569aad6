"""run_backtest: a screen's backtest on a warehouse (reads, then the pure engine and summary)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, inspect

from ntx_assets.screener.backtest.engine import (
    BacktestError,
    Market,
    Options,
    Period,
    plan_periods,
    run_periods,
)
from ntx_assets.screener.backtest.summary import summarize
from ntx_assets.screener.query import order_by, where_clause
from ntx_assets.warehouse import backtest as reads
from ntx_assets.warehouse.queries import price_sessions_between
from ntx_assets.warehouse.schema import screener
from ntx_assets.warehouse.screener import screener_sessions

COSTS = ("none", "nepse")
RETURNS = ("total", "price")
BENCHMARKS = ("universe", "index")


@dataclass(frozen=True)
class BacktestSpec:
    """What to backtest: the screen (`where`, `sort`, `limit`: the screener command's rules; limit 0 for
    every row that passes), the span (`start`/`end`, default the first and last stored screener sessions),
    rebalancing on every `every`-th stored screener session and holding `hold` price sessions, `costs`
    none|nepse, `returns` total|price, `benchmark` universe|index, and the NPR `capital` each rebalance
    trades (the commission slabs depend on the trade size)."""

    where: str | None = None
    sort: str = "-turnover"
    limit: int = 20
    start: dt.date | None = None
    end: dt.date | None = None
    every: int = 20
    hold: int = 20
    costs: str = "none"
    returns: str = "total"
    benchmark: str = "universe"
    capital: float = 1_000_000.0

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("costs", self.costs, COSTS),
            ("returns", self.returns, RETURNS),
            ("benchmark", self.benchmark, BENCHMARKS),
        ):
            if value not in allowed:
                raise BacktestError(f"--{name} must be one of {', '.join(allowed)} (got {value!r})")
        if self.every < 1 or self.hold < 1:
            raise BacktestError(f"--every and --hold must be >= 1 (got {self.every} and {self.hold})")
        if self.limit < 0:
            raise BacktestError(f"--limit must be >= 0 (got {self.limit})")
        if self.capital <= 0:
            raise BacktestError(f"--capital must be positive (got {self.capital})")
        if self.start and self.end and self.start > self.end:
            raise BacktestError(f"--from {self.start} is after --to {self.end}")


@dataclass
class BacktestResult:
    """The periods (each with its picks, return and benchmark return) and the summary figures."""

    spec: BacktestSpec
    periods: list[Period]
    summary: dict[str, Any]
    incomplete: list[dt.date] = field(default_factory=list)  # rebalances whose period ends after --to

    def as_json(self) -> dict[str, Any]:
        """`{"spec", "periods": [{"start", "end", "picks", "return", "benchmark_return", ...}], "summary",
        "incomplete"}`, JSON-ready (dates as ISO text, returns as fractions)."""
        spec = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in asdict(self.spec).items()}
        return {
            "spec": spec,
            "periods": [p.as_json() for p in self.periods],
            "summary": self.summary,
            "incomplete": [day.isoformat() for day in self.incomplete],
        }


def run_backtest(conn_or_engine: Connection | Engine, spec: BacktestSpec) -> BacktestResult:
    """Backtest `spec` on the warehouse behind `conn_or_engine` (SQLite or PostgreSQL).

    Raises QueryError (ntx_assets.screener.query) for a bad --where / --sort, and BacktestError when the
    warehouse cannot answer (no screener rows in the span, --benchmark index without an index table).
    """
    # A bad expression fails before any read, naming the problem.
    if spec.where:
        where_clause(spec.where, screener)
    order_by(spec.sort, screener)
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return _run(conn, spec)
    return _run(conn_or_engine, spec)


def _run(conn: Connection, spec: BacktestSpec) -> BacktestResult:
    if not inspect(conn).has_table(screener.name):
        raise BacktestError("the warehouse has no screener table yet: materialize the `screener` asset")
    stored = screener_sessions(conn)
    if not stored:
        raise BacktestError("the screener holds no session yet: backfill the `screener` asset first")
    first, last = spec.start or stored[0], spec.end or stored[-1]
    sessions = reads.screener_sessions_between(conn, first, last)
    if not sessions:
        raise BacktestError(
            f"no screener session is stored from {first} to {last} (stored: {stored[0]} to {stored[-1]})"
        )
    index = None
    if spec.benchmark == "index":
        index = reads.nepse_index_closes(conn)
        if index is None:
            raise BacktestError(
                f"--benchmark index needs NEPSE's index history, and this warehouse has no "
                f"`{reads.NEPSE_INDEX_TABLE}` table: migrate the warehouse, materialize the "
                "`nepse_index` asset, or use --benchmark universe"
            )
        if index.empty:
            raise BacktestError(
                f"--benchmark index: no index history is stored in `{reads.NEPSE_INDEX_TABLE}`: "
                "materialize the `nepse_index` asset first (NEPSE serves about one year of it), or use "
                "--benchmark universe"
            )
    price_sessions = price_sessions_between(conn, sessions[0], last)
    plan, incomplete = plan_periods(sessions, price_sessions, spec.every, spec.hold)
    picks = {p.start: reads.screen_picks(conn, p.start, spec.where, spec.sort, spec.limit) for p in plan}
    universe = reads.universes(conn, [p.start for p in plan])
    if plan:
        span = (plan[0].start, max(p.end for p in plan))
        market = Market(
            prices=reads.adjusted_prices(conn, *span),
            raw=reads.raw_closes_on(conn, [p.start for p in plan]) if spec.costs == "nepse" else _no_rows(),
            dividends=reads.cash_dividends(conn, *span) if spec.returns == "total" else _no_dividends(),
            index=index,
        )
    else:
        market = Market(_no_rows(), _no_rows(), _no_dividends(), index)
    options = Options(
        costs=spec.costs == "nepse",
        total_returns=spec.returns == "total",
        benchmark=spec.benchmark,
        capital=spec.capital,
    )
    periods = run_periods(plan, picks, universe, market, options)
    return BacktestResult(spec, periods, summarize(periods), incomplete)


def _no_rows() -> pd.DataFrame:
    return pd.DataFrame(
        columns=["security_id", "business_date", "close", "previous_close", "factor", "basis"]
    )


def _no_dividends() -> pd.DataFrame:
    return pd.DataFrame(columns=["security_id", "book_close_date", "cash_dividend_pct"])
