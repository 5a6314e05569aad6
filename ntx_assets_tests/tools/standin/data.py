"""The stand-in's whole truth: everything the endpoints serve, generated once from the config."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from fractions import Fraction
from typing import Any

from ntx_assets_tests.tools.standin import holidays
from ntx_assets_tests.tools.standin.archive import archive_prices
from ntx_assets_tests.tools.standin.band_sessions import BAND_MOVES, BandSession, band_sessions
from ntx_assets_tests.tools.standin.book_closures import (
    BookClosure,
    build_book_closures,
    corporate_action_row,
    dividend_document,
    dividend_notice_row,
    plan_book_closures,
)
from ntx_assets_tests.tools.standin.config import StandinConfig
from ntx_assets_tests.tools.standin.dividend_history import (
    Declaration,
    agm_notice_row,
    build_dividend_history,
)
from ntx_assets_tests.tools.standin.documents import Document
from ntx_assets_tests.tools.standin.facts import FactBook
from ntx_assets_tests.tools.standin.index_history import NEPSE_INDEX_ID, index_history_rows
from ntx_assets_tests.tools.standin.market_rows import daily_trade_dto, history_rows, rupees, today_price_rows
from ntx_assets_tests.tools.standin.prices import generate_prices
from ntx_assets_tests.tools.standin.reports import build_reports
from ntx_assets_tests.tools.standin.security_objects import SecurityObjects
from ntx_assets_tests.tools.standin.seeding import python_rng
from ntx_assets_tests.tools.standin.sessions import session_days, today_npt, window
from ntx_assets_tests.tools.standin.universe import load_universe

# Marks a field to drop in `StandinData.amend_today_price`.
REMOVE: Any = object()


class StandinData:
    """Deterministic in (config minus faults): the same seed and window give the same answers."""

    def __init__(self, config: StandinConfig) -> None:
        self.seed = config.seed
        self._missing, self._extra = config.classification_missing, config.classification_extra
        self._not_permitted = config.not_permitted_to_trade
        self.start_date, self.end_date = window(config.end_date or today_npt(), config.days)
        self.universe = load_universe()
        self.facts = FactBook(self.universe, config.seed)
        self.sessions: list[date] = session_days(self.start_date, self.end_date, holidays.holiday_dates())
        # The price archive's real rows for its companies up to its last date (archive.py, prices.py); no
        # seeded book closure goes to a company with archived sessions in the window.
        archive = archive_prices(config.archive_dir)
        first = self.sessions[0] if self.sessions else self.end_date
        archived = {
            listing.security_id
            for listing in self.universe.listings
            if archive.get(listing.symbol) and archive[listing.symbol][-1].business_date >= first
        }
        plans = plan_book_closures(self.universe, self.sessions, config.seed, archived)
        self.prices = generate_prices(
            self.universe.listings, self.sessions, config.seed, plans, BAND_MOVES, archive
        )
        # Every traded session that closes exactly at the +/-10% band, planned or not (band_sessions.py).
        self.band_sessions: list[BandSession] = band_sessions(self.prices, self.universe.listings)
        # Bonus/right issues and cash dividends inside the window, by book-closure date (book_closures.py).
        self.book_closures: list[BookClosure] = build_book_closures(plans, self.prices)
        # Everything declared by the end date: six years of history and the seeded events, oldest
        # announcement first, each with its AGM notice and meeting number (dividend_history.py).
        self.dividend_history: list[Declaration] = build_dividend_history(
            self.universe,
            self.sessions[0] if self.sessions else self.start_date,
            self.end_date,
            config.seed,
            self.book_closures,
            holidays.holiday_dates(),
            {sid: facts.listing_date for sid, facts in self.facts.securities.items()},
        )
        self._share_changes: dict[int, list[tuple[date, Fraction]]] = {}
        for plan, event in zip(plans, self.book_closures, strict=True):
            if event.rebases:
                self._share_changes.setdefault(event.security_id, []).append(
                    (event.ex_date, plan.share_factor)
                )
        self.objects = SecurityObjects(self.universe, self.facts)
        self._reports = build_reports(
            self.universe,
            self.facts,
            self.prices,
            self.listed_shares,
            self.end_date,
            config.seed,
            config.oversize_bytes,
            config.escaping_document_symbol,
            config.oversize_document_symbol,
        )
        self._build_announcements(config)
        self.market_id: int = (
            config.market_id
            if config.market_id is not None
            else python_rng(config.seed, "market-id").randrange(100)
        )
        self.escaping_document_symbol: str = self._reports.escaping_document_symbol
        self.oversize_document_symbol: str = self._reports.oversize_document_symbol
        self._today_rows: dict[date, list[dict[str, Any]]] = {}
        self._history_rows: dict[int, list[dict[str, Any]]] = {}
        self._index_rows: list[dict[str, Any]] | None = None

    def _build_announcements(self, config: StandinConfig) -> None:
        """The rows of the three announcement endpoints, per company, in the order the public captures
        suggest (tools/standin/README.md): corporate actions oldest announcement first, dividend notices
        newest announcement first, AGM notices newest published first; all three reversed when
        `config.announcements_reversed`. Dividend rows in `config.dividend_notice_shape`, their attached
        documents (2026-09) downloadable like the reports'."""
        self._corporate_actions: dict[int, list[dict[str, Any]]] = {}
        self._dividend_notices: dict[int, list[dict[str, Any]]] = {}
        self._agm_notices: dict[int, list[dict[str, Any]]] = {}
        oldest_first = sorted(self.dividend_history, key=lambda d: (d.announced, d.sd_id))
        for declaration in oldest_first:
            security_id = declaration.security_id
            self._corporate_actions.setdefault(security_id, []).append(corporate_action_row(declaration))
            name = self.universe.company_by_id[security_id]["companyName"].strip()
            notice = dividend_notice_row(
                declaration,
                name,
                shape=config.dividend_notice_shape,
                security=self.objects.security(security_id),
                seed=config.seed,
            )
            if notice is None:
                continue
            self._dividend_notices.setdefault(security_id, []).append(notice)
            if notice["applicationDocumentDetailsList"]:
                self._reports.documents.add(dividend_document(declaration, name, config.seed))
        published = [d for d in self.dividend_history if d.agm_published <= self.end_date]
        for declaration in sorted(published, key=lambda d: (d.agm_published, d.agm_notice_id)):
            name = self.universe.company_by_id[declaration.security_id]["companyName"].strip()
            self._agm_notices.setdefault(declaration.security_id, []).append(
                agm_notice_row(declaration, name)
            )
        # Built oldest first; each endpoint's default order, or the reverse of it on request.
        for by_company, newest_first in (
            (self._corporate_actions, False),
            (self._dividend_notices, True),
            (self._agm_notices, True),
        ):
            if newest_first != config.announcements_reversed:
                for rows in by_company.values():
                    rows.reverse()

    # --- lists -----------------------------------------------------------------------------------
    @property
    def companies(self) -> list[dict[str, Any]]:
        """GET /company/list: the real 612 rows."""
        return self.universe.companies

    @property
    def securities(self) -> list[dict[str, Any]]:
        """GET /security?nonDelisted=true: the real 543 rows."""
        return self.universe.securities

    def delisted_security_rows(self) -> list[dict[str, Any]]:
        """Extra rows for nonDelisted=false, derived from the company list's delisted companies."""
        return [
            {
                "id": c["id"],
                "symbol": c["symbol"],
                "securityName": c["securityName"],
                "name": f"({c['symbol']}) {c['securityName']}",
                "activeStatus": "D",
            }
            for c in self.universe.companies
            if c["status"] == "D"
        ]

    @property
    def promoters(self) -> list[dict[str, Any]]:
        return self.objects.promoters()

    @property
    def classification(self) -> list[dict[str, Any]]:
        rows = self.objects.classification()
        if not (self._missing or self._extra or self._not_permitted):
            return rows
        template = rows[0]
        rows = [dict(row) for row in rows if row["symbol"] not in self._missing]
        for symbol in self._extra:
            company = next(c for c in self.companies if c["symbol"] == symbol)
            rows.append(
                {**template, "id": company["id"], "symbol": symbol, "securityName": company["securityName"]}
            )
        for row in rows:
            if row["symbol"] in self._not_permitted:
                row["permittedToTrade"] = "N"
        return rows

    # --- market ----------------------------------------------------------------------------------
    @property
    def last_session(self) -> date | None:
        return self.sessions[-1] if self.sessions else None

    def today_prices(self, day: date) -> list[dict[str, Any]]:
        """All today-price rows of `day` (securities that traded), sorted by symbol; [] off-session."""
        return [dict(row) for row in self.today_rows(day)]

    def today_rows(self, day: date) -> list[dict[str, Any]]:
        """Shared, cached rows: callers must not modify them."""
        rows = self._today_rows.get(day)
        if rows is None:
            rows = today_price_rows(self.prices, self.universe, self.listed_shares, day)
            self._today_rows[day] = rows
        return rows

    def amend_today_price(self, day: date, security_id: int, **fields: Any) -> dict[str, Any]:
        """Serve `day`'s row of `security_id` with `fields` changed (a price correction, or bad data for
        a test); a value of `REMOVE` drops the field. Returns the amended row. `restore_today_prices`
        undoes it."""
        rows = [dict(row) for row in self.today_rows(day)]
        for row in rows:
            if row["securityId"] == security_id:
                for name, value in fields.items():
                    if value is REMOVE:
                        row.pop(name, None)
                    else:
                        row[name] = value
                self._today_rows[day] = rows
                return dict(row)
        raise KeyError(f"security {security_id} did not trade on {day}")

    def restore_today_prices(self, day: date) -> None:
        """Drop every amendment of `day`: the seeded rows are served again."""
        self._today_rows.pop(day, None)

    def history(self, security_id: int) -> list[dict[str, Any]]:
        """Shared, cached history rows, newest first: callers must not modify them."""
        rows = self._history_rows.get(security_id)
        if rows is None:
            rows = history_rows(self.prices, security_id)
            self._history_rows[security_id] = rows
        return rows

    def index_history(self, index_id: int) -> list[dict[str, Any]]:
        """Shared, cached rows of GET /index/history/{indexId}, newest first: the NEPSE index (58) of this
        market (index_history.py); [] for the sub-indices, which are not modelled."""
        if index_id != NEPSE_INDEX_ID:
            return []
        if self._index_rows is None:
            self._index_rows = index_history_rows(
                self.prices, self.universe, self.listed_shares, self.end_date
            )
        return self._index_rows

    def security_detail(self, security_id: int) -> dict[str, Any] | None:
        """POST /security/{id}."""
        security = self.objects.security(security_id)
        if security is None:
            return None
        facts = self.facts.securities[security_id]
        dto = daily_trade_dto(self.prices, security_id)
        listed = self.listed_shares(security_id, self.end_date)
        public = round(listed * (100.0 - facts.promoter_percentage) / 100.0)
        close = dto["closePrice"]
        updated = self.last_session or self.end_date
        seconds = (security_id * 7919) % (8 * 3600) + 10 * 3600
        return {
            "securityDailyTradeDto": dto,
            "security": security,
            "stockListedShares": float(listed),
            "paidUpCapital": float(listed * facts.face_value),
            "issuedCapital": float(listed * facts.face_value),
            "marketCapitalization": round(close * listed, 2),
            "publicShares": public,
            "publicPercentage": round(100.0 - facts.promoter_percentage, 2),
            "promoterShares": float(listed - public),
            "promoterPercentage": facts.promoter_percentage,
            "updatedDate": f"{updated.isoformat()}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:"
            f"{seconds % 60:02d}.{security_id % 1000:03d}",
            "securityId": security_id,
        }

    def security_summary(self, security_id: int) -> dict[str, Any] | None:
        """GET /security/{id}: `{securityData, securityMcsData}` (nepsepy `security_detail`; go-nepse
        `CompanyDetailsRaw`). No payload id, and none of the POST's share counts."""
        security = self.objects.security(security_id)
        if security is None:
            return None
        company = security.get("companyId") or {}
        sector = company.get("sectorMaster") or {}
        return {
            "securityData": {
                "id": security["id"],
                "symbol": security["symbol"],
                "securityName": security["securityName"],
                "activeStatus": security["activeStatus"],
                "permittedToTrade": security["permittedToTrade"],
                "email": company.get("email"),
                "sector": sector.get("sectorDescription"),
            },
            # the same daily-trade record the POST calls securityDailyTradeDto
            "securityMcsData": daily_trade_dto(self.prices, security_id),
        }

    def profile(self, security_id: int) -> dict[str, Any] | None:
        return self.objects.profile(security_id)

    def close_price(self, security_id: int, day: date) -> float | None:
        t = self.prices.session_index(day)
        row = self.prices.row_of.get(security_id)
        return None if t is None or row is None else rupees(self.prices.close[row, t])

    # --- corporate actions -----------------------------------------------------------------------
    def listed_shares(self, security_id: int, day: date) -> int:
        """Shares listed on `day`: the seeded count, times 1 + b + r from each bonus/right ex date on."""
        shares = self.facts.securities[security_id].listed_shares
        for ex_date, factor in self._share_changes.get(security_id, ()):
            if ex_date <= day:
                shares = round(shares * factor)
        return shares

    def corporate_actions(self, security_id: int) -> list[dict[str, Any]]:
        """GET /security/corporate-actions/{securityId}: every declaration of `dividend_history`, oldest
        announcement first (newest first when `announcements_reversed`); [] for a security with none or an
        unknown id (as /application/reports answers)."""
        return self._corporate_actions.get(security_id, [])

    def dividend_notices(self, security_id: int) -> list[dict[str, Any]]:
        """GET /application/dividend/{securityId}: one per bonus or cash declaration, newest announcement
        first (the reverse of `corporate_actions`; oldest first when `announcements_reversed`), in the
        configured shape (book_closures.dividend_notice_row)."""
        return self._dividend_notices.get(security_id, [])

    def agm_notices(self, security_id: int) -> list[dict[str, Any]]:
        """GET /application/agm/{securityId}: one AGM notice per declaration (the right issue's too), with
        its book-close date, once published (addedDate on or before the end date); newest published first
        (oldest first when `announcements_reversed`)."""
        return self._agm_notices.get(security_id, [])

    # --- filings ---------------------------------------------------------------------------------
    def reports(self, security_id: int) -> list[dict[str, Any]]:
        """GET /application/reports/{securityId}: newest first; [] for anything but active equity."""
        return self._reports.by_security.get(security_id, [])

    def document(self, file_path: str) -> Document | None:
        return self._reports.documents.by_path(file_path)

    def document_by_encrypted_id(self, value: str) -> Document | None:
        return self._reports.documents.by_encrypted_id(value)

    def document_size(self, document: Document) -> int:
        return self._reports.documents.pdf(document).size

    def document_chunks(self, document: Document) -> Iterator[bytes]:
        return self._reports.documents.chunks(document)

    def document_bytes(self, file_path: str) -> bytes | None:
        """The PDF behind a filePath. For the oversize document this builds all of it in memory."""
        document = self.document(file_path)
        return None if document is None else self._reports.documents.pdf(document).to_bytes()

    # --- calendar --------------------------------------------------------------------------------
    @staticmethod
    def holiday_rows(year: int) -> list[dict[str, Any]]:
        return holidays.holiday_rows(year)

    @staticmethod
    def holiday_years() -> list[int]:
        return holidays.holiday_years()
