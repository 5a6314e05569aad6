"""screener: one table, one row per included company, and the JSON exports an app reads as they are.

No API call: it joins what the other assets stored (companies, the latest prices, the adjusted
indicators, the latest report, the announced corporate actions) through `ntx_assets.screener.table`,
rewrites the `screener` table in one transaction, then writes `screener.json` and `companies.json`
atomically under NTX_EXPORT_DIR. Declarative automation runs it after any of its inputs updates.
"""

import datetime as dt
import math
import time
from collections.abc import Iterator

import dagster as dg
import pandas as pd
from sqlalchemy import Connection, and_, column, delete, func, select, table

from ntx_assets.defs.automation import when_upstream_updates
from ntx_assets.defs.company_universe import company_universe
from ntx_assets.defs.corporate_actions import corporate_actions, price_adjustments
from ntx_assets.defs.daily_prices import daily_prices
from ntx_assets.defs.filings import filings
from ntx_assets.defs.indicators import indicators
from ntx_assets.resources import ExportResource, NepseResource, WarehouseResource
from ntx_assets.screener.exports import company_rows, export_document, write_json
from ntx_assets.screener.table import as_records, screener_frame
from ntx_assets.warehouse.queries import read_frame
from ntx_assets.warehouse.schema import ADJUSTED_PRICES_VIEW, companies
from ntx_assets.warehouse.schema import corporate_actions as actions_table
from ntx_assets.warehouse.schema import daily_prices as prices_table
from ntx_assets.warehouse.schema import filings as filings_table
from ntx_assets.warehouse.schema import indicators as indicators_table
from ntx_assets.warehouse.schema import screener as screener_table

ONE_ROW_PER_COMPANY = "screener_one_row_per_included_company"
ROWS_CURRENT = "screener_rows_current"
RATIOS_FINITE = "screener_ratios_finite"
STALE_SESSIONS = 5
# Calendar days of adjusted closes read for the 20-session return: 20 sessions plus the longest holiday
# run (Dashain-Tihar closes the market for about ten days).
RETURN_WINDOW_DAYS = 60
TOP_ROWS = 10
# ratio -> the inputs that must be present and positive for it to be defined
RATIO_INPUTS = {
    "pe": ("close", "eps_annualized"),
    "pb": ("close", "book_value_per_share"),
    "roe": ("book_value_per_share",),
    "market_cap": ("close", "listed_shares"),
    "dividend_yield": ("close", "last_cash_dividend_pct"),
    "change_pct": ("close", "previous_close"),
}

SCREENER_AUTOMATION = when_upstream_updates(
    "prices, indicators, filings, corporate actions or the universe updated"
)

_adjusted = table(ADJUSTED_PRICES_VIEW, column("security_id"), column("business_date"), column("close"))


