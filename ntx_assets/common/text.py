"""NEPSE's free-text fields as the warehouse stores them."""

from __future__ import annotations

from typing import Any


def clean_text(value: Any) -> str | None:
    """`value` stripped; None for null, blank or anything that is not text (NEPSE pads names with spaces
    and sends "" where it means nothing)."""
    if not isinstance(value, str):
        return None
    return value.strip() or None
