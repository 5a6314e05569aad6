"""NEPSE web API client: auth handshake, payload ids, paging, pacing, retries and typed payloads.

No Dagster here; the assets wrap `NepseClient` in a resource.

The names below are imported when first used, so that importing one module of the package (the payload
models, say, in a process that only parses prices) does not load the client's HTTP and wasm stack.
"""

import importlib
from typing import Any

_MODULES = {
    "client": ("NepseClient",),
    "downloads": ("Download",),
    "errors": (
        "DownloadTooLarge", "NepseAuthError", "NepseError", "NepseHTTPError", "NepsePagingError",
        "NepseRowError", "NepseSchemaError", "NepseTLSError", "UnsafePath",
    ),
    "models": (
        "AgmApplication", "Company", "CorporateAction", "DividendApplication", "FinancialYear",
        "FiscalReport", "Holiday", "IndexHistoryRow", "MarketStatus", "PriceHistoryRow", "Report",
        "ReportDocument", "Security", "SecurityDetail", "SecurityProfile", "TodayPrice",
    ),
    "stats": ("CallStats",),
}  # fmt: skip
_MODULE_OF = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = sorted(_MODULE_OF)
