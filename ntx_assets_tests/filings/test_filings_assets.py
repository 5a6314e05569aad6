"""filings and artifacts: real Dagster materializations against the stand-in and a real warehouse."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import Engine, select

from ntx_assets.definitions import defs
from ntx_assets.defs.filings.assets import (
    EVERY_DOCUMENT_HAS_ARTIFACT_OR_FAILURE,
    STORED_ARTIFACTS_MATCH_SHA256,
    artifacts,
    document_coverage_check,
    filings,
    stored_sha256_check,
)
from ntx_assets.defs.filings.schedules import filings_refresh_schedule
from ntx_assets.defs.filings.sensors import new_documents_sensor
from ntx_assets.defs.universe.assets import company_universe
from ntx_assets.filings.document_store import ArtifactStore
from ntx_assets.filings.reports import NEVER_FETCHED_PRIORITY, REFRESH_PRIORITY
from ntx_assets.resources import ArtifactStoreResource, NepseResource, WarehouseResource
from ntx_assets.warehouse import create_warehouse_engine, migrate, upsert
from ntx_assets.warehouse.schema import artifacts as artifacts_table
from ntx_assets.warehouse.schema import companies, filing_documents
from ntx_assets.warehouse.schema import filings as filings_table
from ntx_assets_tests.pinned import PINNED_TODAY, npt, pinned
from ntx_assets_tests.tools.harness.resources import run_resources
from ntx_assets_tests.tools.standin import FaultConfig, StandinConfig, StandinServer, running_standin
from ntx_assets_tests.tools.standin.reports import QUARTER_NAMES

ASSETS = [company_universe, filings, artifacts]
# One company carries both hostile documents (a path escaping upwards and an oversize file), so a test
# can see them refused while the rest of that company's documents land.
HOSTILE = "NABIL"
MAX_BYTES = 2 * 1024 * 1024
FETCH_FILES = ("GET /api/nots/security/fetchFiles", "GET /api/nots/application/fetchFiles")
REPORTS = "GET /api/nots/application/reports/{securityId}"
# A document NEPSE lists but does not serve (HTTP 404).
WITHDRAWN = {
    "document_id": 99_000_001,
    "report_id": 1,
    "file_path": "nica_user/2026-01-01/Withdrawn.pdf",
    "encrypted_id": None,
    "submitted_date": None,
}


@pytest.fixture(scope="module")
def server() -> Iterator[StandinServer]:
    config = StandinConfig(
        seed=7,
        end_date=PINNED_TODAY,
        escaping_document_symbol=HOSTILE,
        oversize_document_symbol=HOSTILE,
        oversize_bytes=3 * 1024 * 1024,
    )
    with running_standin(config) as running:
        yield running


@pytest.fixture
def standin(server: StandinServer) -> Iterator[StandinServer]:
    server.set_faults(FaultConfig())
    server.reset_counts()
    yield server
    server.set_faults(FaultConfig())


class World:
    """A warehouse with a few included companies, their symbol partitions, and the run resources."""

    def __init__(
        self, server: StandinServer, database_url: str, instance: dg.DagsterInstance, store_root: Path
    ) -> None:
        self.server, self.database_url, self.instance = server, database_url, instance
        self.store = ArtifactStore(store_root, max_bytes=MAX_BYTES)
        self.engine: Engine = create_warehouse_engine(database_url)
        migrate(self.engine)
        self.ids = {c["symbol"]: c["id"] for c in server.data.companies}

    def add_companies(self, symbols: Sequence[str]) -> None:
        today = PINNED_TODAY
        by_symbol = {c["symbol"]: c for c in self.server.data.companies}
        rows = [
            {
                "security_id": by_symbol[s]["id"],
                "symbol": s,
                "name": by_symbol[s]["companyName"],
                "included": True,
                "reason": "included",
                "first_seen": today,
                "last_seen": today,
            }
            for s in symbols
        ]
        with self.engine.begin() as conn:
            upsert(conn, companies, rows, insert_only={"first_seen"})
        self.instance.add_dynamic_partitions("symbol", list(symbols))

    def resources(self, **nepse: Any) -> dict[str, Any]:
        settings = {"requests_per_second": 200.0, "max_concurrent_requests": 4, **nepse}
        return run_resources(
            NepseResource(base_url=self.server.base_url, **settings),
            self.database_url,
            artifact_store=ArtifactStoreResource(root=str(self.store.root), max_bytes=MAX_BYTES),
        )

    def run(
        self, selection: Sequence[Any], symbols: Sequence[str], *, ok: bool = True, **nepse: Any
    ) -> dg.ExecuteInProcessResult:
        """One run over `symbols` (contiguous in the partitions' order), as a backfill would launch it."""
        if len(symbols) == 1:
            partition: dict[str, Any] = {"partition_key": symbols[0]}
        else:
            partition = {
                "tags": {
                    "dagster/asset_partition_range_start": symbols[0],
                    "dagster/asset_partition_range_end": symbols[-1],
                }
            }
        result = dg.materialize(
            ASSETS,
            selection=selection,
            instance=self.instance,
            resources=self.resources(**nepse),
            raise_on_error=False,
            **partition,
        )
        assert result.success is ok, _failure(result)
        return result

    def rows(self, table: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(table)).all())

    def fetch_files(self) -> int:
        counts = self.server.request_counts()
        return sum(counts.get(key, 0) for key in FETCH_FILES)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    # In memory: a materialization costs ~0.15 s here against ~0.7 s on instance_for_test's SQLite files.
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


