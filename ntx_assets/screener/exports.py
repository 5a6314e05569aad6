"""The screener's JSON exports, written atomically (a temporary file in the same folder, then a rename),
so an app reading them never sees half a file."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# 2: rows are one session's point-in-time screen (session_date and the growth, sector, ownership, dividend
# record and liquidity columns); 1 had one row per company at its latest session.
SCHEMA_VERSION = 2
EXPORT_MODE = 0o644
COMPANY_FIELDS = (
    "security_id",
    "symbol",
    "name",
    "sector",
    "description",
    "logo_url",
    "website",
    "listing_date",
)


def export_document(as_of: dt.date | None, key: str, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """`{"as_of": ..., "schema_version": SCHEMA_VERSION, key: [rows]}`."""
    return {"as_of": as_of.isoformat() if as_of else None, "schema_version": SCHEMA_VERSION, key: list(rows)}


def company_rows(screener_rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{field: row[field] for field in COMPANY_FIELDS} for row in screener_rows]


def write_json(path: Path, document: Mapping[str, Any]) -> int:
    """Write `document` to `path` atomically; return the bytes written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(document, default=_default, ensure_ascii=False, indent=1).encode("utf-8")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp makes the file private (0600); an export is for other readers (the app, a web server).
        os.chmod(temporary, EXPORT_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return len(data)


def write_exports(root: Path, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """`screener.json` and `companies.json` under `root` from the latest session's rows; file -> bytes."""
    session = rows[0]["session_date"] if rows else None
    return {
        "screener.json": write_json(root / "screener.json", export_document(session, "rows", rows)),
        "companies.json": write_json(
            root / "companies.json", export_document(session, "companies", company_rows(rows))
        ),
    }


def _default(value: object) -> object:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
