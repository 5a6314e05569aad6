"""The demo's surroundings: NTX_* defaults for the stand-in, $DAGSTER_HOME, and what --fresh wipes."""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import dagster as dg
from sqlalchemy import delete, inspect
from sqlalchemy.engine import make_url

from ntx_assets.settings import Settings
from ntx_assets.warehouse import create_warehouse_engine
from ntx_assets.warehouse.schema import metadata
from ntx_assets_tests.tools.demo.runner import DEMO_TAG
from ntx_assets_tests.tools.harness.resources import STANDIN_UNIVERSE_TARGET

BASE_URL_VAR = "NTX_NEPSE_BASE_URL"
DEFAULT_HOME = ".dagster_home"
LAST_DEMO_FILE = "demo-last-run.json"
LOCK_FILE = "ntx-demo.lock"
# A demo run still in one of these states when no demo is running was left by a demo process that died.
_UNFINISHED = (
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
)


class DemoAlreadyRunning(RuntimeError):
    """Another demo holds the lock of this Dagster instance."""


def standin_defaults(base_url: str, requests_per_second: float) -> dict[str, str]:
    """What the demo sets for its own stand-in, unless the user set it already."""
    return {
        BASE_URL_VAR: base_url,
        "NTX_UNIVERSE_TARGET": str(STANDIN_UNIVERSE_TARGET),
        # Loopback, not the live site: the stand-in takes a far faster pace than the product's default 2/s.
        "NTX_REQUESTS_PER_SECOND": f"{requests_per_second:g}",
    }


# The sample of a public price archive shipped as test data (ntx_assets_tests/data/price-archive), and the
# first daily partition of the demo's --history: fifteen years and more of real sessions before NEPSE's year.
ARCHIVE_SAMPLE = Path(__file__).parents[2] / "data" / "price-archive"
HISTORY_START = "2011-01-02"


def history_defaults() -> dict[str, str]:
    """What --history sets, unless the user set it: the shipped archive sample and the partitions' start."""
    return {"NTX_PRICE_ARCHIVE": str(ARCHIVE_SAMPLE), "NTX_HISTORY_START": HISTORY_START}


def apply_defaults(environ: MutableMapping[str, str], defaults: Mapping[str, str]) -> dict[str, str]:
    """Set each variable the user has not set; return what was set."""
    applied = {name: value for name, value in defaults.items() if not environ.get(name)}
    environ.update(applied)
    return applied


def dagster_home(environ: MutableMapping[str, str], cwd: Path, repo_yaml: Path | None) -> Path:
    """$DAGSTER_HOME; when unset, ./.dagster_home holding a copy of the project's dagster.yaml."""
    if environ.get("DAGSTER_HOME"):
        home = (cwd / environ["DAGSTER_HOME"]).resolve()  # Dagster wants an absolute path
        home.mkdir(parents=True, exist_ok=True)
        environ["DAGSTER_HOME"] = str(home)
        return home
    home = (cwd / DEFAULT_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    source = next((p for p in (cwd / "dagster.yaml", repo_yaml) if p is not None and p.is_file()), None)
    if source is not None and not target.exists():
        shutil.copyfile(source, target)
    environ["DAGSTER_HOME"] = str(home)
    return home


def project_dagster_yaml() -> Path:
    """dagster.yaml at the root of the project checkout (an editable install)."""
    return Path(__file__).resolve().parents[3] / "dagster.yaml"


def wipe_warehouse(settings: Settings) -> list[str]:
    """Remove the warehouse (the SQLite file, or every row of a server database) and the artifact store."""
    wiped: list[str] = []
    url = make_url(settings.warehouse_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        for path in (
            database,
            *(Path(f"{database}{suffix}") for suffix in ("-wal", "-shm", ".migrate.lock")),
        ):
            if path.exists():
                path.unlink()
                wiped.append(str(path))
    else:
        engine = create_warehouse_engine(settings.warehouse_url)
        try:
            present = set(inspect(engine).get_table_names())
            with engine.begin() as conn:
                for table in reversed(metadata.sorted_tables):
                    if table.name in present:
                        conn.execute(delete(table))
            wiped.append(f"every row of {url.render_as_string(hide_password=True)}")
        finally:
            engine.dispose()
    if settings.artifact_root.exists():
        shutil.rmtree(settings.artifact_root)
        wiped.append(str(settings.artifact_root))
    last = settings.data_dir / LAST_DEMO_FILE
    if last.exists():
        last.unlink()
    return wiped


def wipe_dagster_state(
    instance: dg.DagsterInstance, asset_keys: Iterable[dg.AssetKey], dynamic_partitions: Iterable[str]
) -> str:
    """Forget the graph's materializations, the demo's runs and the dynamic partitions."""
    keys = list(asset_keys)
    instance.wipe_assets(keys)
    runs = instance.get_run_records(filters=dg.RunsFilter(tags={DEMO_TAG: "true"}))
    for record in runs:
        instance.delete_run(record.dagster_run.run_id)
    removed = 0
    for name in dynamic_partitions:
        for key in instance.get_dynamic_partitions(name):
            instance.delete_dynamic_partition(name, key)
            removed += 1
    return f"{len(keys)} assets' materializations, {len(runs)} demo runs, {removed} dynamic partitions"


@contextmanager
def one_demo_at_a_time(home: Path) -> Iterator[IO[str]]:
    """Hold an exclusive lock in $DAGSTER_HOME for the demo's lifetime (released when the process dies)."""
    with open(home / LOCK_FILE, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DemoAlreadyRunning(
                f"another demo is running on the Dagster instance in {home}; wait for it to finish"
            ) from None
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fail_abandoned_demo_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the demo runs a killed demo left unfinished, and free the pool slots they hold.

    Demo runs execute in the demo's own process, so when it is killed (kill -9, OOM, a closed terminal)
    nothing ends them: they stay STARTED and keep their `nepse_api` slot, and the next run of any
    NEPSE-calling asset would wait for that slot forever. Only call this under `one_demo_at_a_time`.
    """
    records = instance.get_run_records(
        filters=dg.RunsFilter(tags={DEMO_TAG: "true"}, statuses=list(_UNFINISHED))
    )
    storage = instance.event_log_storage
    for record in records:
        run = record.dagster_run
        instance.report_run_failed(run, message="The ntx_assets demo process running this run died.")
        # What the daemon's run monitoring does for finished runs that still hold slots.
        if storage.supports_global_concurrency_limits:
            storage.free_concurrency_slots_for_run(run.run_id)
    return [record.dagster_run.run_id for record in records]
