"""python -m ntx_assets_tests.tools.asset_graph_picture [--out docs/asset-graph.png] (make asset-graph)

Draws the README's picture of the asset graph with the real Dagster UI: a `dagster-webserver` (and a
daemon, with every sensor and schedule stopped) on a free loopback port over a throwaway DAGSTER_HOME
holding a copy of the repository's dagster.yaml, loading `-m ntx_assets.definitions`
(`ntx_assets_tests.tools.harness.deployment.DagsterDeployment`, as the slow tier starts it); then headless
Chromium (`test_ui_browser._chromium`: the flags the browser test uses, run without faketime) opens the
global asset lineage with every group expanded and takes a screenshot; then everything is stopped and the
throwaway home removed.

Two things the page needs that a fresh browser does not have:
- the copy of dagster.yaml adds `nux: {enabled: false}`, else Dagster 1.13 covers the page with its
  "Join the Dagster community" dialog (it remembers a dismissal in the browser's local storage only);
- the groups are expanded by the URL (`/asset-groups?expanded=global@global:<group>,...`, the query the
  UI writes when you expand them), else the global lineage draws one box per group and no asset.

The global lineage zooms to fit the graph's width, not its height, so the window is taller than the
browser test's (1600 x 1400): at 1000 px the top group is cut off. Before the screenshot is kept, the
page's DOM is read back (`test_ui_browser.LineagePage`) and must show one node per asset of the
definitions and no error text; otherwise nothing is written and the exit status is 1.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import yaml

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "docs" / "asset-graph.png"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The global lineage fits the graph's width; this height shows the whole graph below the page's header.
WINDOW_SIZE = "1600,1400"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ntx_assets_tests.tools.asset_graph_picture",
        description="Screenshot the Dagster UI's global asset lineage of ntx_assets (headless Chromium).",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"the PNG to write (default {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--window-size",
        default=WINDOW_SIZE,
        help=f"Chromium's window, WIDTH,HEIGHT in pixels (default {WINDOW_SIZE})",
    )
    return parser.parse_args(argv)


def lineage_path(group_names: Sequence[str]) -> str:
    """The global asset lineage with every group expanded (Dagster 1.13's `expanded` query)."""
    expanded = ",".join(f"global@global:{name}" for name in sorted(group_names))
    return f"/asset-groups?expanded={quote(expanded)}"


def instance_file(source: Path, target: Path) -> Path:
    """A copy of `source` (the repository's dagster.yaml) with Dagster's first-visit dialog switched off."""
    config = yaml.safe_load(source.read_text()) or {}
    config["nux"] = {"enabled": False}
    target.write_text(
        f"# {source} for the asset-graph picture, plus nux disabled (no dialog over the page).\n"
        + yaml.safe_dump(config, sort_keys=False)
    )
    return target


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("chromium") is None:
        print(
            "Debian's chromium is not installed: `make chromium` (apt-get install chromium)", file=sys.stderr
        )
        return 1
    # Imported here: loading the definitions and the harness takes seconds, --help should not.
    from ntx_assets.definitions import defs as project_defs
    from ntx_assets_tests.test_ui_browser import ERROR_TEXTS, LineagePage, _chromium
    from ntx_assets_tests.tools.harness.deployment import REPO_DAGSTER_YAML, DagsterDeployment

    graph = project_defs().resolve_asset_graph()
    expected = sorted(key.to_user_string() for key in graph.get_all_asset_keys())
    groups = sorted({graph.get(key).group_name for key in graph.get_all_asset_keys()})
    out = args.out.resolve()
    with tempfile.TemporaryDirectory(prefix="ntx-asset-graph-") as scratch:
        work = Path(scratch)
        dagster_yaml = instance_file(REPO_DAGSTER_YAML, work / "dagster.yaml")
        shot = work / "asset-graph.png"
        print(
            f"starting dagster-webserver on ntx_assets.definitions (DAGSTER_HOME={work / 'home'})", flush=True
        )
        with DagsterDeployment(
            module="ntx_assets.definitions",
            dagster_home=work / "home",
            env={"NTX_DATA_DIR": str(work / "data")},
            dagster_yaml=dagster_yaml,
            test_settings=False,
            automation=False,
        ) as deployment:
            url = deployment.url + lineage_path(groups)
            print(f"drawing {url}", flush=True)
            size = f"--window-size={args.window_size}"
            dom = _chromium(url, work / "profile-dom", size, "--dump-dom").stdout
            _chromium(url, work / "profile-shot", size, f"--screenshot={shot}")
        page = LineagePage()
        page.feed(dom)
        errors = [text for text in page.text if any(error in text for error in ERROR_TEXTS)]
        if sorted(page.asset_nodes) != expected or errors:
            print(
                f"the page did not draw the graph: nodes {sorted(page.asset_nodes)} (expected {expected}), "
                f"error texts {errors}; nothing written",
                file=sys.stderr,
            )
            return 1
        if not shot.is_file() or shot.read_bytes()[:8] != PNG_SIGNATURE:
            print(f"chromium wrote no PNG at {shot}; nothing written", file=sys.stderr)
            return 1
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, out)
    print(f"wrote {out} ({out.stat().st_size:,} bytes): {len(expected)} assets in {len(groups)} groups")
    return 0


if __name__ == "__main__":
    sys.exit(main())
