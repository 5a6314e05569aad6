"""Configuration of the stand-in server: what data it generates and which faults it injects."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from ntx_assets_tests.tools.standin.archive import DEFAULT_ARCHIVE_DIR, Disagreement

TodayPriceVariant = Literal["B", "C", "either"]
TODAY_PRICE_VARIANTS: tuple[TodayPriceVariant, ...] = ("B", "C", "either")
# The dividend row as captured in 2026-09 (no modifiedDate, companyNews.addedDate, a document) or as the
# stand-in served it from a 2026-04 capture (modifiedDate); book_closures.dividend_notice_row.
DividendNoticeShape = Literal["2026-09", "2026-04"]
DIVIDEND_NOTICE_SHAPES: tuple[DividendNoticeShape, ...] = ("2026-09", "2026-04")
# Changed shapes served on request, each applied to every answer of its endpoint (drift.py).
DRIFTS: dict[str, str] = {
    "text_prices": 'today-price and todays-price rows send closePrice as text ("512.3")',
    "unknown_fields": 'company list rows gain "lotSize": 10 and each report\'s fiscalReport '
    '"auditStatus": "Unaudited"',
    "renamed_field": "dividend rows send dividendsNotice.cashDividend as cashDividendPercent",
    "missing_bookclose": "AGM rows' agmNotice loses bookCloseDate",
}


@dataclass(frozen=True)
class FaultConfig:
    """Fault rates, each a probability per request, drawn from their own seeded generator.

    The rates of 429, 500, 502, drop, empty_200 and truncated_json are mutually exclusive outcomes of a
    single draw, so their sum may not exceed 1. Slow answers are drawn independently and then proceed.
    """

    rate_429: float = 0.0
    retry_after_seconds: int = 1
    rate_500: float = 0.0
    rate_502: float = 0.0
    rate_drop: float = 0.0
    rate_slow: float = 0.0
    slow_seconds: float = 2.0
    rate_empty_200: float = 0.0  # POST only: the answer a wrong payload id gets
    rate_truncated_json: float = 0.0  # JSON answers only: status and headers fine, body cut in half
    expire_token_every: int = 0  # every Nth authorised request treats its token as stale; 0 disables
    seed: int = 0
    apply_to_auth: bool = False  # when False, /api/authenticate/* and css.wasm are never faulted

    def __post_init__(self) -> None:
        rates = {
            "rate_429": self.rate_429,
            "rate_500": self.rate_500,
            "rate_502": self.rate_502,
            "rate_drop": self.rate_drop,
            "rate_slow": self.rate_slow,
            "rate_empty_200": self.rate_empty_200,
            "rate_truncated_json": self.rate_truncated_json,
        }
        for name, value in rates.items():
            if not (0.0 <= value <= 1.0) or math.isnan(value):
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        if sum(self.exclusive_rates()) > 1.0 + 1e-9:
            raise ValueError("the exclusive fault rates (all but rate_slow) sum to more than 1")
        if self.retry_after_seconds < 0 or self.slow_seconds < 0 or self.expire_token_every < 0:
            raise ValueError("retry_after_seconds, slow_seconds and expire_token_every must be >= 0")

    def exclusive_rates(self) -> tuple[float, ...]:
        return (
            self.rate_429,
            self.rate_500,
            self.rate_502,
            self.rate_drop,
            self.rate_empty_200,
            self.rate_truncated_json,
        )


@dataclass(frozen=True)
class StandinConfig:
    """What the stand-in serves. The same config (and seed) always yields byte-identical data answers."""

    seed: int = 7
    end_date: date | None = None  # None: today in Asia/Kathmandu
    days: int = 365  # calendar days in the generated window, ending at end_date inclusive
    token_ttl_seconds: float = 60.0
    # The payload-id variant today-price and todays-price accept: B by default (nepsepy's checksum.py, the
    # one client that takes it from the site's bundle; ntx_assets_tests/peer/FINDINGS.md), C or either on
    # request.
    today_price_variant: TodayPriceVariant = "B"
    faults: FaultConfig = field(default_factory=FaultConfig)
    rate_limit_per_second: float | None = None
    # Public clients met protocol errors on the live site above 2 concurrent connections: set, the stand-in
    # drops (closes without an answer) every request that arrives while this many are already in flight.
    max_in_flight: int | None = None
    oversize_bytes: int = 60 * 1024 * 1024
    # Symbols of active equity companies whose latest report gets the path-escaping / oversize
    # document; None picks one deterministically from the seed.
    escaping_document_symbol: str | None = None
    oversize_document_symbol: str | None = None
    market_id: int | None = None  # the market-open id (0..99); None derives it from the seed
    # The classification list follows the company list (its active equities); told to differ, it leaves
    # out these symbols, adds these (any symbol of the company list), and marks these permittedToTrade "N".
    classification_missing: tuple[str, ...] = ()
    classification_extra: tuple[str, ...] = ()
    not_permitted_to_trade: tuple[str, ...] = ()
    # The three announcement endpoints list a company's rows in the order the public captures suggest:
    # corporate actions oldest announcement first, dividend notices newest announcement first, AGM notices
    # newest published first. True reverses all three. What the captures show of the live order: README.
    announcements_reversed: bool = False
    dividend_notice_shape: DividendNoticeShape = "2026-09"
    # Names of DRIFTS: shape changes for testing a client's models against a site that changed.
    drift: tuple[str, ...] = ()
    # The public price archive (archive.py): a folder of per-company CSVs served under
    # /archive/data/company-wise/<SYMBOL>.csv, whose rows are also the NEPSE prices of those companies up
    # to their last archived date (prices.py); None serves no archive and keeps every price synthetic.
    archive_dir: Path | None = DEFAULT_ARCHIVE_DIR
    archive_failing_symbols: tuple[str, ...] = ()  # their archive files answer 500
    # (symbol, YYYY-MM-DD, rupees): the served archive row's close moved by that much; NEPSE's stays real.
    archive_disagreements: tuple[Disagreement, ...] = ()

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError("days must be >= 1")
        if self.token_ttl_seconds <= 0:
            raise ValueError("token_ttl_seconds must be > 0")
        if self.today_price_variant not in TODAY_PRICE_VARIANTS:
            raise ValueError(f"today_price_variant must be one of {TODAY_PRICE_VARIANTS}")
        if self.rate_limit_per_second is not None and self.rate_limit_per_second <= 0:
            raise ValueError("rate_limit_per_second must be > 0 when set")
        if self.max_in_flight is not None and self.max_in_flight < 1:
            raise ValueError("max_in_flight must be >= 1 when set")
        if self.oversize_bytes < 1024:
            raise ValueError("oversize_bytes must be at least 1024")
        if self.market_id is not None and not 0 <= self.market_id <= 99:
            raise ValueError("market_id must lie in 0..99")
        if self.dividend_notice_shape not in DIVIDEND_NOTICE_SHAPES:
            raise ValueError(f"dividend_notice_shape must be one of {DIVIDEND_NOTICE_SHAPES}")
        if isinstance(self.drift, str):
            raise ValueError(f"drift must be a tuple of names, not the string {self.drift!r}")
        for planted in self.archive_disagreements:
            symbol, day, rupees = planted
            date.fromisoformat(day)
            if not isinstance(symbol, str) or not float(rupees):
                raise ValueError(f"archive_disagreements: {planted!r} is not (symbol, date, rupees != 0)")
        if isinstance(self.archive_failing_symbols, str):
            raise ValueError("archive_failing_symbols must be a tuple of symbols, not a string")
        unknown = [name for name in self.drift if name not in DRIFTS]
        if unknown:
            raise ValueError(
                f"unknown drift {', '.join(map(repr, unknown))}; the names are: {', '.join(DRIFTS)}"
            )
