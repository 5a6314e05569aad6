"""What the screener's checks look for in a run's rows, pure (no I/O, no Dagster): each returns the
offending rows as short text, empty when there are none."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence

import pandas as pd

# A company whose latest price is this many stored sessions older than the session is reported behind.
STALE_SESSIONS = 5
# ratio -> the inputs that must be present and positive for it to be defined
RATIO_INPUTS = {
    "pe": ("close", "eps_annualized"),
    "pb": ("close", "book_value_per_share"),
    "roe": ("book_value_per_share",),
    "market_cap": ("close", "listed_shares"),
    "dividend_yield": ("close", "last_cash_dividend_pct"),
    "change_pct": ("close", "previous_close"),
}


def missing_and_duplicated(
    frame: pd.DataFrame, listed: Mapping[dt.date, set[int]]
) -> tuple[list[str], list[str]]:
    """("session security_id" of each company listed by a session without a row in it, and of each with
    more than one)."""
    missing: list[str] = []
    duplicated: list[str] = []
    for session, companies in sorted(listed.items()):
        ids = frame.loc[frame["session_date"] == session, "security_id"]
        counts = ids.value_counts()
        missing += [f"{session} {i}" for i in sorted(companies - set(ids))]
        duplicated += [f"{session} {i}" for i in sorted(counts[counts > 1].index)]
    return missing, duplicated


def rows_behind(frame: pd.DataFrame, sessions: Sequence[dt.date]) -> list[str]:
    """Rows of one session whose company last traded more than STALE_SESSIONS stored sessions earlier
    (or never)."""
    session = frame["session_date"].iloc[0] if len(frame) else None
    ordered = [day for day in sessions if session is not None and day <= session]
    position = {day: index for index, day in enumerate(ordered)}
    latest = len(ordered) - 1
    behind = []
    for row in frame.itertuples(index=False):
        as_of = row.as_of if isinstance(row.as_of, dt.date) else None
        lag = latest - position[as_of] if as_of in position else None
        if as_of is None or (lag is not None and lag > STALE_SESSIONS):
            behind.append(
                f"{row.symbol} {as_of or 'no prices'}" + (f" ({lag} sessions behind)" if lag else "")
            )
    return behind


def ratios_not_finite(frame: pd.DataFrame) -> list[str]:
    """ "session symbol ratio" wherever a ratio's inputs are present and positive but it is not finite."""
    bad: list[str] = []
    for ratio, inputs in RATIO_INPUTS.items():
        present = pd.Series(True, index=frame.index)
        for name in inputs:
            values = pd.to_numeric(frame[name], errors="coerce")
            present &= values.notna() & (values > 0)
        values = pd.to_numeric(frame[ratio], errors="coerce")
        broken = frame.loc[present & ~values.apply(lambda v: isinstance(v, float) and math.isfinite(v))]
        bad += [f"{row.session_date} {row.symbol} {ratio}" for row in broken.itertuples(index=False)]
    return bad


def top_table(frame: pd.DataFrame, rows: int = 10) -> str:
    """Markdown: the session's most traded companies (by turnover) with their headline figures."""
    shown = ("symbol", "close", "change_pct", "market_cap", "pe", "pb", "rsi_14", "turnover")
    top = frame.sort_values("turnover", ascending=False, na_position="last").head(rows)
    lines = ["| " + " | ".join(shown) + " |", "|" + "---|" * len(shown)]
    for row in top.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(getattr(row, name)) for name in shown) + " |")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)
