"""Launch partition backfills the way the Dagster UI does, for end-to-end tests and the benchmark.

``DagsterDeployment`` starts a real ``dagster-webserver`` and a real ``dagster-daemon`` as subprocesses
on loopback, over a DAGSTER_HOME holding a copy of the repo's dagster.yaml (or another instance file).
Backfills are launched with the GraphQL mutation the UI's "Launch backfill" button sends
(``launchPartitionBackfill`` with ``assetSelection`` + ``partitionNames`` / ``allPartitions``), and
waited on by polling ``partitionBackfillOrError`` like the UI's backfill page. Nothing here calls
``materialize`` in-process: runs are created by the daemon's backfill loop, queued by the
QueuedRunCoordinator and executed by the DefaultRunLauncher, as in a deployment.

    with DagsterDeployment(module="ntx_assets.definitions", dagster_home=tmp_path / "home",
                           env={"NTX_NEPSE_BASE_URL": ...}) as deployment:
        backfill_id = deployment.launch_partition_backfill(["daily_prices"], partition_names=[...])
        result = deployment.wait_for_backfill(backfill_id, timeout=600)
        assert result.status == "COMPLETED_SUCCESS", result.describe()

Timing (Dagster 1.13.27, read from dagster/_daemon/): the backfill daemon makes a pass as soon as it
has loaded the workspace and then every 30 s (``DEFAULT_DAEMON_INTERVAL_SECONDS``, hard-coded: no env
var or dagster.yaml key changes it), and a one-run backfill needs two passes: one submits the run, the
next sees it finished and marks the backfill COMPLETED_SUCCESS. The run queue is polled every
``run_queue.dequeue_interval_seconds`` (default 5 s); the harness's copy of dagster.yaml sets it to
1 s (``TEST_DEQUEUE_INTERVAL_SECONDS``). The daemon is started after the webserver is ready, so a
backfill launched right after ``__enter__`` is caught by the daemon's first pass: ~35 s from launch to
COMPLETED_SUCCESS for the toy location. A later backfill in the same deployment takes 30-60 s;
backfills launched together advance in the same passes, so launch them together, then wait on each.
``backfill_interval_seconds=2`` (opt-in, patches that private constant in the daemon process; it also
shortens the AssetDaemon's pre-sensor interval) brings a one-run backfill down to ~12 s.

Besides launching and waiting, the harness does what an operator does in the UI: turn the sensors and
schedules off (``automation=False`` or ``stop_automation()``), re-execute a finished backfill from
failure (``reexecute_backfill``, the backfill page's "Re-execute" menu), and, to simulate a crash, kill
a run's processes with SIGKILL (``kill_run_processes``: the run worker found from its engine events,
and every step process under it). It lives in the package (not in ntx_assets_tests) so that
``python -m ntx_assets_tests.tools.bench`` can use it; it imports nothing from pytest.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import dagster as dg
import httpx
import yaml

# ntx_assets_tests/tools/harness/deployment.py -> the repository root (the package is installed editable).
REPO_ROOT = Path(__file__).resolve().parents[3]
REPO_DAGSTER_YAML = REPO_ROOT / "dagster.yaml"
REPO_WORKSPACE_YAML = REPO_ROOT / "workspace.yaml"

# Only in the harness's copy of dagster.yaml: how often the daemon polls the run queue (default 5 s).
# `run_queue: dequeue_interval_seconds` is compatible with `concurrency: runs:` (only max_concurrent_runs,
# tag_concurrency_limits and block_op_concurrency_limited_runs conflict with it).
TEST_DEQUEUE_INTERVAL_SECONDS = 1
# Only in the harness's copy, and only when run_monitoring is enabled: how often the monitoring daemon
# makes a pass (the repo's dagster.yaml says 30 s). Its passes also free the pool slots of runs that
# ended without releasing them (`free_slots_after_run_end_seconds`), e.g. a killed run.
TEST_RUN_MONITORING_POLL_INTERVAL_SECONDS = 2
# ...and how long after a run ended those passes free its leftover pool slots (the repo says 30 s).
TEST_FREE_SLOTS_AFTER_RUN_END_SECONDS = 1

# BulkActionStatus values after which the daemon no longer works on a backfill.
TERMINAL_BACKFILL_STATUSES = frozenset(
    {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
)

LOG_TAIL_LINES = 80

# Opt-in only (``backfill_interval_seconds=``): dagster-daemon's own CLI entry point, run with the
# backfill loop's sleep shortened. That sleep is the module constant
# dagster._daemon.controller.DEFAULT_DAEMON_INTERVAL_SECONDS (30 s), read by
# dagster._daemon.backfill.execute_backfill_iteration_loop on every pass; it is private API, which is
# why the default deployment runs the unmodified ``dagster-daemon`` console script.
_DAEMON_WITH_BACKFILL_INTERVAL = (
    "import os, sys\n"
    "import dagster._daemon.controller as controller\n"
    "controller.DEFAULT_DAEMON_INTERVAL_SECONDS = float(os.environ['NTX_TEST_BACKFILL_INTERVAL_SECONDS'])\n"
    "from dagster._daemon.cli import main\n"
    "sys.argv[0] = 'dagster-daemon'\n"
    "sys.exit(main())\n"
)

_PYTHON_ERROR_FIELDS = "message stack errorChain { isExplicitLink error { message stack } }"

# The UI's own mutation (dagster-webserver 1.13 bundle, LaunchPartitionBackfill), PythonErrorFragment inlined.
LAUNCH_PARTITION_BACKFILL_MUTATION = f"""
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {{
  launchPartitionBackfill(backfillParams: $backfillParams) {{
    __typename
    ... on LaunchBackfillSuccess {{ backfillId }}
    ... on PartitionSetNotFoundError {{ message }}
    ... on PartitionKeysNotFoundError {{ message }}
    ... on InvalidStepError {{ invalidStepKey }}
    ... on InvalidOutputError {{ stepKey invalidOutputName }}
    ... on UnauthorizedError {{ message }}
    ... on PipelineNotFoundError {{ message }}
    ... on RunConflict {{ message }}
    ... on ConflictingExecutionParamsError {{ message }}
    ... on PresetNotFoundError {{ message }}
    ... on RunConfigValidationInvalid {{ pipelineName errors {{ message path reason }} }}
    ... on PythonError {{ {_PYTHON_ERROR_FIELDS} }}
  }}
}}
"""

WORKSPACE_QUERY = f"""
query HarnessWorkspace {{
  workspaceOrError {{
    __typename
    ... on Workspace {{
      locationEntries {{
        name
        loadStatus
        locationOrLoadError {{
          __typename
          ... on PythonError {{ {_PYTHON_ERROR_FIELDS} }}
        }}
      }}
    }}
    ... on PythonError {{ {_PYTHON_ERROR_FIELDS} }}
  }}
}}
"""

BACKFILL_QUERY = f"""
query HarnessBackfill($backfillId: String!) {{
  partitionBackfillOrError(backfillId: $backfillId) {{
    __typename
    ... on PartitionBackfill {{ id status numPartitions error {{ {_PYTHON_ERROR_FIELDS} }} }}
    ... on BackfillNotFoundError {{ message }}
    ... on PythonError {{ {_PYTHON_ERROR_FIELDS} }}
  }}
}}
"""

RUNS_QUERY = f"""
query HarnessRuns($filter: RunsFilter) {{
  runsOrError(filter: $filter) {{
    __typename
    ... on Runs {{ results {{ runId status creationTime tags {{ key value }} }} }}
    ... on InvalidPipelineRunsFilterError {{ message }}
    ... on PythonError {{ {_PYTHON_ERROR_FIELDS} }}
  }}
}}
"""

RUN_FAILURE_EVENTS_QUERY = f"""
query HarnessRunFailures($runId: ID!) {{
  logsForRun(runId: $runId) {{
    __typename
    ... on EventConnection {{
      events {{
        __typename
        ... on ExecutionStepFailureEvent {{ stepKey error {{ {_PYTHON_ERROR_FIELDS} }} }}
        ... on RunFailureEvent {{ message error {{ {_PYTHON_ERROR_FIELDS} }} }}
        ... on EngineEvent {{ message error {{ {_PYTHON_ERROR_FIELDS} }} }}
      }}
    }}
    ... on PythonError {{ {_PYTHON_ERROR_FIELDS} }}
  }}
}}
"""

REEXECUTE_PARTITION_BACKFILL_MUTATION = f"""
mutation RetryBackfill($reexecutionParams: ReexecutionParams) {{
  reexecutePartitionBackfill(reexecutionParams: $reexecutionParams) {{
    __typename
    ... on LaunchBackfillSuccess {{ backfillId }}
    ... on UnauthorizedError {{ message }}
    ... on PythonError {{ {_PYTHON_ERROR_FIELDS} }}
  }}
}}
"""

INSTIGATORS_QUERY = f"""
query HarnessInstigators {{
  workspaceOrError {{
    __typename
    ... on Workspace {{
      locationEntries {{
        name
        locationOrLoadError {{
          __typename
          ... on RepositoryLocation {{
            repositories {{
              name
              sensors {{ name sensorState {{ id status }} }}
              schedules {{ name scheduleState {{ id status }} }}
            }}
          }}
        }}
      }}
    }}
    ... on PythonError {{ {_PYTHON_ERROR_FIELDS} }}
  }}
}}
"""

# The UI's sensor and schedule toggles (SensorSwitch / ScheduleSwitch) send these with the state's id.
STOP_SENSOR_MUTATION = f"""
mutation StopSensor($id: String!) {{
  stopSensor(id: $id) {{
    __typename
    ... on StopSensorMutationResult {{ instigationState {{ id status }} }}
    ... on UnauthorizedError {{ message }}
    ... on PythonError {{ {_PYTHON_ERROR_FIELDS} }}
  }}
}}
"""

STOP_SCHEDULE_MUTATION = f"""
mutation StopRunningSchedule($id: String!) {{
  stopRunningSchedule(id: $id) {{
    __typename
    ... on ScheduleStateResult {{ scheduleState {{ id status }} }}
    ... on UnauthorizedError {{ message }}
    ... on PythonError {{ {_PYTHON_ERROR_FIELDS} }}
  }}
}}
"""

# Engine events that name the run worker's pid: the run launcher's, then the executor's own.
_RUN_WORKER_PID_PATTERNS = (
    re.compile(r"Started process for run \(pid: (\d+)\)"),
    re.compile(r"parent process \(pid: (\d+)\)"),
    re.compile(r"Executing steps in process \(pid: (\d+)\)"),
)

ASSET_PARTITION_KEYS_QUERY = """
query HarnessAssetPartitionKeys($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    __typename
    ... on AssetNode { partitionKeysByDimension { name partitionKeys } }
    ... on AssetNotFoundError { message }
  }
}
"""


class DagsterDeploymentError(RuntimeError):
    """The webserver/daemon failed to start, a GraphQL call failed, or a wait did not end well."""


class DagsterDeploymentTimeout(DagsterDeploymentError, TimeoutError):
    """A wait ran out of time (the message carries the last state seen and the process log tails)."""


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    status: str  # DagsterRunStatus name: QUEUED, STARTING, STARTED, SUCCESS, FAILURE, CANCELED, ...
    tags: dict[str, str]


@dataclass(frozen=True)
class BackfillResult:
    backfill_id: str
    status: str  # BulkActionStatus name, one of TERMINAL_BACKFILL_STATUSES
    runs: list[RunInfo]  # oldest first
    error: str | None = None  # the backfill's own error (daemon side), if any
    run_failures: dict[str, str] = field(default_factory=dict)  # run id -> step/run failure messages

    @property
    def run_ids(self) -> list[str]:
        return [run.run_id for run in self.runs]

    @property
    def run_statuses(self) -> list[str]:
        return [run.status for run in self.runs]

    @property
    def succeeded(self) -> bool:
        return self.status in {"COMPLETED", "COMPLETED_SUCCESS"} and all(
            run.status == "SUCCESS" for run in self.runs
        )

    def describe(self) -> str:
        """A multi-line summary for assertion messages."""
        lines = [f"backfill {self.backfill_id}: {self.status}, {len(self.runs)} run(s)"]
        lines += [f"  run {run.run_id}: {run.status}" for run in self.runs]
        if self.error:
            lines.append(f"  backfill error: {self.error}")
        lines += [f"  run {run_id} failure:\n{text}" for run_id, text in self.run_failures.items()]
        return "\n".join(lines)


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _console_script(name: str) -> str:
    """The console script installed next to this interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise DagsterDeploymentError(f"{name} is not installed next to {sys.executable} nor on PATH")
    return found


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log file)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


