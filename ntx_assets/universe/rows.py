"""The classified universe (`ntx_assets.universe.rule.classify`) as warehouse rows and as the run's preview.

Pure: no I/O, no Dagster."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

_COMPANY_COLUMNS = (
    "security_id",
    "symbol",
    "name",
    "sector",
    "instrument_type",
    "status",
    "included",
    "reason",
)


def company_rows(
    universe: pd.DataFrame, listing_dates: Mapping[int, Any], today: dt.date
) -> list[dict[str, Any]]:
    """One `companies` row per security seen, first and last seen `today` (the write keeps first_seen),
    with its listing date from NEPSE's classification list (`listing_dates`: security id -> date or text)."""
    rows = []
    for record in universe.to_dict("records"):
        row = {column: record[column] for column in _COMPANY_COLUMNS}
        row["security_id"] = int(row["security_id"])
        row["included"] = bool(row["included"])
        row["name"] = record["name"] or record.get("security_name") or record["symbol"]
        row["website"] = record.get("website")
        row["listing_date"] = _as_date(listing_dates.get(row["security_id"]))
        row["first_seen"] = today
        row["last_seen"] = today
        rows.append({key: (None if _is_missing(value) else value) for key, value in row.items()})
    return rows


def symbol_rows(universe: pd.DataFrame, today: dt.date) -> list[dict[str, Any]]:
    """One `company_symbols` row per (security id, symbol) seen."""
    return [
        {"security_id": int(security_id), "symbol": symbol, "first_seen": today}
        for security_id, symbol in zip(universe["security_id"], universe["symbol"], strict=True)
    ]


def preview(universe: pd.DataFrame, rows: int = 10) -> str:
    """Markdown: the first included companies by symbol, and one excluded example per reason."""
    included = universe[universe["included"]].sort_values("symbol").head(rows)
    lines = ["| symbol | name | sector |", "|---|---|---|"]
    lines += [f"| {r.symbol} | {r.name} | {r.sector} |" for r in included.itertuples()]
    excluded = universe[~universe["included"]].groupby("reason").head(1).sort_values("reason")
    lines += ["", "| excluded example | reason |", "|---|---|"]
    lines += [f"| {r.symbol} | {r.reason} |" for r in excluded.itertuples()]
    return "\n".join(lines)


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))
