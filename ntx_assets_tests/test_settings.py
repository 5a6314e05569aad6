from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ntx_assets.nepse.transport import RetryPolicy
from ntx_assets.resources import ArtifactStoreResource, CheckTargetsResource, NepseResource
from ntx_assets.settings import LIVE_NEPSE_BASE_URL, SettingsError, load_settings

# Decides by the calendar: rerun under faketime with `make test-calendar` (pytest -m calendar).
pytestmark = pytest.mark.calendar


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("NTX_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env file


def test_defaults() -> None:
    settings = load_settings()
    assert settings.nepse_base_url == LIVE_NEPSE_BASE_URL
    assert settings.requests_per_second == 2.0
    assert settings.universe_target == 264
    assert settings.nepse_verify_tls is True and settings.client_options()["verify"] is True
    assert settings.warehouse_url == f"sqlite:///{Path('data/warehouse.db').resolve()}"
    assert settings.artifact_root == Path("data/artifacts").resolve()


def test_resources_default_to_the_settings_defaults() -> None:
    # Defaults are written once (settings.py, nepse/defaults.py); a resource built without the environment
    # equals one built from the default settings.
    settings = load_settings()
    assert NepseResource(base_url=LIVE_NEPSE_BASE_URL) == NepseResource.from_settings(settings)
    assert CheckTargetsResource() == CheckTargetsResource.from_settings(settings)
    assert ArtifactStoreResource(root=str(settings.artifact_root)) == ArtifactStoreResource.from_settings(
        settings
    )


def test_transport_retries_as_often_as_the_settings_say_by_default() -> None:
    # The retry policy built without arguments (as the transport's tests and tools build it) gives up after
    # the same number of attempts as NTX_MAX_ATTEMPTS's default, not a figure of its own.
    assert RetryPolicy().max_attempts == load_settings().max_attempts


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bundle = tmp_path / "nepse-chain.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("NTX_NEPSE_BASE_URL", "http://127.0.0.1:8765/")
    monkeypatch.setenv("NTX_REQUESTS_PER_SECOND", "0.5")
    monkeypatch.setenv("NTX_UNIVERSE_TARGET", "259")
    monkeypatch.setenv("NTX_HISTORY_START", "2026-01-01")
    monkeypatch.setenv("NTX_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/ntx")
    monkeypatch.setenv("NTX_NEPSE_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("NTX_ARTIFACT_DIR", str(tmp_path / "docs"))
    settings = load_settings()
    assert settings.nepse_base_url == "http://127.0.0.1:8765"
    assert settings.requests_per_second == 0.5
    assert settings.universe_target == 259
    assert settings.history_start == dt.date(2026, 1, 1)
    assert settings.warehouse_url == "postgresql+psycopg://postgres@127.0.0.1/ntx"
    assert settings.client_options()["verify"] == str(bundle)
    assert settings.artifact_root == tmp_path / "docs"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("NTX_REQUESTS_PER_SECOND", "0", "NTX_REQUESTS_PER_SECOND='0': Input should be greater than 0"),
        ("NTX_REQUESTS_PER_SECOND", "fast", "NTX_REQUESTS_PER_SECOND='fast'"),
        ("NTX_MAX_CONCURRENT_REQUESTS", "0", "greater than or equal to 1"),
        ("NTX_UNIVERSE_TARGET", "-3", "NTX_UNIVERSE_TARGET"),
        ("NTX_HISTORY_START", "2025-13-40", "NTX_HISTORY_START"),
        ("NTX_HISTORY_START", "2999-01-01", "must not be in the future"),
        ("NTX_NEPSE_BASE_URL", "nepalstock.com", "must start with http:// or https://"),
        ("NTX_NEPSE_VERIFY_TLS", "maybe", "NTX_NEPSE_VERIFY_TLS"),
        ("NTX_DATABASE_URL", "mysql://x", "sqlite:/// or postgresql+psycopg://"),
        ("NTX_NEPSE_CA_BUNDLE", "/nonexistent/chain.pem", "is not a readable file"),
        ("NTX_MAX_ARTIFACT_BYTES", "12", "NTX_MAX_ARTIFACT_BYTES"),
    ],
)
def test_bad_values_fail_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert expected in str(info.value)
    assert "default" in str(info.value) or "NTX_" in str(info.value)
