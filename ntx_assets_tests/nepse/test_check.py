"""python -m ntx_assets.nepse.check against the stand-in over loopback HTTP: every endpoint the product
reads answers and parses; --save writes the raw answers and nothing else; a stand-in told to send changed
shapes is reported field by field."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ntx_assets.nepse.check import main, scrubbed
from ntx_assets_tests.pinned import PINNED_TODAY
from ntx_assets_tests.tools.standin import StandinConfig, StandinServer, running_standin

ENDPOINTS = (
    "market-open",
    f"holiday/list?year={PINNED_TODAY.year}",
    "company/list",
    "security?nonDelisted=true",
    "security/promoters",
    "security/classification",
    f"today-price?businessDate={PINNED_TODAY}",
    "NABIL: security/profile/131",
    "NABIL: security/131 (POST)",
    "NABIL: application/reports/131",
    "NABIL: security/corporate-actions/131",
    "NABIL: application/dividend/131",
    "NABIL: application/agm/131",
    "NABIL: fetchFiles (one document)",
)
HANDSHAKE = ("GET /assets/prod/css.wasm", "GET /api/authenticate/prove")


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    # The check paces at the product's rate; the loopback stand-in has no limit.
    monkeypatch.setenv("NTX_REQUESTS_PER_SECOND", "100")


def check(server: StandinServer, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--base-url", server.base_url, *args], out=out)
    return code, out.getvalue()


def section(output: str, endpoint: str) -> str:
    """The lines of one endpoint: its own line and the findings under it."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(endpoint + " "))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if line and not line.startswith(" "):
            break
        block.append(line)
    return "\n".join(block)


def test_every_endpoint_answers_and_parses_and_save_writes_only_the_answers(
    standin: StandinServer, fast: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Wherever a warehouse, an artifact or an export could land is under tmp_path: the working directory
    # (its default data/ and .env) and NTX_DATA_DIR, with nothing pointing elsewhere.
    monkeypatch.chdir(tmp_path)
    data_dir = tmp_path / "data_dir"
    monkeypatch.setenv("NTX_DATA_DIR", str(data_dir))
    for name in ("NTX_DATABASE_URL", "NTX_ARTIFACT_DIR", "NTX_EXPORT_DIR"):
        monkeypatch.delenv(name, raising=False)
    saved = tmp_path / "captures"
    before = standin.request_counts()
    code, out = check(standin, "--save", str(saved))
    after = standin.request_counts()
    assert code == 0, out
    assert f"{len(ENDPOINTS)} of {len(ENDPOINTS)} endpoints answered and parsed" in out
    for endpoint in ENDPOINTS:
        line = section(out, endpoint)
        assert " 200 " in line.splitlines()[0] and "refused" not in line and "error" not in line, line
    # The models keep what they do not declare: the check names those fields (a few known extras).
    assert "not in the models:" in section(out, "security/classification") and "tickSize" in out
    # One call per endpoint, and the handshake's two (the WASM module and prove): the count the check
    # prints is the requests the stand-in received from it.
    received = {key: after[key] - before.get(key, 0) for key in after if after[key] > before.get(key, 0)}
    printed = int(out.splitlines()[-1].split(" requests at ")[0])
    assert f"{printed} requests at 100 requests/s; raw answers saved in {saved}" in out
    assert printed == sum(received.values()) == len(ENDPOINTS) + len(HANDSHAKE), (printed, received)
    assert set(received) >= set(HANDSHAKE) and set(received.values()) == {1}, received
    files = sorted(path.name for path in saved.iterdir())
    assert len(files) == len(ENDPOINTS) - 1  # every JSON answer; the document is not saved
    assert all(name.endswith(".json") for name in files)
    # Nothing else written: no warehouse, no data folder, no file anywhere under the working directory.
    assert not list(tmp_path.rglob("*.db*")) and not data_dir.exists()
    assert {path for path in tmp_path.rglob("*") if path.is_file()} == set(saved.iterdir())
    company_list = json.loads((saved / "company_list.json").read_text())
    assert {row["symbol"] for row in company_list} >= {"NABIL", "ACLBSL"}
    for path in saved.iterdir():
        assert "accessToken" not in path.read_text() and "refreshToken" not in path.read_text()


def test_a_symbol_not_listed_is_an_error_naming_it(standin: StandinServer, fast: None) -> None:
    code, out = check(standin, "--symbols", "NABIL,NOSUCH")
    assert code == 1 and "error: NOSUCH is not in the company list" in out


@pytest.fixture(scope="module")
def drifted() -> Iterator[StandinServer]:
    config = StandinConfig(
        seed=7,
        end_date=PINNED_TODAY,
        drift=("text_prices", "unknown_fields", "renamed_field", "missing_bookclose"),
    )
    with running_standin(config) as server:
        yield server


def test_changed_shapes_are_reported_field_by_field(drifted: StandinServer, fast: None) -> None:
    code, out = check(drifted)
    assert code == 1  # a refused field fails the check
    prices = section(out, f"today-price?businessDate={PINNED_TODAY}")
    assert "refused: closePrice = '" in prices and "Input should be a valid number" in prices
    assert "lotSize" in section(out, "company/list")
    assert "fiscalReport.auditStatus" in section(out, "NABIL: application/reports/131")
    dividends = section(out, "NABIL: application/dividend/131")
    assert "companyNews.dividendsNotice.cashDividendPercent" in dividends
    assert (
        "declared, in no row:" in dividends and "companyNews.dividendsNotice.cashDividend," in dividends + ","
    )
    assert "companyNews.agmNotice.bookCloseDate" in section(out, "NABIL: application/agm/131")


def test_saved_answers_lose_every_secret_key() -> None:
    answer = {
        "accessToken": "abc",
        "rows": [{"refresh_token": "x", "salt1": 5, "symbol": "NABIL"}],
        "cookie": 1,
    }
    assert scrubbed(answer) == {
        "accessToken": "<removed>",
        "rows": [{"refresh_token": "<removed>", "salt1": "<removed>", "symbol": "NABIL"}],
        "cookie": "<removed>",
    }
