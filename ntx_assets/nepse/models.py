"""Typed views of NEPSE's JSON rows: the one parse of every payload.

The client validates each row into one of these records (or refuses it with NepseRowError naming the row
and field), and the records themselves flow to the pure transforms (universe, pricing, filings,
sessions); nothing downstream re-reads raw JSON. Numbers are strict (`Amount`, `Count`).

Two promises hold for every model here:
- unknown keys are kept (`extra="allow"`), because NEPSE adds fields without notice;
- `model.model_dump(by_alias=True)` gives back the raw row: dates serialise as the `yyyy-MM-dd` text they
  came from, timestamps mostly stay text (NEPSE mixes 0, 3 and 6 fractional digits, which a datetime
  would not reproduce; `MarketStatus.as_of` is the exception), and declared fields that were absent
  from the row are left out again.
Only the fields the assets read are declared; everything else rides along as extras.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AllowInfNan,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    Strict,
    model_serializer,
)
from pydantic.alias_generators import to_camel

IsoDate = Annotated[date, PlainSerializer(lambda value: value.isoformat(), return_type=str)]
# Naive, as NEPSE sends it (Nepal local time). Round-trips whole-second and 6-digit stamps exactly; used
# only where callers need arithmetic, other timestamps stay text.
IsoDateTime = Annotated[datetime, PlainSerializer(lambda value: value.isoformat(), return_type=str)]
# NEPSE sends amounts as JSON numbers. Text ("12.5") or a fraction where a count belongs is a malformed
# row, not a value to coerce: strict types reject it at the client, once, naming the row and field.
# (A strict float still takes a JSON integer: 1017 and 1017.0 are the same price.)
Amount = Annotated[float, Strict(), AllowInfNan(False)]
Count = Annotated[int, Strict()]


class NepseModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    @model_serializer(mode="wrap")
    def _dump_only_what_arrived(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if not isinstance(data, dict):
            return data
        # A declared field with a default that the row did not carry would otherwise appear as null.
        for name, field in type(self).model_fields.items():
            if name not in self.model_fields_set:
                data.pop(name, None)
                if field.alias:
                    data.pop(field.alias, None)
        return data


def nepse_field(model: type[BaseModel], attribute: str) -> str:
    """NEPSE's name of a model's attribute (its alias: `closePrice` for `close_price`), for messages that
    quote the payload, so the names are written here only."""
    return model.model_fields[attribute].alias or attribute


# --- lists ----------------------------------------------------------------------------------------------


class Company(NepseModel):
    """A row of `GET /api/nots/company/list`: listed companies incl. delisted, never promoter shares."""

    id: Count
    symbol: str
    company_name: str | None = None
    security_name: str | None = None
    status: str | None = None  # A, S, D
    instrument_type: str | None = None  # Equity, Mutual Funds, Non-Convertible Debentures, Preference Shares
    sector_name: str | None = None
    regulatory_body: str | None = None
    company_email: str | None = None
    website: str | None = None


class Security(NepseModel):
    """A row of `GET /api/nots/security?nonDelisted=true` (promoter shares included)."""

    id: Count
    symbol: str
    security_name: str | None = None
    name: str | None = None
    active_status: str | None = None  # A, S (D and I only without nonDelisted)
    is_promoter: str | None = None  # only on full security objects, never seen on the list rows


# --- the full security object (classification, promoters, security detail) -----------------------------


class InstrumentType(NepseModel):
    id: int | None = None
    code: str | None = None
    description: str | None = None
    active_status: str | None = None


class ShareGroup(NepseModel):
    id: int | None = None
    name: str | None = None  # A, B, G, Z
    description: str | None = None
    active_status: str | None = None


class SectorMaster(NepseModel):
    id: int | None = None
    sector_description: str | None = None
    active_status: str | None = None
    regulatory_body: str | None = None


class CompanyRef(NepseModel):
    id: int | None = None
    company_short_name: str | None = None
    company_name: str | None = None
    email: str | None = None
    company_website: str | None = None
    sector_master: SectorMaster | None = None
    active_status: str | None = None


class SecurityDetail(NepseModel):
    """The security object embedded in the classification and promoter pages."""

    id: Count
    symbol: str
    security_name: str | None = None
    isin: str | None = None
    listing_date: IsoDate | None = None
    active_status: str | None = None  # A, S, D, I
    permitted_to_trade: str | None = None  # Y, N
    is_promoter: str | None = None  # Y, N
    instrument_type: InstrumentType | None = None
    share_group: ShareGroup | None = Field(default=None, alias="shareGroupId")
    company: CompanyRef | None = Field(default=None, alias="companyId")

    @property
    def tradable(self) -> bool:
        """NEPSE permits trading it: permittedToTrade is not "N" (a missing flag counts as permitted)."""
        return (self.permitted_to_trade or "Y").strip().upper() != "N"

    @property
    def sector_name(self) -> str | None:
        if self.company is None or self.company.sector_master is None:
            return None
        return self.company.sector_master.sector_description


class SecurityProfile(NepseModel):
    """`GET /api/nots/security/profile/{id}`: description and logo path; `companyProfile` may be null."""

    company_name: str | None = None
    company_email: str | None = None
    company_profile: str | None = None
    company_contact_person: str | None = None
    logo_file_path: str | None = None
    address_type: str | None = None
    address_field: str | None = None
    phone_number: str | None = None
    fax: str | None = None
    town: str | None = None


# --- prices ---------------------------------------------------------------------------------------------


class TodayPrice(NepseModel):
    """A row of `POST /api/nots/nepse-data/today-price`: only securities that traded that day."""

    security_id: Count
    symbol: str
    business_date: IsoDate
    security_name: str | None = None
    open_price: Amount | None = None
    high_price: Amount | None = None
    low_price: Amount | None = None
    close_price: Amount | None = None
    previous_day_close_price: Amount | None = None
    last_updated_price: Amount | None = None
    last_updated_time: str | None = None
    average_traded_price: Amount | None = None
    total_traded_quantity: Count | None = None
    total_traded_value: Amount | None = None
    total_trades: Count | None = None
    fifty_two_week_high: Amount | None = None
    fifty_two_week_low: Amount | None = None
    market_capitalization: Amount | None = None


class PriceHistoryRow(NepseModel):
    """A row of `GET /api/nots/market/history/security/{id}`; NEPSE gives no open price here."""

    business_date: IsoDate
    high_price: Amount | None = None
    low_price: Amount | None = None
    close_price: Amount | None = None
    total_trades: Count | None = None
    total_traded_quantity: Count | None = None
    total_traded_value: Amount | None = None


class IndexHistoryRow(NepseModel):
    """A row of `GET /api/nots/index/history/{indexId}` (index 58 is the NEPSE index): one session's open,
    high, low and close of the index, the whole market's turnover and the change from the previous close."""

    business_date: IsoDate
    exchange_index_id: Count
    closing_index: Amount
    open_index: Amount | None = None
    high_index: Amount | None = None
    low_index: Amount | None = None
    turnover_value: Amount | None = None
    turnover_volume: Count | None = None
    total_transaction: Count | None = None
    abs_change: Amount | None = None
    percentage_change: Amount | None = None


