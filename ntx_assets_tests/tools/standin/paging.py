"""Spring Data `Page` envelopes, as every paged NEPSE endpoint returns them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 2000  # a request for size=10000 came back with pageSize 2000


def _int_param(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def page_request(params: Mapping[str, str]) -> tuple[int, int]:
    """(page, size) as Spring resolves them: 0-based page, default size 20, capped at 2000.

    Like Spring, junk or out-of-range values fall back to the defaults instead of failing.
    """
    page = _int_param(params, "page")
    size = _int_param(params, "size")
    page = page if page is not None and page >= 0 else 0
    size = size if size is not None and size >= 1 else DEFAULT_PAGE_SIZE
    return page, min(size, MAX_PAGE_SIZE)


def _sort() -> dict[str, bool]:
    return {"sorted": False, "unsorted": True, "empty": True}


def spring_page(items: Sequence[Any], page: int, size: int) -> dict[str, Any]:
    total = len(items)
    content = list(items[page * size : (page + 1) * size])
    total_pages = math.ceil(total / size) if size else 0
    return {
        "content": content,
        "pageable": {
            "sort": _sort(),
            "offset": page * size,
            "pageNumber": page,
            "pageSize": size,
            "paged": True,
            "unpaged": False,
        },
        "last": page + 1 >= total_pages,
        "totalPages": total_pages,
        "totalElements": total,
        "size": size,
        "number": page,
        "sort": _sort(),
        "first": page == 0,
        "numberOfElements": len(content),
        "empty": not content,
    }