@dg.asset(
    deps=[company_universe, daily_prices, indicators, filings, corporate_actions, price_adjustments],
    automation_condition=SCREENER_AUTOMATION,
    group_name="screener",
    kinds={"python", "sql", "json"},
    description=(
        "One row per included company: identity, latest session (close, change vs NEPSE's previous "
        "close, volume, turnover, market cap), adjusted technicals, fundamentals of the latest report "
        "(annualized EPS, P/E, P/B, ROE), the latest bonus/right/cash dividend and dividend yield. Also "
        "exported as screener.json and companies.json under NTX_EXPORT_DIR. No API call."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            ONE_ROW_PER_COMPANY, asset="screener", description="Exactly one row per included company."
        ),
        dg.AssetCheckSpec(
            ROWS_CURRENT,
            asset="screener",
            description=f"Rows whose latest session is more than {STALE_SESSIONS} sessions behind (WARN).",
        ),
        dg.AssetCheckSpec(
            RATIOS_FINITE,
            asset="screener",
            description="P/E, P/B, ROE, market cap, dividend yield and change are finite wherever their "
            "inputs exist.",
        ),
    ],
)
def screener(
    warehouse: WarehouseResource, nepse: NepseResource, exports: ExportResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    started = time.monotonic()
    with warehouse.engine.connect() as conn:
        inputs = _inputs(conn)
        sessions = [d for (d,) in conn.execute(select(prices_table.c.business_date).distinct())]
    frame = screener_frame(*inputs, logo_base_url=nepse.base_url)
    rows = as_records(frame)
    with warehouse.engine.begin() as conn:
        conn.execute(delete(screener_table))
        if rows:
            conn.execute(screener_table.insert(), rows)
    as_of = max((r["as_of"] for r in rows if r["as_of"] is not None), default=None)
    root = exports.path
    written = {
        "screener.json": write_json(root / "screener.json", export_document(as_of, "rows", rows)),
        "companies.json": write_json(
            root / "companies.json", export_document(as_of, "companies", company_rows(rows))
        ),
    }
    yield dg.MaterializeResult(
        metadata={
            "companies": len(rows),
            "as_of": str(as_of),
            "top_by_turnover": dg.MetadataValue.md(top_table(frame)),
            "field_coverage": dg.MetadataValue.json(
                {name: int(frame[name].notna().sum()) for name in frame.columns}
            ),
            "exports": dg.MetadataValue.json({name: str(root / name) for name in written}),
            "export_bytes": dg.MetadataValue.json(written),
            "seconds": round(time.monotonic() - started, 2),
        }
    )
    included = set(inputs[0]["security_id"])
    yield one_row_check(frame, included)
    yield current_check(frame, sessions)
    yield ratios_check(frame)


def _inputs(conn: Connection) -> tuple[pd.DataFrame, ...]:
    c, p, i = companies, prices_table, indicators_table
    company_frame = read_frame(
        conn,
        select(
            c.c.security_id,
            c.c.symbol,
            c.c.name,
            c.c.sector,
            c.c.listing_date,
            c.c.website,
            c.c.description,
            c.c.logo_path,
            c.c.listed_shares,
        ).where(c.c.included),
    )
    latest = (
        select(p.c.security_id, func.max(p.c.business_date).label("business_date"))
        .group_by(p.c.security_id)
        .subquery()
    )
    on_latest = and_(p.c.security_id == latest.c.security_id, p.c.business_date == latest.c.business_date)
    prices = read_frame(
        conn,
        select(
            p.c.security_id,
            p.c.business_date,
            p.c.close,
            p.c.previous_close,
            p.c.volume,
            p.c.turnover,
            p.c.trades,
            p.c.market_capitalization,
        ).join(latest, on_latest),
    )
    on_latest_indicators = and_(
        i.c.security_id == latest.c.security_id, i.c.business_date == latest.c.business_date
    )
    technicals = read_frame(conn, select(i).join(latest, on_latest_indicators))
    newest = conn.execute(select(func.max(p.c.business_date))).scalar_one()
    since = newest - dt.timedelta(days=RETURN_WINDOW_DAYS) if newest else dt.date.min
    adjusted = read_frame(conn, select(_adjusted).where(_adjusted.c.business_date >= since))
    reports = read_frame(
        conn,
        select(
            filings_table.c.security_id,
            filings_table.c.fiscal_year,
            filings_table.c.quarter,
            filings_table.c.report_type,
            filings_table.c.modified_at,
            filings_table.c.eps,
            filings_table.c.net_worth_per_share,
            filings_table.c.paid_up_capital,
            filings_table.c.profit,
        ),
    )
    actions = read_frame(
        conn,
        select(
            actions_table.c.security_id,
            actions_table.c.announced_on,
            actions_table.c.bonus_pct,
            actions_table.c.right_pct,
            actions_table.c.cash_dividend_pct,
        ),
    )
    return company_frame, prices, technicals, adjusted, reports, actions


def top_table(frame: pd.DataFrame, rows: int = TOP_ROWS) -> str:
    shown = ("symbol", "close", "change_pct", "market_cap", "pe", "pb", "rsi_14", "turnover")
    top = frame.sort_values("turnover", ascending=False, na_position="last").head(rows)
    lines = ["| " + " | ".join(shown) + " |", "|" + "---|" * len(shown)]
    for row in top.itertuples(index=False):
        cells = [_cell(getattr(row, name)) for name in shown]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def one_row_check(frame: pd.DataFrame, included: set[int]) -> dg.AssetCheckResult:
    ids = frame["security_id"].tolist()
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    missing, extra = sorted(included - set(ids)), sorted(set(ids) - included)
    return dg.AssetCheckResult(
        check_name=ONE_ROW_PER_COMPANY,
        passed=not (duplicated or missing or extra),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rows": len(ids),
            "included_companies": len(included),
            "missing": dg.MetadataValue.json(missing[:50]),
            "extra": dg.MetadataValue.json(extra[:50]),
            "duplicated": dg.MetadataValue.json(duplicated[:50]),
        },
    )


def current_check(frame: pd.DataFrame, sessions: list) -> dg.AssetCheckResult:
    ordered = sorted(pd.to_datetime(pd.Series(sessions)).dt.date) if sessions else []
    position = {day: index for index, day in enumerate(ordered)}
    latest = len(ordered) - 1
    behind = []
    for row in frame.itertuples(index=False):
        as_of = row.as_of if isinstance(row.as_of, dt.date) else None
        lag = latest - position[as_of] if as_of in position else None
        if as_of is None or (lag is not None and lag > STALE_SESSIONS):
            behind.append(
                f"{row.symbol} {as_of or 'no prices'}" + (f" ({lag} sessions behind)" if lag else "")
            )
    return dg.AssetCheckResult(
        check_name=ROWS_CURRENT,
        passed=not behind,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "latest_session": str(ordered[-1]) if ordered else "none",
            "behind": len(behind),
            "examples": dg.MetadataValue.json(behind[:50]),
        },
        description=None
        if not behind
        else "Companies whose latest stored session is old: not traded (suspension, a long halt), or their "
        "prices did not load.",
    )


def ratios_check(frame: pd.DataFrame) -> dg.AssetCheckResult:
    bad: list[str] = []
    for ratio, inputs in RATIO_INPUTS.items():
        present = pd.Series(True, index=frame.index)
        for name in inputs:
            values = pd.to_numeric(frame[name], errors="coerce")
            present &= values.notna() & (values > 0)
        values = pd.to_numeric(frame[ratio], errors="coerce")
        broken = frame.loc[present & ~values.apply(lambda v: isinstance(v, float) and math.isfinite(v))]
        bad += [f"{row.symbol} {ratio}" for row in broken.itertuples(index=False)]
    return dg.AssetCheckResult(
        check_name=RATIOS_FINITE,
        passed=not bad,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"not_finite": len(bad), "examples": dg.MetadataValue.json(bad[:50])},
    )
