"""Saved screens as assets: one per screen in the Definitions (group screens, session partitions, after
screener), a materialization's picks, entered and left against a computation in Python, the backtest's
picture in the metadata, and the alerts against a real HTTP receiver on loopback (a retried 503, once only
on a re-run, nothing when the picks did not change or on the first session, a failure that never fails
the screen, and a webhook URL that never reaches the metadata or the logs)."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import insert, select, update

from ntx_assets.definitions import defs as project_defs
from ntx_assets.defs.partitions import session_date_partitions
from ntx_assets.defs.screens.assets import GROUP, screen_asset
from ntx_assets.resources import AlertsResource, WarehouseResource
from ntx_assets.screener.number_kinds import readable_cell
from ntx_assets.screens.alerts import Alert, alert_body
from ntx_assets.screens.file import SAMPLE_FILE, SavedScreen, load_screens
from ntx_assets.settings import definitions_settings
from ntx_assets.warehouse.schema import screen_alerts, screener
from ntx_assets_tests.conftest import error_chain
from ntx_assets_tests.pinned import PINNED_NOW
from ntx_assets_tests.screens.helpers import (
    SESSIONS,
    Receiver,
    Warehouse,
    build_warehouse,
    expected_picks,
    receiving,
)
from ntx_assets_tests.tools.harness.resources import QUIET

BOUND, LIMIT = 1.5, 3
SCREEN = SavedScreen("cheap_book", "Cheapest on book value", f"pb < {BOUND}", "pb", LIMIT)
ASSET = screen_asset(SCREEN, "test.toml")
TOKEN = "T0SECRET/B0TOKEN-do-not-leak"
PATH = f"/services/{TOKEN}"


def materialize(
    warehouse: Warehouse,
    session: dt.date,
    instance: dg.DagsterInstance,
    url: str | None = None,
    kind: str = "json",
) -> dg.ExecuteInProcessResult:
    alerts = AlertsResource(webhook_url=url, webhook_format=kind, backoff_seconds=0.01, timeout_seconds=5)
    return dg.materialize(
        [ASSET],
        partition_key=session.isoformat(),
        instance=instance,
        resources={"warehouse": WarehouseResource(database_url=warehouse.url), "alerts": alerts},
        run_config=QUIET,
    )


def metadata_of(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    (event,) = result.get_asset_materialization_events()
    return {key: value.value for key, value in event.materialization.metadata.items()}


def changed_pair(warehouse: Warehouse) -> tuple[dt.date, dt.date]:
    """(previous, latest) stored sessions; the data is built so the latest's picks differ."""
    previous, latest = warehouse.sessions[-2], warehouse.sessions[-1]
    assert expected_picks(warehouse.of(previous), BOUND, LIMIT) != expected_picks(
        warehouse.of(latest), BOUND, LIMIT
    )
    return previous, latest


@pytest.fixture
def warehouse(database_url: str) -> Warehouse:
    return build_warehouse(database_url)


@pytest.fixture
def receiver() -> Any:
    with receiving((200,)) as server:
        yield server


def alert_rows(warehouse: Warehouse) -> list[dict[str, Any]]:
    with warehouse.engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(screen_alerts)).mappings()]


# --- the graph -------------------------------------------------------------------------------------------


