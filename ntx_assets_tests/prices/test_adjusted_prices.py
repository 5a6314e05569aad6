"""Corporate actions and adjusted prices end to end: the stand-in's book closures (seeded bonus issues, a
1:1 right, a bonus with a right, an idle company, cash dividends) through daily_prices, corporate_actions,
price_adjustments and indicators, on SQLite and PostgreSQL.

Expected values come from the stand-in's own record of what it did (`standin.data.book_closures`: terms,
the close before the closure, the base it served), never from the product's detection; the indicators are
checked against TA-Lib on a series back-adjusted here with those factors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, select, text

from ntx_assets.corporate_actions.announcements import BONUS, BONUS_AND_RIGHT, RIGHT, UNEXPLAINED
from ntx_assets.defs.corporate_actions.assets import REBASINGS_EXPLAINED, corporate_actions, price_adjustments
from ntx_assets.defs.partitions import session_date_partitions
from ntx_assets.defs.prices.assets import daily_prices, indicators
from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.warehouse import create_warehouse_engine
from ntx_assets.warehouse.schema import book_closures as book_closures_table
from ntx_assets.warehouse.schema import corporate_actions as actions_table
from ntx_assets.warehouse.schema import daily_prices as prices_table
from ntx_assets.warehouse.schema import indicators as indicators_table
from ntx_assets.warehouse.schema import price_adjustments as adjustments_table
from ntx_assets.warehouse.schema import security_shares as shares_table
from ntx_assets_tests.conftest import PG_ADMIN_URL, fast_nepse_resource
from ntx_assets_tests.pinned import PINNED_TODAY
from ntx_assets_tests.prices.talib_reference import talib_reference
from ntx_assets_tests.prices.test_daily_prices import range_tags
from ntx_assets_tests.tools.bench.warehouse import scratch_postgres
from ntx_assets_tests.tools.harness.resources import run_resources
from ntx_assets_tests.tools.standin import StandinConfig, StandinServer, running_standin

ASSETS = [company_universe, daily_prices, indicators, corporate_actions, price_adjustments]
FIRST_PARTITION = str(session_date_partitions.get_first_partition_key())
KIND = {"bonus": BONUS, "right": RIGHT, "bonus_right": BONUS_AND_RIGHT}


@pytest.fixture(scope="module")
def standin() -> Iterator[StandinServer]:
    """A stand-in whose prices are all its own walk (no archived company's real prices): these tests take
    every re-basing from its record of the book closures it planned. The archive's real re-basings and the
    junction with it: ntx_assets_tests/standin/test_archive.py and ntx_assets_tests/archive/."""
    with running_standin(StandinConfig(seed=7, end_date=PINNED_TODAY, archive_dir=None)) as server:
        yield server


@dataclass
class World:
    standin: StandinServer
    url: str
    engine: Engine
    instance: dg.DagsterInstance

    def resources(self) -> dict[str, object]:
        return run_resources(fast_nepse_resource(self.standin.base_url), self.url)

    def materialize(self, selection: list, **kwargs: object) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            ASSETS, selection=selection, instance=self.instance, resources=self.resources(), **kwargs
        )

    def frame(self, query) -> pd.DataFrame:  # type: ignore[no-untyped-def]
        with self.engine.connect() as conn:
            return pd.DataFrame(conn.execute(query).mappings().all())


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(
    request: pytest.FixtureRequest, standin: StandinServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """Every session of the stand-in's window loaded, announcements of the event companies, adjustments."""
    if request.param == "sqlite":
        yield from _world(standin, f"sqlite:///{tmp_path_factory.mktemp('adjusted') / 'warehouse.db'}")
    else:
        with scratch_postgres(PG_ADMIN_URL) as url:
            yield from _world(standin, url)


def _world(standin: StandinServer, url: str) -> Iterator[World]:
    with dg.instance_for_test() as instance:
        world = World(standin, url, create_warehouse_engine(url), instance)
        assert world.materialize([company_universe]).success
        last = max(d for d in standin.data.sessions if d < standin.data.end_date)
        first = max(standin.data.start_date, dt.date.fromisoformat(FIRST_PARTITION))
        prices = world.materialize([daily_prices, indicators], tags=range_tags(first, last))
        assert prices.success
        symbols = sorted({event.symbol for event in standin.data.book_closures})
        for symbol in symbols:
            assert world.materialize([corporate_actions], partition_key=symbol).success
        assert world.materialize([price_adjustments]).success
        yield world
        world.engine.dispose()


def rebasing_events(standin: StandinServer) -> list:
    return [event for event in standin.data.book_closures if event.rebases]


def test_every_rebasing_the_standin_made_is_found_and_explained(world: World) -> None:
    found = world.frame(select(adjustments_table).order_by("security_id", "ex_date"))
    expected = sorted(rebasing_events(world.standin), key=lambda e: (e.security_id, e.ex_date))
    assert len(expected) >= 5
    assert [(int(r.security_id), r.ex_date) for r in found.itertuples()] == [
        (e.security_id, e.ex_date) for e in expected
    ]
    for row, event in zip(found.itertuples(), expected, strict=True):
        assert row.factor == pytest.approx(event.adjusted_base / event.prior_close, rel=1e-9)
        assert row.prior_close == pytest.approx(event.prior_close)
        assert row.explanation == KIND[event.kind], (event, row)
        assert row.expected_base == pytest.approx(event.adjusted_base, abs=0.01)
    # Cash dividends announced, but no re-basing: nothing found for them.
    cash_only = {e.security_id for e in world.standin.data.book_closures if not e.rebases}
    assert cash_only and not cash_only & set(found["security_id"])
    # The announcements are stored keyed on NEPSE's ids, from both endpoints.
    actions = world.frame(select(actions_table))
    assert set(actions["source"]) == {"corporate_action", "dividend_notice"}
    assert actions[["source", "nepse_id"]].duplicated().sum() == 0


def test_indicators_are_talib_on_the_point_in_time_adjusted_series(world: World) -> None:
    prices = world.frame(select(prices_table).order_by("business_date"))
    stored = world.frame(select(indicators_table)).set_index(["security_id", "business_date"])
    for event in rebasing_events(world.standin):
        history = prices[prices["security_id"] == event.security_id].reset_index(drop=True)
        factor = event.adjusted_base / event.prior_close
        later = [e for e in rebasing_events(world.standin) if e.security_id == event.security_id]
        for day in (_session_before(history, event.ex_date), event.ex_date, history["business_date"].max()):
            # Independently: every re-basing up to `day`, applied with the stand-in's own factors.
            upto = history[history["business_date"] <= day].copy()
            multiplier = np.ones(len(upto))
            for other in later:
                if other.ex_date <= day:
                    before = (upto["business_date"] < other.ex_date).to_numpy()
                    multiplier[before] *= other.adjusted_base / other.prior_close
            series = {
                "high": upto["high"].to_numpy(float) * multiplier,
                "low": upto["low"].to_numpy(float) * multiplier,
                "close": upto["close"].to_numpy(float) * multiplier,
                "volume": upto["volume"].to_numpy(float) / multiplier,
            }
            reference = talib_reference(series)
            row = stored.loc[(event.security_id, day)]
            for column in ("sma_20", "rsi_14", "ema_26", "atr_14", "bb_upper"):
                want = reference[column][-1]
                if np.isnan(want):
                    assert row[column] is None or np.isnan(row[column]), (event.symbol, day, column)
                else:
                    assert row[column] == pytest.approx(want, rel=1e-7), (event.symbol, day, column)
            assert row["high_52w"] == pytest.approx(series["high"].max(), rel=1e-9)
        assert factor < 1


def test_the_adjusted_prices_view_is_in_todays_basis(world: World) -> None:
    for event in rebasing_events(world.standin):
        with world.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT p.business_date, p.close AS raw, a.close AS adjusted FROM daily_prices p "
                    "JOIN adjusted_prices a ON a.security_id = p.security_id "
                    "AND a.business_date = p.business_date WHERE p.security_id = :id ORDER BY 1"
                ),
                {"id": event.security_id},
            ).all()
        later = [e for e in rebasing_events(world.standin) if e.security_id == event.security_id]
        for day, raw, adjusted in rows:
            day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
            factor = np.prod([e.adjusted_base / e.prior_close for e in later if e.ex_date > day])
            assert adjusted == pytest.approx(float(raw) * factor, rel=1e-9), (event.symbol, day)
        # The close before the closure, in today's basis, is the base NEPSE served, for the last event.
        if event is later[-1]:
            by_day = {(d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))): a for d, _, a in rows}
            assert by_day[event.book_close_date] == pytest.approx(event.adjusted_base, abs=0.006)


