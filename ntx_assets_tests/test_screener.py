"""The screener end to end on the stand-in: the table against an independent computation from the stored
rows, the exports, the checks, and the query command (filter, sort, errors)."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, select, text

from ntx_assets.defs.company_universe import company_universe
from ntx_assets.defs.corporate_actions import corporate_actions, price_adjustments
from ntx_assets.defs.daily_prices import daily_prices
from ntx_assets.defs.filings import filings
from ntx_assets.defs.indicators import indicators
from ntx_assets.defs.screener import ONE_ROW_PER_COMPANY, RATIOS_FINITE, ROWS_CURRENT, screener
from ntx_assets.resources import ExportResource
from ntx_assets.screener.__main__ import main as screener_command
from ntx_assets.warehouse import create_warehouse_engine
from ntx_assets.warehouse.schema import companies
from ntx_assets.warehouse.schema import daily_prices as prices_table
from ntx_assets.warehouse.schema import filings as filings_table
from ntx_assets.warehouse.schema import screener as screener_table
from ntx_assets_tests.conftest import fast_nepse_resource
from ntx_assets_tests.talib_reference import talib_reference
from ntx_assets_tests.test_daily_prices import range_tags
from ntx_assets_tests.tools.harness.resources import run_resources
from ntx_assets_tests.tools.standin import StandinServer

ASSETS = [company_universe, daily_prices, indicators, filings, corporate_actions, price_adjustments, screener]
DAYS = 75  # calendar days of prices: enough for SMA 20 and the 20-session return, with re-basings inside
WITH_REPORTS = ("NABIL", "JBLB", "SMB", "NMBMF", "SCB")


@dataclass
class World:
    standin: StandinServer
    url: str
    engine: Engine
    instance: dg.DagsterInstance
    exports: Path
    run: dg.ExecuteInProcessResult | None = None

    def materialize(self, selection: list, **kwargs: object) -> dg.ExecuteInProcessResult:
        resources = run_resources(
            fast_nepse_resource(self.standin.base_url),
            self.url,
            exports=ExportResource(directory=str(self.exports)),
        )
        return dg.materialize(
            ASSETS, selection=selection, instance=self.instance, resources=resources, **kwargs
        )

    def table(self) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return pd.DataFrame(conn.execute(select(screener_table)).mappings().all()).set_index("symbol")


@pytest.fixture(scope="module")
def world(standin: StandinServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("screener")
    url = f"sqlite:///{folder / 'warehouse.db'}"
    with dg.instance_for_test() as instance:
        world = World(standin, url, create_warehouse_engine(url), instance, folder / "exports")
        assert world.materialize([company_universe]).success
        last = max(d for d in standin.data.sessions if d < standin.data.end_date)
        tags = range_tags(last - dt.timedelta(days=DAYS), last)
        assert world.materialize([daily_prices, indicators], tags=tags).success
        events = {e.symbol for e in standin.data.book_closures if e.ex_date > last - dt.timedelta(days=DAYS)}
        for symbol in sorted(events | set(WITH_REPORTS)):
            assert world.materialize([corporate_actions], partition_key=symbol).success
        for symbol in WITH_REPORTS:
            assert world.materialize([filings], partition_key=symbol).success
        assert world.materialize([price_adjustments]).success
        world.run = world.materialize([screener])
        assert world.run.success
        yield world
        world.engine.dispose()


def test_one_row_per_included_company_and_the_checks_pass(world: World) -> None:
    table = world.table()
    with world.engine.connect() as conn:
        included = set(conn.execute(select(companies.c.symbol).where(companies.c.included)).scalars())
    assert set(table.index) == included and len(table) == len(included) == 259
    assert world.run is not None
    checks = {c.check_name: c for c in world.run.get_asset_check_evaluations()}
    assert checks[ONE_ROW_PER_COMPANY].passed and checks[RATIOS_FINITE].passed
    assert checks[ROWS_CURRENT].passed, checks[ROWS_CURRENT].metadata
    meta = world.run.asset_materializations_for_node("screener")[0].metadata
    assert meta["top_by_turnover"].value.count("\n") == 11  # header, rule, ten rows
    assert meta["field_coverage"].value["pe"] >= 1


def test_the_table_equals_an_independent_computation_from_the_stored_rows(world: World) -> None:
    table = world.table()
    with world.engine.connect() as conn:
        prices = pd.DataFrame(conn.execute(select(prices_table)).mappings().all())
        reports = pd.DataFrame(conn.execute(select(filings_table)).mappings().all())
        shares = dict(conn.execute(select(companies.c.symbol, companies.c.listed_shares)).all())
        adjusted = pd.DataFrame(
            conn.execute(
                text("SELECT security_id, business_date, high, low, close, volume FROM adjusted_prices")
            )
            .mappings()
            .all()
        )
    for symbol in WITH_REPORTS:
        row = table.loc[symbol]
        mine = prices[prices["symbol"] == symbol].sort_values("business_date")
        last = mine.iloc[-1]
        assert row["as_of"] == last["business_date"] and row["close"] == pytest.approx(last["close"])
        assert row["change_pct"] == pytest.approx((last["close"] / last["previous_close"] - 1) * 100)
        # Market cap: listed shares x close, and NEPSE's own figure (millions of NPR) agrees.
        assert row["market_cap"] == pytest.approx(shares[symbol] * last["close"])
        assert row["nepse_market_cap"] == pytest.approx(row["market_cap"], rel=1e-5)
        # Fundamentals: the latest report, ranked here by (fiscal year, quarter; annual after Q4).
        own = reports[reports["symbol"] == symbol].copy()
        own["rank"] = np.where(own["report_type"] == "annual", 5, own["quarter"].fillna(0))
        latest = own.sort_values(["fiscal_year", "rank"]).iloc[-1]
        assert row["fiscal_year"] == latest["fiscal_year"]
        assert row["eps_annualized"] == pytest.approx(latest["eps"])
        expected_pe = last["close"] / latest["eps"] if latest["eps"] > 0 else None
        assert (row["pe"] is None) == (expected_pe is None) or np.isnan(row["pe"]) == (expected_pe is None)
        if expected_pe is not None:
            assert row["pe"] == pytest.approx(expected_pe)
        assert row["pb"] == pytest.approx(last["close"] / latest["net_worth_per_share"])
        assert row["roe"] == pytest.approx(latest["eps"] / latest["net_worth_per_share"])
        # Technicals: TA-Lib on the series in today's basis (the adjusted_prices view).
        series = adjusted[adjusted["security_id"] == last["security_id"]].sort_values("business_date")
        reference = talib_reference(
            {k: series[k].to_numpy(float) for k in ("high", "low", "close", "volume")}
        )
        for column in ("sma_20", "rsi_14", "bb_upper", "atr_14"):
            assert row[column] == pytest.approx(reference[column][-1], rel=1e-7), (symbol, column)
        closes = series["close"].to_numpy(float)
        assert row["return_5d"] == pytest.approx(closes[-1] / closes[-6] - 1)
        assert row["return_20d"] == pytest.approx(closes[-1] / closes[-21] - 1)
        assert row["volume_vs_20d"] == pytest.approx(last["volume"] / reference["volume_sma_20"][-1])


def test_corporate_actions_and_a_company_without_reports(world: World) -> None:
    table = world.table()
    right = next(e for e in world.standin.data.book_closures if e.symbol == "JBLB")
    row = table.loc["JBLB"]
    assert row["last_bonus_pct"] == pytest.approx(right.bonus_pct)
    assert row["last_right_ratio"] == pytest.approx(right.right_pct / 100)
    # A company whose filings were never fetched: NULL fundamentals, not 0.
    bare = table.drop(index=list(WITH_REPORTS)).iloc[0]
    for column in ("eps_annualized", "pe", "pb", "roe", "fiscal_year", "book_value_per_share"):
        assert bare[column] is None or (isinstance(bare[column], float) and np.isnan(bare[column])), column
    cash = next(e for e in world.standin.data.book_closures if e.kind == "cash" and e.symbol in table.index)
    if cash.symbol in table.index and not np.isnan(table.loc[cash.symbol, "last_cash_dividend_pct"]):
        assert table.loc[cash.symbol, "dividend_yield"] == pytest.approx(
            cash.cash_pct / table.loc[cash.symbol, "close"]
        )


def test_the_exports_parse_and_match_the_table(world: World) -> None:
    table = world.table()
    document = json.loads((world.exports / "screener.json").read_text())
    assert document["schema_version"] == 1 and document["as_of"] == str(table["as_of"].max())
    rows = {row["symbol"]: row for row in document["rows"]}
    assert set(rows) == set(table.index)
    nabil = rows["NABIL"]
    assert nabil["close"] == pytest.approx(table.loc["NABIL", "close"])
    assert nabil["pe"] == pytest.approx(table.loc["NABIL", "pe"])
    companies_document = json.loads((world.exports / "companies.json").read_text())
    assert [set(c) for c in companies_document["companies"][:1]] == [
        {"security_id", "symbol", "name", "sector", "description", "logo_url", "website", "listing_date"}
    ]
    assert len(companies_document["companies"]) == len(table)
    assert not list(world.exports.glob(".*"))  # no temporary file left behind
    assert (world.exports / "screener.json").stat().st_mode & 0o777 == 0o644  # readable by the app


def command(world: World, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = screener_command(["--database-url", world.url, *args], out=out)
    return code, out.getvalue()


def test_the_command_filters_sorts_and_formats(world: World) -> None:
    table = world.table()
    code, out = command(world, "--where", "pe < 40 and rsi_14 > 0", "--sort", "-turnover", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    expected = table[(table["pe"] < 40) & (table["rsi_14"] > 0)].sort_values("turnover", ascending=False)
    assert [r["symbol"] for r in rows] == list(expected.index[:20])
    code, out = command(
        world,
        "--where",
        'sector == "Commercial Banks"',
        "--sort",
        "symbol",
        "--limit",
        "3",
        "--format",
        "csv",
        "--columns",
        "symbol,close",
    )
    assert code == 0
    lines = out.strip().splitlines()
    banks = sorted(table[table["sector"] == "Commercial Banks"].index)[:3]
    assert lines[0] == "symbol,close" and [line.split(",")[0] for line in lines[1:]] == banks
    code, out = command(world, "--where", "pe is not None", "--limit", "0")
    assert code == 0 and out.strip().endswith(f"({int(table['pe'].notna().sum())} rows)")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--where", "pe < "], "is not a valid expression"),
        (["--where", "p_e < 15"], "there is no column 'p_e'. The screener's columns are: security_id"),
        (["--where", "__import__('os')"], "is not a condition"),
        (["--where", "pe < close.real"], "is not allowed"),
        (["--sort", "-turnovr"], "there is no column 'turnovr'"),
    ],
)
def test_the_command_names_a_bad_expression_or_column(
    world: World, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = command(world, *args)
    assert code == 2
    assert message in capsys.readouterr().err
