"""The README and the pages under docs/: links that resolve, a README a newcomer can read, the picture.

Relative links (and images) in README.md and docs/*.md must name a file or folder of the repository, and
a `#anchor` into a Markdown file (or into the page itself) must name one of its headings, slugged as
GitHub slugs them. Links inside fenced code blocks and code spans are not links; absolute URLs are not
checked (this machine has no network).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = REPO / "docs"
PICTURE = DOCS / "asset-graph.png"
README_MAX_LINES = 200
# The two commands a newcomer runs first, and where they must be found.
FIRST_COMMANDS = ("make demo", "make test")
FIRST_COMMANDS_WITHIN = 60
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# `[text](target)` and `![alt](target)`, with an optional "title"; the text may itself hold brackets.
_INLINE_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.MULTILINE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def _outside_code_blocks(text: str) -> list[str]:
    """The file's lines, with every line of a fenced code block (fences included) blanked."""
    lines, inside = [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            inside = not inside
            lines.append("")
        else:
            lines.append("" if inside else line)
    return lines


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its rendered text, lower-cased, every character that is not a
    letter, digit, underscore, hyphen or space dropped, and each space made a hyphen."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link or image: its text
    text = text.replace("`", "")
    text = re.sub(r"(\*+|(?<!\w)_+|_+(?!\w))", "", text)  # emphasis markers, not snake_case
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def heading_anchors(markdown: str) -> set[str]:
    """Every anchor a Markdown file's headings get, duplicates numbered -1, -2, ... as GitHub does."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for line in _outside_code_blocks(markdown):
        match = _HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def links(markdown: str) -> list[tuple[int, str]]:
    """(line number, target) of every link and image outside code."""
    found: list[tuple[int, str]] = []
    lines = _outside_code_blocks(markdown)
    for number, line in enumerate(lines, start=1):
        for match in _INLINE_LINK.finditer(_CODE_SPAN.sub("", line)):
            found.append((number, match.group(1)))
    blanked = "\n".join(_CODE_SPAN.sub("", line) for line in lines)
    for match in _REFERENCE_LINK.finditer(blanked):
        found.append((blanked.count("\n", 0, match.start()) + 1, match.group(1)))
    return found


def broken_links(page: Path, root: Path = REPO) -> list[str]:
    """What is wrong with each relative link of `page`: a missing file, or an anchor no heading has."""
    problems: list[str] = []
    text = page.read_text(encoding="utf-8")
    for number, target in links(text):
        if _SCHEME.match(target) or target.startswith("//"):
            continue  # http(s), mailto: not checked here
        path_part, _, anchor = target.partition("#")
        resolved = (page.parent / unquote(path_part)).resolve() if path_part else page
        where = f"{page.relative_to(root)}:{number}: ({target})"
        if not resolved.exists():
            problems.append(f"{where} names {resolved}, which does not exist")
            continue
        if anchor and resolved.is_file() and resolved.suffix == ".md":
            anchors = heading_anchors(resolved.read_text(encoding="utf-8"))
            if unquote(anchor).lower() not in anchors:
                problems.append(f"{where}: {resolved.name} has no heading #{anchor}")
    return problems


def documentation_pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def test_github_slugs() -> None:
    assert github_slug("See it work: `make demo`") == "see-it-work-make-demo"
    assert github_slug("Faults, crashes and bad data") == "faults-crashes-and-bad-data"
    assert github_slug('The suite\'s "today"') == "the-suites-today"
    assert github_slug("Dagster's own storage") == "dagsters-own-storage"
    assert github_slug("8. Corporate actions and price re-basing (added 2026-12-01)") == (
        "8-corporate-actions-and-price-re-basing-added-2026-12-01"
    )
    assert github_slug("`company_universe` and **its** checks") == "company_universe-and-its-checks"
    assert github_slug("2.1 Security list: `GET /api/nots/security?nonDelisted=true`") == (
        "21-security-list-get-apinotssecuritynondelistedtrue"
    )


def test_the_link_checker_finds_missing_files_and_headings(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "code.py").write_text("")
    (tmp_path / "docs" / "other.md").write_text(
        "# Other\n\n## Same\n\n## Same\n\n```\n# not a heading\n```\n"
    )
    page = tmp_path / "docs" / "page.md"
    page.write_text(
        "# Page\n\n## A section\n\n"
        "[ok](other.md) [ok](other.md#same-1) [ok](#a-section) [ok](../code.py) ![ok](../docs/)\n"
        "[web](https://example.com/missing) `[code](missing.md)`\n"
        "```\n[fenced](missing.md)\n```\n"
        "[gone](missing.md) [no heading](other.md#not-a-heading) [no anchor here](#nowhere)\n"
        "[third same](other.md#same-2) [wrong root](code.py)\n"
    )
    problems = broken_links(page, root=tmp_path)
    assert [p.split(": (")[1].split(")")[0] for p in problems] == [
        "missing.md",
        "other.md#not-a-heading",
        "#nowhere",
        "other.md#same-2",
        "code.py",
    ], problems


@pytest.mark.parametrize("page", documentation_pages(), ids=lambda page: str(page.relative_to(REPO)))
def test_every_relative_link_resolves(page: Path) -> None:
    problems = broken_links(page)
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_the_readme_is_short_and_starts_with_the_two_commands() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines (at most {README_MAX_LINES}): move the detail into docs/"
    )
    first = "\n".join(lines[:FIRST_COMMANDS_WITHIN])
    missing = [command for command in FIRST_COMMANDS if command not in first]
    assert not missing, f"not in README.md's first {FIRST_COMMANDS_WITHIN} lines: {missing}"


def test_the_readme_maps_every_page_under_docs() -> None:
    readme = README.read_text(encoding="utf-8")
    unmapped = [page.name for page in sorted(DOCS.glob("*.md")) if f"](docs/{page.name})" not in readme]
    assert not unmapped, f"README.md's map of docs/ lacks {unmapped}"


def test_the_asset_graph_picture_is_a_png() -> None:
    assert PICTURE.is_file(), f"{PICTURE} is missing: make asset-graph"
    assert PICTURE.read_bytes()[:8] == PNG_SIGNATURE, f"{PICTURE} is not a PNG"
    assert "](docs/asset-graph.png)" in README.read_text(encoding="utf-8")