def test_rerunning_changes_nothing(world: World) -> None:
    before = world.frame(select(adjustments_table).order_by("security_id", "ex_date"))
    symbol = rebasing_events(world.standin)[0].symbol
    again = world.materialize([corporate_actions], partition_key=symbol)
    actions = again.asset_materializations_for_node("corporate_actions")[0].metadata
    assert actions["rows_inserted"].value == 0 and actions["rows_updated"].value == 0
    rerun = world.materialize([price_adjustments])
    meta = rerun.asset_materializations_for_node("price_adjustments")[0].metadata
    assert (meta["rows_inserted"].value, meta["rows_updated"].value, meta["removed"].value) == (0, 0, 0)
    pd.testing.assert_frame_equal(
        world.frame(select(adjustments_table).order_by("security_id", "ex_date")), before
    )


def test_an_injected_unexplained_rebasing_is_flagged_then_cleared(world: World) -> None:
    """A previous close NEPSE served 20% below the stored close, with no announcement behind it: the check
    WARNs naming symbol, date and factor; once NEPSE serves the corrected row, it is gone again."""
    standin = world.standin
    events = {e.security_id for e in standin.data.book_closures}
    day = standin.data.sessions[-10]
    row = next(
        r for r in standin.data.today_prices(day) if r["securityId"] not in events and _included(world, r)
    )
    spoiled = round(row["previousDayClosePrice"] * 0.8, 2)
    try:
        standin.data.amend_today_price(day, row["securityId"], previousDayClosePrice=spoiled)
        assert world.materialize([daily_prices], partition_key=day.isoformat()).success
        flagged = world.materialize([price_adjustments])
    finally:
        standin.data.restore_today_prices(day)
    check = next(c for c in flagged.get_asset_check_evaluations() if c.check_name == REBASINGS_EXPLAINED)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    examples = check.metadata["unexplained_examples"].value
    assert any(row["symbol"] in e and day.isoformat() in e and "factor 0.8" in e for e in examples), examples
    found = world.frame(select(adjustments_table).where(adjustments_table.c.explanation == UNEXPLAINED))
    assert list(found["symbol"]) == [row["symbol"]]

    assert world.materialize([daily_prices], partition_key=day.isoformat()).success
    healed = world.materialize([price_adjustments])
    check = next(c for c in healed.get_asset_check_evaluations() if c.check_name == REBASINGS_EXPLAINED)
    assert check.passed
    meta = healed.asset_materializations_for_node("price_adjustments")[0].metadata
    assert meta["removed"].value == 1


