"""The production topology for tests: a separate gRPC code server, the webserver, the daemon, and Dagster's
storage on PostgreSQL (ntx_assets/deploy/dagster.yaml and ntx_assets/deploy/workspace.yaml).

Two ways to bring it up, both driven afterwards with ``DagsterDeployment``'s GraphQL helpers (launch a
backfill as the UI does, wait on it, re-execute it from failure):

``ProductionDeployment``
    The harness starts the three processes itself (``dagster code-server start``, ``dagster-webserver``,
    ``dagster-daemon``), each in its own session, so a test can lose the code server's host on purpose:
    ``lose_host(run_id)`` SIGKILLs the code server with everything under it (its inner API server, the
    run worker and the run's step processes), as a lost machine would; ``start_code_server()`` brings a
    new one up on the same port. The webserver and the daemon stay up (they live elsewhere in the
    Docker and Kubernetes topologies).

``ProdLocalDeployment``
    Runs ``make prod-local`` (ntx_assets/deploy/prod-local.sh) as a user does, in its own session, and
    attaches to its webserver. ``interrupt()`` sends SIGINT to make's process group, as Ctrl-C in the
    terminal does.

Both take the PostgreSQL settings in ``env`` (``postgres_env(url)`` turns a database URL into the
DAGSTER_PG_* variables the production dagster.yaml reads).
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy.engine import make_url

from ntx_assets_tests.tools.harness.deployment import (
    REPO_ROOT,
    DagsterDeployment,
    DagsterDeploymentError,
    DagsterDeploymentTimeout,
    _asset_key_input,
    _console_script,
    _free_loopback_port,
    _tail,
    alive,
    process_tree,
)

PROD_DAGSTER_YAML = REPO_ROOT / "ntx_assets" / "deploy" / "dagster.yaml"
PROD_WORKSPACE_YAML = REPO_ROOT / "ntx_assets" / "deploy" / "workspace.yaml"
LOCATION_NAME = "ntx_assets"


def postgres_env(url: str) -> dict[str, str]:
    """The DAGSTER_PG_* variables of ntx_assets/deploy/dagster.yaml for a PostgreSQL database URL."""
    parsed = make_url(url)
    return {
        "DAGSTER_PG_HOST": parsed.host or "127.0.0.1",
        "DAGSTER_PG_PORT": str(parsed.port or 5432),
        "DAGSTER_PG_USER": parsed.username or "postgres",
        "DAGSTER_PG_PASSWORD": parsed.password or "",
        "DAGSTER_PG_DB": str(parsed.database),
    }


def merged(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` merged in, mappings key by key (a copy; neither argument changes)."""
    result = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def launch_backfill_by_assets(
    deployment: DagsterDeployment,
    partitions: Mapping[str, tuple[str, str] | None],
    *,
    tags: Mapping[str, str] | None = None,
) -> str:
    """One asset backfill over assets with different partitionings, as the UI's backfill of a mixed
    selection sends it (``partitionsByAssets``): an inclusive (start, end) range per partitioned asset,
    None for an unpartitioned one. The daemon runs them in dependency order. Returns the backfill id."""
    params = {
        "partitionsByAssets": [
            {
                "assetKey": _asset_key_input(key),
                "partitions": None
                if bounds is None
                else {"ranges": [{"start": bounds[0], "end": bounds[1]}]},
            }
            for key, bounds in partitions.items()
        ],
        "tags": [{"key": key, "value": value} for key, value in (tags or {}).items()],
    }
    return deployment.launch_backfill(params)


def _kill_tree(pids: list[int]) -> None:
    """SIGSTOP every pid first (nothing reacts or forks while the others die), then SIGKILL them."""
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)