# --- calendar -------------------------------------------------------------------------------------------


class MarketStatus(NepseModel):
    """`GET /api/nots/nepse-data/market-open`; `id` feeds the POST payload id."""

    id: int
    is_open: str  # OPEN, CLOSE (one client also saw "Pre Open")
    as_of: IsoDateTime  # last session's close in Nepal time, e.g. 2025-12-03T15:00:00

    @property
    def business_date(self) -> date:
        """The date of the latest session."""
        return self.as_of.date()

    @property
    def market_open(self) -> bool:
        return self.is_open.strip().upper() == "OPEN"

    @property
    def closed(self) -> bool:
        """NEPSE says trading is over ("CLOSE"); "OPEN" and "Pre Open" (orders before 11:00) are not."""
        return self.is_open.strip().upper() == "CLOSE"


class Holiday(NepseModel):
    """A row of `GET /api/nots/holiday/list?year=`; some fall on weekends."""

    holiday_date: IsoDate
    holiday_description: str | None = None


# --- filings --------------------------------------------------------------------------------------------


class Quarter(NepseModel):
    id: int | None = None
    quarter_name: str | None = None  # First Quarter .. Fourth Quarter


class ReportType(NepseModel):
    id: int | None = None
    report_name: str | None = None  # Quarterly Report, Annual Report


class FinancialYear(NepseModel):
    id: int | None = None
    fy_name: str | None = None  # 2025-2026
    fy_name_nepali: str | None = None  # 2082-2083
    from_year: IsoDate | None = None
    to_year: IsoDate | None = None


class FiscalReport(NepseModel):
    id: int | None = None
    quarter_master: Quarter | None = None  # null for annual reports
    report_type_master: ReportType | None = None
    financial_year: FinancialYear | None = None
    pe_value: Amount | None = None
    eps_value: Amount | None = None
    paid_up_capital: Amount | None = None
    profit_amount: Amount | None = None
    net_worth_per_share: Amount | None = None
    remarks: str | None = None


class ReportDocument(NepseModel):
    """One attached file; download it by `file_path` or by `encrypted_id`."""

    id: Count | None = None
    submitted_date: IsoDate | None = None
    file_path: str | None = None
    encrypted_id: str | None = None