@pytest.fixture
def world(
    standin: StandinServer, instance: dg.DagsterInstance, database_url: str, tmp_path: Path
) -> Iterator[World]:
    made = World(standin, database_url, instance, tmp_path / "artifacts")
    yield made
    made.engine.dispose()


@pytest.fixture
def sqlite_world(
    standin: StandinServer, instance: dg.DagsterInstance, sqlite_database_url: str, tmp_path: Path
) -> Iterator[World]:
    made = World(standin, sqlite_database_url, instance, tmp_path / "artifacts")
    yield made
    made.engine.dispose()


@pytest.fixture
def pg_world(
    standin: StandinServer, instance: dg.DagsterInstance, pg_database_url: str, tmp_path: Path
) -> Iterator[World]:
    made = World(standin, pg_database_url, instance, tmp_path / "artifacts")
    yield made
    made.engine.dispose()


def _failure(result: dg.ExecuteInProcessResult) -> str:
    failures = result.get_step_failure_events()
    return failures[0].step_failure_data.error.message if failures else "no step failed"  # type: ignore[union-attr]


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    events = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    return {k: v.value for k, v in events[-1].materialization.metadata.items()}


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def _regular_documents(server: StandinServer, security_id: int) -> list[dict[str, Any]]:
    hostile = ("/../", "Full Annual Report Scan")
    return [
        document
        for report in server.data.reports(security_id)
        for document in report["applicationDocumentDetailsList"]
        if not any(mark in document["filePath"] for mark in hostile)
    ]


# --- filings --------------------------------------------------------------------------------------------


