"""What a saved screen's materialization shows, as Markdown (pure): the session's picks, who entered and
left, the backtest's summary figures and its chart (a PNG embedded as a data URI, which the UI renders)."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ntx_assets.screener.number_kinds import readable_cell
from ntx_assets.screens.picks import SessionPicks

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def picks_table(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> str:
    """Markdown: one row per pick, each number printed by its column's kind (-4.81%, 18.86, 12,345.60)."""
    if not rows:
        return "_no company passes this screen on this session_"
    lines = ["| # | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for position, row in enumerate(rows, start=1):
        cells = [_escape(readable_cell(name, row.get(name))) for name in names]
        lines.append(f"| {position} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def changes_text(picks: SessionPicks) -> str:
    """One line: what changed since the previous stored session (or that there is none to compare)."""
    if picks.previous is None:
        return f"{picks.session}: the first stored session, no previous session to compare"
    return (
        f"since {picks.previous}: entered {', '.join(picks.entered) or 'none'}; "
        f"left {', '.join(picks.left) or 'none'}"
    )


def summary_table(summary: Mapping[str, Any]) -> str:
    """Markdown: the backtest's summary figures, a return or share as percent, a count as it is."""
    lines = ["| figure | value |", "|---|---|"]
    for name, value in summary.items():
        lines.append(f"| {_escape(str(name))} | {_escape(_figure(name, value))} |")
    return "\n".join(lines)


def png_markdown(png: bytes, alt: str) -> str:
    """`![alt](data:image/png;base64,...)`: the picture inside Markdown metadata."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG image")
    return f"![{_escape(alt)}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"


_SIGNED_HINTS = ("return", "excess", "drawdown", "drag")
_COUNT_HINTS = ("periods", "picks", "sessions", "count", "skipped", "rebalances", "number")


def _figure(name: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    # A fraction (a return, a share of periods, a drawdown) reads as percent; a count as a number.
    if any(hint in name.lower() for hint in _COUNT_HINTS):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,d}"
    if not isinstance(value, float):
        return f"{value:,d}"
    # A return, an excess, a drawdown or a drag carries its sign; a volatility, a share or a turnover not.
    signed = any(hint in name.lower() for hint in _SIGNED_HINTS)
    return f"{value * 100:+,.2f}%" if signed else f"{value * 100:,.2f}%"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
