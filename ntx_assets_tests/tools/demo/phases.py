"""The demo's three phases of runs through the Dagster instance, and the minimum calls each needed.

Phase 1 runs the unpartitioned assets (company_universe: it fills the `symbol` partitions). Phase 2 runs
the date-partitioned assets (daily_prices, indicators) over the last N closed sessions as ONE range run.
Phase 3 runs the symbol-partitioned assets (filings, artifacts) in contiguous groups of at most their
backfill policy's maximum per run. Partitions the instance already has materialized are skipped (unless
the warehouse lost their rows), so a second demo only refreshes the universe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from sqlalchemy import Engine, func, or_, select

from ntx_assets.common.clock import nepal_now
from ntx_assets.filings.document_store import check_document_path, check_encrypted_id
from ntx_assets.nepse import NepseClient
from ntx_assets.prices.adjustments import detect_adjustments
from ntx_assets.prices.sessions import HolidayLists, minimum_calls
from ntx_assets.settings import Settings
from ntx_assets.warehouse.queries import included_companies, read_frame
from ntx_assets.warehouse.schema import artifacts, companies, daily_prices, filing_documents, metadata
from ntx_assets_tests.tools.demo import plan
from ntx_assets_tests.tools.demo.options import Options
from ntx_assets_tests.tools.demo.progress import Progress
from ntx_assets_tests.tools.demo.runner import Graph, Runner, RunOutcome
from ntx_assets_tests.tools.demo.summary import UNIVERSE_CHECK
from ntx_assets_tests.tools.standin import StandinServer

UNIVERSE_LIST_CALLS = 4  # company list, security list, promoters, classification
PRICES_ASSET = "daily_prices"
FILINGS_ASSET = "filings"
ARTIFACTS_ASSET = "artifacts"
CORPORATE_ACTIONS_ASSET = "corporate_actions"
UNIVERSE_ASSET = "company_universe"
HISTORY_ASSETS = frozenset({"indicators", "screener"})


@dataclass
class Accounting:
    """Minimum calls of what the runs had to fetch, by endpoint label, with how each was derived."""

    minimum: dict[str, int] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def add(self, label: str, calls: int, note: str) -> None:
        self.minimum[label] = self.minimum.get(label, 0) + calls
        self.notes[label] = note if label not in self.notes else f"{self.notes[label]}; {note}"


class Phases:
    """The three phases of runs, and what each had to fetch at least."""

    def __init__(
        self,
        options: Options,
        settings: Settings,
        graph: Graph,
        instance: dg.DagsterInstance,
        engine: Engine,
        server: StandinServer | None,
        progress: Progress,
        defs: dg.Definitions,
    ) -> None:
        self.options, self.settings, self.graph = options, settings, graph
        self.instance, self.engine, self.server, self.progress = instance, engine, server, progress
        self.runner = Runner(defs, instance, log_level="INFO" if options.verbose else "WARNING")
        self.runs: list[RunOutcome] = []
        self.skipped: list[str] = []
        self.notes: list[str] = []
        self.accounting = Accounting()
        self.steps = (
            1 + bool(graph.by_date) + bool(graph.by_symbol) + bool(graph.derived) + bool(graph.screens)
            + bool(options.history and graph.optional)
        )  # fmt: skip
        self.window: plan.SessionWindow | None = None  # the prices' sessions, which the screens cover too
        if graph.skipped:
            names = ", ".join(k.to_user_string() for k in graph.skipped)
            self.notes.append(f"not run by the demo (partitioned neither by date nor by symbol): {names}")

    # --- phase 1: the universe (unpartitioned) ------------------------------------------------------
    def universe(self) -> None:
        if not self.graph.unpartitioned:
            return
        with_profile, included = self._profiles()
        target = self.settings.universe_target
        # A first run fetches a profile per company: the target, or (auto) the 2025-12-04 count as a guess.
        expected_profiles = (
            len(included - with_profile) if included else (target if target != "auto" else 259)
        )
        planned = UNIVERSE_LIST_CALLS + expected_profiles
        with self.progress.step(1, self.steps, "universe", runs=1, planned_calls=planned) as step:
            outcome = self._run("universe", self.graph.unpartitioned)
            step.run_done()
        if UNIVERSE_ASSET in outcome.assets:
            _, included_after = self._profiles()
            self.accounting.add(
                "universe lists", UNIVERSE_LIST_CALLS, "company list, securities, promoters, classification"
            )
            self.accounting.add(
                "company profiles", len(included_after - with_profile), "one per company without a profile"
            )

    def universe_check(self) -> bool | None:
        results = [c.passed for r in self.runs for c in r.checks if c.name == UNIVERSE_CHECK]
        return results[-1] if results else None

    def _profiles(self) -> tuple[set[int], set[int]]:
        c = companies
        with self.engine.connect() as conn:
            rows = conn.execute(select(c.c.security_id, c.c.profile_fetched_at).where(c.c.included)).all()
        return {int(r[0]) for r in rows if r[1] is not None}, {int(r[0]) for r in rows}

    # --- phase 2: prices and indicators over the last N sessions (date-partitioned) -----------------
    def prices(self) -> None:
        partitions = self.graph.date_partitions
        if partitions is None:
            return
        number = 2
        first_partition = dt.datetime.strptime(partitions.get_first_partition_key(), partitions.fmt).date()
        window = plan.session_window(self._sessions(), self.options.sessions, nepal_now(), first_partition)
        if window is None:
            self._skip(number, "prices", f"no closed session on or after {first_partition}")
            return
        self.window = window
        if len(window.sessions) < self.options.sessions:
            clipped = f" (the partitions start {window.clipped_to})" if window.clipped_to else ""
            self.notes.append(
                f"{len(window.sessions)} of the {self.options.sessions} sessions asked{clipped}"
            )
        keys = [d.strftime(partitions.fmt) for d in window.dates()]
        todo: dict[dg.AssetKey, list[str]] = {}
        for key in self.graph.by_date:
            materialized = self.instance.get_materialized_partitions(key)
            # The instance trusts its event log; a warehouse deleted behind its back would be left empty.
            lost = [
                d.strftime(partitions.fmt)
                for d in self._sessions_without_rows(key, window.sessions)
                if d.strftime(partitions.fmt) in materialized
            ]
            if lost:
                self.notes.append(f"{key.to_user_string()}: {len(lost)} materialized session(s) had no rows")
            todo[key] = plan.missing(keys, materialized - set(lost))
        selection = [key for key in self.graph.by_date if todo[key]]
        names = "+".join(k.to_user_string() for k in self.graph.by_date)
        span = f"{keys[0]}...{keys[-1]}"
        if not selection:
            self._skip(
                number,
                "prices",
                f"{names}: all {len(keys)} dates [{span}] ({len(window.sessions)} sessions) "
                "already materialized",
            )
            return
        wanted = sorted({k for key in selection for k in todo[key]})
        span_run = plan.covering_range(wanted, keys)
        assert span_run is not None
        run_dates = window.dates()[keys.index(span_run[0]) : keys.index(span_run[1]) + 1]
        run_sessions = [d for d in window.sessions if d in set(run_dates)]
        fetches = any(k.to_user_string() == PRICES_ASSET for k in selection)
        today_price = minimum_calls(len(run_sessions), self._rows_per_session(run_sessions)) if fetches else 0
        years = len({d.year for d in run_dates}) if fetches else 0
        planned = today_price + years
        with self.progress.step(number, self.steps, "prices", runs=1, planned_calls=planned) as step:
            step.note = f"{len(run_sessions)} sessions in [{span_run[0]}...{span_run[1]}]"
            self._run("prices", selection, span_run)
            step.run_done(step.note)
        if fetches:
            self.accounting.add(
                "today-price (prices)", today_price, f"{len(run_sessions)} sessions, pages of 500"
            )
            self.accounting.add("holiday lists", years, "one per year of the range (checks may ask too)")

    def _sessions(self) -> list[dt.date]:
        if self.server is not None:
            return list(self.server.data.sessions)
        return _api_sessions(self.settings, self.options.sessions)

    def _rows_per_session(self, sessions: Sequence[dt.date]) -> list[int]:
        if self.server is None:
            return []
        return [len(self.server.data.today_rows(day)) for day in sessions]

    # --- phase 3: filings and artifacts in groups of symbols (symbol-partitioned) -------------------
    def filings(self) -> None:
        partitions = self.graph.symbol_partitions
        if partitions is None or partitions.name is None:
            return
        number = 1 + bool(self.graph.by_date) + bool(self.graph.by_symbol)
        order = self.instance.get_dynamic_partitions(partitions.name)
        chosen = self._chosen_symbols(order)
        todo: dict[dg.AssetKey, set[str]] = {}
        for key in self.graph.by_symbol:
            materialized = self.instance.get_materialized_partitions(key)
            if materialized and self._table_is_empty(key):
                self.notes.append(f"{key.to_user_string()}: materialized, but its table is empty")
                materialized = set()
            todo[key] = set(plan.missing(chosen, materialized))
        wanted = set().union(*todo.values())
        names = "+".join(k.to_user_string() for k in self.graph.by_symbol)
        if not wanted:
            self._skip(number, "filings", f"{names}: all {len(chosen)} symbols already materialized")
            return
        # Groups are cut in the partitions' own order: a run covers a range of it.
        groups = plan.contiguous_groups(order, wanted, self.graph.symbol_group_size)
        runs = [(group, [key for key in self.graph.by_symbol if todo[key] & set(group)]) for group in groups]
        security_ids = self._security_ids()
        done_before = self._documents_done()
        reports = [s for group, keys in runs if _has(keys, FILINGS_ASSET) for s in group]
        announcing = [s for group, keys in runs if _has(keys, CORPORATE_ACTIONS_ASSET) for s in group]
        downloading = [s for group, keys in runs if _has(keys, ARTIFACTS_ASSET) for s in group]
        expected_documents = self._expected_documents(downloading, security_ids, done_before)
        without_shares = self._without_share_counts(
            [security_ids[s] for s in announcing if s in security_ids]
        )
        planned = len(reports) + 3 * len(announcing) + without_shares + expected_documents
        with self.progress.step(number, self.steps, "filings", runs=len(runs), planned_calls=planned) as step:
            for group, keys in runs:
                step.note = f"symbols {group[0]}...{group[-1]}"
                outcome = self._run("filings", keys, (group[0], group[-1]))
                step.run_done("" if outcome.success else f"FAILED {outcome.label}")
        if reports:
            self.accounting.add("reports (filings)", len(reports), "one per symbol")
        if announcing:
            self.accounting.add(
                "announcements", 3 * len(announcing), "corporate actions, dividend and AGM notices per symbol"
            )
            self.accounting.add(
                "security detail (listed shares)", without_shares, "one per company without a share count"
            )
        if downloading:
            pending = self._documents_pending([security_ids[s] for s in downloading if s in security_ids])
            new = {i: path for i, path in pending.items() if i not in done_before}
            refused = [
                i for i, (file_path, encrypted_id) in new.items() if not _fetchable(file_path, encrypted_id)
            ]
            note = "one per new document" + (
                f" ({len(refused)} refused unfetched: unsafe path)" if refused else ""
            )
            self.accounting.add("document downloads", len(new) - len(refused), note)

    def _chosen_symbols(self, order: Sequence[str]) -> list[str]:
        """Every symbol; with --symbols N, the first N and every company whose stored prices re-based.

        A re-basing is explained by the company's announcements (corporate_actions, a symbol asset), so
        leaving such a company out would fail price_adjustments' check for the demo's own shortcut.
        """
        if self.options.symbols is None:
            return list(order)
        first = list(order[: self.options.symbols])
        rebased = plan.rebased_symbols_beyond(first, self._rebased_symbols(), order)
        self.notes.append(
            f"filings/artifacts limited to the first {len(first)} symbols (--symbols)"
            + (
                f", plus {len(rebased)} whose prices re-based, for their announcements: {', '.join(rebased)}"
                if rebased
                else ""
            )
        )
        return first + rebased

    def _rebased_symbols(self) -> set[str]:
        """Symbols of the included companies with a re-basing in the stored prices (what price_adjustments
        will find), by the product's own detection."""
        p = daily_prices
        with self.engine.connect() as conn:
            columns = (p.c.security_id, p.c.business_date, p.c.close, p.c.previous_close)
            prices = read_frame(conn, select(*columns))
            symbols = included_companies(conn)
        found = detect_adjustments(prices)
        return {symbols[int(i)] for i in found["security_id"] if int(i) in symbols}

    # --- phase 4: derived, unpartitioned assets (price_adjustments: no API call) --------------------
    def derived(self) -> None:
        if not self.graph.derived:
            return
        number = 1 + bool(self.graph.by_date) + bool(self.graph.by_symbol) + 1
        names = "+".join(k.to_user_string() for k in self.graph.derived)
        loaded = any(run.phase in ("prices", "filings") for run in self.runs)
        done = all(self.instance.get_latest_materialization_event(k) for k in self.graph.derived)
        if done and not loaded:
            self._skip(number, names, f"{names}: already materialized, and no prices or filings ran")
            return
        with self.progress.step(number, self.steps, names, runs=1, planned_calls=0) as step:
            outcome = self._run("derived", self.graph.derived)
            step.run_done("" if outcome.success else f"FAILED {outcome.label}")

    # --- --history: the archive's years (its import, then indicators and screens before the window) ------
    def history(self) -> None:
        partitions = self.graph.date_partitions
        if not (self.options.history and self.graph.optional) or partitions is None:
            return
        number = self.steps - bool(self.graph.screens)
        names = "+".join(k.to_user_string() for k in self.graph.optional)
        with self.progress.step(number, self.steps, "history", runs=2, planned_calls=0) as step:
            step.note = f"{names} from {self.settings.price_archive}"
            imported = self._run("history", (*self.graph.optional, *self.graph.derived))
            first = self.settings.history_start
            last = (self.window.first if self.window else nepal_now().date()) - dt.timedelta(days=1)
            keys = [k for k in partitions.get_partition_keys() if first.isoformat() <= k <= last.isoformat()]
            # Indicators and the screener: not prices (they came from the archive), nor saved screens.
            by_date = [
                k for k in (*self.graph.by_date, *self.graph.screens) if k.to_user_string() in HISTORY_ASSETS
            ]
            derived = (
                self._run("history", by_date, (keys[0], keys[-1])) if imported.success and keys else None
            )
            step.run_done("" if derived and derived.success else f"FAILED {(derived or imported).label}")

    # --- phase 5: every session's screen over the prices' dates (date-partitioned, after filings) ------
    def screens(self) -> None:
        partitions = self.graph.date_partitions
        if not self.graph.screens or partitions is None:
            return
        names = "+".join(k.to_user_string() for k in self.graph.screens)
        if self.window is None:
            self._skip(self.steps, names, "no session window (no prices phase)")
            return
        keys = [d.strftime(partitions.fmt) for d in self.window.dates()]
        missing = {
            k
            for key in self.graph.screens
            for k in plan.missing(keys, self.instance.get_materialized_partitions(key))
        }
        # New prices, filings or announcements change the screens of every session they reach.
        loaded = any(run.phase in ("prices", "filings") for run in self.runs)
        if not missing and not loaded:
            self._skip(self.steps, names, f"{names}: all {len(keys)} dates already materialized")
            return
        with self.progress.step(self.steps, self.steps, names, runs=1, planned_calls=0) as step:
            step.note = f"{len(self.window.sessions)} sessions in [{keys[0]}...{keys[-1]}]"
            outcome = self._run("screens", self.graph.screens, (keys[0], keys[-1]))
            step.run_done("" if outcome.success else f"FAILED {outcome.label}")

    def _sessions_without_rows(self, key: dg.AssetKey, sessions: Sequence[dt.date]) -> list[dt.date]:
        """Sessions with no row in the asset's table (a table named like the asset, by business_date)."""
        table = metadata.tables.get(key.to_user_string())
        if table is None or "business_date" not in table.c or not sessions:
            return []
        column = table.c.business_date
        with self.engine.connect() as conn:
            query = select(column).where(column.between(min(sessions), max(sessions))).distinct()
            stored = {_day(value) for value in conn.execute(query).scalars()}
        return [day for day in sessions if day not in stored]

    def _table_is_empty(self, key: dg.AssetKey) -> bool:
        table = metadata.tables.get(key.to_user_string())
        if table is None:
            return False
        with self.engine.connect() as conn:
            return conn.execute(select(table).limit(1)).first() is None

    def _security_ids(self) -> dict[str, int]:
        c = companies
        with self.engine.connect() as conn:
            rows = conn.execute(select(c.c.symbol, c.c.security_id).where(c.c.included)).all()
        return {str(symbol): int(security_id) for symbol, security_id in rows}

    def _documents_done(self) -> set[int]:
        a = artifacts
        with self.engine.connect() as conn:
            query = select(a.c.document_id).where(or_(a.c.status == "stored", a.c.permanent.is_(True)))
            return {int(i) for i in conn.execute(query).scalars()}

    def _documents_pending(self, security_ids: Sequence[int]) -> dict[int, tuple[str | None, str | None]]:
        """The listed documents of these companies: document id -> (file path, encrypted id)."""
        d = filing_documents
        with self.engine.connect() as conn:
            query = select(d.c.document_id, d.c.file_path, d.c.encrypted_id).where(
                d.c.security_id.in_(list(security_ids))
            )
            return {int(row[0]): (row[1], row[2]) for row in conn.execute(query)}

    def _without_share_counts(self, security_ids: Sequence[int]) -> int:
        c = companies
        with self.engine.connect() as conn:
            query = select(func.count()).where(
                c.c.security_id.in_(list(security_ids)), c.c.listed_shares.is_(None)
            )
            return int(conn.execute(query).scalar_one())

    def _expected_documents(
        self, symbols: Sequence[str], security_ids: Mapping[str, int], done: set[int]
    ) -> int:
        """Documents the stand-in will list for these symbols and that are not stored yet (for the ETA)."""
        if self.server is None:
            return 0
        documents = [
            document
            for symbol in symbols
            if symbol in security_ids
            for report in self.server.data.reports(security_ids[symbol])
            for document in report.get("applicationDocumentDetailsList") or []
        ]
        return sum(
            1
            for document in documents
            if int(document["id"]) not in done
            and _fetchable(document.get("filePath"), document.get("encryptedId"))
        )

    # --- one run -----------------------------------------------------------------------------------
    def _skip(self, number: int, phase: str, why: str) -> None:
        self.skipped.append(why)
        self.progress.message(f"[{number}/{self.steps}] {phase:<10}  skipped: {why}")

    def _run(
        self, phase: str, keys: Sequence[dg.AssetKey], partition_range: tuple[str, str] | None = None
    ) -> RunOutcome:
        outcome = self.runner.run(phase, keys, partition_range, outcomes=self.runs)
        if not outcome.success:
            self.progress.message(f"  run FAILED: {outcome.label}: {outcome.error}")
        return outcome


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _fetchable(file_path: str | None, encrypted_id: str | None) -> bool:
    """Whether the artifacts asset asks NEPSE for this document, or refuses it without a call."""
    try:
        if file_path:
            check_document_path(file_path)
        elif encrypted_id:
            check_encrypted_id(encrypted_id)
        else:
            return False
    except ValueError:
        return False
    return True


def _has(keys: Sequence[dg.AssetKey], name: str) -> bool:
    return any(key.to_user_string() == name for key in keys)


def _api_sessions(settings: Settings, count: int) -> list[dt.date]:
    """The session calendar from NEPSE's holiday lists, for a server that is not the demo's stand-in."""
    today = nepal_now().date()
    first_year = today.year - 1 - count // 200
    with NepseClient(settings.nepse_base_url, **settings.client_options()) as client:
        holidays = HolidayLists(client.holidays).dates(*range(first_year, today.year + 1))
    return plan.calendar_sessions(holidays, dt.date(first_year, 1, 1), today)
