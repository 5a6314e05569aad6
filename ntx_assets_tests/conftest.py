"""Real fixtures: a throwaway PostgreSQL database on 127.0.0.1:5432 and SQLite files.

PostgreSQL tests FAIL when the server is unreachable (CI must not go green by skipping them). Point
NTX_TEST_PG_URL at another server (an admin URL whose user may CREATE DATABASE) to use it instead.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import dagster as dg
import psycopg
import pytest
from psycopg import sql

from ntx_assets.resources import NepseResource
from ntx_assets.standin import StandinConfig, StandinServer, running_standin
from ntx_assets_tests.pinned import PINNED_NOW, PINNED_TODAY, pinned

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


@pytest.fixture
def pg_database_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"ntx_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
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


@pytest.fixture(scope="session")
def standin() -> Iterator[StandinServer]:
    """One NEPSE stand-in on loopback for the session (fault-free; tests needing faults start their own).

    Its year of sessions ends on the pinned today.
    """
    with running_standin(StandinConfig(seed=7, end_date=PINNED_TODAY)) as server:
        yield server


@pytest.fixture
def nepse_resource(standin: StandinServer) -> NepseResource:
    # A fast pace: the stand-in has no rate limit unless a test sets one.
    return NepseResource(base_url=standin.base_url, requests_per_second=100.0, max_concurrent_requests=8)


@pytest.fixture
def dagster_instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance
