"""`make demo`: its planning rules, and two real demos in a row through a Dagster instance."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
from pathlib import Path

import dagster as dg
import pytest

from ntx_assets.common.clock import NEPAL_TZ
from ntx_assets_tests.pinned import PINNED_TODAY
from ntx_assets_tests.tools.demo import environment, plan
from ntx_assets_tests.tools.demo.progress import Progress, clock, eta_seconds
from ntx_assets_tests.tools.demo.summary import calls_by_label, data_calls, endpoint_label
from ntx_assets_tests.tools.standin import StandinConfig
from ntx_assets_tests.tools.standin.data import StandinData

REPO = Path(__file__).parents[1]
NTX_VARIABLES = (
    "NTX_NEPSE_BASE_URL",
    "NTX_UNIVERSE_TARGET",
    "NTX_REQUESTS_PER_SECOND",
    "NTX_DATABASE_URL",
    "NTX_ARTIFACT_DIR",
    "NTX_HISTORY_START",
)


def nepal(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NEPAL_TZ)


# --- planning ----------------------------------------------------------------------------------------

MON, TUE, WED, THU, FRI = (dt.date(2026, 11, d) for d in (16, 17, 18, 19, 20))
NEXT_MON = dt.date(2026, 11, 23)
SESSIONS = [MON, TUE, WED, THU, FRI, NEXT_MON]


@pytest.mark.calendar
def test_todays_session_counts_only_after_the_close() -> None:
    before = plan.session_window(SESSIONS, 3, nepal(NEXT_MON, 14, 59), first_partition=MON)
    after = plan.session_window(SESSIONS, 3, nepal(NEXT_MON, 15, 0), first_partition=MON)
    assert before is not None and before.sessions == (WED, THU, FRI)
    assert after is not None and after.sessions == (THU, FRI, NEXT_MON)
    # The range is calendar days: the weekend inside is part of the one range run.
    assert after.dates() == [THU, FRI, dt.date(2026, 11, 21), dt.date(2026, 11, 22), NEXT_MON]


@pytest.mark.calendar
def test_window_never_starts_before_the_first_partition() -> None:
    window = plan.session_window(SESSIONS, 20, nepal(NEXT_MON, 18), first_partition=WED)
    assert window is not None
    assert window.sessions == (WED, THU, FRI, NEXT_MON)
    assert window.clipped_to == WED
    assert plan.session_window(SESSIONS, 2, nepal(MON, 10), first_partition=MON) is None


def test_groups_are_contiguous_runs_of_missing_keys_capped_in_size() -> None:
    order = ["A", "B", "C", "D", "E", "F", "G"]
    assert plan.contiguous_groups(order, {"A", "B", "C", "E", "F", "G"}, 2) == [
        ["A", "B"],
        ["C"],
        ["E", "F"],
        ["G"],
    ]
    assert plan.contiguous_groups(order, set(), 25) == []
    assert plan.covering_range(["F", "B"], order) == ("B", "F")
    assert plan.missing(order, {"B", "C"}) == ["A", "D", "E", "F", "G"]


def test_calendar_sessions_follow_the_trading_week_and_holidays() -> None:
    # 2026-11: Monday-Friday regime; a holiday on Wednesday.
    assert plan.calendar_sessions({WED}, MON, NEXT_MON) == [MON, TUE, THU, FRI, NEXT_MON]


def test_progress_line_counts_calls_against_the_plan_with_an_eta() -> None:
    calls = [100]  # the counter does not start at zero: a step counts from where it starts
    out = io.StringIO()
    progress = Progress(out, lambda: calls[0], interactive=False, interval=3600)
    with progress.step(2, 3, "prices", runs=1, planned_calls=40) as step:
        calls[0] = 110
        assert "calls 10/40" in progress.line(step)
        calls[0] = 130
        step.run_done()
    text = out.getvalue()
    assert "[2/3] prices" in text and "calls 30/40" in text and text.rstrip().endswith("done")
    assert "\r" not in text  # not a terminal: plain lines
    assert eta_seconds(10.0, 25, 100) == pytest.approx(30.0)
    assert eta_seconds(10.0, 0, 100) is None
    assert clock(75) == "1:15" and clock(3725) == "1:02:05" and clock(None) == "-"


def test_request_counter_keys_map_to_endpoints() -> None:
    counts = {
        "GET /api/authenticate/prove": 2,
        "GET /assets/prod/css.wasm": 2,
        "GET /api/nots/security": 1,
        "GET /api/nots/company/list": 1,
        "POST /api/nots/nepse-data/today-price": 20,
        "GET /api/nots/security/profile/{id}": 259,
        "GET /api/nots/security/fetchFiles": 7,
    }
    by_label = calls_by_label(counts)
    assert by_label["universe lists"] == 2 and by_label["auth handshake"] == 4
    assert endpoint_label("GET /api/nots/application/reports/{securityId}") == "reports (filings)"
    assert data_calls(counts) == 2 + 20 + 259 + 7


def test_demo_environment_keeps_what_the_user_set_and_finds_a_dagster_home(tmp_path: Path) -> None:
    environ = {"NTX_UNIVERSE_TARGET": "264"}
    applied = environment.apply_defaults(environ, environment.standin_defaults("http://127.0.0.1:1", 50))
    assert environ["NTX_UNIVERSE_TARGET"] == "264" and "NTX_UNIVERSE_TARGET" not in applied
    assert (
        environ["NTX_NEPSE_BASE_URL"] == "http://127.0.0.1:1" and environ["NTX_REQUESTS_PER_SECOND"] == "50"
    )

    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    home = environment.dagster_home(environ, tmp_path, None)
    assert home == (tmp_path / ".dagster_home").resolve() and environ["DAGSTER_HOME"] == str(home)
    assert (home / "dagster.yaml").read_text() == (tmp_path / "dagster.yaml").read_text()
    relative = {"DAGSTER_HOME": "elsewhere"}
    assert environment.dagster_home(relative, tmp_path, None) == (tmp_path / "elsewhere").resolve()
    assert relative["DAGSTER_HOME"] == str((tmp_path / "elsewhere").resolve())


def test_a_warn_check_that_fails_is_named_as_a_warning_and_an_error_one_fails_the_demo() -> None:
    from ntx_assets_tests.tools.demo.runner import CheckOutcome, RunOutcome
    from ntx_assets_tests.tools.demo.summary import DemoReport, render

    def report(*checks: CheckOutcome) -> DemoReport:
        run = RunOutcome("derived", ("price_adjustments",), None, success=True, checks=list(checks))
        return DemoReport(
            universe_count=1, universe_target=1, universe_check_passed=True, table_rows={}, runs=[run],
            skipped=[], calls=None, minimum_calls={}, minimum_notes={}, wall_seconds=1.0,
            screener_date=None, screener=[], base_url="http://127.0.0.1:1",
        )  # fmt: skip

    unexplained = CheckOutcome("price_adjustments", "rebasings_explained", False, "WARN", "unexplained", {})
    consistent = CheckOutcome("daily_prices", "daily_prices_are_consistent", True, "ERROR", None, {})
    warned = report(unexplained, consistent)
    text = render(warned)
    assert warned.ok and (warned.checks_failed, warned.checks_warned) == (0, 1)
    assert "Asset checks: 1 passed, 0 failed, 1 warned" in text
    assert "price_adjustments.rebasings_explained: 0 passed, 1 WARNED" in text
    assert "WARN   price_adjustments.rebasings_explained: unexplained" in text
    assert text.endswith("Result: OK (1 check warning(s), above)")
    broken = report(CheckOutcome("daily_prices", "daily_prices_are_consistent", False, "ERROR", "bad", {}))
    assert not broken.ok and broken.checks_failed == 1
    assert "FAILED daily_prices.daily_prices_are_consistent: bad" in render(broken)
    assert render(broken).endswith("Result: 0 run(s) failed, 1 check(s) failed")


# --- the demo, twice -----------------------------------------------------------------------------------


def planned_rebasings(sessions: int) -> list[tuple[str, dt.date]]:
    """What the demo's stand-in (seed 7, its year ending on the pinned today) re-bases inside the demo's
    window of the last `sessions` closed sessions: a bonus or right whose book-closure session (the stored
    close before the re-basing) and ex date both lie in it. From the stand-in's own plan."""
    data = StandinData(StandinConfig(seed=7, end_date=PINNED_TODAY))
    window = [d for d in data.sessions if d <= PINNED_TODAY][-sessions:]
    return sorted(
        (closure.symbol, closure.ex_date)
        for closure in data.book_closures
        if closure.rebases and window[0] <= closure.book_close_date and closure.ex_date <= window[-1]
    )