def test_filings_writes_exactly_the_standins_reports(world: World) -> None:
    symbols = ["NABIL", "NICA", "ADBL"]
    world.add_companies(symbols)
    result = world.run([filings], symbols)

    expected = {s: world.server.data.reports(world.ids[s]) for s in symbols}
    reports = {r["id"]: (s, r) for s, rs in expected.items() for r in rs}
    stored = {row.report_id: row for row in world.rows(filings_table)}
    assert set(stored) == set(reports)
    for report_id, (symbol, report) in reports.items():
        row, fiscal = stored[report_id], report["fiscalReport"]
        quarter = fiscal["quarterMaster"]
        assert row.security_id == world.ids[symbol] and row.symbol == symbol
        assert (
            row.report_type
            == {"Quarterly Report": "quarterly", "Annual Report": "annual"}[
                fiscal["reportTypeMaster"]["reportName"]
            ]
        )
        assert row.quarter == (QUARTER_NAMES.index(quarter["quarterName"]) + 1 if quarter else None)
        assert (row.fiscal_year, row.fiscal_year_nepali) == (
            fiscal["financialYear"]["fyName"],
            fiscal["financialYear"]["fyNameNepali"],
        )
        assert (row.eps, row.pe, row.net_worth_per_share) == (
            fiscal["epsValue"],
            fiscal["peValue"],
            fiscal["netWorthPerShare"],
        )
        assert row.profit == pytest.approx(fiscal["profitAmount"])
        assert row.paid_up_capital == pytest.approx(fiscal["paidUpCapital"])
        assert row.modified_at == dt.datetime.fromisoformat(report["modifiedDate"])
        submitted = [
            d["submittedDate"] for d in report["applicationDocumentDetailsList"] if d["submittedDate"]
        ]
        assert row.known_on == dt.date.fromisoformat(min(submitted))
        assert row.first_fetched_on == PINNED_TODAY

    documents = {
        (
            d["id"],
            r["id"],
            world.ids[s],
            d["filePath"],
            d["encryptedId"],
            dt.date.fromisoformat(d["submittedDate"]),
        )
        for s, rs in expected.items()
        for r in rs
        for d in r["applicationDocumentDetailsList"]
    }
    assert {tuple(row) for row in world.rows(filing_documents)} == documents

    meta = _metadata(result, "filings")
    assert (meta["filings_new"], meta["documents_new"], meta["symbols"]) == (len(reports), len(documents), 3)
    assert world.server.request_counts()[REPORTS] == 3
    assert world.instance.get_materialized_partitions(filings.key) == set(symbols)

    # A refresh days later changes nothing: the day each report was first stored stays.
    with pinned(npt(2026, 11, 24, 18, 30)):
        again = _metadata(world.run([filings], symbols), "filings")
    assert {row.first_fetched_on for row in world.rows(filings_table)} == {PINNED_TODAY}
    assert (again["filings_new"], again["filings_changed"], again["filings_unchanged"]) == (
        0,
        0,
        len(reports),
    )
    assert again["documents_new"] == 0


def test_filings_of_a_symbol_missing_from_the_warehouse_fail_naming_it(sqlite_world: World) -> None:
    sqlite_world.add_companies(["NICA"])
    sqlite_world.instance.add_dynamic_partitions("symbol", ["NOPE"])
    result = sqlite_world.run([filings], ["NOPE"], ok=False)
    message = _failure(result)
    assert "NOPE" in message and "materialize company_universe" in message
    assert sqlite_world.server.request_counts().get(REPORTS, 0) == 0


def test_a_symbol_nepse_fails_costs_only_that_symbol(sqlite_world: World) -> None:
    world = sqlite_world
    symbols = ["NICA", "ADBL", "SCB"]
    world.add_companies(symbols)
    # Seeded so that, of the three sequential reports calls, only the second one gets a 500.
    world.server.set_faults(FaultConfig(rate_500=0.5, seed=6))
    result = world.run([filings], symbols, ok=False, max_attempts=1)
    assert "1 symbol(s) failed: ADBL: NEPSE GET /api/nots/application/reports/" in _failure(result)
    assert world.instance.get_materialized_partitions(filings.key) == {"NICA", "SCB"}
    landed = {row.symbol for row in world.rows(filings_table)}
    assert landed == {"NICA", "SCB"}


# --- artifacts ------------------------------------------------------------------------------------------