def test_each_saved_screen_is_an_asset_in_the_screens_group_after_the_screener(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NTX_SCREENS_FILE", str(SAMPLE_FILE))
    loaded = project_defs()
    dg.Definitions.validate_loadable(loaded)
    graph = loaded.resolve_asset_graph()
    names = [screen.name for screen in load_screens(SAMPLE_FILE)]
    for name in names:
        key = dg.AssetKey(f"screen_{name}")
        node = graph.get(key)
        assert node.group_name == GROUP
        assert node.partitions_def == session_date_partitions
        assert node.automation_condition is not None
        assert set(node.parent_keys) == {dg.AssetKey("screener")}
        mapping = graph.get_partition_mapping(key, dg.AssetKey("screener"))
        assert isinstance(mapping, dg.TimeWindowPartitionMapping)
        assert (mapping.start_offset, mapping.end_offset) == (0, 0)
    screens = {key.to_user_string() for key in loaded.resolve_all_asset_keys() if "screen_" in str(key)}
    assert screens == {f"screen_{name}" for name in names}


def test_without_a_screens_file_there_are_no_screen_assets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NTX_SCREENS_FILE", raising=False)
    keys = {key.to_user_string() for key in project_defs().resolve_all_asset_keys()}
    assert not {key for key in keys if key.startswith("screen_")}


def test_a_bad_screens_file_fails_the_load_naming_every_bad_screen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bad = tmp_path / "screens.toml"
    bad.write_text(
        '[[screens]]\nname = "fine"\nwhere = "pe < 10"\n'
        '[[screens]]\nname = "first_bad"\nwhere = "pe << 10"\n'
        '[[screens]]\nname = "second_bad"\nwhere = "pe < 10"\nsort = "-peee"\n'
    )
    monkeypatch.setenv("NTX_SCREENS_FILE", str(bad))
    with pytest.raises(Exception) as info:
        project_defs()
    chain = "\n".join(error_chain(info.value))
    assert str(bad) in chain
    assert "'first_bad'" in chain and "'second_bad'" in chain and "no column 'peee'" in chain
    assert "'fine'" not in chain


def test_the_webhook_url_is_bound_as_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NTX_ALERT_WEBHOOK_URL", f"https://hooks.slack.com{PATH}")
    monkeypatch.setenv("NTX_ALERT_WEBHOOK_FORMAT", "slack")
    alerts = project_defs().resources["alerts"]
    assert alerts.webhook_url == dg.EnvVar("NTX_ALERT_WEBHOOK_URL")  # type: ignore[attr-defined]
    assert alerts.webhook_format == "slack"  # type: ignore[attr-defined]
    assert TOKEN not in repr(alerts)
    monkeypatch.delenv("NTX_ALERT_WEBHOOK_URL")
    definitions_settings.cache_clear()  # a new load, as a new code-server process reads it
    assert project_defs().resources["alerts"].webhook_url is None  # type: ignore[attr-defined]


def test_a_webhook_format_that_is_none_of_the_three_fails_at_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NTX_ALERT_WEBHOOK_FORMAT", "teams")
    with pytest.raises(Exception) as info:
        project_defs()
    assert any("NTX_ALERT_WEBHOOK_FORMAT='teams'" in text for text in error_chain(info.value))


# --- a materialization -----------------------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_picks_entered_and_left_match_a_computation_in_python(
    warehouse: Warehouse, dagster_instance: dg.DagsterInstance
) -> None:
    previous, latest = changed_pair(warehouse)
    result = materialize(warehouse, latest, dagster_instance)
    assert result.success
    meta = metadata_of(result)
    now = expected_picks(warehouse.of(latest), BOUND, LIMIT)
    before = expected_picks(warehouse.of(previous), BOUND, LIMIT)
    assert meta["session"] == str(latest) and meta["previous_session"] == str(previous)
    assert meta["symbols"] == now and meta["picks"] == len(now)
    assert meta["entered"] == sorted(set(now) - set(before))
    assert meta["left"] == sorted(set(before) - set(now))
    # The table: a row per pick in the screen's order, numbers printed by their kind.
    table = meta["picks_table"]
    rows = [line for line in table.splitlines() if re.match(r"^\| \d+ \|", line)]
    assert [line.split(" | ")[1] for line in rows] == now
    by_symbol = {row["symbol"]: row for row in warehouse.of(latest)}
    for line, symbol in zip(rows, now, strict=True):
        assert readable_cell("pb", by_symbol[symbol]["pb"]) in line
        assert readable_cell("change_pct", by_symbol[symbol]["change_pct"]) in line  # a percent: -1.23%
        assert readable_cell("close", by_symbol[symbol]["close"]) in line
    assert meta["alert_status"] == "off"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_backtest_to_date_is_in_the_metadata_with_its_picture(
    warehouse: Warehouse, dagster_instance: dg.DagsterInstance
) -> None:
    latest = warehouse.sessions[-1]
    meta = metadata_of(materialize(warehouse, latest, dagster_instance))
    assert meta["backtest"].startswith("every 5 sessions, hold 5, costs nepse"), meta["backtest"]
    assert meta["backtest_periods"] == 3  # 20 sessions: rebalances on the 1st, 6th, 11th (the 16th ends late)
    assert "annualized_return" in meta["backtest_summary"]
    match = re.fullmatch(r"!\[[^\]]*\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", meta["backtest_chart"])
    assert match, meta["backtest_chart"][:80]
    assert base64.b64decode(match.group(1)).startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_date_without_a_stored_screen_materializes_saying_so(
    warehouse: Warehouse, dagster_instance: dg.DagsterInstance
) -> None:
    saturday = dt.date(2026, 11, 14)
    assert saturday.weekday() == 5
    result = materialize(warehouse, saturday, dagster_instance)
    assert result.success
    meta = metadata_of(result)
    assert meta["session"] == "none" and meta["sessions"] == 0


