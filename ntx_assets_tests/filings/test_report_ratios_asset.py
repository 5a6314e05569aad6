"""report_ratios: real Dagster materializations of filings, artifacts and report_ratios against the stand-in's
documents and a real warehouse (SQLite and PostgreSQL): every document of a financial institution gets
the reading the stand-in says it prints, or the reason it has none; a re-run reads nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import Engine, delete, select

from ntx_assets.defs.filings.assets import artifacts, filings
from ntx_assets.defs.filings.ratios import EVERY_DOCUMENT_HAS_A_READING, report_ratios
from ntx_assets.filings.ratios import RATIO_KEYS
from ntx_assets.filings.ratios import results as ratio_results
from ntx_assets.resources import ArtifactStoreResource, NepseResource
from ntx_assets.warehouse import create_warehouse_engine, migrate, upsert
from ntx_assets.warehouse.schema import artifacts as artifacts_table
from ntx_assets.warehouse.schema import companies, filing_documents
from ntx_assets.warehouse.schema import filings as filings_table
from ntx_assets.warehouse.schema import report_ratios as report_ratios_table
from ntx_assets_tests.pinned import PINNED_TODAY
from ntx_assets_tests.tools.harness.resources import run_resources
from ntx_assets_tests.tools.standin import StandinConfig, StandinServer, running_standin
from ntx_assets_tests.tools.standin.bank_reports import expected_reading, traits

# A commercial bank that also carries the two hostile documents (refused by artifacts: never downloaded),
# a microfinance institution, and a hydropower company (not a financial institution: nothing is read).
BANK, MICROFINANCE, HYDRO = "NABIL", "NUBL", "NHPC"
SYMBOLS = [BANK, MICROFINANCE, HYDRO]
ASSETS = [filings, artifacts, report_ratios]
MAX_BYTES = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def server() -> Iterator[StandinServer]:
    config = StandinConfig(
        seed=7,
        end_date=PINNED_TODAY,
        escaping_document_symbol=BANK,
        oversize_document_symbol=BANK,
        oversize_bytes=3 * 1024 * 1024,
    )
    with running_standin(config) as running:
        yield running


class World:
    def __init__(self, server: StandinServer, database_url: str, store_root: Path) -> None:
        self.server, self.database_url, self.store_root = server, database_url, store_root
        self.engine: Engine = create_warehouse_engine(database_url)
        migrate(self.engine)
        self.instance = dg.DagsterInstance.ephemeral()
        by_symbol = {c["symbol"]: c for c in server.data.companies}
        self.ids = {s: by_symbol[s]["id"] for s in SYMBOLS}
        rows = [
            {
                "security_id": by_symbol[s]["id"],
                "symbol": s,
                "name": by_symbol[s]["companyName"],
                "sector": by_symbol[s]["sectorName"],
                "included": True,
                "reason": "included",
                "first_seen": PINNED_TODAY,
                "last_seen": PINNED_TODAY,
            }
            for s in SYMBOLS
        ]
        with self.engine.begin() as conn:
            upsert(conn, companies, rows, insert_only={"first_seen"})
        self.instance.add_dynamic_partitions("symbol", SYMBOLS)

    def resources(self) -> dict[str, Any]:
        return run_resources(
            NepseResource(base_url=self.server.base_url, requests_per_second=200.0),
            self.database_url,
            artifact_store=ArtifactStoreResource(root=str(self.store_root), max_bytes=MAX_BYTES),
        )

    def run(self, selection: list[Any], ok: bool = True) -> dg.ExecuteInProcessResult:
        result = dg.materialize(
            ASSETS,
            selection=selection,
            instance=self.instance,
            resources=self.resources(),
            tags={
                "dagster/asset_partition_range_start": SYMBOLS[0],
                "dagster/asset_partition_range_end": SYMBOLS[-1],
            },
            raise_on_error=False,
        )
        assert result.success is ok, result.get_step_failure_events()
        return result

    def readings(self) -> dict[int, Any]:
        with self.engine.connect() as conn:
            return {row.document_id: row for row in conn.execute(select(report_ratios_table)).all()}

    def table(self, table: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(table)).all())


@pytest.fixture
def world(server: StandinServer, database_url: str, tmp_path: Path) -> Iterator[World]:
    made = World(server, database_url, tmp_path / "artifacts")
    yield made
    made.instance.dispose()
    made.engine.dispose()


def _metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    events = [e for e in result.get_asset_materialization_events() if e.asset_key.path == ["report_ratios"]]
    return {k: v.value for k, v in events[-1].materialization.metadata.items()}


def _check(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == EVERY_DOCUMENT_HAS_A_READING
    ]
    return evaluation


def test_every_document_of_a_financial_institution_gets_what_it_prints_or_why_not(world: World) -> None:
    world.run([filings, artifacts])
    result = world.run([report_ratios])
    readings = world.readings()
    documents = {row.document_id: row for row in world.table(filing_documents)}
    reports = {row.report_id: row for row in world.table(filings_table)}
    stored = {row.document_id: row for row in world.table(artifacts_table)}
    financial = {world.ids[BANK], world.ids[MICROFINANCE]}

    # One row per document of the two financial institutions, none for the hydropower company.
    assert set(readings) == {d for d, row in documents.items() if row.security_id in financial}
    served_bank_reports = 0
    for document_id, reading in readings.items():
        document, report = documents[document_id], reports[documents[document_id].report_id]
        # The row's period and date are its report's and its submission date, not the document's text.
        assert (reading.report_id, reading.security_id, reading.fiscal_year, reading.quarter) == (
            report.report_id,
            report.security_id,
            report.fiscal_year_nepali or report.fiscal_year,
            report.quarter,
        )
        assert reading.known_on == (document.submitted_date or report.known_on or report.first_fetched_on)
        assert reading.reader_version == ratio_results.READER_VERSION
        problems = json.loads(reading.problems)
        artifact = stored[document_id]
        if artifact.status != "stored":
            # The hostile documents artifacts refused: unreadable, saying why, never read.
            assert (reading.status, reading.sha256) == ("unreadable", None)
            assert reading.reason.startswith("not downloaded: ") and artifact.failure_reason in reading.reason
            continue
        assert reading.sha256 == artifact.sha256
        served = world.server.data.document(document.file_path)
        assert served is not None
        if served.bank_report is None:  # another document of the report (a notice, a scan): no ratio table
            assert reading.status == "unreadable" and reading.reason, reading
            continue
        served_bank_reports += 1
        expected = expected_reading(served.bank_report)
        assert {key: getattr(reading, key) for key in RATIO_KEYS} == expected["ratios"]
        if traits(served.bank_report).text_layer == "text":
            read = sum(value is not None for value in expected["ratios"].values())
            assert reading.status == ("read" if read == len(RATIO_KEYS) else "partial")
            assert reading.format == expected["format"] and problems == expected["problems"]
            assert json.loads(reading.period) == expected["period"]
        else:
            assert reading.status == "unreadable" and reading.reason.startswith("no text layer")
    assert served_bank_reports >= 8

    meta = _metadata(result)
    statuses = [r.status for r in readings.values()]
    assert (meta["financial_institutions"], meta["documents"], meta["read_now"]) == (
        2,
        len(readings),
        len(readings),
    )
    assert (meta["documents_read"], meta["documents_partial"], meta["documents_unreadable"]) == (
        statuses.count("read"),
        statuses.count("partial"),
        statuses.count("unreadable"),
    )
    assert meta["documents_read"] > 0 and meta["documents_without_reading"] == 0
    unreadable = [r.reason for r in readings.values() if r.status == "unreadable"]
    assert meta["unreadable_reasons"] == {reason: unreadable.count(reason) for reason in set(unreadable)}
    assert f"| {BANK} |" in meta["latest_readings"] and f"| {HYDRO} |" not in meta["latest_readings"]
    assert _check(result).passed

    # A re-run reads nothing and rewrites nothing.
    again = _metadata(world.run([report_ratios]))
    assert (again["read_now"], again["unchanged"], again["rows_updated"]) == (0, len(readings), 0)
    assert {d: r.read_at for d, r in world.readings().items()} == {d: r.read_at for d, r in readings.items()}


def test_a_new_reader_or_a_changed_file_is_read_again_and_a_missing_reading_fails_the_check(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.run([filings, artifacts])
    world.run([report_ratios])
    readings = world.readings()
    victim = next(r for r in readings.values() if r.status == "read")

    other = next(r for r in readings.values() if r.status != "unreadable" and r.sha256 != victim.sha256)

    def point(document_id: int, sha256: str) -> None:
        with world.engine.begin() as conn:
            conn.execute(
                artifacts_table.update()
                .where(artifacts_table.c.document_id == document_id)
                .values(sha256=sha256, storage_path=f"{sha256[:2]}/{sha256[2:4]}/{sha256}")
            )

    # The file behind one document changed (NEPSE served a corrected one): that document alone is read again.
    point(victim.document_id, other.sha256)
    changed = world.run([report_ratios])
    assert _metadata(changed)["read_now"] == 1 and _check(changed).passed
    assert world.readings()[victim.document_id].sha256 == other.sha256

    # A stored file missing from the store is not read, said so, and fails the check until artifacts
    # repairs it (its row no longer verifies, so it downloads the document again).
    point(victim.document_id, "0" * 64)
    # Its symbol's partition fails naming it; the other symbols' readings landed and are materialized.
    missing = world.run([report_ratios], ok=False)
    failure = missing.get_step_failure_events()[0].step_failure_data.error
    assert failure is not None and "file is missing from the store" in failure.message
    victim_symbol = next(s for s, i in world.ids.items() if i == victim.security_id)
    assert victim_symbol in failure.message
    records = world.instance.get_records_for_run(missing.run_id).records
    landed = {
        r.event_log_entry.dagster_event.partition
        for r in records
        if r.event_log_entry.dagster_event and r.event_log_entry.dagster_event.is_step_materialization
    }
    assert landed == set(SYMBOLS) - {victim_symbol}
    assert not _check(missing).passed
    assert _check(missing).metadata["without_reading"].value == [victim.document_id]
    world.run([artifacts])
    healed = world.run([report_ratios])
    assert _metadata(healed)["read_now"] == 1 and _check(healed).passed
    assert world.readings()[victim.document_id].sha256 == victim.sha256
    assert world.readings()[victim.document_id].capital_fund_to_rwa_pct == victim.capital_fund_to_rwa_pct

    # A new reader version reads every document again.
    monkeypatch.setattr(ratio_results, "READER_VERSION", "next")
    reread = _metadata(world.run([report_ratios]))
    assert reread["read_now"] == len(readings)
    assert {r.reader_version for r in world.readings().values()} == {"next"}

    # A reading deleted by hand is missing: the next run writes it again.
    with world.engine.begin() as conn:
        conn.execute(
            delete(report_ratios_table).where(report_ratios_table.c.document_id == victim.document_id)
        )
    assert _metadata(world.run([report_ratios]))["read_now"] == 1


def test_report_ratios_follows_artifacts_symbol_by_symbol(world: World) -> None:
    defs = dg.Definitions(assets=ASSETS, resources=world.resources())
    baseline = dg.evaluate_automation_conditions(defs=defs, instance=world.instance)
    assert baseline.get_requested_partitions(report_ratios.key) == set()  # no documents stored yet
    world.run([filings, artifacts])
    evaluated = dg.evaluate_automation_conditions(defs=defs, instance=world.instance, cursor=baseline.cursor)
    assert evaluated.get_requested_partitions(report_ratios.key) == set(SYMBOLS)
    world.run([report_ratios])
    after = dg.evaluate_automation_conditions(defs=defs, instance=world.instance, cursor=evaluated.cursor)
    assert after.get_requested_partitions(report_ratios.key) == set()
