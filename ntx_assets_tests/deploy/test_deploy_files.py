"""The deployment files under ntx_assets/deploy, linted without Docker, Kubernetes or Helm:

- the instance files load with Dagster's own config schema (and the DockerRunLauncher's), and the Docker
  profile keeps the production profile's storage, queue, pool and run monitoring;
- the workspace passes Dagster's workspace schema and names the gRPC code server;
- docker-compose.yml validates against the compose-spec JSON schema (as vendored by check-jsonschema),
  and its wiring (image, commands, env, volumes, network) matches the instance file and the Dockerfile;
- the Helm values use only keys of Dagster's chart: the key tree below was read from the chart's
  values.schema.json and templates (configmap-instance.yaml for runMonitoring, _concurrency.tpl for
  concurrency) in dagster-io/dagster. The schema itself is not shipped on PyPI and is not vendored here,
  so this is a check of the keys we use, not a `helm lint`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config
from dagster._core.launcher import RunLauncher
from dagster._core.workspace.config_schema import process_workspace_config
from dagster._serdes import ConfigurableClassData

from ntx_assets_tests.tools.harness.deployment import REPO_DAGSTER_YAML, REPO_ROOT, patched_environ

DEPLOY = REPO_ROOT / "ntx_assets" / "deploy"
PG_ENV = {
    "DAGSTER_PG_HOST": "db",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_USER": "ntx",
    "DAGSTER_PG_PASSWORD": "secret",
    "DAGSTER_PG_DB": "dagster",
    "NTX_CODE_SERVER_HOST": "code",
    "NTX_CODE_SERVER_PORT": "4266",
}


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def instance_config(relative: str) -> dict[str, Any]:
    """The instance file validated by Dagster 1.13's own schema (and its cross-key rules)."""
    with patched_environ(PG_ENV):
        config, custom_class = dagster_instance_config(str(DEPLOY), relative)
    assert custom_class is None
    return dict(config)


def launcher(config: dict[str, Any]) -> RunLauncher:
    """The run launcher the file names, built from its config (validated by the launcher's schema)."""
    section = config["run_launcher"]
    data = ConfigurableClassData(
        section["module"], section["class"], yaml.safe_dump(section.get("config") or {})
    )
    with patched_environ(PG_ENV):
        return data.rehydrate(as_type=RunLauncher)


# ------------------------------------------------------------------ instance files


def test_the_production_instance_is_postgres_queued_monitored_and_pools_like_the_repo() -> None:
    config = instance_config("dagster.yaml")
    repo = load(REPO_DAGSTER_YAML)
    assert config["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert type(launcher(config)).__name__ == "DefaultRunLauncher"
    assert config["concurrency"] == repo["concurrency"]
    monitoring = config["run_monitoring"]
    assert monitoring["enabled"] is True
    # What fails a run whose host was lost under the DefaultRunLauncher (test_lost_host.py) and frees its
    # pool slot.
    assert monitoring["max_runtime_seconds"] > 0
    assert monitoring["start_timeout_seconds"] > 0
    assert monitoring["free_slots_after_run_end_seconds"] > 0
    assert monitoring["max_resume_run_attempts"] == 0  # the DefaultRunLauncher cannot resume a run


def test_the_docker_instance_keeps_the_production_settings_and_a_valid_docker_run_launcher() -> None:
    production = instance_config("dagster.yaml")
    docker = instance_config("docker/dagster.yaml")
    for key in ("storage", "run_coordinator", "concurrency", "run_monitoring", "telemetry"):
        assert docker[key] == production[key], key
    run_launcher = launcher(docker)
    assert type(run_launcher).__name__ == "DockerRunLauncher"
    assert run_launcher.supports_check_run_worker_health  # a dead run container is failed on the next poll
    assert docker["compute_logs"]["class"] == "LocalComputeLogManager"


def test_the_workspace_loads_the_location_from_a_grpc_code_server() -> None:
    workspace = load(DEPLOY / "workspace.yaml")
    with patched_environ(PG_ENV):
        assert process_workspace_config(workspace).success
    (entry,) = workspace["load_from"]
    assert entry["grpc_server"] == {
        "host": {"env": "NTX_CODE_SERVER_HOST"},
        "port": {"env": "NTX_CODE_SERVER_PORT"},
        "location_name": "ntx_assets",
    }


def test_prod_local_is_a_make_target_running_a_valid_script() -> None:
    assert re.search(r"^prod-local:.*##", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE)
    script = DEPLOY / "prod-local.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    for command in ('dagster" code-server start', 'dagster-webserver" -w ntx_assets/deploy/workspace.yaml'):
        assert command in text


# ------------------------------------------------------------------ Docker


def compose() -> dict[str, Any]:
    return load(DEPLOY / "docker-compose.yml")


def test_compose_file_validates_against_the_compose_spec_schema() -> None:
    schema_file = importlib.resources.files("check_jsonschema") / "builtin_schemas/vendor/compose-spec.json"
    schema = json.loads(schema_file.read_text())
    jsonschema.validate(compose(), schema, cls=jsonschema.Draft202012Validator)
    # Not vacuous: a misspelled service key is rejected.
    broken = compose()
    broken["services"]["daemon"]["enviroment"] = broken["services"]["daemon"].pop("environment")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema, cls=jsonschema.Draft202012Validator)


