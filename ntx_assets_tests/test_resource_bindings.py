"""How the code location binds its resources: secrets as EnvVar, run-time knobs as resource fields."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from ntx_assets import settings as settings_module
from ntx_assets.definitions import defs as project_defs
from ntx_assets_tests.conftest import error_chain
from ntx_assets_tests.tools.harness.deployment import DagsterDeployment

PASSWORD = "s3cret-Pa55word"
SECRET_URL = f"postgresql+psycopg://ntx:{PASSWORD}@127.0.0.1:5432/warehouse"

RESOURCES = """
query ($selector: RepositorySelector!) {
  allTopLevelResourceDetailsOrError(repositorySelector: $selector) {
    __typename
    ... on ResourceDetailsList { results { name configuredValues { key value type } } }
    ... on PythonError { message }
  }
}
"""


def test_the_warehouse_url_is_bound_as_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NTX_DATABASE_URL", SECRET_URL)
    warehouse = project_defs().resources["warehouse"]
    assert warehouse.database_url == dg.EnvVar("NTX_DATABASE_URL")  # type: ignore[attr-defined]
    assert PASSWORD not in repr(warehouse)


def test_a_bad_warehouse_url_still_fails_at_load_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NTX_DATABASE_URL", "mysql://ntx@host/db")
    with pytest.raises(Exception) as info:
        project_defs()
    chain = error_chain(info.value)
    assert any("NTX_DATABASE_URL" in text and "sqlite:///" in text for text in chain), chain


@pytest.mark.slow
def test_the_ui_shows_the_variable_name_never_the_password(tmp_path: Path) -> None:
    env = {"NTX_DATA_DIR": str(tmp_path), "NTX_DATABASE_URL": SECRET_URL}
    with DagsterDeployment(module="ntx_assets.definitions", dagster_home=tmp_path / "home", env=env) as ui:
        answer = ui.graphql(
            RESOURCES,
            {"selector": {"repositoryLocationName": "ntx_assets", "repositoryName": "__repository__"}},
        )
    details = answer["allTopLevelResourceDetailsOrError"]
    assert details["__typename"] == "ResourceDetailsList", details
    assert PASSWORD not in str(answer)
    warehouse = next(r for r in details["results"] if r["name"] == "warehouse")
    assert {"key": "database_url", "value": "NTX_DATABASE_URL", "type": "ENV_VAR"} in warehouse[
        "configuredValues"
    ]


def test_run_time_knobs_are_resource_fields_read_once_at_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """The universe target, NEPSE's history window and the freshness grace are on the Resources page and
    can be set per run in the launchpad; the run reads them from there, not from its own environment."""
    monkeypatch.setenv("NTX_UNIVERSE_TARGET", "278")
    monkeypatch.setenv("NTX_API_HISTORY_DAYS", "400")
    monkeypatch.setenv("NTX_PRICES_FRESHNESS_GRACE_HOURS", "3")
    resources = project_defs().resources
    targets = resources["check_targets"]
    assert (targets.universe_target, targets.prices_freshness_grace_hours) == (278, 3.0)  # type: ignore[attr-defined]
    assert resources["nepse"].history_days == 400  # type: ignore[attr-defined]


def test_settings_are_read_once_per_process_at_definitions_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One read of the environment serves the whole load (resources, the freshness schedule's time): a
    variable changed afterwards reaches the code location when it reloads (a new process), not half of
    it now."""
    reads: list[object] = []
    real_load = settings_module.load_settings

    def counting_load(**overrides: object) -> settings_module.Settings:
        reads.append(overrides)
        return real_load(**overrides)

    monkeypatch.setattr(settings_module, "load_settings", counting_load)
    monkeypatch.setenv("NTX_UNIVERSE_TARGET", "278")
    first = project_defs()
    monkeypatch.setenv("NTX_UNIVERSE_TARGET", "300")
    second = project_defs()
    assert len(reads) == 1
    for loaded in (first, second):
        assert loaded.resources["check_targets"].universe_target == 278  # type: ignore[attr-defined]
    schedule = first.resolve_schedule_def("daily_prices_freshness_schedule")
    assert schedule.cron_schedule == "5 17 * * *"  # 15:00 close + the 2 h default grace + 5 min


@pytest.mark.parametrize(("value", "target", "auto"), [("278", 278, False), ("auto", 264, True)])
def test_the_universe_target_is_a_number_or_auto(
    monkeypatch: pytest.MonkeyPatch, value: str, target: int, auto: bool
) -> None:
    monkeypatch.setenv("NTX_UNIVERSE_TARGET", value)
    targets = project_defs().resources["check_targets"]
    assert (targets.universe_target, targets.universe_target_auto) == (target, auto)  # type: ignore[attr-defined]


def test_a_universe_target_that_is_neither_fails_at_load_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NTX_UNIVERSE_TARGET", "automatic")
    with pytest.raises(Exception) as info:
        project_defs()
    assert any("NTX_UNIVERSE_TARGET='automatic'" in text for text in error_chain(info.value))
