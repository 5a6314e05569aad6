"""The backtest end to end on the stand-in (SQLite): the warehouse the assets build (universe, prices,
reports, announcements, re-basings, the point-in-time screener), every period against raw SQL on
`adjusted_prices` and the screener table, and no look-ahead through the whole pipeline: a price, a report
and an announcement after t, with the screener materialized again, change no pick of a period from t or
before (and do change a later one)."""

from __future__ import annotations

import datetime as dt
import shutil
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import Engine, insert, text, update

from ntx_assets.defs.corporate_actions.assets import corporate_actions, price_adjustments
from ntx_assets.defs.filings.assets import filings
from ntx_assets.defs.prices.assets import daily_prices, indicators
from ntx_assets.defs.screener.assets import screener
from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.resources import ExportResource
from ntx_assets.screener.backtest import BacktestSpec, run_backtest
from ntx_assets.warehouse import backtest as reads
from ntx_assets.warehouse import create_warehouse_engine
from ntx_assets.warehouse.schema import book_closures
from ntx_assets.warehouse.schema import corporate_actions as actions_table
from ntx_assets.warehouse.schema import daily_prices as prices_table
from ntx_assets.warehouse.schema import filings as filings_table
from ntx_assets_tests.conftest import fast_nepse_resource
from ntx_assets_tests.screener.test_backtest import sql_return
from ntx_assets_tests.tools.harness.resources import QUIET, run_resources
from ntx_assets_tests.tools.standin import StandinServer

ASSETS = [company_universe, daily_prices, indicators, filings, corporate_actions, price_adjustments, screener]
DAYS = 100  # calendar days of prices, as the screener's own end-to-end test: about 56 sessions
SCREEN = BacktestSpec(where="pe is not None and pe < 40", sort="-turnover", limit=5, every=5, hold=5)


@dataclass
class World:
    standin: StandinServer
    url: str
    engine: Engine
    instance: dg.DagsterInstance
    folder: Path
    first: dt.date
    last: dt.date

    def materialize(self, selection: list, url: str | None = None, **kwargs: Any) -> bool:
        exports = ExportResource(directory=str(self.folder / "exports"), logo_base_url=self.standin.base_url)
        resources = run_resources(
            fast_nepse_resource(self.standin.base_url), url or self.url, exports=exports
        )
        return dg.materialize(
            ASSETS,
            selection=selection,
            instance=self.instance,
            resources=resources,
            run_config=QUIET,
            **kwargs,
        ).success

    def sessions(self) -> list[dt.date]:
        return [d for d in self.standin.data.sessions if self.first <= d <= self.last]


def _tags(first: str, last: str) -> dict[str, str]:
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}


