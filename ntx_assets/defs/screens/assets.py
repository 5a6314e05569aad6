"""Saved screens: one asset per screen of NTX_SCREENS_FILE (group `screens`, key `screen_<name>`).

Each is partitioned by session like `screener` and depends on that session's `screener` partition (identity
time-window mapping); automation materializes it when that session's screener updated. No table is
written: a materialization reads the stored screen and shows the session's picks, who entered and left
since the previous stored session, and the screen's backtest to date (summary figures and its cumulative
return against the benchmark, a PNG in Markdown). When the picks of the latest stored session changed, the
alerts resource's webhook is told, once per screen and session (ntx_assets/screens/alerts.py); an alert
that fails is recorded and logged without its URL, and the materialization still succeeds.

A bad file fails the load with every problem of every screen named (ntx_assets/screens/file.py).
"""

import datetime as dt
import time
from typing import Any

import dagster as dg
from sqlalchemy import Engine

from ntx_assets.common.clock import nepal_now
from ntx_assets.defs.partitions import session_date_partitions
from ntx_assets.defs.screener.assets import screener
from ntx_assets.resources import AlertsResource, WarehouseResource
from ntx_assets.screens.alerts import Alert, AlertOutcome, deliver_once, redact
from ntx_assets.screens.file import SavedScreen, load_screens
from ntx_assets.screens.picks import SessionPicks, session_picks, shown_columns
from ntx_assets.screens.report import changes_text, picks_table, png_markdown, summary_table
from ntx_assets.settings import definitions_settings
from ntx_assets.warehouse.screener import screener_sessions

GROUP = "screens"
# The screen's backtest to date: weekly rebalancing (five sessions, Monday to Friday), each pick held
# five sessions, NEPSE's costs and the price band's friction, against the equal-weight universe.
BACKTEST_EVERY, BACKTEST_HOLD, BACKTEST_COSTS = 5, 5, "nepse"

SCREEN_AUTOMATION = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_missing()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("this session's screener updated")


def screen_asset(screen: SavedScreen, source: str) -> dg.AssetsDefinition:
    """The asset of one saved screen."""

    @dg.asset(
        name=screen.asset_name,
        partitions_def=session_date_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[dg.AssetDep(screener, partition_mapping=dg.TimeWindowPartitionMapping())],
        automation_condition=SCREEN_AUTOMATION,
        group_name=GROUP,
        kinds={"python", "sql"},
        description=(
            f"{screen.description or 'Saved screen ' + screen.name}. Saved screen `{screen.name}` "
            f"({source}): where `{screen.where}`, sort `{screen.sort}`, limit {screen.limit or 'none'}. "
            "Shows the session's picks, who entered and left since the previous stored session, and the "
            "screen's backtest to date; alerts the webhook when the latest session's picks changed."
        ),
        metadata={"screen": dg.MetadataValue.json(screen.as_metadata()), "file": source},
    )
    def _screen(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, alerts: AlertsResource
    ) -> dg.MaterializeResult:
        return materialize_screen(context, screen, warehouse.engine, alerts)

    return _screen


def materialize_screen(
    context: dg.AssetExecutionContext, screen: SavedScreen, engine: Engine, alerts: AlertsResource
) -> dg.MaterializeResult:
    started = time.monotonic()
    requested = sorted(dt.date.fromisoformat(key) for key in context.partition_keys)
    with engine.connect() as conn:
        stored = screener_sessions(conn)
        known = set(stored)
        sessions = [day for day in requested if day in known]
        picks = session_picks(conn, screen, sessions[-1], stored) if sessions else None
    names = shown_columns(screen)
    metadata: dict[str, Any] = {
        "screen": dg.MetadataValue.json(screen.as_metadata()),
        "dates": len(requested),
        "sessions": len(sessions),
    }
    if picks is None:
        context.log.info(
            f"{screen.name}: no stored screen for {_span(requested)} (not a session, or not screened)"
        )
        metadata["session"] = "none"
        metadata["picks_table"] = dg.MetadataValue.md(
            f"_no stored screener session in {_span(requested)}: not a session, or `screener` was not "
            "materialized for it_"
        )
        metadata["alert"] = "not sent: no session"
        return dg.MaterializeResult(metadata=metadata | {"seconds": round(time.monotonic() - started, 2)})
    outcome = _alert(context, screen, picks, stored, engine, alerts)
    metadata.update(
        {
            "session": str(picks.session),
            "picks": len(picks.rows),
            "picks_table": dg.MetadataValue.md(
                f"**{screen.name}** on {picks.session}: `{screen.where}`\n\n" + picks_table(picks.rows, names)
            ),
            "symbols": dg.MetadataValue.json(picks.symbols),
            "previous_session": str(picks.previous) if picks.previous else "none",
            "entered": dg.MetadataValue.json(picks.entered),
            "left": dg.MetadataValue.json(picks.left),
            "changes": changes_text(picks),
            "alert": outcome.detail,
            "alert_status": outcome.status,
        }
    )
    metadata.update(_backtest(context, screen, engine, picks.session))
    context.log.info(
        f"{screen.name} {picks.session}: {len(picks.rows)} picks; {changes_text(picks)}; "
        f"alert {outcome.detail}"
    )
    return dg.MaterializeResult(metadata=metadata | {"seconds": round(time.monotonic() - started, 2)})