class ProductionDeployment(DagsterDeployment):
    """Code server + webserver + daemon as separate processes, on the production instance file.

    Args:
        dagster_home: a directory to use as DAGSTER_HOME (logs: code-server.log, webserver.log, daemon.log).
        env: environment of all three (and of the runs, which the code server launches): the DAGSTER_PG_*
            variables, NTX_DATABASE_URL, NTX_NEPSE_BASE_URL, ...
        instance_overrides: merged into ntx_assets/deploy/dagster.yaml before the harness's own test-speed
            settings (e.g. ``{"run_monitoring": {"max_runtime_seconds": 60}}``).
        Other keyword arguments as ``DagsterDeployment`` (``backfill_interval_seconds``, ``automation``...).
    """

    def __init__(
        self,
        dagster_home: Path | str,
        env: Mapping[str, str],
        *,
        instance_overrides: Mapping[str, Any] | None = None,
        module: str = "ntx_assets.definitions",
        code_server_startup_timeout: float = 180.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(module, dagster_home, env, PROD_DAGSTER_YAML, location_name=LOCATION_NAME, **kwargs)
        self.instance_overrides = dict(instance_overrides or {})
        self.code_server_port = 0
        self.code_server_startup_timeout = code_server_startup_timeout
        self.code_server_log = self.dagster_home / "code-server.log"

    def __enter__(self) -> ProductionDeployment:
        try:
            self.code_server_port = _free_loopback_port()
            self.env.update(
                {"NTX_CODE_SERVER_HOST": "127.0.0.1", "NTX_CODE_SERVER_PORT": str(self.code_server_port)}
            )
            self._write_home()
            _ = self.instance  # creates Dagster's schema in PostgreSQL before any process races for it
            self.start_code_server()
        except BaseException:
            self.close()
            raise
        super().__enter__()
        return self

    def _write_home(self) -> None:
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        source = self.dagster_home / "dagster.production.yaml"
        if self.dagster_yaml_source != source:
            base = yaml.safe_load(PROD_DAGSTER_YAML.read_text()) or {}
            source.write_text(
                f"# {PROD_DAGSTER_YAML} with the test's overrides {self.instance_overrides}\n"
                + yaml.safe_dump(merged(base, self.instance_overrides), sort_keys=False)
            )
            self.dagster_yaml_source = source
        super()._write_home()
        # The production workspace itself: a grpc_server entry whose host and port come from the env.
        shutil.copyfile(PROD_WORKSPACE_YAML, self.dagster_home / "workspace.yaml")

    # ------------------------------------------------------------------ the code server

    @property
    def code_server(self) -> subprocess.Popen[bytes] | None:
        return self._processes.get("code server")

    def start_code_server(self) -> None:
        """Start ``dagster code-server start`` on ``code_server_port``; return once it serves the location."""
        if self.code_server is not None and self.code_server.poll() is None:
            raise DagsterDeploymentError("the code server is already running")
        log = self.code_server_log.open("ab")
        self._log_files.append(log)
        self._processes["code server"] = subprocess.Popen(
            [
                _console_script("dagster"),
                "code-server",
                "start",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.code_server_port),
                "-m",
                self.module,
                "--location-name",
                self.location_name,
            ],
            cwd=self.working_directory,
            env=self.process_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_for_code_server()

    def _wait_for_code_server(self) -> None:
        from dagster._grpc.client import DagsterGrpcClient

        client = DagsterGrpcClient(host="127.0.0.1", port=self.code_server_port)
        deadline = time.monotonic() + self.code_server_startup_timeout
        while True:
            self._check_processes("starting the code server")
            try:
                client.list_repositories()
                return
            except Exception as exc:  # not listening yet, or still loading the definitions
                if time.monotonic() > deadline:
                    raise DagsterDeploymentTimeout(
                        f"the code server on port {self.code_server_port} did not serve the location within "
                        f"{self.code_server_startup_timeout:.0f} s: {exc}\n{self.log_tails()}"
                    ) from exc
            time.sleep(0.5)

    def lose_host(self, run_id: str | None = None) -> list[int]:
        """SIGKILL the code server and everything under it (its API server, run workers, step processes),
        plus the tree of ``run_id``'s worker if it lives elsewhere: the code server's machine is gone.
        Returns the pids killed."""
        process = self._processes.pop("code server", None)
        if process is None:
            raise DagsterDeploymentError("no code server is running")
        pids = process_tree(process.pid)
        if run_id is not None:
            worker = self.run_worker_pid(run_id)
            if worker is not None:
                pids += [pid for pid in process_tree(worker) if pid not in pids]
        _kill_tree(pids)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        deadline = time.monotonic() + 10  # SIGKILL is delivered at once, the exit takes a moment
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        return pids

    def log_tails(self, lines: int = 80) -> str:
        return (
            f"--- {self.code_server_log} (last {lines} lines) ---\n{_tail(self.code_server_log, lines)}\n"
            + super().log_tails(lines)
        )


class ProdLocalDeployment(DagsterDeployment):
    """``make prod-local`` in its own session, attached to with the harness's GraphQL client.

    Args:
        dagster_home: PROD_DAGSTER_HOME (make copies ntx_assets/deploy/dagster.yaml there).
        env: NTX_* settings and the DAGSTER_PG_* variables for make's environment.
        make_args: extra ``VAR=value`` arguments for make.
    """

    def __init__(
        self,
        dagster_home: Path | str,
        env: Mapping[str, str],
        *,
        make_args: Mapping[str, str] | None = None,
        startup_timeout: float = 240.0,
    ) -> None:
        super().__init__(
            "ntx_assets.definitions",
            dagster_home,
            env,
            PROD_DAGSTER_YAML,
            location_name=LOCATION_NAME,
            startup_timeout=startup_timeout,
        )
        self.make_args = dict(make_args or {})
        self.code_server_port = 0
        self.make_log = self.dagster_home / "make-prod-local.log"

    @property
    def make(self) -> subprocess.Popen[bytes]:
        return self._processes["make prod-local"]

    def __enter__(self) -> ProdLocalDeployment:
        try:
            self.dagster_home.mkdir(parents=True, exist_ok=True)
            self.port = _free_loopback_port()
            self.code_server_port = _free_loopback_port()
            arguments = {
                "PROD_DAGSTER_HOME": str(self.dagster_home),
                "UI_PORT": str(self.port),
                "CODE_SERVER_PORT": str(self.code_server_port),
                **self.make_args,
            }
            # `-o .venv/.installed`: never reinstall the venv from a test, even if pyproject.toml is newer.
            command = [
                "make",
                "--no-print-directory",
                "-o",
                ".venv/.installed",
                "prod-local",
                *(f"{key}={value}" for key, value in arguments.items()),
            ]
            env = {key: value for key, value in self.process_env.items() if key != "DAGSTER_HOME"}
            log = self.make_log.open("wb")
            self._log_files.append(log)
            self._processes["make prod-local"] = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self._client = httpx.Client(base_url=self.url, timeout=httpx.Timeout(120.0, connect=5.0))
            self._wait_until_loaded()
        except BaseException:
            self.close()
            raise
        return self

    def processes(self) -> list[int]:
        """make and every process under it (the script, the three servers, their children)."""
        return process_tree(self.make.pid)

    def interrupt(self, timeout: float = 90.0) -> int:
        """Ctrl-C: SIGINT to make's process group; wait for make to exit and return its exit code."""
        if self._instance is not None:
            self._instance.dispose()
            self._instance = None
        os.killpg(self.make.pid, signal.SIGINT)
        try:
            return self.make.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise DagsterDeploymentTimeout(
                f"make prod-local still running {timeout:.0f} s after SIGINT\n{self.log_tails()}"
            ) from exc

    def close(self) -> None:
        """Stop make the way a user does (SIGINT; its script stops the servers), then SIGKILL whatever of
        its tree is still alive. (The base class's SIGTERM-then-SIGKILL to make's group could kill the
        script while it is stopping the servers, which lead process groups of their own.)"""
        process = self._processes.get("make prod-local")
        if process is not None and process.poll() is None:
            tree = process_tree(process.pid)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=60)
            _kill_tree([pid for pid in tree if alive(pid)])
        super().close()

    def log_tails(self, lines: int = 80) -> str:
        return f"--- {self.make_log} (last {lines} lines) ---\n{_tail(self.make_log, lines)}"
