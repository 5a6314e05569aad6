"""NEPSE web API client: auth handshake, payload ids, paging, pacing, retries and typed payloads.

No Dagster here; the assets wrap `NepseClient` in a resource.
"""

from ntx_assets.nepse.client import NepseClient
from ntx_assets.nepse.downloads import Download
from ntx_assets.nepse.errors import (
    DownloadTooLarge,
    NepseAuthError,
    NepseError,
    NepseHTTPError,
    NepsePagingError,
    NepseRowError,
    NepseSchemaError,
    NepseTLSError,
    UnsafePath,
)
from ntx_assets.nepse.models import (
    AgmApplication,
    Company,
    CorporateAction,
    DividendApplication,
    FinancialYear,
    FiscalReport,
    Holiday,
    IndexHistoryRow,
    MarketStatus,
    PriceHistoryRow,
    Report,
    ReportDocument,
    Security,
    SecurityDetail,
    SecurityProfile,
    TodayPrice,
)
from ntx_assets.nepse.stats import CallStats

__all__ = [
    "AgmApplication",
    "CallStats",
    "Company",
    "CorporateAction",
    "DividendApplication",
    "Download",
    "DownloadTooLarge",
    "FinancialYear",
    "FiscalReport",
    "Holiday",
    "IndexHistoryRow",
    "MarketStatus",
    "NepseAuthError",
    "NepseClient",
    "NepseError",
    "NepseHTTPError",
    "NepsePagingError",
    "NepseRowError",
    "NepseSchemaError",
    "NepseTLSError",
    "PriceHistoryRow",
    "Report",
    "ReportDocument",
    "Security",
    "SecurityDetail",
    "SecurityProfile",
    "TodayPrice",
    "UnsafePath",
]