def test_artifacts_store_verified_documents_refuse_hostile_ones_and_rerun_for_free(pg_world: World) -> None:
    world = pg_world
    symbols = [HOSTILE, "NICA"]
    world.add_companies(symbols)
    world.run([filings], symbols)
    # A document NEPSE lists but cannot serve: a 404 is permanent, like the hostile ones.
    with world.engine.begin() as conn:
        upsert(conn, filing_documents, [{**WITHDRAWN, "security_id": world.ids["NICA"]}])

    result = world.run([artifacts], symbols)
    security_ids = [world.ids[s] for s in symbols]
    rows = {row.document_id: row for row in world.rows(artifacts_table)}
    regular = [d for s in symbols for d in _regular_documents(world.server, world.ids[s])]
    for document in regular:
        row = rows[document["id"]]
        data = world.server.data.document_bytes(document["filePath"])
        assert data is not None
        assert (row.status, row.permanent, row.failure_reason) == ("stored", False, None)
        assert row.sha256 == hashlib.sha256(data).hexdigest()
        assert row.storage_path == f"{row.sha256[:2]}/{row.sha256[2:4]}/{row.sha256}"
        assert (world.store.root / row.storage_path).read_bytes() == data
        assert (row.byte_size, row.content_type) == (len(data), "application/pdf")
        assert row.file_name == document["filePath"].rsplit("/", 1)[1]
        assert row.downloaded_at is not None

    failed = {row.document_id: row for row in rows.values() if row.status == "failed"}
    reasons = sorted(row.failure_reason for row in failed.values())
    assert len(failed) == 3 and all(row.permanent and row.sha256 is None for row in failed.values())
    assert any("'..' segment" in reason for reason in reasons)
    assert any("over the limit" in reason for reason in reasons)
    assert any("HTTP 404" in reason for reason in reasons)
    assert len(rows) == len(regular) + 3

    meta = _metadata(result, "artifacts")
    assert (meta["downloaded"], meta["failed_permanently"], meta["failed_transiently"]) == (
        len(regular),
        3,
        0,
    )
    assert meta["bytes_downloaded"] == sum(r.byte_size for r in rows.values() if r.byte_size)
    assert _checks(result) == {
        EVERY_DOCUMENT_HAS_ARTIFACT_OR_FAILURE: True,
        STORED_ARTIFACTS_MATCH_SHA256: True,
    }
    # The escaping path never left the process; the oversize one stopped at its Content-Length.
    assert world.fetch_files() == len(regular) + 2

    # A re-run downloads nothing that is stored and still verifies, nor a permanent failure.
    calls = world.fetch_files()
    again = _metadata(world.run([artifacts], symbols), "artifacts")
    assert world.fetch_files() == calls
    assert (again["downloaded"], again["already_stored"], again["failed_permanently_before"]) == (
        0,
        len(regular),
        3,
    )

    # A stored file that stops verifying fails the sha256 check, and the next run downloads it again.
    victim = rows[regular[0]["id"]]
    (world.store.root / victim.storage_path).write_bytes(b"%PDF-1.4 not the same bytes")
    assert not stored_sha256_check(world.engine, world.store, security_ids).passed
    repaired = world.run([artifacts], symbols)
    assert _metadata(repaired, "artifacts")["downloaded"] == 1
    assert world.fetch_files() == calls + 1
    assert stored_sha256_check(world.engine, world.store, security_ids).passed
    assert _checks(repaired)[STORED_ARTIFACTS_MATCH_SHA256]

    # A document filings found but artifacts has not handled yet fails the coverage check.
    assert document_coverage_check(world.engine, security_ids).passed
    with world.engine.begin() as conn:
        upsert(
            conn,
            filing_documents,
            [
                {
                    **WITHDRAWN,
                    "document_id": 99_000_002,
                    "security_id": world.ids["NICA"],
                    "file_path": "nica_user/New.pdf",
                }
            ],
        )
    check = document_coverage_check(world.engine, security_ids)
    assert not check.passed and check.metadata["missing"].value == [99_000_002]