def test_compose_wiring_matches_the_docker_instance_file_and_the_dockerfile() -> None:
    spec = compose()
    services = spec["services"]
    assert set(services) == {"postgres", "code", "webserver", "daemon"}
    images = {services[name]["image"] for name in ("code", "webserver", "daemon")}
    assert len(images) == 1, images  # one image for the three and for the run containers
    (image,) = images
    assert services["code"]["environment"]["DAGSTER_CURRENT_IMAGE"] == image

    build = services["code"]["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == REPO_ROOT and (context / build["dockerfile"]).is_file()

    command = services["code"]["command"]
    assert command[:3] == ["dagster", "code-server", "start"]
    assert command[command.index("-m") + 1] == "ntx_assets.definitions"
    port = command[command.index("-p") + 1]
    env = services["daemon"]["environment"]
    assert env["NTX_CODE_SERVER_HOST"] == "code" and env["NTX_CODE_SERVER_PORT"] == port
    for name in ("webserver", "daemon"):
        assert "/opt/ntx/workspace.yaml" in services[name]["command"]
        assert "/var/run/docker.sock:/var/run/docker.sock" in services[name]["volumes"]
    assert services["webserver"]["environment"] == env

    docker = load(DEPLOY / "docker" / "dagster.yaml")
    launcher_config = docker["run_launcher"]["config"]
    # The daemon forwards these from its own environment to every run container.
    assert set(launcher_config["env_vars"]) <= set(env)
    # The run containers' volumes and network are compose objects with fixed (unprefixed) names.
    assert launcher_config["networks"] == [spec["networks"]["ntx"]["name"]]
    named = {volume["name"] for volume in spec["volumes"].values() if volume and "name" in volume}
    mounts = dict(mount.split(":", 1) for mount in launcher_config["container_kwargs"]["volumes"])
    assert set(mounts) == named
    assert mounts["ntx_artifacts"] == env["NTX_ARTIFACT_DIR"]
    assert mounts["ntx_compute_logs"] == docker["compute_logs"]["config"]["base_dir"]
    assert f"ntx_compute_logs:{mounts['ntx_compute_logs']}" in services["webserver"]["volumes"]
    # Dagster's database is the one postgres creates; the warehouse's is created by the init script.
    assert env["DAGSTER_PG_DB"] == services["postgres"]["environment"]["POSTGRES_DB"]
    assert env["NTX_DATABASE_URL"].endswith("@postgres:5432/ntx_warehouse")
    assert "CREATE DATABASE ntx_warehouse" in (DEPLOY / "docker/initdb/ntx-warehouse.sql").read_text()


def test_dockerfile_installs_the_dagster_integrations_of_the_pinned_release() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert "FROM python:3.11-" in text  # pyproject.toml: requires-python >=3.11
    release = importlib.metadata.version("dagster-postgres")  # 0.29.x pins the dagster in the image
    pins = set(re.findall(r"dagster-(?:docker|k8s|aws)==([0-9.]+)", text))
    assert pins == {release}, pins
    for copied in ("ntx_assets/deploy/docker/dagster.yaml", "ntx_assets/deploy/workspace.yaml"):
        assert copied in text and (REPO_ROOT / copied).is_file()
    assert '"-m", "ntx_assets.definitions"' in text


# ------------------------------------------------------------------ Helm

# The chart's keys we use, as its values.schema.json names them (None: a leaf or a free-form object).
CHART_KEYS: dict[str, Any] = {
    "global": {"postgresqlSecretName": None, "dagsterHome": None, "serviceAccountName": None},
    "postgresql": {
        "enabled": None,
        "postgresqlHost": None,
        "postgresqlUsername": None,
        "postgresqlPassword": None,
        "postgresqlDatabase": None,
        "postgresqlParams": None,
        "postgresqlScheme": None,
        "service": {"port": None},
        "image": None,
    },
    "generatePostgresqlPasswordSecret": None,
    "dagster-user-deployments": {
        "enabled": None,
        "enableSubchart": None,
        "imagePullSecrets": None,
        "deployments": [
            {
                "name": None,
                "image": {"repository": None, "tag": None, "pullPolicy": None},
                "dagsterApiGrpcArgs": None,
                "codeServerArgs": None,
                "includeConfigInLaunchedRuns": {"enabled": None},
                "port": None,
                "env": None,
                "envConfigMaps": None,
                "envSecrets": None,
                "volumes": None,
                "volumeMounts": None,
                "resources": None,
                "labels": None,
                "annotations": None,
                "nodeSelector": None,
            }
        ],
    },
    "runLauncher": {
        "type": None,
        "config": {
            "k8sRunLauncher": {
                "image": None,
                "imagePullPolicy": None,
                "jobNamespace": None,
                "loadInclusterConfig": None,
                "envConfigMaps": None,
                "envSecrets": None,
                "envVars": None,
                "volumeMounts": None,
                "volumes": None,
                "labels": None,
                "failPodOnRunFailure": None,
                "resources": None,
                "runK8sConfig": {
                    "containerConfig": None,
                    "podSpecConfig": None,
                    "podTemplateSpecMetadata": None,
                    "jobSpecConfig": None,
                    "jobMetadata": None,
                },
            }
        },
    },
    "computeLogManager": {
        "type": None,
        "config": {
            "s3ComputeLogManager": {"bucket": None, "prefix": None, "region": None, "endpointUrl": None}
        },
    },
    "dagsterDaemon": {
        "enabled": None,
        "runCoordinator": {
            "enabled": None,
            "type": None,
            "config": {"queuedRunCoordinator": {"dequeueIntervalSeconds": None}},
        },
        # Rendered by templates/configmap-instance.yaml into run_monitoring.
        "runMonitoring": {
            "enabled": None,
            "startTimeoutSeconds": None,
            "cancelTimeoutSeconds": None,
            "maxResumeRunAttempts": None,
            "pollIntervalSeconds": None,
            "freeSlotsAfterRunEndSeconds": None,
        },
    },
    # Rendered by templates/helpers/instance/_concurrency.tpl into concurrency.
    "concurrency": {
        "pools": {"defaultLimit": None, "granularity": None, "opGranularityRunBuffer": None},
        "runs": {"maxConcurrentRuns": None, "tagConcurrencyLimits": None},
    },
    "telemetry": {"enabled": None},
}


def unknown_keys(values: Any, known: Any, path: str = "") -> list[str]:
    if known is None:
        return []
    if isinstance(known, list):
        return [key for i, item in enumerate(values) for key in unknown_keys(item, known[0], f"{path}[{i}]")]
    assert isinstance(values, dict), f"{path} should be a mapping"
    found = []
    for key, value in values.items():
        if key not in known:
            found.append(f"{path}.{key}".lstrip("."))
        else:
            found += unknown_keys(value, known[key], f"{path}.{key}")
    return found


@pytest.fixture(scope="module")
def helm_values() -> dict[str, Any]:
    return load(DEPLOY / "helm" / "values.yaml")


def test_helm_values_use_only_the_charts_keys(helm_values: dict[str, Any]) -> None:
    assert unknown_keys(helm_values, CHART_KEYS) == []
    assert unknown_keys({"dagsterDaemon": {"runMonitoring": {"maxRuntime": 1}}}, CHART_KEYS) == [
        "dagsterDaemon.runMonitoring.maxRuntime"
    ]


def test_helm_values_run_this_location_with_the_k8s_run_launcher_and_the_repo_settings(
    helm_values: dict[str, Any],
) -> None:
    (deployment,) = helm_values["dagster-user-deployments"]["deployments"]
    args = deployment["codeServerArgs"]
    assert args[args.index("-m") + 1] == "ntx_assets.definitions"
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True  # env + volumes reach run pods
    env = {item["name"]: item["value"] for item in deployment["env"]}
    mounts = {mount["name"]: mount["mountPath"] for mount in deployment["volumeMounts"]}
    claims = {volume["name"] for volume in deployment["volumes"] if "persistentVolumeClaim" in volume}
    assert mounts["artifacts"] == env["NTX_ARTIFACT_DIR"] and "artifacts" in claims

    launcher_values = helm_values["runLauncher"]
    assert launcher_values["type"] == "K8sRunLauncher"
    required = {"imagePullPolicy", "loadInclusterConfig", "envConfigMaps", "envSecrets", "envVars"}
    assert required | {"volumeMounts", "volumes"} <= set(launcher_values["config"]["k8sRunLauncher"])

    postgresql = helm_values["postgresql"]
    assert postgresql["enabled"] is False and postgresql["postgresqlScheme"] == "postgresql+psycopg2"

    repo = load(REPO_DAGSTER_YAML)["concurrency"]
    concurrency = helm_values["concurrency"]
    assert concurrency["pools"]["defaultLimit"] == repo["pools"]["default_limit"]
    assert concurrency["runs"]["maxConcurrentRuns"] == repo["runs"]["max_concurrent_runs"]
    assert concurrency["runs"]["tagConcurrencyLimits"] == repo["runs"]["tag_concurrency_limits"]

    production = load(DEPLOY / "dagster.yaml")["run_monitoring"]
    monitoring = helm_values["dagsterDaemon"]["runMonitoring"]
    assert monitoring == {
        "enabled": production["enabled"],
        "startTimeoutSeconds": production["start_timeout_seconds"],
        "cancelTimeoutSeconds": production["cancel_timeout_seconds"],
        "maxResumeRunAttempts": production["max_resume_run_attempts"],
        "pollIntervalSeconds": production["poll_interval_seconds"],
        "freeSlotsAfterRunEndSeconds": production["free_slots_after_run_end_seconds"],
    }