def _session_before(history: pd.DataFrame, day: dt.date) -> dt.date:
    return history.loc[history["business_date"] < day, "business_date"].max()


def _included(world: World, row: dict) -> bool:
    with world.engine.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT included FROM companies WHERE security_id = :id"), {"id": row["securityId"]}
            ).scalar()
        )


def test_book_closures_and_share_counts_are_stored_as_nepse_announced_them(world: World) -> None:
    """Each event company's AGM notices become book_closures rows (only those with a book-close date),
    and its security detail one security_shares row of the day it was fetched (the pinned today)."""
    stored = world.frame(select(book_closures_table))
    shares = world.frame(select(shares_table))
    for event in world.standin.data.book_closures:
        served = world.standin.data.agm_notices(event.security_id)
        expected = {
            (
                row["id"],
                dt.date.fromisoformat(row["companyNews"]["addedDate"][:10]),
                dt.date.fromisoformat(row["companyNews"]["agmNotice"]["bookCloseDate"]),
                row["companyNews"]["agmNotice"].get("bonusShare") or 0.0,
                row["companyNews"]["agmNotice"].get("cashDividend") or 0.0,
            )
            for row in served
            if row["companyNews"]["agmNotice"].get("bookCloseDate")
        }
        mine = stored[stored["security_id"] == event.security_id]
        mine = mine.fillna({"bonus_pct": 0.0, "cash_dividend_pct": 0.0})
        columns = ["nepse_id", "announced_on", "book_close_date", "bonus_pct", "cash_dividend_pct"]
        assert set(mine[columns].itertuples(index=False, name=None)) == expected
        assert event.book_close_date in set(mine["book_close_date"])  # the seeded closure itself
        detail = world.standin.data.security_detail(event.security_id)
        assert detail is not None
        row = shares[shares["security_id"] == event.security_id].iloc[0]
        assert row["fetched_on"] == world.standin.data.end_date
        assert (row["listed_shares"], row["promoter_shares"], row["public_shares"]) == (
            round(detail["stockListedShares"]),
            round(detail["promoterShares"]),
            detail["publicShares"],
        )