@pytest.mark.slow  # every company's filings and documents under injected faults
def test_injected_faults_are_retried_and_everything_lands(sqlite_world: World) -> None:
    world = sqlite_world
    symbols = ["NICA", "ADBL"]
    world.add_companies(symbols)
    world.run([filings], symbols)
    regular = [d for s in symbols for d in _regular_documents(world.server, world.ids[s])]
    world.server.set_faults(FaultConfig(rate_500=0.3, rate_drop=0.1, seed=5))
    result = world.run([artifacts], symbols, max_attempts=10, max_concurrent_requests=len(regular))
    stored = [row for row in world.rows(artifacts_table) if row.status == "stored"]
    assert len(stored) == len(regular)
    for row in stored:
        assert world.store.verify(row.storage_path, row.sha256)
    assert _metadata(result, "artifacts")["downloaded"] == len(regular)
    assert world.fetch_files() > len(regular)  # some requests were faulted and retried


def test_transient_failures_are_recorded_fail_the_step_and_heal_on_the_next_run(sqlite_world: World) -> None:
    world = sqlite_world
    world.add_companies(["NICA"])
    world.run([filings], ["NICA"])
    regular = _regular_documents(world.server, world.ids["NICA"])

    world.server.set_faults(FaultConfig(rate_502=1.0, seed=1))
    failed = world.run([artifacts], ["NICA"], ok=False, max_attempts=2, max_concurrent_requests=8)
    assert "failed after the client's retries" in _failure(failed)
    rows = world.rows(artifacts_table)
    assert len(rows) == len(regular)
    assert all(
        row.status == "failed" and row.permanent is False and "502" in row.failure_reason for row in rows
    )
    assert _checks(failed)[EVERY_DOCUMENT_HAS_ARTIFACT_OR_FAILURE]
    assert world.instance.get_materialized_partitions(artifacts.key) == set()

    world.server.set_faults(FaultConfig())
    healed = world.run([artifacts], ["NICA"])
    assert _metadata(healed, "artifacts")["downloaded"] == len(regular)
    assert {row.status for row in world.rows(artifacts_table)} == {"stored"}
    assert world.instance.get_materialized_partitions(artifacts.key) == {"NICA"}


# --- automation and refresh order -----------------------------------------------------------------------