class Report(NepseModel):
    """A row of `GET /api/nots/application/reports/{securityId}` (docs/NEPSE_API.md section 2.8)."""

    id: Count
    active_status: str | None = None
    modified_date: str | None = None
    fiscal_report: FiscalReport | None = None
    documents: list[ReportDocument] = Field(default_factory=list, alias="applicationDocumentDetailsList")


class SecurityShares(NepseModel):
    """`POST /api/nots/security/{id}` (raw payload id): the security with its share counts (docs/NEPSE_API.md
    section 2.4; field names from go-nepse and nepse-api, not captured live). Only the counts are read."""

    security_id: Count | None = None
    stock_listed_shares: Amount | None = None  # 3671435.0: shares, sent as a float
    # ACLBSL's documented answer: promoterShares 2336869.0 (a float), publicShares 1334566 (an int); they
    # add up to stockListedShares.
    promoter_shares: Amount | None = None
    public_shares: Amount | None = None
    paid_up_capital: Amount | None = None  # NPR
    market_capitalization: Amount | None = None
    updated_date: str | None = None


# --- corporate actions ---------------------------------------------------------------------------------
# Neither shape below was checked against the live site (docs/NEPSE_API.md section 8: go-nepse types.go and
# nepsepy's notes). The fields the price-adjustment matching depends on are typed strictly; the rest ride
# along as extras.


class CorporateAction(NepseModel):
    """A row of `GET /api/nots/security/corporate-actions/{securityId}`: an approved bonus, right or cash
    dividend (bonusPercentage 10.0 = a 10% bonus; ratioNum/ratioDen the same as a fraction)."""

    sd_id: Count  # NEPSE's id of the row: the warehouse key
    active_status: str | None = None  # e.g. BONUS_APPROVED
    fiscal_year: str | None = None  # 2079-2080
    submitted_date: str | None = None
    bonus_percentage: Amount | None = None
    right_percentage: Amount | None = None
    right_amount_per_share: Amount | None = None  # the right's issue price, usually the Rs 100 par
    cash_dividend: Amount | None = None  # % of the Rs 100 face value
    ratio_num: Amount | None = None
    ratio_den: Amount | None = None
    document_id: Count | None = None
    file_path: str | None = None


class DividendsNotice(NepseModel):
    financial_year: FinancialYear | None = None
    cash_dividend: Amount | None = None  # %
    bonus_share: Amount | None = None  # %
    right_share: Amount | None = None  # %
    remarks: str | None = None


class AgmNotice(NepseModel):
    """`companyNews.agmNotice` of an AGM row. A public probe of 2026-09 recorded its keys (id, activeStatus,
    agmType, agmDate, agmNo, bookCloseDate, cashDividend, bonusShare, agenda, venue, remarks); their types
    were not kept, so each is read as NEPSE's other rows type such a value. No fiscal year: the closure is
    linked to its action by the terms it approves (ntx_assets/corporate_actions/announcements.py)."""

    id: Count | None = None
    agm_date: IsoDate | None = None
    agm_no: Count | None = None
    book_close_date: IsoDate | None = None
    cash_dividend: Amount | None = None  # %
    bonus_share: Amount | None = None  # %
    financial_year: FinancialYear | None = None  # not in the recorded keys; read if NEPSE sends it


class CompanyNews(NepseModel):
    id: Count | None = None
    news_headline: str | None = None
    news_type: str | None = None  # Dividend Declaration, AGM
    expiry_date: str | None = None
    added_date: str | None = None  # 2026-09-06T14:02:26.493 (captured on dividend rows)
    dividends_notice: DividendsNotice | None = None
    agm_notice: AgmNotice | None = None


class DividendApplication(NepseModel):
    """A row of `GET /api/nots/application/dividend/{securityId}`: a dividend declaration and its notice."""

    id: Count
    active_status: str | None = None
    modified_date: str | None = None
    company_news: CompanyNews | None = None


class AgmApplication(NepseModel):
    """A row of `GET /api/nots/application/agm/{securityId}`: an AGM notice with its book-close date."""

    id: Count
    active_status: str | None = None
    company_news: CompanyNews | None = None


# --- envelopes ------------------------------------------------------------------------------------------


class Page(NepseModel):
    """Spring's Page envelope; `content` stays raw so each endpoint validates rows with its own model."""

    content: list[Any]
    number: int = 0
    size: int | None = None
    total_elements: int
    total_pages: int
    last: bool | None = None
    number_of_elements: int | None = None


class ProveResponse(NepseModel):
    """`/api/authenticate/prove` and `/refresh-token`: raw (decoy-laden) tokens plus their salts."""

    access_token: str = Field(min_length=32)
    refresh_token: str = Field(min_length=32)
    salt1: int
    salt2: int
    salt3: int
    salt4: int
    salt5: int
    server_time: int | None = None

    @property
    def salts(self) -> tuple[int, int, int, int, int]:
        return (self.salt1, self.salt2, self.salt3, self.salt4, self.salt5)
