"""Read access to the real 2025-12-04 API responses shipped beside this package."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

SNAPSHOT_DIR = Path(__file__).with_name("snapshots") / "2025-12-04"


@functools.cache
def _load(name: str) -> Any:
    return json.loads((SNAPSHOT_DIR / f"{name}.json").read_text(encoding="utf-8"))


def load(name: str) -> Any:
    """A deep copy, so callers may edit what they get without corrupting the cache."""
    return json.loads(json.dumps(_load(name)))


def companies() -> list[dict[str, Any]]:
    return load("static__companies")


def securities() -> list[dict[str, Any]]:
    return load("static__non_delisted")


def promoter_templates() -> list[dict[str, Any]]:
    return load("static__promoters")["content"]


def classification_templates() -> list[dict[str, Any]]:
    return load("static__classifications")["content"]


def holiday_years() -> list[int]:
    return load("static__holidays")


def holidays(year: int) -> list[dict[str, Any]] | None:
    path = SNAPSHOT_DIR / f"static__holidays_{year}.json"
    return load(f"static__holidays_{year}") if path.exists() else None