def _format_python_error(error: Mapping[str, Any] | None) -> str:
    """A GraphQL PythonError (message, stack, errorChain) as a traceback-like text."""
    if not error:
        return ""
    parts = [(str(error.get("message", "")).rstrip() + "\n" + "".join(error.get("stack") or [])).rstrip()]
    for link in error.get("errorChain") or []:
        cause = link.get("error") or {}
        parts.append(
            ("The above was caused by:" if link.get("isExplicitLink") else "While handling:")
            + "\n"
            + (str(cause.get("message", "")).rstrip() + "\n" + "".join(cause.get("stack") or [])).rstrip()
        )
    return "\n".join(parts)


def _asset_key_input(key: str | Sequence[str]) -> dict[str, list[str]]:
    """GraphQL AssetKeyInput from "name", "prefix/name" or ["prefix", "name"]."""
    path = key.split("/") if isinstance(key, str) else list(key)
    return {"path": path}


def default_location_name(module: str) -> str:
    """The location name the repo's workspace.yaml gives ``module`` (e.g. "ntx_assets"), else ``module``."""
    try:
        workspace = yaml.safe_load(REPO_WORKSPACE_YAML.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return module
    for entry in workspace.get("load_from") or []:
        target = (entry or {}).get("python_module")
        if isinstance(target, dict) and target.get("module_name") == module:
            return str(target.get("location_name") or module)
    return module


def instance_config_for_tests(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of a dagster.yaml mapping with the test-speed settings merged in (never written back):
    the run queue's dequeue interval, and the run monitoring poll interval (and the delay before it frees
    a dead run's pool slots) when monitoring is on."""
    merged: dict[str, Any] = copy.deepcopy(dict(config or {}))
    coordinator = merged.get("run_coordinator")
    if coordinator is not None:
        # `run_queue` may not be combined with an explicit run_coordinator; put the key where it belongs.
        if str(coordinator.get("class", "")) == "QueuedRunCoordinator":
            coordinator_config = coordinator.get("config") or {}
            coordinator_config["dequeue_interval_seconds"] = TEST_DEQUEUE_INTERVAL_SECONDS
            coordinator["config"] = coordinator_config
    else:
        run_queue = merged.get("run_queue") or {}
        run_queue["dequeue_interval_seconds"] = TEST_DEQUEUE_INTERVAL_SECONDS
        merged["run_queue"] = run_queue
    monitoring = merged.get("run_monitoring")
    if isinstance(monitoring, dict) and monitoring.get("enabled"):
        monitoring["poll_interval_seconds"] = TEST_RUN_MONITORING_POLL_INTERVAL_SECONDS
        if "free_slots_after_run_end_seconds" in monitoring:
            monitoring["free_slots_after_run_end_seconds"] = TEST_FREE_SLOTS_AFTER_RUN_END_SECONDS
    return merged


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (Linux: /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (children before grandchildren), from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) is in parentheses and may hold spaces; the ppid follows the state.
        fields = stat.rsplit(")", 1)[1].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, queue = [], [pid]
    while queue:
        current = queue.pop(0)
        tree.append(current)
        queue.extend(sorted(children.get(current, [])))
    return tree


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set `values` in os.environ for the block; restore (or remove) each key afterwards."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


class DagsterDeployment:
    """A real dagster-webserver + dagster-daemon on loopback over a throwaway DAGSTER_HOME.

    Args:
        module: the code location's Python module (loaded like ``workspace.yaml``'s python_module).
        dagster_home: a directory to use as DAGSTER_HOME (created; dagster.yaml, workspace.yaml and
            the process logs ``webserver.log`` / ``daemon.log`` are written there).
        env: extra environment for the webserver, the daemon, their code servers and the run processes.
        dagster_yaml: the instance file to copy (default: the repo's dagster.yaml).
        location_name: the code location's name (default: the one the repo's workspace.yaml gives
            ``module``, so ``ntx_assets.definitions`` is "ntx_assets" as in a deployment; else ``module``).
        working_directory: where the module is imported from (default: the repo root).
        startup_timeout: seconds to wait for the webserver to serve the location LOADED.
        backfill_interval_seconds: opt-in; shorten the backfill daemon's 30 s pass interval by
            patching a private Dagster constant in the daemon process (see
            ``_DAEMON_WITH_BACKFILL_INTERVAL``). None (default) runs the stock dagster-daemon.
        test_settings: merge the test-speed settings into the copied dagster.yaml
            (``instance_config_for_tests``); False copies the instance file unchanged (the benchmark).
        automation: False stops every sensor and schedule of the location (the UI's toggles) before
            the daemon starts, so nothing but what the caller launches runs.
    """

    def __init__(
        self,
        module: str,
        dagster_home: Path | str,
        env: Mapping[str, str] | None = None,
        dagster_yaml: Path | str | None = None,
        *,
        location_name: str | None = None,
        working_directory: Path | str | None = None,
        startup_timeout: float = 180.0,
        backfill_interval_seconds: float | None = None,
        test_settings: bool = True,
        automation: bool = True,
    ) -> None:
        self.module = module
        self.dagster_home = Path(dagster_home).resolve()
        self.env = dict(env or {})
        self.dagster_yaml_source = Path(dagster_yaml) if dagster_yaml is not None else REPO_DAGSTER_YAML
        self.location_name = location_name or default_location_name(module)
        self.working_directory = Path(working_directory or REPO_ROOT).resolve()
        self.startup_timeout = startup_timeout
        self.backfill_interval_seconds = backfill_interval_seconds
        self.test_settings = test_settings
        self.automation = automation
        self.stopped_instigators: list[str] = []
        self.port = 0
        self.webserver_log = self.dagster_home / "webserver.log"
        self.daemon_log = self.dagster_home / "daemon.log"
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._log_files: list[IO[bytes]] = []
        self._client: httpx.Client | None = None
        self._instance: dg.DagsterInstance | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def process_env(self) -> dict[str, str]:
        """The environment given to the webserver and the daemon (and inherited by runs)."""
        env = {**os.environ, **self.env, "DAGSTER_HOME": str(self.dagster_home)}
        if self.backfill_interval_seconds is not None:
            env["NTX_TEST_BACKFILL_INTERVAL_SECONDS"] = str(self.backfill_interval_seconds)
        return env

    def __enter__(self) -> DagsterDeployment:
        try:
            self._write_home()
            # Open the instance here first: it validates dagster.yaml and creates the storage schema.
            # Left to the two processes, they race to create the same SQLite tables on a fresh home
            # ("table job_ticks already exists" killed the webserver in one of a few starts).
            _ = self.instance
            self.port = _free_loopback_port()
            self._client = httpx.Client(base_url=self.url, timeout=httpx.Timeout(120.0, connect=5.0))
            workspace = str(self.dagster_home / "workspace.yaml")
            self._start(
                "webserver",
                [
                    _console_script("dagster-webserver"),
                    "-w",
                    workspace,
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                ],
                self.webserver_log,
            )
            self._wait_until_loaded()
            if not self.automation:
                self.stopped_instigators = self.stop_automation()
            # The daemon is started only now, on purpose: its backfill loop makes its first pass as soon
            # as it has loaded the workspace (a few seconds from here) and then every 30 s. A backfill
            # launched right after __enter__ returns is picked up by that first pass instead of waiting
            # for a tick that, with both processes started together, had just gone by (~20 s saved).
            self._start("daemon", [*self._daemon_command(), "run", "-w", workspace], self.daemon_log)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop both processes (SIGTERM to each process group, SIGKILL after a grace period)."""
        if self._instance is not None:
            self._instance.dispose()
            self._instance = None
        if self._client is not None:
            self._client.close()
            self._client = None
        for process in self._processes.values():
            self._signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self._processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for process in self._processes.values():
            # Also reaps code servers / run workers left in the group after the leader exited.
            self._signal_group(process, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        self._processes.clear()
        for handle in self._log_files:
            handle.close()
        self._log_files.clear()

    @staticmethod
    def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        # Each process leads its own session (start_new_session=True), so its pid is its group id.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)

    def _write_home(self) -> None:
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        try:
            base = yaml.safe_load(self.dagster_yaml_source.read_text()) or {}
        except FileNotFoundError as exc:
            raise DagsterDeploymentError(f"dagster.yaml not found: {self.dagster_yaml_source}") from exc
        header = f"# Written by the test harness (deployment.py) from {self.dagster_yaml_source}\n" + (
            f"# plus test-only settings: dequeue_interval_seconds={TEST_DEQUEUE_INTERVAL_SECONDS}, "
            f"run_monitoring poll_interval_seconds={TEST_RUN_MONITORING_POLL_INTERVAL_SECONDS}, "
            f"free_slots_after_run_end_seconds={TEST_FREE_SLOTS_AFTER_RUN_END_SECONDS}.\n"
            if self.test_settings
            else "# unchanged.\n"
        )
        config = instance_config_for_tests(base) if self.test_settings else base
        (self.dagster_home / "dagster.yaml").write_text(header + yaml.safe_dump(config, sort_keys=False))
        workspace = {
            "load_from": [
                {
                    "python_module": {
                        "module_name": self.module,
                        "location_name": self.location_name,
                        "working_directory": str(self.working_directory),
                    }
                }
            ]
        }
        (self.dagster_home / "workspace.yaml").write_text(yaml.safe_dump(workspace, sort_keys=False))

    def _daemon_command(self) -> list[str]:
        if self.backfill_interval_seconds is None:
            return [_console_script("dagster-daemon")]
        return [sys.executable, "-c", _DAEMON_WITH_BACKFILL_INTERVAL]

    def _start(self, name: str, command: list[str], log_path: Path) -> None:
        log = log_path.open("wb")
        self._log_files.append(log)
        self._processes[name] = subprocess.Popen(
            command,
            cwd=self.working_directory,
            env=self.process_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_tails(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of the webserver and daemon logs (for error messages)."""
        return (
            f"--- {self.webserver_log} (last {lines} lines) ---\n{_tail(self.webserver_log, lines)}\n"
            f"--- {self.daemon_log} (last {lines} lines) ---\n{_tail(self.daemon_log, lines)}"
        )

    def _check_processes(self, doing: str) -> None:
        for name, process in self._processes.items():
            code = process.poll()
            if code is not None:
                raise DagsterDeploymentError(
                    f"dagster {name} exited with code {code} while {doing}\n{self.log_tails()}"
                )

    def _wait_until_loaded(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        state = "webserver not answering yet"
        while time.monotonic() < deadline:
            self._check_processes("starting up")
            try:
                data = self.graphql(WORKSPACE_QUERY)
            except (httpx.TransportError, DagsterDeploymentError) as exc:
                state = f"webserver not ready: {exc}"
                time.sleep(0.5)
                continue
            workspace = data["workspaceOrError"]
            if workspace["__typename"] != "Workspace":
                raise DagsterDeploymentError(
                    f"workspaceOrError: {_format_python_error(workspace)}\n{self.log_tails()}"
                )
            entries = {entry["name"]: entry for entry in workspace["locationEntries"]}
            entry = entries.get(self.location_name)
            if entry is None:
                state = f"location {self.location_name!r} not listed yet (have {sorted(entries)})"
            elif entry["loadStatus"] != "LOADED":
                state = f"location {self.location_name!r} is {entry['loadStatus']}"
            else:
                location = entry["locationOrLoadError"] or {}
                if location.get("__typename") == "PythonError":
                    raise DagsterDeploymentError(
                        f"code location {self.location_name!r} (module {self.module!r}) failed to load:\n"
                        f"{_format_python_error(location)}\n(logs: {self.webserver_log}, {self.daemon_log})"
                    )
                return
            time.sleep(0.5)
        raise DagsterDeploymentTimeout(
            f"webserver at {self.url} did not serve location {self.location_name!r} LOADED within "
            f"{self.startup_timeout:.0f} s (last state: {state})\n{self.log_tails()}"
        )

    # ------------------------------------------------------------------ GraphQL

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """POST a GraphQL document to the webserver; returns ``data``, raises on HTTP or GraphQL errors."""
        if self._client is None:
            raise DagsterDeploymentError("the deployment is not running (use it as a context manager)")
        response = self._client.post("/graphql", json={"query": query, "variables": dict(variables or {})})
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise DagsterDeploymentError(f"GraphQL HTTP {response.status_code}: {response.text[:2000]}")
        if body.get("errors"):
            messages = "\n".join(
                f"- {error.get('message')} (path {error.get('path')}, at {error.get('locations')})"
                for error in body["errors"]
            )
            raise DagsterDeploymentError(f"GraphQL errors (HTTP {response.status_code}):\n{messages}")
        # The webserver answers HTTP 500 when a field resolved to a PythonError; the data still says why.
        if not isinstance(body.get("data"), dict):
            raise DagsterDeploymentError(f"GraphQL HTTP {response.status_code}: {response.text[:2000]}")
        return body["data"]

    # ------------------------------------------------------------------ backfills

    def launch_partition_backfill(
        self,
        asset_keys: Sequence[str | Sequence[str]],
        partition_names: Sequence[str] | None = None,
        *,
        partition_range: tuple[str, str] | None = None,
        all_partitions: bool = False,
        tags: Mapping[str, str] | None = None,
        title: str | None = None,
    ) -> str:
        """Launch an asset backfill with the UI's ``launchPartitionBackfill`` mutation; returns its id.

        Exactly one of ``partition_names``, ``partition_range`` (inclusive; expanded to partition names
        from the first asset's partition keys, as the UI's range picker does; multi-partition keys
        ``"a|b"`` select the rectangle per dimension) or ``all_partitions=True``.
        """
        chosen = sum([partition_names is not None, partition_range is not None, all_partitions])
        if chosen != 1:
            raise ValueError("give exactly one of partition_names, partition_range, all_partitions=True")
        if not asset_keys:
            raise ValueError("asset_keys is empty")
        selection = [_asset_key_input(key) for key in asset_keys]
        params: dict[str, Any] = {
            "assetSelection": selection,
            "tags": [{"key": key, "value": value} for key, value in (tags or {}).items()],
        }
        if all_partitions:
            params["allPartitions"] = True
        else:
            if partition_range is not None:
                partition_names = self._expand_partition_range(selection[0], partition_range)
            params["partitionNames"] = list(partition_names or [])
            params["fromFailure"] = False
        if title is not None:
            params["title"] = title
        return self.launch_backfill(params)

    def launch_backfill(self, params: Mapping[str, Any]) -> str:
        """Send ``launchPartitionBackfill`` with these ``backfillParams``; returns the backfill id, or
        raises with Dagster's error when the launch is refused."""
        result = self.graphql(LAUNCH_PARTITION_BACKFILL_MUTATION, {"backfillParams": params})[
            "launchPartitionBackfill"
        ]
        if result["__typename"] != "LaunchBackfillSuccess":
            detail = _format_python_error(result) if "stack" in result else result.get("message", result)
            raise DagsterDeploymentError(f"launchPartitionBackfill returned {result['__typename']}: {detail}")
        return str(result["backfillId"])

    def _expand_partition_range(self, asset_key: Mapping[str, Any], bounds: tuple[str, str]) -> list[str]:
        node = self.graphql(ASSET_PARTITION_KEYS_QUERY, {"assetKey": asset_key})["assetNodeOrError"]
        if node["__typename"] != "AssetNode":
            raise DagsterDeploymentError(f"asset {asset_key['path']}: {node.get('message', node)}")
        dimensions = node["partitionKeysByDimension"]
        if not dimensions:
            raise DagsterDeploymentError(f"asset {asset_key['path']} is not partitioned")
        starts, ends = bounds[0].split("|"), bounds[1].split("|")
        if len(starts) != len(dimensions) or len(ends) != len(dimensions):
            names = [dimension["name"] for dimension in dimensions]
            raise ValueError(f"partition_range {bounds} does not match the asset's dimensions {names}")
        per_dimension: list[list[str]] = []
        for dimension, start, end in zip(dimensions, starts, ends, strict=True):
            keys = dimension["partitionKeys"]
            try:
                lo, hi = keys.index(start), keys.index(end)
            except ValueError as exc:
                raise DagsterDeploymentError(
                    f"partition_range {bounds}: {exc} in dimension {dimension['name']!r}"
                ) from exc
            if lo > hi:
                raise ValueError(f"partition_range {bounds} is empty (start after end)")
            per_dimension.append(keys[lo : hi + 1])
        names = [""]
        for keys in per_dimension:
            names = [f"{prefix}|{key}" if prefix else key for prefix in names for key in keys]
        return names

    def backfill_status(self, backfill_id: str) -> dict[str, Any]:
        """The raw ``PartitionBackfill`` fields (id, status, numPartitions, error)."""
        backfill = self.graphql(BACKFILL_QUERY, {"backfillId": backfill_id})["partitionBackfillOrError"]
        if backfill["__typename"] != "PartitionBackfill":
            raise DagsterDeploymentError(
                f"partitionBackfillOrError({backfill_id}) returned {backfill['__typename']}: "
                f"{_format_python_error(backfill) or backfill.get('message')}"
            )
        return backfill

    def wait_for_backfill(
        self, backfill_id: str, timeout: float = 600, poll_interval: float = 1.0
    ) -> BackfillResult:
        """Poll until the backfill reaches a terminal status; returns it with its runs (does not raise
        on COMPLETED_FAILED/FAILED/CANCELED: assert on ``result.status`` / ``result.describe()``)."""
        deadline = time.monotonic() + timeout
        while True:
            self._check_processes(f"waiting for backfill {backfill_id}")
            backfill = self.backfill_status(backfill_id)
            if backfill["status"] in TERMINAL_BACKFILL_STATUSES:
                break
            if time.monotonic() >= deadline:
                runs = "\n".join(f"  {run.run_id}: {run.status}" for run in self.runs(backfill_id))
                raise DagsterDeploymentTimeout(
                    f"backfill {backfill_id} still {backfill['status']} after {timeout:.0f} s; runs:\n"
                    f"{runs or '  (none)'}\n{self.log_tails()}"
                )
            time.sleep(poll_interval)
        runs = self.runs(backfill_id)
        failures = {run.run_id: self.run_failure_text(run.run_id) for run in runs if run.status == "FAILURE"}
        return BackfillResult(
            backfill_id=backfill_id,
            status=backfill["status"],
            runs=runs,
            error=_format_python_error(backfill.get("error")) or None,
            run_failures=failures,
        )

    def runs(self, backfill_id: str) -> list[RunInfo]:
        """The runs the backfill created (tag ``dagster/backfill``), oldest first."""
        result = self.graphql(
            RUNS_QUERY, {"filter": {"tags": [{"key": "dagster/backfill", "value": backfill_id}]}}
        )["runsOrError"]
        if result["__typename"] != "Runs":
            raise DagsterDeploymentError(f"runsOrError: {_format_python_error(result) or result}")
        ordered = sorted(result["results"], key=lambda run: run["creationTime"])
        return [
            RunInfo(
                run_id=run["runId"],
                status=run["status"],
                tags={tag["key"]: tag["value"] for tag in run["tags"]},
            )
            for run in ordered
        ]

    def run_failure_text(self, run_id: str) -> str:
        """Step and run failure messages of one run (from its event log, via GraphQL)."""
        logs = self.graphql(RUN_FAILURE_EVENTS_QUERY, {"runId": run_id})["logsForRun"]
        if logs["__typename"] != "EventConnection":
            return _format_python_error(logs) or str(logs)
        events = logs["events"]
        steps = [
            f"step {event['stepKey']}: {_format_python_error(event.get('error'))}"
            for event in events
            if event["__typename"] == "ExecutionStepFailureEvent"
        ]
        others = []
        for event in events:
            if event["__typename"] == "RunFailureEvent":
                # Its error repeats the step failures; keep it only when no step failed (e.g. a crash).
                error = "" if steps else _format_python_error(event.get("error"))
                others.append(f"{event.get('message')}\n{error}".rstrip())
            elif event["__typename"] == "EngineEvent" and event.get("error"):
                others.append(f"{event.get('message')}\n{_format_python_error(event['error'])}".rstrip())
        return "\n".join(steps + others)

    def reexecute_backfill(self, backfill_id: str, strategy: str = "FROM_FAILURE") -> str:
        """Re-execute a finished backfill as the backfill page's "Re-execute" menu does
        (``reexecutePartitionBackfill``); FROM_FAILURE asks again for every target partition that was not
        materialized. Returns the new backfill's id (tagged ``dagster/parent_backfill_id``)."""
        result = self.graphql(
            REEXECUTE_PARTITION_BACKFILL_MUTATION,
            {"reexecutionParams": {"parentRunId": backfill_id, "strategy": strategy}},
        )["reexecutePartitionBackfill"]
        if result["__typename"] != "LaunchBackfillSuccess":
            detail = _format_python_error(result) if "stack" in result else result.get("message", result)
            raise DagsterDeploymentError(
                f"reexecutePartitionBackfill({backfill_id}, {strategy}) returned {result['__typename']}: "
                f"{detail}"
            )
        return str(result["backfillId"])

    # ------------------------------------------------------------------ automation

    def stop_automation(self) -> list[str]:
        """Turn off every running sensor and schedule of the workspace with the UI's toggles; returns
        their names. Stored as instigator state, so the daemon (now or later started) leaves them off."""
        stopped: list[str] = []
        workspace = self.graphql(INSTIGATORS_QUERY)["workspaceOrError"]
        if workspace["__typename"] != "Workspace":
            raise DagsterDeploymentError(f"workspaceOrError: {_format_python_error(workspace)}")
        for entry in workspace["locationEntries"]:
            location = entry["locationOrLoadError"] or {}
            for repository in location.get("repositories") or []:
                for sensor in repository["sensors"]:
                    if sensor["sensorState"]["status"] == "RUNNING":
                        self._stop(STOP_SENSOR_MUTATION, "stopSensor", sensor["sensorState"]["id"])
                        stopped.append(sensor["name"])
                for schedule in repository["schedules"]:
                    if schedule["scheduleState"]["status"] == "RUNNING":
                        self._stop(
                            STOP_SCHEDULE_MUTATION, "stopRunningSchedule", schedule["scheduleState"]["id"]
                        )
                        stopped.append(schedule["name"])
        return stopped

    def _stop(self, mutation: str, field_name: str, state_id: str) -> None:
        result = self.graphql(mutation, {"id": state_id})[field_name]
        if result["__typename"] in {"PythonError", "UnauthorizedError"}:
            detail = _format_python_error(result) if "stack" in result else result.get("message", result)
            raise DagsterDeploymentError(
                f"{field_name}({state_id}) returned {result['__typename']}: {detail}"
            )

    # ------------------------------------------------------------------ crashes

    def run_worker_pid(self, run_id: str) -> int | None:
        """The pid of the run's worker process, from its engine events (None until it has started).

        The DefaultRunLauncher's code server logs "Started process for run (pid: N)"; the executor then
        logs its own pid ("... parent process (pid: N)" for the multiprocess executor).
        """
        records = self.instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=200
        ).records
        for pattern in _RUN_WORKER_PID_PATTERNS:
            for record in records:
                found = pattern.search(record.event_log_entry.message or "")
                if found:
                    return int(found.group(1))
        return None

    def kill_run_processes(self, run_id: str) -> list[int]:
        """SIGKILL the run's worker and every process under it (its step processes), as a crash of the
        machine or container would: nothing gets to clean up or to log. Returns the pids killed.

        The code server that launched the run notices its child died and marks the run FAILURE.
        Linux only (reads /proc).
        """
        worker = self.run_worker_pid(run_id)
        if worker is None:
            raise DagsterDeploymentError(f"run {run_id} has no worker process yet")
        # Stop the whole tree first so that no process can react (or fork) while the others die.
        tree = process_tree(worker)
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return tree

    def lose_host(self, run_id: str | None = None) -> list[int]:
        """SIGKILL the code server that launched ``run_id`` (its worker's parent: here a child of the
        daemon, as under ``dagster dev``) with everything under it, the run worker included: the machine
        that ran them is gone. The daemon starts a new code server for its next pass. Returns the pids."""
        if run_id is None:
            raise DagsterDeploymentError("lose_host needs the run whose host to lose")
        worker = self.run_worker_pid(run_id)
        if worker is None:
            raise DagsterDeploymentError(f"run {run_id} has no worker process yet")
        fields = Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()
        tree = process_tree(int(fields[1]))
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in tree:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        deadline = time.monotonic() + 10  # SIGKILL is delivered at once, the exit takes a moment
        while any(alive(pid) for pid in tree) and time.monotonic() < deadline:
            time.sleep(0.05)
        return tree

    # ------------------------------------------------------------------ instance

    @property
    def instance(self) -> dg.DagsterInstance:
        """A DagsterInstance on the same DAGSTER_HOME (opened once, closed on exit)."""
        if self._instance is None:
            # DagsterInstance.get() reads DAGSTER_HOME, and dagster.yaml may read {env: ...} values.
            with patched_environ({**self.env, "DAGSTER_HOME": str(self.dagster_home)}):
                self._instance = dg.DagsterInstance.get()
        return self._instance
