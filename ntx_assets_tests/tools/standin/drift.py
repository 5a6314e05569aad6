"""Changed shapes on request (`StandinConfig.drift`): each name one change to every answer of its endpoint,
for testing a client's models against a site that changed under it (`python -m ntx_assets.nepse.check`).

The truth (`StandinData`) never drifts: the routes apply these to copies of the rows they answer with.

- `text_prices`: today-price and todays-price rows send `closePrice` as text ("512.3" for 512.3; null stays
  null);
- `unknown_fields`: company list rows gain `"lotSize": 10`, and each report's `fiscalReport` gains
  `"auditStatus": "Unaudited"` (fields no model declares);
- `renamed_field`: dividend rows send `companyNews.dividendsNotice.cashDividend` as `cashDividendPercent`
  (same value, same place in the object);
- `missing_bookclose`: AGM rows' `companyNews.agmNotice` loses `bookCloseDate`.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from ntx_assets_tests.tools.standin.config import DRIFTS

TEXT_PRICES = "text_prices"
UNKNOWN_FIELDS = "unknown_fields"
RENAMED_FIELD = "renamed_field"
MISSING_BOOKCLOSE = "missing_bookclose"
assert set(DRIFTS) == {TEXT_PRICES, UNKNOWN_FIELDS, RENAMED_FIELD, MISSING_BOOKCLOSE}
LOT_SIZE = 10
AUDIT_STATUS = "Unaudited"


def today_rows(rows: list[dict[str, Any]], drift: Collection[str]) -> list[dict[str, Any]]:
    """today-price (each page's content) and todays-price rows."""
    if TEXT_PRICES not in drift:
        return rows
    return [_text_close(row) for row in rows]


def companies(rows: list[dict[str, Any]], drift: Collection[str]) -> list[dict[str, Any]]:
    """GET /company/list."""
    if UNKNOWN_FIELDS not in drift:
        return rows
    return [{**row, "lotSize": LOT_SIZE} for row in rows]


def reports(rows: list[dict[str, Any]], drift: Collection[str]) -> list[dict[str, Any]]:
    """GET /application/reports/{securityId}."""
    if UNKNOWN_FIELDS not in drift:
        return rows
    return [
        {**row, "fiscalReport": {**row["fiscalReport"], "auditStatus": AUDIT_STATUS}}
        if isinstance(row.get("fiscalReport"), dict)
        else row
        for row in rows
    ]


def dividend_notices(rows: list[dict[str, Any]], drift: Collection[str]) -> list[dict[str, Any]]:
    """GET /application/dividend/{securityId}, either shape."""
    if RENAMED_FIELD not in drift:
        return rows
    out = []
    for row in rows:
        news = row.get("companyNews")
        notice = news.get("dividendsNotice") if isinstance(news, dict) else None
        if isinstance(notice, dict) and "cashDividend" in notice:
            renamed = {("cashDividendPercent" if k == "cashDividend" else k): v for k, v in notice.items()}
            row = {**row, "companyNews": {**news, "dividendsNotice": renamed}}
        out.append(row)
    return out


def agm_notices(rows: list[dict[str, Any]], drift: Collection[str]) -> list[dict[str, Any]]:
    """GET /application/agm/{securityId}."""
    if MISSING_BOOKCLOSE not in drift:
        return rows
    out = []
    for row in rows:
        news = row.get("companyNews")
        notice = news.get("agmNotice") if isinstance(news, dict) else None
        if isinstance(notice, dict):
            kept = {k: v for k, v in notice.items() if k != "bookCloseDate"}
            row = {**row, "companyNews": {**news, "agmNotice": kept}}
        out.append(row)
    return out


def _text_close(row: dict[str, Any]) -> dict[str, Any]:
    value = row.get("closePrice")
    if value is None or isinstance(value, str):
        return row
    return {**row, "closePrice": json.dumps(value)}  # the number as the wire spells it: 512.3 -> "512.3"