# --- alerts ---------------------------------------------------------------------------------------------


def test_a_change_of_picks_alerts_once_even_when_the_session_is_run_again(
    warehouse: Warehouse, dagster_instance: dg.DagsterInstance, receiver: Receiver
) -> None:
    previous, latest = changed_pair(warehouse)
    first = materialize(warehouse, latest, dagster_instance, receiver.url(PATH))
    meta = metadata_of(first)
    assert meta["alert_status"] == "sent", meta["alert"]
    now = expected_picks(warehouse.of(latest), BOUND, LIMIT)
    before = expected_picks(warehouse.of(previous), BOUND, LIMIT)
    assert receiver.received == [
        {
            "screen": "cheap_book",
            "description": "Cheapest on book value",
            "session": latest.isoformat(),
            "previous_session": previous.isoformat(),
            "entered": sorted(set(now) - set(before)),
            "left": sorted(set(before) - set(now)),
            "picks": now,
        }
    ]
    assert receiver.paths == [PATH]
    again = materialize(warehouse, latest, dagster_instance, receiver.url(PATH))
    assert again.success
    assert metadata_of(again)["alert_status"] == "already_sent"
    assert len(receiver.received) == 1
    (row,) = alert_rows(warehouse)
    assert (row["screen"], row["session_date"], row["status"], row["attempts"]) == (
        "cheap_book",
        latest,
        "sent",
        1,
    )
    assert row["sent_at"] is not None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_503_is_retried_with_backoff_until_the_receiver_takes_it(
    warehouse: Warehouse, dagster_instance: dg.DagsterInstance
) -> None:
    _, latest = changed_pair(warehouse)
    with receiving((503, 503, 200)) as receiver:
        meta = metadata_of(materialize(warehouse, latest, dagster_instance, receiver.url(PATH)))
    assert receiver.answered == [503, 503, 200]
    assert meta["alert_status"] == "sent" and "after 3 attempt(s)" in meta["alert"]
    assert alert_rows(warehouse)[0]["attempts"] == 3


