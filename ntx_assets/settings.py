"""Every NTX_* setting of the product, with its default and its validation.

One pydantic-settings class reads the environment (and an optional `.env` file in the working directory).
`load_settings()` turns a validation failure into a `SettingsError` whose message names the environment
variable, the value it got and what is allowed, so a typo fails at definitions load, not mid-backfill.
"""

from __future__ import annotations

import datetime as dt
from functools import cache, cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ntx_assets.common.clock import nepal_today
from ntx_assets.nepse import defaults as client_defaults
from ntx_assets.orchestration.run_bounds import DEFAULT_RUN_START_SECONDS
from ntx_assets.prices.sessions import DEFAULT_HISTORY_DAYS

ENV_PREFIX = "NTX_"

# The live site. Several hosts serve the same /api paths (docs/NEPSE_API.md section 1); this is the one the
# reference client uses.
LIVE_NEPSE_BASE_URL = "https://www.nepalstock.com"


class SettingsError(ValueError):
    """A NTX_* environment variable holds a value the product cannot use."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        extra="ignore",
        validate_default=True,
    )

    data_dir: Path = Field(
        default=Path("data"),
        description="Folder for local state: the default SQLite warehouse and the artifact store.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the warehouse. Default: sqlite:///<NTX_DATA_DIR>/warehouse.db. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/dbname.",
    )
    nepse_base_url: str = Field(
        default=LIVE_NEPSE_BASE_URL,
        description="Base URL of the NEPSE web API (the live site, or the stand-in on loopback).",
    )
    nepse_verify_tls: bool = Field(default=True, description="Verify the NEPSE server's TLS certificate.")
    nepse_ca_bundle: Path | None = Field(
        default=None,
        description="CA bundle (PEM) used to verify NEPSE; add the missing intermediate here rather than "
        "turning verification off.",
    )
    requests_per_second: Annotated[float, Field(gt=0, le=100)] = Field(
        default=client_defaults.REQUESTS_PER_SECOND,
        description="Sustained NEPSE API requests per second, per client (token bucket).",
    )
    max_concurrent_requests: Annotated[int, Field(ge=1, le=64)] = Field(
        default=client_defaults.MAX_CONCURRENT_REQUESTS,
        description="NEPSE API requests in flight at once, per client.",
    )
    request_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = Field(
        default=client_defaults.TIMEOUT_SECONDS, description="Timeout of one NEPSE HTTP request."
    )
    max_attempts: Annotated[int, Field(ge=1, le=20)] = Field(
        default=client_defaults.MAX_ATTEMPTS,
        description="Attempts per NEPSE request before a retryable fault fails the step.",
    )
    universe_target: Annotated[int, Field(ge=1, le=5000)] | Literal["auto"] = Field(
        default=264,
        description="Expected number of listed ordinary-share companies (the universe check), or `auto`: "
        "NEPSE's own count on that run (its classification list, the rows it permits to trade).",
    )
    history_start: dt.date = Field(
        default=dt.date(2025, 12, 1),
        description="First session date of the daily_prices/indicators partitions (YYYY-MM-DD).",
    )
    run_start_seconds: Annotated[float, Field(ge=0, le=86400)] = Field(
        default=DEFAULT_RUN_START_SECONDS,
        description="Seconds allowed, beyond its planned NEPSE calls, to a run that calls NEPSE (its start, "
        "its other steps and checks): part of the dagster/max_runtime each such run sets for itself.",
    )
    api_history_days: Annotated[int, Field(ge=1, le=10000)] = Field(
        default=DEFAULT_HISTORY_DAYS,
        description="How far back NEPSE's price endpoints answer, in calendar days.",
    )
    close_flag_grace_minutes: Annotated[float, Field(ge=0, le=24 * 60)] = Field(
        default=30.0,
        description="Minutes after the 15:00 close after which a session whose market status is still not "
        "CLOSE counts as closed when its today-price rows all carry closing prices.",
    )
    prices_freshness_grace_hours: Annotated[float, Field(gt=0, le=72)] = Field(
        default=2.0,
        description="Hours after the 15:00 close by which a session's prices must be loaded "
        "(check daily_prices_fresh).",
    )
    artifact_dir: Path | None = Field(
        default=None,
        description="Content-addressed store of filing documents. Default: <NTX_DATA_DIR>/artifacts.",
    )
    export_dir: Path | None = Field(
        default=None,
        description="Folder of the screener's exports (screener.json, companies.json). "
        "Default: <NTX_DATA_DIR>/exports.",
    )
    max_artifact_bytes: Annotated[int, Field(ge=1024)] = Field(
        default=50 * 1024 * 1024, description="Largest filing document downloaded, in bytes."
    )
    screens_file: Path | None = Field(
        default=None,
        description="TOML file of saved screens, each its own asset screen_<name> (docs/saved-screens.md). "
        "Unset: no saved screens. The repository's sample: screens.sample.toml.",
    )
    # A secret (Slack's and Discord's URLs carry their token): bound as dg.EnvVar, never echoed. Not
    # validated here, since a validation message would print it; a URL that is not http(s) fails the alert.
    alert_webhook_url: str | None = Field(
        default=None,
        description="Webhook that receives a saved screen's changed picks (off when unset).",
    )
    alert_webhook_format: Literal["json", "slack", "discord"] = Field(
        default="json",
        description="The alert's body: json (screen, session, entered, left, ...), slack ({text}) or "
        "discord ({content}).",
    )
    price_archive: str | None = Field(
        default=None,
        description="A public price archive to import history from (off when unset): a folder (a clone of "
        "github.com/Aabishkar2/nepse-data) or an http(s) base URL of its company files.",
    )
    price_archive_name: str = Field(
        default="nepse-data",
        description="The archive's name, stored as the `source` of its rows (archive:<name>).",
    )
    price_archive_requests_per_second: Annotated[float, Field(gt=0, le=100)] = Field(
        default=2.0, description="GETs per second to an http(s) price archive."
    )
    price_archive_workers: Annotated[int, Field(ge=1, le=16)] = Field(
        default=2,
        description="Processes that parse and write an archive import's companies side by side on "
        "PostgreSQL (1: all in the run's process; SQLite always uses 1). About one per core.",
    )

    @field_validator("nepse_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _sqlalchemy_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a SQLAlchemy URL starting with sqlite:/// or postgresql+psycopg://")
        return value

    @field_validator("history_start")
    @classmethod
    def _not_future(cls, value: dt.date) -> dt.date:
        # Nepal's date, not the machine's: from 18:15 UTC Nepal is already on the next day.
        if value > nepal_today():
            raise ValueError(f"must not be in the future (today is {nepal_today()} in Nepal)")
        return value

    @model_validator(mode="after")
    def _ca_bundle_exists(self) -> Settings:
        if self.nepse_ca_bundle is not None and not self.nepse_ca_bundle.is_file():
            raise ValueError(f"NTX_NEPSE_CA_BUNDLE={self.nepse_ca_bundle} is not a readable file")
        return self

    @cached_property
    def warehouse_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'warehouse.db').resolve()}"

    @cached_property
    def artifact_root(self) -> Path:
        return (self.artifact_dir or self.data_dir / "artifacts").resolve()

    @cached_property
    def export_root(self) -> Path:
        return (self.export_dir or self.data_dir / "exports").resolve()

    def client_options(self) -> dict[str, Any]:
        """The keyword arguments of `NepseClient` these settings set (for tools that build a client
        outside Dagster; runs get theirs from `NepseResource`)."""
        return {
            "verify": client_defaults.tls_verify(self.nepse_verify_tls, self.nepse_ca_bundle),
            "requests_per_second": self.requests_per_second,
            "max_concurrent_requests": self.max_concurrent_requests,
            "timeout_seconds": self.request_timeout_seconds,
            "max_attempts": self.max_attempts,
        }


def default(field: str) -> Any:
    """The default of one setting, for the resources that carry it (so it is written once, here)."""
    return Settings.model_fields[field].default


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment; raise SettingsError naming each bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


@cache
def definitions_settings() -> Settings:
    """The settings the code location loads with: read from the environment once per process, when the
    definitions load (the partitions' first date, the resources, the freshness schedule's time), so every
    part of one load sees the same values. Runs never read the environment for a knob: they get it from
    their resources, which the launchpad shows and can override per run. Reloading the code location
    (a new code-server process) reads the environment again."""
    return load_settings()


def _describe(exc: ValidationError) -> str:
    lines = ["Invalid ntx_assets settings (fix the environment variables or .env):"]
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        variable = f"{ENV_PREFIX}{field.upper()}" if field else "settings"
        default = Settings.model_fields[field].default if field in Settings.model_fields else None
        hint = f" (default: {default})" if default is not None else ""
        lines.append(f"  {variable}={error.get('input')!r}: {error['msg']}{hint}")
    return "\n".join(lines)
