"""The saved-screens file (NTX_SCREENS_FILE): named screens in TOML, loaded and validated (pure).

    [[screens]]
    name = "cheap_banks"
    description = "Commercial banks below book value that still earn 10% on equity"
    where = 'sector == "Commercial Banks" and pb < 1 and roe > 0.10'
    sort = "pb"
    limit = 10

`where` and `sort` follow the screener command's rules (ntx_assets/screener/query.py): they are compiled
against the screener table here, so a bad expression fails when the definitions load. Every problem of
every screen is collected first and raised together in one ScreensError: one bad screen never hides
another.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ntx_assets.screener.query import QueryError, order_by, where_clause
from ntx_assets.warehouse.schema import screener

# A screen's name becomes its asset key, screen_<name>: lower-case letters, digits and underscores.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
ASSET_PREFIX = "screen_"
DEFAULT_SORT = "-turnover"  # the screener command's default
DEFAULT_LIMIT = 20  # the screener command's default; 0 keeps every row that passes `where`
MAX_LIMIT = 500
FIELDS = ("name", "description", "where", "sort", "limit")
# The repository's sample: three screens over the screener's columns (docs/saved-screens.md).
SAMPLE_FILE = Path(__file__).resolve().parents[2] / "screens.sample.toml"


class ScreensError(ValueError):
    """The saved-screens file cannot be used; the message names the file, each bad screen and its problem."""


@dataclass(frozen=True)
class SavedScreen:
    name: str
    description: str
    where: str
    sort: str = DEFAULT_SORT
    limit: int = DEFAULT_LIMIT

    @property
    def asset_name(self) -> str:
        return f"{ASSET_PREFIX}{self.name}"

    def as_metadata(self) -> dict[str, Any]:
        return {"name": self.name, "where": self.where, "sort": self.sort, "limit": self.limit}


def load_screens(path: Path) -> list[SavedScreen]:
    """The screens of the file at `path`, in file order; ScreensError naming every problem at once."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ScreensError(f"saved screens file {path}: cannot be read ({error.strerror or error})") from None
    return parse_screens(text, source=str(path))


def parse_screens(text: str, source: str = "<screens>") -> list[SavedScreen]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScreensError(f"saved screens file {source}: not valid TOML: {error}") from None
    unknown = sorted(set(document) - {"screens"})
    entries = document.get("screens", [])
    problems: list[str] = []
    if unknown:
        problems.append(
            f"unknown top-level key(s) {', '.join(unknown)} (only [[screens]] tables belong here)"
        )
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        problems.append("`screens` must be an array of tables: write each screen under [[screens]]")
        entries = []
    screens: list[SavedScreen] = []
    seen: dict[str, int] = {}
    for position, entry in enumerate(entries, start=1):
        label = _label(entry, position)
        screen, errors = _screen(entry)
        problems += [f"{label}: {error}" for error in errors]
        if screen is None:
            continue
        if screen.name in seen:
            problems.append(f"{label}: the name is already used by screen #{seen[screen.name]}")
            continue
        seen[screen.name] = position
        screens.append(screen)
    if problems:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise ScreensError(
            f"saved screens file {source}: {len(problems)} problem(s), no screen loaded until all are fixed:"
            f"\n{lines}"
        )
    return screens


def _label(entry: dict[str, Any], position: int) -> str:
    name = entry.get("name")
    return f"screen #{position} {name!r}" if isinstance(name, str) and name else f"screen #{position}"


def _screen(entry: dict[str, Any]) -> tuple[SavedScreen | None, list[str]]:
    errors: list[str] = []
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        errors.append(f"unknown field(s) {', '.join(unknown)} (a screen has {', '.join(FIELDS)})")
    name = entry.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        errors.append(
            f"name {name!r} must be lower-case letters, digits and underscores, starting with a letter "
            "(it becomes the asset key screen_<name>)"
        )
    description = entry.get("description", "")
    if not isinstance(description, str):
        errors.append("description must be a string")
    where = entry.get("where")
    if isinstance(where, str):
        # A long expression may span lines in a TOML multi-line string: one line, as the command takes it.
        where = " ".join(line.strip() for line in where.splitlines() if line.strip())
    if not isinstance(where, str) or not where:
        errors.append('where is required: an expression such as where = "pe < 15 and rsi_14 < 35"')
    else:
        errors += _compiles(lambda: where_clause(where, screener), "where")
    sort = entry.get("sort", DEFAULT_SORT)
    if not isinstance(sort, str):
        errors.append('sort must be a string of columns such as "-turnover,symbol"')
    else:
        errors += _compiles(lambda: order_by(sort, screener), "sort")
    limit = entry.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_LIMIT:
        errors.append(f"limit {limit!r} must be a whole number from 0 (every row) to {MAX_LIMIT}")
    if errors:
        return None, errors
    return SavedScreen(name, description.strip(), where.strip(), sort, limit), []


def _compiles(compile_: Any, field: str) -> list[str]:
    try:
        compile_()
    except QueryError as error:
        # The command's messages name its options (--where, --sort): here they are the screen's fields.
        return [str(error).replace(f"--{field}", field)]
    return []


def screen_names(screens: Sequence[SavedScreen]) -> list[str]:
    return [screen.name for screen in screens]