@pytest.mark.slow
def test_demo_backfills_the_graph_then_a_second_demo_makes_almost_no_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ntx_assets_tests.tools.demo.flow import run_demo
    from ntx_assets_tests.tools.demo.options import Options

    for name in NTX_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("NTX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    # Ten sessions hold a re-basing of the stand-in's plan; ten symbols' filings (one run) keep the test
    # short, and the re-based company is beyond them: the demo must fetch its announcements too.
    sessions, symbols = 10, 10
    expected = planned_rebasings(sessions)
    assert expected, "the pinned window must hold a re-basing for this test to mean something"
    options = Options(sessions=sessions, symbols=symbols)

    out = io.StringIO()
    first = run_demo(options, out=out)
    text = out.getvalue()
    assert "Universe: 259 listed companies, target 259 (check universe_count_matches_target: PASS)" in text
    assert first.universe_count == 259 and first.universe_check_passed is True
    assert not first.failed_runs, text
    assert first.checks_failed == 0 and first.checks_passed >= 5, text
    assert f"Asset checks: {first.checks_passed} passed, 0 failed" in text
    assert len(first.screener) == 10 and first.screener_date == PINNED_TODAY
    assert f"Screener: top 10 by turnover on {first.screener_date}" in text
    assert first.table_rows["daily_prices"] > 0 and first.table_rows["indicators"] > 0
    # One range run for prices + indicators, one call per session, profiles once per company.
    prices_runs = [run for run in first.runs if run.phase == "prices"]
    assert len(prices_runs) == 1 and prices_runs[0].assets == ("daily_prices", "indicators")
    assert first.calls is not None
    assert first.calls["today-price (prices)"] == first.minimum_calls["today-price (prices)"] == sessions
    assert first.calls["company profiles"] == 259
    # Every re-basing of the plan is found and explained by the announcements the demo fetched: the
    # first `symbols` companies' and, beyond them, those of every company that re-based.
    assert [(r.symbol, r.ex_date) for r in first.rebasings] == expected, text
    assert all(r.explanation != "unexplained" for r in first.rebasings), text
    with dg.DagsterInstance.get() as instance:
        order = instance.get_dynamic_partitions("symbol")
    beyond = sorted({symbol for symbol, _ in expected} - set(order[:symbols]))
    assert beyond, "a re-based company must lie beyond the first symbols for this test to mean something"
    fetched = symbols + len(beyond)
    assert first.calls["reports (filings)"] == first.minimum_calls["reports (filings)"] == fetched
    assert first.calls["announcements"] == first.minimum_calls["announcements"] == 3 * fetched
    assert f"plus {len(beyond)} whose prices re-based, for their announcements: {', '.join(beyond)}" in text
    # Re-basings derived from the prices and announcements just loaded (no API call), then every session's
    # screen in one run, and a screen run as of a past session with its forward return.
    assert [run.phase for run in first.runs][-2:] == ["derived", "screens"]
    screens = first.runs[-1]
    assert screens.partition_range == prices_runs[0].partition_range and screens.assets == ("screener",)
    assert "Re-basings in the stored prices" in text
    past = first.past_screen
    assert past is not None and past.forward == sessions - 1  # the first session, followed to the last
    assert f"Screening history: the screen as of {past.session}" in text
    assert f"forward {past.forward} sessions ({past.session} -> {PINNED_TODAY})" in past.output
    # It ends with one backtest of that screen by the product's command, written next to the exports.
    backtest = first.backtest
    assert backtest is not None and backtest.exit_code == 0, text
    assert backtest.table.parent == tmp_path / "data" / "exports" == backtest.picture.parent
    assert backtest.table.read_text() == backtest.output and "summary (" in backtest.output
    assert backtest.picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"$ {backtest.command}" in text and "annualized return" in text.split(backtest.command)[1]
    assert os.environ.get("NTX_NEPSE_BASE_URL") is None  # the demo put the environment back

    out = io.StringIO()
    second = run_demo(options, out=out)
    text = out.getvalue()
    assert not second.failed_runs and second.checks_failed == 0, text
    assert second.universe_count == 259 and len(second.screener) == 10
    assert second.total_calls <= 10, text  # the universe refresh: auth + four lists, no profiles
    assert second.calls is not None and second.calls["today-price (prices)"] == 0
    assert [run.phase for run in second.runs] == ["universe"]
    assert any("already materialized" in skipped for skipped in second.skipped)
    assert f"this one: {second.total_calls} calls" in text


@pytest.mark.slow
def test_demo_today_fixes_what_it_loads_whatever_the_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--today` outside the suite's pinned clock: the demo decides by that day alone."""
    from ntx_assets.common.clock import pinned_now
    from ntx_assets_tests.tools.demo.__main__ import parse_args
    from ntx_assets_tests.tools.demo.flow import run_demo
    from ntx_assets_tests.tools.demo.options import Options

    assert parse_args(["--today", "2026-10-30"]).today == dt.date(2026, 10, 30)
    for name in NTX_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("NTX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    # Whatever the product's clock says (here a day two years on), --today decides.
    with pinned_now(nepal(dt.date(2028, 12, 1), 11)):
        report = run_demo(Options(sessions=2, symbols=1, today=dt.date(2026, 10, 30)), out=io.StringIO())
    assert report.screener_date == dt.date(2026, 10, 30)
    prices = next(run for run in report.runs if run.phase == "prices")
    assert prices.partition_range == ("2026-10-29", "2026-10-30")
