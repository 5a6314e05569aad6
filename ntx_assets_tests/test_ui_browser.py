"""The Dagster UI on the project's definitions, opened in headless Chromium (Debian's chromium package)."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ntx_assets.definitions import defs as project_defs
from ntx_assets_tests.faketime_compat import without_faketime
from ntx_assets_tests.tools.harness.deployment import DagsterDeployment

REPO = Path(__file__).parents[1]
SCREENSHOT = REPO / "build" / "screenshots" / "asset_lineage.png"
# company_universe's lineage, downstream, deep enough to reach every asset of the graph.
LINEAGE = "/assets/{root}?view=lineage&lineageScope=downstream&lineageDepth=10"
# What the UI shows instead of a graph: no assets, a GraphQL or Python error, a location that failed.
ERROR_TEXTS = ("No assets were found", "Error", "error occurred", "failed to load", "Something went wrong")


class LineagePage(HTMLParser):
    """The asset nodes drawn in a dumped lineage page, and its visible text.

    An asset node's title is the `data-tooltip` element inside the node's name bar (class
    `AssetNode_assetName...`), or, when the graph is zoomed out far enough for Dagster to draw minimal
    nodes (eight assets in four groups are), the text of the name bar itself (`...minimalName...`);
    group boxes and the sidebar carry the same names elsewhere, so a name anywhere in the DOM proves
    nothing.
    """

    def __init__(self) -> None:
        super().__init__()
        self.asset_nodes: list[str] = []
        self.text: list[str] = []
        self._in_name_bar = 0
        self._in_minimal_name = False
        self._capture_tooltip = False
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("script", "style"):
            self._hidden += 1
        if self._in_name_bar:
            self._in_name_bar += 1
            if "data-tooltip" in attributes:
                self.asset_nodes.append(str(attributes["data-tooltip"]))
        elif tag == "div" and "AssetNode_assetName" in (attributes.get("class") or ""):
            if "minimalName" in (attributes.get("class") or ""):
                self._in_minimal_name = True
            else:
                self._in_name_bar = 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            self._in_minimal_name = False
        if tag in ("script", "style"):
            self._hidden -= 1
        if self._in_name_bar:
            self._in_name_bar -= 1

    def handle_data(self, data: str) -> None:
        if self._in_minimal_name and data.strip():
            self.asset_nodes.append(data.strip())
            self._in_minimal_name = False
        if not self._hidden and data.strip():
            self.text.append(data.strip())


def _chromium(url: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("Debian's chromium is not installed: `apt-get install chromium` (make test does it)")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        # This machine's network is closed: without these Chromium keeps dialling Google's services.
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        # Let the single-page app fetch its GraphQL data and render before the DOM is read.
        "--virtual-time-budget=20000",
        "--window-size=1600,1000",
    ]
    return subprocess.run(
        [binary, *flags, *args, url],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
        # Under faketime (the suite at another date) Chromium runs on the real clock: it only draws the page.
        env=without_faketime(),
    )


def test_the_page_parser_finds_only_asset_nodes_and_sees_error_pages() -> None:
    page = LineagePage()
    page.feed(
        '<div class="AssetGroupNode_x"><div data-tooltip="prices">prices</div></div>'
        '<div class="AssetNode_assetName__tnJ1t AssetNode_materializable__X"><span></span>'
        '<div data-tooltip="daily_prices">daily_prices</div></div><div data-tooltip="filings">filings</div>'
        "<script>var Error = 1;</script><p>No assets were found</p>"
    )
    assert page.asset_nodes == ["daily_prices"]
    assert "No assets were found" in page.text
    zoomed_out = LineagePage()
    zoomed_out.feed(
        '<div class="AssetNode_minimalAssetNodeBox__lxBVU"><div class="AssetNode_assetName__tnJ1t '
        'AssetNode_minimalName__6CSqA">screener</div></div><div class="GroupNode">screener</div>'
    )
    assert zoomed_out.asset_nodes == ["screener"] and not any("var Error" in t for t in page.text)


@pytest.mark.slow
def test_asset_lineage_draws_a_node_for_every_asset_in_headless_chromium(tmp_path: Path) -> None:
    graph = project_defs().resolve_asset_graph()
    expected = sorted(key.to_user_string() for key in graph.get_all_asset_keys())
    # Each root's downstream lineage (company_universe's holds every asset but nepse_index, which depends on
    # nothing and feeds no asset: the backtest reads its table).
    roots = sorted(
        key.to_user_string() for key in graph.get_all_asset_keys() if not graph.get(key).parent_keys
    )
    assert "company_universe" in roots
    drawn: set[str] = set()
    with DagsterDeployment(
        module="ntx_assets.definitions", dagster_home=tmp_path / "home", env={"NTX_DATA_DIR": str(tmp_path)}
    ) as deployment:
        for root in roots:
            url = f"{deployment.url}{LINEAGE.format(root=root)}"
            dom = _chromium(url, tmp_path / f"profile-dom-{root}", "--dump-dom").stdout
            page = LineagePage()
            page.feed(dom)
            assert root in page.asset_nodes, f"{root}'s lineage graph nodes: {page.asset_nodes}"
            shown_errors = [t for t in page.text if any(e in t for e in ERROR_TEXTS)]
            assert not shown_errors, f"the page shows an error: {shown_errors}"
            drawn.update(page.asset_nodes)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        url = f"{deployment.url}{LINEAGE.format(root='company_universe')}"
        _chromium(url, tmp_path / "profile-shot", f"--screenshot={SCREENSHOT}")
    assert sorted(drawn) == expected, f"lineage graph nodes: {sorted(drawn)}"
    assert SCREENSHOT.stat().st_size > 0
