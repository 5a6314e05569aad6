"""Page collection over an in-memory page source (the stand-in tests cover the HTTP side)."""

from __future__ import annotations

from typing import Any

import pytest

from ntx_assets.nepse.errors import NepsePagingError, NepseSchemaError
from ntx_assets.nepse.paging import collect_pages
from ntx_assets.nepse.transport import Call


def _call(page: int) -> Call:
    return Call("GET", "/api/nots/security/promoters", params={"page": page, "size": 2})


def _page(
    rows: list[Any], number: int, total: int, size: int = 2, last: bool | None = None
) -> dict[str, Any]:
    pages = -(-total // size)
    return {
        "content": rows,
        "number": number,
        "size": size,
        "totalElements": total,
        "totalPages": pages,
        "last": (number + 1 >= pages) if last is None else last,
    }


def _source(pages: list[dict[str, Any]]) -> tuple[list[int], Any]:
    requested: list[int] = []

    def fetch(call: Call) -> dict[str, Any]:
        number = int(call.params["page"])  # type: ignore[arg-type]
        requested.append(number)
        return pages[number]

    return requested, fetch


def test_collects_all_pages_in_order() -> None:
    rows = [{"id": n} for n in range(5)]
    requested, fetch = _source([_page(rows[0:2], 0, 5), _page(rows[2:4], 1, 5), _page(rows[4:5], 2, 5)])
    assert collect_pages(_call, fetch, key=lambda row: row["id"]) == rows
    assert requested == [0, 1, 2]


def test_empty_result_is_one_request() -> None:
    requested, fetch = _source([_page([], 0, 0)])
    assert collect_pages(_call, fetch) == []
    assert requested == [0]


def test_total_pages_bounds_the_loop_when_last_is_never_true() -> None:
    rows = [{"id": n} for n in range(4)]
    requested, fetch = _source([_page(rows[0:2], 0, 4, last=False), _page(rows[2:4], 1, 4, last=False)])
    assert collect_pages(_call, fetch) == rows
    assert requested == [0, 1]


def test_changed_total_between_pages_is_a_paging_error() -> None:
    rows = [{"id": n} for n in range(5)]
    _, fetch = _source([_page(rows[0:2], 0, 4), _page(rows[2:4], 1, 5)])
    with pytest.raises(NepsePagingError, match=r"pages shifted.*page 1 reports totalElements=5"):
        collect_pages(_call, fetch)


def test_missing_rows_are_a_paging_error() -> None:
    _, fetch = _source([_page([{"id": 0}, {"id": 1}], 0, 4), _page([{"id": 2}], 1, 4)])
    with pytest.raises(NepsePagingError, match="collected 3 rows from 2 page"):
        collect_pages(_call, fetch)


def test_a_row_on_two_pages_is_a_paging_error() -> None:
    _, fetch = _source([_page([{"id": 0}, {"id": 1}], 0, 4), _page([{"id": 1}, {"id": 2}], 1, 4)])
    with pytest.raises(NepsePagingError, match="row 1 appeared on two pages") as caught:
        collect_pages(_call, fetch, key=lambda row: row["id"])
    assert caught.value.endpoint == "GET /api/nots/security/promoters"


def test_a_non_page_answer_is_a_schema_error() -> None:
    _, fetch = _source([{"unexpected": True}])  # type: ignore[list-item]
    with pytest.raises(NepseSchemaError, match="page envelope"):
        collect_pages(_call, fetch)


def test_enough_stops_after_the_first_page_that_satisfies_it() -> None:
    """A newest-first read back to a stored date: page 1 reaches it, page 2 is never asked for, and the
    rows falling short of totalElements is no shift."""
    rows = [{"id": n} for n in range(6)]
    pages = [_page(rows[0:2], 0, 6), _page(rows[2:4], 1, 6), _page(rows[4:6], 2, 6)]
    requested, fetch = _source(pages)
    got = collect_pages(_call, fetch, enough=lambda page: any(row["id"] == 3 for row in page))
    assert got == rows[0:4] and requested == [0, 1]
    requested, fetch = _source(pages)
    assert collect_pages(_call, fetch, enough=lambda page: False) == rows and requested == [0, 1, 2]


def test_enough_still_catches_a_shift_before_it_stops() -> None:
    """A row added at the top between two requests pushes the last row of page 0 onto page 1: it appears
    twice, early stop or not."""
    pages = [_page([{"id": 9}, {"id": 8}], 0, 5), _page([{"id": 8}, {"id": 7}], 1, 5)]
    _, fetch = _source(pages)
    with pytest.raises(NepsePagingError, match="appeared on two pages"):
        collect_pages(
            _call, fetch, key=lambda row: row["id"], enough=lambda page: any(r["id"] == 7 for r in page)
        )
    _, fetch = _source([_page([{"id": 9}, {"id": 8}], 0, 5), _page([{"id": 7}, {"id": 6}], 1, 6)])
    with pytest.raises(NepsePagingError, match="totalElements=6"):
        collect_pages(_call, fetch, enough=lambda page: any(r["id"] == 6 for r in page))
