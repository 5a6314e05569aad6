"""The pure half of the nepse_index asset: records -> rows (refusing what cannot be stored) and the
sessions a stored series misses."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ntx_assets.nepse.models import IndexHistoryRow
from ntx_assets.prices.nepse_index import BadIndexData, index_rows, missing_sessions
from ntx_assets_tests.tools.standin import snapshots


def _records(**changed: Any) -> list[IndexHistoryRow]:
    content = snapshots.load("historical__indices__index_58_history")["content"]
    content[1].update(changed)
    return [IndexHistoryRow.model_validate(row) for row in content]


def test_the_real_capture_becomes_rows_oldest_first() -> None:
    rows = index_rows(_records(), 58)
    assert len(rows) == 20 and rows[0]["business_date"] == dt.date(2025, 11, 6)
    assert rows[-1] == {
        "index_id": 58,
        "business_date": dt.date(2025, 12, 3),
        "open": 2647.41,
        "high": 2658.97,
        "low": 2622.88,
        "close": 2631.17,
        "turnover_value": 5204981201.8,
        "turnover_volume": 10032760,
        "total_transactions": 66677,
        "abs_change": -13.52,
        "percentage_change": -0.51,
    }


@pytest.mark.parametrize(
    ("changed", "reason"),
    [
        ({"exchangeIndexId": 51}, "is of index 51"),
        ({"closingIndex": 0.0}, "closingIndex 0.0, not a positive"),
    ],
)
def test_a_row_that_cannot_be_stored_refuses_the_read_naming_it(changed: dict[str, Any], reason: str) -> None:
    with pytest.raises(BadIndexData, match=f"row of 2025-12-02 .*{reason}"):
        index_rows(_records(**changed), 58)


def test_missing_sessions_are_those_inside_the_span_only() -> None:
    days = [dt.date(2026, 1, d) for d in (5, 6, 7, 8, 9, 12)]
    assert missing_sessions([days[1], days[2], days[4]], days) == [days[3]]
    assert missing_sessions(days, days) == [] and missing_sessions([], days) == []
