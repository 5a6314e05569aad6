"""Through a real Dagster webserver: the saved screens are assets of the group screens, and the Resources
page shows the webhook's variable name, never its URL (slow tier)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ntx_assets.screens.file import SAMPLE_FILE, load_screens
from ntx_assets_tests.tools.harness.deployment import DagsterDeployment

TOKEN = "T0SECRET/B0TOKEN-ui-never-shows"
QUERY = """
query ($selector: RepositorySelector!) {
  allTopLevelResourceDetailsOrError(repositorySelector: $selector) {
    __typename
    ... on ResourceDetailsList { results { name configuredValues { key value type } } }
  }
  assetNodes { assetKey { path } groupName description }
}
"""


@pytest.mark.slow
def test_the_ui_shows_the_screens_and_the_webhook_variable_never_its_url(tmp_path: Path) -> None:
    env = {
        "NTX_DATA_DIR": str(tmp_path),
        "NTX_SCREENS_FILE": str(SAMPLE_FILE),
        "NTX_ALERT_WEBHOOK_URL": f"https://hooks.slack.com/services/{TOKEN}",
        "NTX_ALERT_WEBHOOK_FORMAT": "slack",
    }
    with DagsterDeployment(module="ntx_assets.definitions", dagster_home=tmp_path / "home", env=env) as ui:
        answer = ui.graphql(
            QUERY, {"selector": {"repositoryLocationName": "ntx_assets", "repositoryName": "__repository__"}}
        )
    assert TOKEN not in str(answer)
    details = answer["allTopLevelResourceDetailsOrError"]
    alerts = next(r for r in details["results"] if r["name"] == "alerts")
    assert {"key": "webhook_url", "value": "NTX_ALERT_WEBHOOK_URL", "type": "ENV_VAR"} in alerts[
        "configuredValues"
    ]
    groups = {"/".join(node["assetKey"]["path"]): node["groupName"] for node in answer["assetNodes"]}
    for screen in load_screens(SAMPLE_FILE):
        assert groups[screen.asset_name] == "screens"
