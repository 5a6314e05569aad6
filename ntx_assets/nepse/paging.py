"""Collecting every page of a Spring `Page` response, and noticing when the pages moved underneath us.

NEPSE pages are computed per request, so rows added or removed between two page requests shift the
window: a row can appear twice or vanish. The totals and keys are checked so that never passes silently.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from ntx_assets.nepse.errors import NepsePagingError, describe_call
from ntx_assets.nepse.models import Page
from ntx_assets.nepse.parsing import parse_one
from ntx_assets.nepse.transport import Call

# Clients ask for 500 rows a page; the server caps `size` at 2000 (docs/NEPSE_API.md section 2).
PAGE_SIZE = 500
MAX_PAGE_SIZE = 2000


def parse_page(call: Call, data: Any) -> Page:
    return parse_one(call, Page, data, refusal="did not return a page envelope")


def collect_pages(
    call_for_page: Callable[[int], Call],
    fetch: Callable[[Call], Any],
    *,
    key: Callable[[Any], Hashable] | None = None,
    enough: Callable[[list[Any]], bool] | None = None,
) -> list[Any]:
    """Every row of every page, in order; `fetch` performs one (retried) call and returns its JSON.

    `enough(page_rows)` may end the paging early: once it holds for a page's rows, no later page is asked
    for (a newest-first history read back to what is already stored). The rows then fall short of
    `totalElements` by design, so only a complete read is checked against that total.

    Raises NepsePagingError when a later page reports a different total, when a complete read does not
    add up to `totalElements`, or when `key` finds the same row on two pages.
    """
    first_call = call_for_page(0)
    first = parse_page(first_call, fetch(first_call))
    rows: list[Any] = list(first.content)
    expected_total = first.total_elements
    page_count = first.total_pages
    current = first
    number = 0
    stopped = enough is not None and enough(list(first.content))
    # `last` is authoritative when present; `totalPages` of the first page bounds the loop either way,
    # so a server that never says "last" cannot keep us paging forever.
    while not stopped and current.last is not True and number + 1 < page_count:
        number += 1
        call = call_for_page(number)
        current = parse_page(call, fetch(call))
        if current.total_elements != expected_total:
            raise _shifted(
                call,
                f"page {number} reports totalElements={current.total_elements} but page 0 reported "
                f"{expected_total}",
            )
        rows.extend(current.content)
        stopped = enough is not None and enough(list(current.content))
    complete = not stopped or (current.last is True or number + 1 >= page_count)
    if complete and len(rows) != expected_total:
        raise _shifted(
            first_call,
            f"collected {len(rows)} rows from {number + 1} page(s) but totalElements={expected_total}",
        )
    if key is not None:
        seen: set[Hashable] = set()
        for row in rows:
            row_key = key(row)
            if row_key in seen:
                raise _shifted(first_call, f"row {row_key!r} appeared on two pages")
            seen.add(row_key)
    return rows


def _shifted(call: Call, detail: str) -> NepsePagingError:
    shown = {key: value for key, value in call.shown_params.items() if key != "page"}
    return NepsePagingError(
        f"NEPSE {describe_call(call.method, call.path, shown)}: pages shifted while they were being "
        f"collected: {detail}. The data changed mid-request; run the call again.",
        endpoint=call.endpoint,
        params=shown,
    )