def test_a_failed_alert_never_fails_the_screen_and_never_shows_the_url(
    warehouse: Warehouse, dagster_instance: dg.DagsterInstance, caplog: pytest.LogCaptureFixture
) -> None:
    _, latest = changed_pair(warehouse)
    caplog.set_level(logging.DEBUG)
    with receiving((503,)) as receiver:
        url = receiver.url(PATH)
        failed = materialize(warehouse, latest, dagster_instance, url)
        assert failed.success
        meta = metadata_of(failed)
        assert receiver.answered == [503] * 4  # max_attempts POSTs, then recorded as failed
        assert meta["alert_status"] == "failed" and "HTTP 503 after 4 attempt(s)" in meta["alert"]
        (row,) = alert_rows(warehouse)
        assert (row["status"], row["attempts"]) == ("failed", 4)
        # The next run of the session tries again, and once it went, never again.
        receiver.answer((200,))
        retried = materialize(warehouse, latest, dagster_instance, url)
        assert metadata_of(retried)["alert_status"] == "sent"
        assert receiver.answered == [200]
        (row,) = alert_rows(warehouse)
        assert (row["status"], row["attempts"]) == ("sent", 5)
    runs = [failed.run_id, retried.run_id]
    logged = [repr(entry) for run in runs for entry in dagster_instance.all_logs(run)]
    assert any("alert failed: HTTP 503" in text for text in logged)
    for text in [*logged, repr(meta), caplog.text]:
        assert TOKEN not in text and url not in text
    assert "HTTP Request: POST <webhook>" in caplog.text  # httpx logs each request: redacted


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_receiver_that_is_not_there_is_a_failed_alert_not_a_failed_screen(
    warehouse: Warehouse, dagster_instance: dg.DagsterInstance
) -> None:
    _, latest = changed_pair(warehouse)
    with receiving((200,)) as gone:
        url = gone.url(PATH)
    result = materialize(warehouse, latest, dagster_instance, url)
    assert result.success
    meta = metadata_of(result)
    assert meta["alert_status"] == "failed" and "no answer (ConnectError)" in meta["alert"]
    assert TOKEN not in repr(meta)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_alert_a_run_was_sending_when_it_stopped_is_not_sent_twice(
    warehouse: Warehouse, dagster_instance: dg.DagsterInstance, receiver: Receiver
) -> None:
    _, latest = changed_pair(warehouse)
    with warehouse.engine.begin() as conn:  # a run claimed it, then died before it could record the answer
        conn.execute(
            insert(screen_alerts).values(
                screen="cheap_book", session_date=latest, sent_at=None, status="sending", attempts=0
            )
        )
    meta = metadata_of(materialize(warehouse, latest, dagster_instance, receiver.url(PATH)))
    assert meta["alert_status"] == "in_flight" and "not sent twice" in meta["alert"]
    assert receiver.received == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_alert_when_the_picks_did_not_change(
    warehouse: Warehouse, dagster_instance: dg.DagsterInstance, receiver: Receiver
) -> None:
    previous, latest = warehouse.sessions[-2], warehouse.sessions[-1]
    with warehouse.engine.begin() as conn:  # the latest session's P/B become the previous one's
        for row in warehouse.of(previous):
            conn.execute(
                update(screener)
                .where(screener.c.session_date == latest, screener.c.security_id == row["security_id"])
                .values(pb=row["pb"])
            )
    meta = metadata_of(materialize(warehouse, latest, dagster_instance, receiver.url(PATH)))
    assert meta["alert_status"] == "unchanged" and meta["entered"] == [] and meta["left"] == []
    assert receiver.received == [] and alert_rows(warehouse) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_first_stored_session_and_past_sessions_do_not_alert(
    database_url: str, dagster_instance: dg.DagsterInstance, receiver: Receiver
) -> None:
    # The first stored session has nothing to compare with: its picks are shown, no alert goes.
    only = build_warehouse(database_url, SESSIONS[:1])
    meta = metadata_of(materialize(only, SESSIONS[0], dagster_instance, receiver.url(PATH)))
    assert meta["alert_status"] == "first_session" and meta["previous_session"] == "none"
    assert meta["entered"] == [] and meta["symbols"] == expected_picks(only.of(SESSIONS[0]), BOUND, LIMIT)
    assert receiver.received == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_past_session_does_not_alert(
    warehouse: Warehouse, dagster_instance: dg.DagsterInstance, receiver: Receiver
) -> None:
    past = warehouse.sessions[-3]
    meta = metadata_of(materialize(warehouse, past, dagster_instance, receiver.url(PATH)))
    assert meta["alert_status"] == "not_latest"
    assert receiver.received == []