def test_artifacts_are_requested_exactly_when_a_symbols_documents_change(sqlite_world: World) -> None:
    world = sqlite_world
    world.add_companies(["NICA", "ADBL", "SCB"])

    def requested(cursor: str | None) -> tuple[list[tuple[str, str]], str | None]:
        with dg.build_sensor_context(instance=world.instance, cursor=cursor) as context:
            result = new_documents_sensor(context)
        if isinstance(result, dg.SkipReason):
            return [], cursor
        assert isinstance(result, dg.SensorResult)
        ranges = [
            (r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
            for r in result.run_requests or []
        ]
        return ranges, result.cursor

    nothing, cursor = requested(None)
    assert nothing == []
    world.run([filings], ["NICA", "ADBL"])  # one range run: each partition counts its own new documents
    first, cursor = requested(cursor)
    assert first == [("NICA", "ADBL")]
    again, cursor = requested(cursor)
    assert again == []
    world.run([filings], ["NICA", "ADBL"])  # refreshed, but no new document
    unchanged, cursor = requested(cursor)
    assert unchanged == []
    world.run([filings], ["SCB"])
    only_new, cursor = requested(cursor)
    assert only_new == [("SCB", "SCB")]

    # The requested range is a real artifacts run: it downloads exactly the new symbol's documents.
    run = dg.materialize(
        ASSETS,
        selection=[artifacts],
        instance=world.instance,
        resources=world.resources(),
        tags={"dagster/asset_partition_range_start": "SCB", "dagster/asset_partition_range_end": "SCB"},
    )
    assert run.success and world.instance.get_materialized_partitions(artifacts.key) == {"SCB"}

    # A cleared cursor re-reads every filings materialization: both changes, as contiguous ranges.
    replay, _ = requested(None)
    assert replay == [("NICA", "SCB")]


@pytest.mark.calendar
def test_the_refresh_schedule_runs_never_fetched_symbols_first(
    standin: StandinServer, dagster_instance: dg.DagsterInstance, sqlite_database_url: str, tmp_path: Path
) -> None:
    # A schedule context needs an instance it can reference, so this one uses instance_for_test.
    world = World(standin, sqlite_database_url, dagster_instance, tmp_path / "artifacts")
    symbols = ["NICA", "ADBL", "SCB", "NABIL", "HBL"]
    world.add_companies(symbols)
    world.run([filings], ["ADBL"])  # fetched: materialized
    with world.engine.begin() as conn:  # fetched: rows from an earlier life, never materialized here
        upsert(
            conn,
            filings_table,
            [{"report_id": 1, "security_id": world.ids["NABIL"], "symbol": "NABIL", "report_type": "annual"}],
        )

    when = dt.datetime(2026, 11, 23, 18, 30, tzinfo=dt.UTC)
    resources = {"warehouse": WarehouseResource(database_url=world.database_url)}
    with dg.build_schedule_context(
        instance=world.instance, resources=resources, scheduled_execution_time=when
    ) as context:
        requests = filings_refresh_schedule(context)
    assert isinstance(requests, list)
    plan = [
        (
            r.tags["dagster/asset_partition_range_start"],
            r.tags["dagster/asset_partition_range_end"],
            int(r.tags["dagster/priority"]),
        )
        for r in requests
    ]
    never, fetched = NEVER_FETCHED_PRIORITY, REFRESH_PRIORITY
    assert plan == [
        ("NICA", "NICA", never),
        ("SCB", "SCB", never),
        ("HBL", "HBL", never),
        ("ADBL", "ADBL", fetched),
        ("NABIL", "NABIL", fetched),
    ]
    assert len({r.run_key for r in requests}) == len(requests)
    assert all(r.run_key and r.run_key.startswith("filings-refresh-20261123T1830:") for r in requests)

    # The first request's range is a real run: it fetches exactly its group, which is fetched afterwards.
    run = dg.materialize(
        ASSETS,
        selection=[filings],
        instance=world.instance,
        resources=world.resources(),
        tags={k: v for k, v in requests[0].tags.items() if k.startswith("dagster/asset_partition_range")},
    )
    assert run.success and world.instance.get_materialized_partitions(filings.key) == {"ADBL", "NICA"}
    with dg.build_schedule_context(
        instance=world.instance, resources=resources, scheduled_execution_time=when
    ) as again:
        after = filings_refresh_schedule(again)
    assert isinstance(after, list) and after[0].tags["dagster/asset_partition_range_start"] == "SCB"
    assert [r.tags["dagster/priority"] for r in after].count(str(NEVER_FETCHED_PRIORITY)) == 2

    with (
        dg.instance_for_test() as empty_instance,
        dg.build_schedule_context(instance=empty_instance, resources=resources) as empty,
    ):
        assert isinstance(filings_refresh_schedule(empty), dg.SkipReason)
    world.engine.dispose()


def test_the_code_location_wires_filings_and_artifacts() -> None:
    loaded = defs()
    graph = loaded.resolve_asset_graph()
    for key in (filings.key, artifacts.key):
        node = graph.get(key)
        assert node.pools == {"nepse_api"}
        assert node.partitions_def is not None and node.backfill_policy is not None
        assert node.backfill_policy.max_partitions_per_run == 25
    # Launched by the schedule (filings) and by new_documents_sensor (artifacts), not by automation.
    assert graph.get(artifacts.key).automation_condition is None
    assert graph.get(filings.key).automation_condition is None
    assert loaded.resolve_sensor_def("new_documents_sensor").job_name == "artifacts_job"
    checks = {key.name for key in graph.asset_check_keys}
    assert {EVERY_DOCUMENT_HAS_ARTIFACT_OR_FAILURE, STORED_ARTIFACTS_MATCH_SHA256} <= checks
    assert loaded.resolve_schedule_def("filings_refresh_schedule").job_name == "filings_refresh_job"
    assert "artifact_store" in (loaded.resources or {})
