"""Typed Dagster resources over the plain NEPSE client and the warehouse engine.

They live outside defs/ because tests and scripts build them directly; defs/resources.py binds them.
"""

import datetime as dt
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr
from sqlalchemy import Engine

from ntx_assets.filings.document_store import ArtifactStore
from ntx_assets.nepse import NepseClient
from ntx_assets.nepse.defaults import tls_verify
from ntx_assets.settings import Settings, default
from ntx_assets.warehouse import create_warehouse_engine, migrate


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse database; upgraded to the newest schema when a run starts."""

    database_url: str

    _engine: Engine | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._engine = create_warehouse_engine(self.database_url)
        migrate(self._engine)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._engine is not None:
            self._engine.dispose()

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("WarehouseResource used outside a run: call setup_for_execution first")
        return self._engine


class NepseResource(dg.ConfigurableResource):
    """A paced, retrying NEPSE client per run (its token bucket is per process)."""

    # Each default is the setting's (ntx_assets.settings): the fields mirror NTX_* for the launchpad.
    base_url: str
    verify_tls: bool = default("nepse_verify_tls")
    ca_bundle: str | None = None
    requests_per_second: float = default("requests_per_second")
    max_concurrent_requests: int = default("max_concurrent_requests")
    timeout_seconds: float = default("request_timeout_seconds")
    max_attempts: int = default("max_attempts")
    # How far back NEPSE's price endpoints answer, in calendar days (NTX_API_HISTORY_DAYS); older dates fail.
    history_days: int = default("api_history_days")
    # After the close + this, a session NEPSE still calls OPEN is closed when its rows carry closing prices.
    close_flag_grace_minutes: float = default("close_flag_grace_minutes")
    # Beyond the planned calls, what a NEPSE-calling run may take (NTX_RUN_START_SECONDS): its bound.
    run_start_seconds: float = default("run_start_seconds")

    _client: NepseClient | None = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings) -> "NepseResource":
        return cls(
            base_url=settings.nepse_base_url,
            verify_tls=settings.nepse_verify_tls,
            ca_bundle=str(settings.nepse_ca_bundle) if settings.nepse_ca_bundle else None,
            requests_per_second=settings.requests_per_second,
            max_concurrent_requests=settings.max_concurrent_requests,
            timeout_seconds=settings.request_timeout_seconds,
            max_attempts=settings.max_attempts,
            history_days=settings.api_history_days,
            close_flag_grace_minutes=settings.close_flag_grace_minutes,
            run_start_seconds=settings.run_start_seconds,
        )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._client = NepseClient(
            self.base_url,
            verify=tls_verify(self.verify_tls, self.ca_bundle),
            requests_per_second=self.requests_per_second,
            max_concurrent_requests=self.max_concurrent_requests,
            timeout_seconds=self.timeout_seconds,
            max_attempts=self.max_attempts,
        )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()

    @property
    def client(self) -> NepseClient:
        if self._client is None:
            raise RuntimeError("NepseResource used outside a run: call setup_for_execution first")
        return self._client


class CheckTargetsResource(dg.ConfigurableResource):
    """What the checks expect: shown on the UI's Resources page, and settable per run in the launchpad
    (`resources: {check_targets: {config: {universe_target: 278}}}`)."""

    universe_target: int = default("universe_target")  # NTX_UNIVERSE_TARGET: listed ordinary-share companies
    # NTX_UNIVERSE_TARGET=auto: the target is NEPSE's own count (its classification list) on each run.
    universe_target_auto: bool = False
    # NTX_PRICES_FRESHNESS_GRACE_HOURS: after the 15:00 close
    prices_freshness_grace_hours: float = default("prices_freshness_grace_hours")

    @classmethod
    def from_settings(cls, settings: Settings) -> "CheckTargetsResource":
        auto = settings.universe_target == "auto"
        return cls(
            # Under auto the number is unused (each run counts NEPSE's list); keep the field's default.
            universe_target=default("universe_target") if auto else int(settings.universe_target),
            universe_target_auto=auto,
            prices_freshness_grace_hours=settings.prices_freshness_grace_hours,
        )

    @property
    def freshness_grace(self) -> dt.timedelta:
        return dt.timedelta(hours=self.prices_freshness_grace_hours)


class ArtifactStoreResource(dg.ConfigurableResource):
    """The content-addressed store of filing documents (NTX_ARTIFACT_DIR, NTX_MAX_ARTIFACT_BYTES)."""

    root: str
    max_bytes: int = default("max_artifact_bytes")

    @classmethod
    def from_settings(cls, settings: Settings) -> "ArtifactStoreResource":
        return cls(root=str(settings.artifact_root), max_bytes=settings.max_artifact_bytes)

    @property
    def store(self) -> ArtifactStore:
        # Stateless (the filesystem is the state), so no setup: tests and checks can use it directly.
        return ArtifactStore(Path(self.root), max_bytes=self.max_bytes)


class ExportResource(dg.ConfigurableResource):
    """Where the screener's JSON exports go (NTX_EXPORT_DIR, default <NTX_DATA_DIR>/exports), and the NEPSE
    site its logo URLs point at (NTX_NEPSE_BASE_URL: the logos are NEPSE's files)."""

    directory: str
    logo_base_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> "ExportResource":
        return cls(directory=str(settings.export_root), logo_base_url=settings.nepse_base_url)

    @property
    def path(self) -> Path:
        return Path(self.directory)


class PriceArchiveResource(dg.ConfigurableResource):
    """Where the price_archive asset reads its files (NTX_PRICE_ARCHIVE; None: the archive is off)."""

    location: str | None = None
    name: str = "nepse-data"
    requests_per_second: float = 2.0
    workers: int = 2

    @classmethod
    def from_settings(cls, settings: Settings) -> "PriceArchiveResource":
        return cls(
            location=settings.price_archive,
            name=settings.price_archive_name,
            requests_per_second=settings.price_archive_requests_per_second,
            workers=settings.price_archive_workers,
        )

    @property
    def source(self) -> str:
        return f"archive:{self.name}"


class AlertsResource(dg.ConfigurableResource):
    """Where saved screens announce changed picks (NTX_ALERT_WEBHOOK_URL, a secret bound as EnvVar; None:
    alerts are off) and in which shape (NTX_ALERT_WEBHOOK_FORMAT: json, slack or discord)."""

    webhook_url: str | None = None
    webhook_format: str = default("alert_webhook_format")
    max_attempts: int = 4  # POSTs in all; a 5xx, 429, timeout or dropped connection is retried
    backoff_seconds: float = 1.0  # waits of 1, 2, 4 ... x this between attempts
    timeout_seconds: float = 10.0