@pytest.mark.parametrize("kind", ["slack", "discord"])
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_slack_and_discord_get_the_shape_they_accept(
    warehouse: Warehouse, dagster_instance: dg.DagsterInstance, receiver: Receiver, kind: str
) -> None:
    previous, latest = changed_pair(warehouse)
    meta = metadata_of(materialize(warehouse, latest, dagster_instance, receiver.url(PATH), kind=kind))
    assert meta["alert_status"] == "sent"
    (body,) = receiver.received
    key = {"slack": "text", "discord": "content"}[kind]
    assert list(body) == [key]
    assert f"Screen cheap_book on {latest} (since {previous})" in body[key]
    for symbol in meta["entered"]:
        assert symbol in body[key]


def test_a_discord_message_is_clipped_to_its_2000_characters() -> None:
    day = dt.date(2026, 11, 20)
    alert = Alert("many", "", day, day - dt.timedelta(days=1), ["X" * 30] * 100, [], ["X" * 30] * 100)
    assert len(alert_body(alert, "discord")["content"]) == 2000
    assert set(alert_body(alert, "json")) == {
        "screen",
        "description",
        "session",
        "previous_session",
        "entered",
        "left",
        "picks",
    }


def test_automation_runs_a_screen_after_that_sessions_screener_updated(
    dagster_instance: dg.DagsterInstance,
) -> None:
    """The screener as the graph's upstream (a spec here: its runs are reported); a session's screener
    update requests that session's screen, once."""
    upstream = dg.AssetSpec("screener", partitions_def=session_date_partitions)
    resources = {"warehouse": WarehouseResource(database_url="sqlite://"), "alerts": AlertsResource()}
    defs = dg.Definitions(assets=[upstream, ASSET], resources=resources)
    key = ASSET.key

    def evaluate(cursor: Any = None) -> Any:
        return dg.evaluate_automation_conditions(
            defs=defs, instance=dagster_instance, cursor=cursor, evaluation_time=PINNED_NOW
        )

    baseline = evaluate()
    baseline = evaluate(baseline.cursor)
    assert baseline.get_requested_partitions(key) == set()
    day = SESSIONS[-1].isoformat()
    dagster_instance.report_runless_asset_event(dg.AssetMaterialization("screener", partition=day))
    after = evaluate(baseline.cursor)
    assert after.get_requested_partitions(key) == {day}
    assert evaluate(after.cursor).get_requested_partitions(key) == set()  # handled: not asked again


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_format_set_wrong_in_the_launchpad_fails_the_alert_not_the_screen(
    warehouse: Warehouse, dagster_instance: dg.DagsterInstance, receiver: Receiver
) -> None:
    _, latest = changed_pair(warehouse)
    result = materialize(warehouse, latest, dagster_instance, receiver.url(PATH), kind="teams")
    assert result.success
    meta = metadata_of(result)
    assert meta["alert_status"] == "failed" and "unknown webhook format 'teams'" in meta["alert"]
    assert receiver.received == [] and alert_rows(warehouse) == []  # nothing claimed: the next run may send


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_range_is_one_run_showing_its_last_session(
    warehouse: Warehouse, dagster_instance: dg.DagsterInstance, receiver: Receiver
) -> None:
    first, last = warehouse.sessions[-6], warehouse.sessions[-1]  # Friday to the next Friday
    assert (last - first).days == 7
    alerts = AlertsResource(webhook_url=receiver.url(PATH), backoff_seconds=0.01)
    result = dg.materialize(
        [ASSET],
        instance=dagster_instance,
        resources={"warehouse": WarehouseResource(database_url=warehouse.url), "alerts": alerts},
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        run_config=QUIET,
    )
    assert result.success
    events = result.get_asset_materialization_events()
    assert {event.partition for event in events} == {
        (first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)
    }  # every date of the range, weekend included
    meta = {key: value.value for key, value in events[0].materialization.metadata.items()}
    assert (meta["session"], meta["dates"], meta["sessions"]) == (str(last), 8, 6)
    assert meta["symbols"] == expected_picks(warehouse.of(last), BOUND, LIMIT)
    assert meta["alert_status"] == "sent" and len(receiver.received) == 1  # the latest session's, once