def _alert(
    context: dg.AssetExecutionContext,
    screen: SavedScreen,
    picks: SessionPicks,
    stored: list[dt.date],
    engine: Engine,
    alerts: AlertsResource,
) -> AlertOutcome:
    """Alert only for the latest stored session (a backfill of the past does not), only when there is a
    previous session to compare with and the picks changed, and only when a webhook is set."""
    if picks.session != stored[-1]:
        return AlertOutcome("not_latest", f"not sent: {picks.session} is not the latest stored session")
    if picks.previous is None:
        return AlertOutcome("first_session", "not sent: the first stored session, no previous to compare")
    if not picks.changed:
        return AlertOutcome("unchanged", f"not sent: the picks are those of {picks.previous}")
    if not alerts.webhook_url:
        return AlertOutcome("off", "not sent: alerts are off (NTX_ALERT_WEBHOOK_URL is unset)")
    alert = Alert(
        screen.name,
        screen.description,
        picks.session,
        picks.previous,
        picks.entered,
        picks.left,
        picks.symbols,
    )
    try:
        outcome = deliver_once(
            engine,
            alert,
            alerts.webhook_url,
            alerts.webhook_format,
            now=nepal_now(),
            max_attempts=alerts.max_attempts,
            backoff_seconds=alerts.backoff_seconds,
            timeout_seconds=alerts.timeout_seconds,
        )
    except Exception as error:
        # A format the launchpad set wrong, or the record's own failure (the warehouse), never fails the
        # screen either: the detail is the error's type, and a bad format's words (they hold no URL).
        words = f": {error}" if isinstance(error, ValueError) else ""
        outcome = AlertOutcome("failed", f"failed: not sent ({type(error).__name__}{words})")
    if outcome.status == "failed":
        context.log.warning(
            redact(f"{screen.name} {picks.session}: alert {outcome.detail}", alerts.webhook_url)
        )
    return outcome


def _backtest(
    context: dg.AssetExecutionContext, screen: SavedScreen, engine: Engine, session: dt.date
) -> dict[str, Any]:
    """The screen's backtest from the first stored session to `session`: its summary and its picture.
    A backtest that cannot run is said in the metadata; it never fails the screen."""
    try:
        from ntx_assets.screener.backtest import BacktestSpec, plot_cumulative, run_backtest

        result = run_backtest(
            engine,
            BacktestSpec(
                where=screen.where,
                sort=screen.sort,
                limit=screen.limit,
                end=session,
                every=BACKTEST_EVERY,
                hold=BACKTEST_HOLD,
                costs=BACKTEST_COSTS,
            ),
        )
        png = plot_cumulative(result)
    except Exception as error:
        context.log.warning(f"{screen.name}: backtest not available: {type(error).__name__}: {error}")
        return {"backtest": f"not available: {type(error).__name__}: {error}"}
    settings = (
        f"every {BACKTEST_EVERY} sessions, hold {BACKTEST_HOLD}, costs {BACKTEST_COSTS}, benchmark "
        f"{result.spec.benchmark}, to {session}"
    )
    return {
        "backtest": settings,
        "backtest_periods": len(result.periods),
        "backtest_summary": dg.MetadataValue.md(summary_table(result.summary)),
        "backtest_chart": dg.MetadataValue.md(
            png_markdown(png, f"{screen.name}: cumulative return against the benchmark")
        ),
    }


def _span(days: list[dt.date]) -> str:
    if not days:
        return "no date"
    return str(days[0]) if len(days) == 1 else f"{days[0]}...{days[-1]}"


@dg.definitions
def screens() -> dg.Definitions:
    """Every saved screen of NTX_SCREENS_FILE as its own asset; none when it is unset."""
    path = definitions_settings().screens_file
    if path is None:
        return dg.Definitions()
    return dg.Definitions(assets=[screen_asset(screen, str(path)) for screen in load_screens(path)])