@pytest.fixture(scope="module")
def world(standin: StandinServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("backtest")
    url = f"sqlite:///{folder / 'warehouse.db'}"
    last = max(standin.data.sessions)
    first = last - dt.timedelta(days=DAYS)
    with dg.instance_for_test() as instance:
        world = World(standin, url, create_warehouse_engine(url), instance, folder, first, last)
        assert world.materialize([company_universe])
        dates = _tags(first.isoformat(), last.isoformat())
        assert world.materialize([daily_prices, indicators], tags=dates)
        symbols = instance.get_dynamic_partitions("symbol")
        assert world.materialize([filings, corporate_actions], tags=_tags(symbols[0], symbols[-1]))
        assert world.materialize([price_adjustments])
        assert world.materialize([screener], tags=dates)
        yield world
        world.engine.dispose()


def sql_picks(engine: Engine, session: dt.date) -> list[str]:
    """The screen of SCREEN on `session`, in SQL written here."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT symbol FROM screener WHERE session_date = :d AND pe IS NOT NULL AND pe < 40 "
                    "ORDER BY turnover DESC NULLS LAST, symbol LIMIT 5"
                ),
                {"d": session},
            ).scalars()
        )


def test_every_period_equals_an_independent_computation(world: World) -> None:
    result = run_backtest(world.engine, SCREEN)
    sessions = world.sessions()
    assert [p.start for p in result.periods] == [
        day for day in sessions[::5] if sessions.index(day) + 5 < len(sessions)
    ]
    assert len(result.periods) >= 9
    for period in result.periods:
        assert period.end == sessions[sessions.index(period.start) + 5]
        assert period.picks == sql_picks(world.engine, period.start) and len(period.picks) == 5
        expected = statistics.fmean(
            sql_return(world.engine, s, period.start, period.end) for s in period.picks
        )
        assert period.return_ == pytest.approx(expected, rel=1e-9, abs=1e-12)
        with world.engine.connect() as conn:
            everyone = list(
                conn.execute(
                    text(
                        "SELECT s.symbol FROM screener s WHERE s.session_date = :d AND EXISTS ("
                        "SELECT 1 FROM adjusted_prices a WHERE a.security_id = s.security_id "
                        "AND a.business_date <= :d)"
                    ),
                    {"d": period.start},
                ).scalars()
            )
        # The universe's symbols are its current ones, as adjusted_prices' rows keep the traded symbol;
        # compare by what both hold.
        benchmark = statistics.fmean(
            sql_return(world.engine, s, period.start, period.end) for s in everyone if _traded(world, s)
        )
        assert period.universe == len(everyone)
        assert period.benchmark_return == pytest.approx(benchmark, rel=1e-9, abs=1e-12)
    assert result.summary["periods"] == len(result.periods)


def _traded(world: World, symbol: str) -> bool:
    with world.engine.connect() as conn:
        return (
            conn.execute(
                text("SELECT 1 FROM adjusted_prices WHERE symbol = :s LIMIT 1"), {"s": symbol}
            ).first()
            is not None
        )


def test_nothing_after_t_changes_a_pick_of_t_through_the_pipeline(world: World, tmp_path: Path) -> None:
    """In a copy of the warehouse: every price after t moves, the quietest company trades a fortune after
    t, a report and an announcement of it are published after t; the screener is materialized again over
    the whole span. The periods starting on or before t keep their picks; later ones change."""
    before = run_backtest(world.engine, SCREEN)
    sessions = world.sessions()
    t = before.periods[len(before.periods) // 2].start
    world.engine.dispose()
    target = tmp_path / "copy.db"
    shutil.copy(world.url.removeprefix("sqlite:///"), target)
    url = f"sqlite:///{target}"
    engine = create_warehouse_engine(url)
    with engine.begin() as conn:
        quiet = conn.execute(
            text(
                "SELECT security_id, symbol FROM screener WHERE session_date = :d AND pe IS NOT NULL "
                "AND pe < 40 ORDER BY turnover ASC, symbol LIMIT 1"
            ),
            {"d": t},
        ).one()
        conn.execute(
            update(prices_table)
            .where(prices_table.c.business_date > t)
            .values(close=prices_table.c.close * 1.05)
        )
        conn.execute(
            update(prices_table)
            .where(prices_table.c.business_date > t, prices_table.c.security_id == quiet.security_id)
            .values(turnover=prices_table.c.turnover * 1e6)
        )
        announced = t + dt.timedelta(days=1)
        conn.execute(
            insert(filings_table).values(
                report_id=99_100_001,
                security_id=quiet.security_id,
                symbol=quiet.symbol,
                report_type="annual",
                fiscal_year="2030-2031",
                fiscal_year_nepali="2087-2088",
                eps=1000.0,  # P/E far below 40: the company stays in the screen after t
                net_worth_per_share=100.0,
                known_on=announced,
            )
        )
        conn.execute(
            insert(actions_table).values(
                source="dividend_notice",
                nepse_id=99_100_002,
                security_id=quiet.security_id,
                symbol=quiet.symbol,
                fiscal_year="2082-2083",
                announced_on=announced,
                cash_dividend_pct=90.0,
            )
        )
        conn.execute(
            insert(book_closures).values(
                source="agm_notice",
                nepse_id=99_100_003,
                security_id=quiet.security_id,
                symbol=quiet.symbol,
                announced_on=announced,
                book_close_date=sessions[-1],
                cash_dividend_pct=90.0,
            )
        )
    assert world.materialize([screener], url=url, tags=_tags(world.first.isoformat(), world.last.isoformat()))
    after = run_backtest(engine, SCREEN)
    engine.dispose()
    assert [p.start for p in after.periods] == [p.start for p in before.periods]
    for old, new in zip(before.periods, after.periods, strict=True):
        if old.start <= t:
            assert new.picks == old.picks, old.start
    later = [(old, new) for old, new in zip(before.periods, after.periods, strict=True) if old.start > t]
    assert later and all(new.picks[0] == quiet.symbol != old.picks[0] for old, new in later)


def test_the_adjusted_closes_read_equal_the_adjusted_prices_view(world: World) -> None:
    """The backtest reads adjusted closes by the view's rule from daily_prices and price_adjustments (one
    read, not the view's subquery per row): row for row the view's, across the stand-in's re-basings."""
    with world.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM price_adjustments")).scalar_one() > 0
        ours = reads.adjusted_prices(conn, world.first, world.last)
        view = conn.execute(
            text(
                "SELECT security_id, business_date, close, factor_to_latest FROM adjusted_prices "
                "WHERE business_date >= :a AND business_date <= :b"
            ),
            {"a": world.first, "b": world.last},
        ).all()
    expected = {(int(s), str(d)[:10]): (float(c), float(f)) for s, d, c, f in view}
    inside = ours[ours["business_date"] >= str(world.first)]
    # Every re-basing of the stand-in has a known factor: one basis, the view's latest.
    assert set(inside["basis"]) == {0}
    got = {
        (int(s), d.date().isoformat()): (float(c), float(f))
        for s, d, c, f, _basis in inside.itertuples(index=False)
    }
    assert got.keys() == expected.keys()
    rebased = [key for key, (_, factor) in expected.items() if factor != 1.0]
    assert rebased  # the comparison covers rows before a re-basing
    for key, (close, factor) in expected.items():
        assert got[key] == (pytest.approx(close, rel=1e-12), pytest.approx(factor, rel=1e-12)), key
