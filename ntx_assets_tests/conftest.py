"""Real fixtures: a throwaway PostgreSQL database on 127.0.0.1:5432 and SQLite files.

PostgreSQL tests FAIL when the server is unreachable (CI must not go green by skipping them). Point
NTX_TEST_PG_URL at another server (an admin URL whose user may CREATE DATABASE) to use it instead.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest
from psycopg import sql

from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.resources import NepseResource
from ntx_assets.settings import definitions_settings
from ntx_assets_tests.pinned import PINNED_NOW, PINNED_TODAY, pinned
from ntx_assets_tests.tools.harness.resources import run_resources
from ntx_assets_tests.tools.standin import StandinConfig, StandinServer, running_standin


def pytest_configure(config: pytest.Config) -> None:
    # A runner that starts the suite in the background (nohup, `cmd &` in a non-interactive shell) hands it
    # SIGINT ignored, and every process a test starts inherits that: `make dev` then ignores the tests'
    # Ctrl-C, and Dagster, which gives SIGTERM SIGINT's disposition, starts compute-log tails that ignore
    # SIGTERM, so each step's cleanup waits 30 s for them. Give the suite the Ctrl-C of a terminal.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


PG_ADMIN_URL = os.environ.get("NTX_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_admin() -> psycopg.Connection:
    try:
        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is unreachable at {PG_ADMIN_URL}: {exc}. Start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
            "(make test does), or set NTX_TEST_PG_URL.",
            pytrace=False,
        )


def error_chain(error: BaseException | None) -> list[str]:
    """The messages of an exception and every exception it was raised from (Dagster wraps load errors)."""
    chain: list[str] = []
    while error is not None:
        chain.append(str(error))
        error = error.__cause__ or error.__context__
    return chain


def _pg_url(name: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"


@pytest.fixture
def pg_database_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"ntx_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _pg_url(name)
    finally:
        with _pg_admin() as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def sqlite_database_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'warehouse.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request) -> str:  # type: ignore[no-untyped-def]
    """Each warehouse test runs on both backends the product supports."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_database_url")
    return request.getfixturevalue("pg_database_url")


@pytest.fixture(scope="session", autouse=True)
def pinned_clock() -> Iterator[dt.datetime]:
    """The whole session runs at PINNED_NOW (ntx_assets_tests.pinned): the suite never reads the calendar."""
    with pinned(PINNED_NOW) as now:
        yield now


@pytest.fixture(autouse=True)
def fresh_definitions_settings() -> Iterator[None]:
    """Tests set NTX_* variables per test: each definitions load in a test reads them afresh, as a new
    code-server process does (the settings are cached per process, read once per load)."""
    definitions_settings.cache_clear()
    yield
    definitions_settings.cache_clear()


@pytest.fixture(scope="session")
def standin() -> Iterator[StandinServer]:
    """One NEPSE stand-in on loopback for the session (fault-free; tests needing faults start their own).

    Its year of sessions ends on the pinned today.
    """
    with running_standin(StandinConfig(seed=7, end_date=PINNED_TODAY)) as server:
        yield server


def fast_nepse_resource(base_url: str, **fields: Any) -> NepseResource:
    """A client resource for the loopback stand-in, which has no rate limit unless a test sets one: pacing
    is tested on its own (nepse/test_pacing.py), so here it only costs time."""
    return NepseResource(
        base_url=base_url, **{"requests_per_second": 1000.0, "max_concurrent_requests": 8, **fields}
    )


@pytest.fixture
def nepse_resource(standin: StandinServer) -> NepseResource:
    return fast_nepse_resource(standin.base_url)


@pytest.fixture
def dagster_instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture(scope="session")
def load_universe(
    standin: StandinServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], None]]:
    """Fill an empty warehouse (SQLite file or PostgreSQL database URL) with the materialized universe.

    company_universe runs once per backend per session, into a template; each call copies the template
    (the file, or CREATE DATABASE ... TEMPLATE), so a test starts from a real universe in milliseconds.
    """
    templates: dict[str, str] = {}

    def template(backend: str) -> str:
        if backend not in templates:
            if backend == "sqlite":
                url = f"sqlite:///{tmp_path_factory.mktemp('universe_template') / 'warehouse.db'}"
            else:
                name = f"ntx_template_{uuid.uuid4().hex[:12]}"
                with _pg_admin() as admin:
                    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                url = _pg_url(name)
            with dg.instance_for_test() as instance:
                resources = run_resources(fast_nepse_resource(standin.base_url), url)
                assert dg.materialize([company_universe], instance=instance, resources=resources).success
            templates[backend] = url
        return templates[backend]

    def load(database_url: str) -> None:
        backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
        source = template(backend)
        if backend == "sqlite":
            shutil.copy(source.removeprefix("sqlite:///"), Path(database_url.removeprefix("sqlite:///")))
            return
        target, source_name = database_url.rsplit("/", 1)[1], source.rsplit("/", 1)[1]
        with _pg_admin() as admin:
            # A template must have no sessions while it is copied.
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (source_name,)
            )
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target)))
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(target), sql.Identifier(source_name)
                )
            )

    yield load
    for backend, url in templates.items():
        if backend == "postgresql":
            with _pg_admin() as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(url.rsplit("/", 1)[1])
                    )
                )
