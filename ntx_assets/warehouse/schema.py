"""The warehouse tables, as SQLAlchemy Core metadata.

Keys are NEPSE's natural keys: the security id (it survives symbol changes such as NIB -> NIMB), the
session date, the report id, the document id. Money and prices are NUMERIC(20, 4) on PostgreSQL, read back
as floats (`asdecimal=False`) because every consumer (pandas, TA-Lib) computes in doubles; NEPSE quotes
prices on a 0.1 tick and amounts to two decimals, so four decimals lose nothing.

The migrations in `migrations/versions/` create exactly these tables; a test keeps the two in step.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)

# One column per indicator, in the order compute() defines them: the list has one home.
from ntx_assets.prices.indicators import INDICATOR_COLUMNS

metadata = MetaData()


def _amount(name: str, nullable: bool = True) -> Column:
    return Column(name, Numeric(20, 4, asdecimal=False), nullable=nullable)


companies = Table(
    "companies",
    metadata,
    Column("security_id", Integer, primary_key=True, autoincrement=False),
    Column("symbol", String(32), nullable=False),
    Column("name", Text, nullable=False),
    Column("sector", String(128)),
    Column("instrument_type", String(64)),
    Column("status", String(4)),
    Column("included", Boolean, nullable=False),
    Column("reason", String(64), nullable=False),
    Column("listing_date", Date),
    Column("website", Text),
    Column("description", Text),
    Column("logo_path", Text),
    Column("profile_fetched_at", DateTime(timezone=True)),
    # From NEPSE's security detail (corporate_actions fetches it once, and again after a re-basing).
    Column("listed_shares", BigInteger),
    _amount("paid_up_capital"),
    Column("shares_fetched_at", DateTime(timezone=True)),
    Column("first_seen", Date, nullable=False),
    Column("last_seen", Date, nullable=False),
)
Index("ix_companies_symbol", companies.c.symbol)

# Every symbol a security id has carried, so history stays queryable across renames (NIB -> NIMB).
company_symbols = Table(
    "company_symbols",
    metadata,
    Column(
        "security_id", Integer, ForeignKey("companies.security_id"), primary_key=True, autoincrement=False
    ),
    Column("symbol", String(32), primary_key=True),
    Column("first_seen", Date, nullable=False),
)

daily_prices = Table(
    "daily_prices",
    metadata,
    Column("security_id", Integer, primary_key=True, autoincrement=False),
    Column("business_date", Date, primary_key=True),
    Column("symbol", String(32), nullable=False),
    _amount("open"),
    _amount("high", nullable=False),
    _amount("low", nullable=False),
    _amount("close", nullable=False),
    _amount("previous_close"),
    Column("volume", BigInteger, nullable=False),
    _amount("turnover", nullable=False),
    Column("trades", Integer),
    _amount("average_traded_price"),
    _amount("fifty_two_week_high"),
    _amount("fifty_two_week_low"),
    # NEPSE's today-price marketCapitalization, in millions of NPR (ACLBSL 2025-12-03: 3708.15 = 3,671,435
    # listed shares x 1010 / 1e6); kept to cross-check the screener's market_cap.
    _amount("market_capitalization"),
    # Who served the row: `nepse` (its API), or a price archive's name (ntx_assets/archive): NEPSE's row wins.
    Column("source", String(64), nullable=False, server_default="nepse"),
)
Index("ix_daily_prices_business_date", daily_prices.c.business_date)
Index("ix_daily_prices_symbol_date", daily_prices.c.symbol, daily_prices.c.business_date)

# NEPSE's own indices by session, as GET /api/nots/index/history/{indexId} serves them (index 58: the NEPSE
# index, the backtest's `--benchmark index`). NEPSE keeps about one year; the `nepse_index` asset adds each
# new session, so what is stored reaches back to the first year the asset read.
nepse_index = Table(
    "nepse_index",
    metadata,
    Column("index_id", Integer, primary_key=True, autoincrement=False),
    Column("business_date", Date, primary_key=True),
    _amount("open"),
    _amount("high"),
    _amount("low"),
    _amount("close", nullable=False),
    _amount("turnover_value"),
    Column("turnover_volume", BigInteger),
    Column("total_transactions", Integer),
    _amount("abs_change"),
    _amount("percentage_change"),
)

filings = Table(
    "filings",
    metadata,
    Column("report_id", BigInteger, primary_key=True, autoincrement=False),
    Column("security_id", Integer, nullable=False),
    Column("symbol", String(32), nullable=False),
    Column("report_type", String(16), nullable=False),  # annual | quarterly
    Column("fiscal_year", String(16)),
    Column("fiscal_year_nepali", String(16)),
    Column("quarter", Integer),
    _amount("eps"),
    _amount("pe"),
    _amount("net_worth_per_share"),
    _amount("profit"),
    _amount("paid_up_capital"),
    Column("modified_at", DateTime),
    # When the report became public: its documents' earliest submittedDate, else its modifiedDate's day
    # (ntx_assets/filings/reports.py). first_fetched_on is the day a refresh first stored it (never
    # overwritten):
    # the point-in-time screener takes a report as known from known_on, or from first_fetched_on when NEPSE
    # gave no date at all.
    Column("known_on", Date),
    Column("first_fetched_on", Date),
)
Index("ix_filings_security", filings.c.security_id)

filing_documents = Table(
    "filing_documents",
    metadata,
    Column("document_id", BigInteger, primary_key=True, autoincrement=False),
    Column("report_id", BigInteger, nullable=False),
    Column("security_id", Integer, nullable=False),
    Column("file_path", Text),
    Column("encrypted_id", Text),
    Column("submitted_date", Date),
)
Index("ix_filing_documents_security", filing_documents.c.security_id)

artifacts = Table(
    "artifacts",
    metadata,
    Column("document_id", BigInteger, primary_key=True, autoincrement=False),
    Column("security_id", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # stored | failed
    Column("sha256", String(64)),
    Column("storage_path", Text),
    Column("file_name", Text),
    Column("content_type", String(128)),
    Column("byte_size", BigInteger),
    Column("downloaded_at", DateTime(timezone=True)),
    Column("failure_reason", Text),
    Column("permanent", Boolean),
)
Index("ix_artifacts_security", artifacts.c.security_id)

# The NRB ratios a report's document prints, as ntx_assets.filings.ratios.read_report_ratios reads them:
# one row per document read (a report may have several). Each ratio is the bank's own column (not the
# group's), this period's or year-to-date's figure (not the previous year's), in percent; NULL when not
# read (`problems` names it and why, a JSON list of strings). status: read (every ratio), partial (some),
# unreadable (none: `reason` says why: no text layer, no ratio table, too large, too slow...). known_on is
# the document's submission date (filing_documents.submitted_date, else the report's known_on): the
# screener takes a ratio as known from it. The period is the report's (filings): its Nepali fiscal year,
# its quarter (NULL for an annual report).
REPORT_RATIO_COLUMNS = (
    "capital_fund_to_rwa_pct",
    "npl_pct",
    "provision_to_npl_pct",
    "cost_of_funds_pct",
    "cd_ratio_pct",  # a microfinance's "Credit to Deposit and Borrowing Ratio"
    "base_rate_pct",
    "spread_pct",
)
report_ratios = Table(
    "report_ratios",
    metadata,
    Column("document_id", BigInteger, primary_key=True, autoincrement=False),
    Column("report_id", BigInteger),
    Column("security_id", Integer, nullable=False),
    Column("report_type", String(16)),  # annual | quarterly
    Column("fiscal_year", String(16)),  # 2082-2083
    Column("quarter", Integer),
    Column("known_on", Date),
    Column("format", String(32)),  # the layout the reader recognised; NULL when none
    Column("period", Text),  # the period as the document prints it
    *(Column(name, Float) for name in REPORT_RATIO_COLUMNS),
    Column("status", String(16), nullable=False),  # read | partial | unreadable
    Column("reason", Text),
    Column("problems", Text),
    Column("sha256", String(64)),  # of the artifact read (artifacts.sha256): a changed file is read again
    Column("reader_version", String(32)),
    Column("read_at", DateTime(timezone=True)),
)
Index("ix_report_ratios_security", report_ratios.c.security_id)


indicators = Table(
    "indicators",
    metadata,
    Column("security_id", Integer, primary_key=True, autoincrement=False),
    Column("business_date", Date, primary_key=True),
    Column("symbol", String(32), nullable=False),
    *(Column(name, Float) for name in INDICATOR_COLUMNS),
)
Index("ix_indicators_business_date", indicators.c.business_date)

# What NEPSE announced per company (bonus, right, cash dividend), from two endpoints; keyed on NEPSE's id of
# the row within its source (corporate-actions `sdId`, dividend `id`). See
# ntx_assets/corporate_actions/announcements.py.
corporate_actions = Table(
    "corporate_actions",
    metadata,
    Column("source", String(32), primary_key=True),  # corporate_action | dividend_notice
    Column("nepse_id", BigInteger, primary_key=True, autoincrement=False),
    Column("security_id", Integer, nullable=False),
    Column("symbol", String(32), nullable=False),
    Column("fiscal_year", String(16)),
    Column("status", String(64)),
    Column("announced_on", Date),
    _amount("bonus_pct"),
    _amount("right_pct"),
    _amount("right_price"),
    _amount("cash_dividend_pct"),
)
Index("ix_corporate_actions_security", corporate_actions.c.security_id)

# Announced book closures (the last day the register is open before an AGM, a bonus, a right or a
# dividend), from NEPSE's AGM notices: keyed on NEPSE's id of the row within its source.
book_closures = Table(
    "book_closures",
    metadata,
    Column("source", String(32), primary_key=True),  # agm_notice
    Column("nepse_id", BigInteger, primary_key=True, autoincrement=False),
    Column("security_id", Integer, nullable=False),
    Column("symbol", String(32), nullable=False),
    Column("fiscal_year", String(16)),
    Column("announced_on", Date),
    Column("book_close_date", Date, nullable=False),
    Column("agm_date", Date),
    # The terms the AGM approves (agmNotice.cashDividend / bonusShare): they link a closure to its action.
    _amount("bonus_pct"),
    _amount("cash_dividend_pct"),
)
Index("ix_book_closures_security", book_closures.c.security_id)

# Every security detail fetched (listed, promoter and public shares), one row per company and day: the
# point-in-time screener takes the latest fetch on or before a session.
security_shares = Table(
    "security_shares",
    metadata,
    Column("security_id", Integer, primary_key=True, autoincrement=False),
    Column("fetched_on", Date, primary_key=True),
    Column("listed_shares", BigInteger),
    Column("promoter_shares", BigInteger),
    Column("public_shares", BigInteger),
    _amount("paid_up_capital"),
)

# Every re-basing found in the stored prices (ntx_assets.prices.adjustments.detect_adjustments) and the
# announced
# action that explains it, if any. factor_to_latest is the product of this factor and every later one of
# the security: what the `adjusted_prices` view multiplies the rows before ex_date by.
price_adjustments = Table(
    "price_adjustments",
    metadata,
    Column("security_id", Integer, primary_key=True, autoincrement=False),
    Column("ex_date", Date, primary_key=True),
    Column("symbol", String(32), nullable=False),
    _amount("prior_close", nullable=False),
    # NULL when the factor is unknown (a move beyond the price band nothing explains: the series restarts).
    _amount("adjusted_base"),
    Column("factor", Float),
    Column("factor_to_latest", Float),
    Column("explanation", String(32), nullable=False),
    # Where the factor comes from: exchange_base | announcement | unexplained (ntx_assets.prices.rebasings).
    Column("factor_source", String(32), nullable=False, server_default="exchange_base"),
    _amount("expected_base"),
    Column("action_source", String(64)),
    Column("action_id", String(64)),
)

# A price archive's files as last imported (ntx_assets/archive): what makes a re-run conditional.
archive_files = Table(
    "archive_files",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("symbol", String(32), primary_key=True),
    Column("security_id", Integer),
    Column("sha256", String(64), nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("rows", Integer, nullable=False),
    Column("first_date", Date),
    Column("last_date", Date),
    Column("imported_at", DateTime(timezone=True), nullable=False),
)

# Every archive row (or value) an import did not store, with the rule that set it aside.
archive_set_aside = Table(
    "archive_set_aside",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("symbol", String(32), primary_key=True),
    Column("line", Integer, primary_key=True, autoincrement=False),
    Column("reason", String(64), primary_key=True),
    Column("business_date", String(32)),
    Column("detail", Text, nullable=False),
    Column("raw", Text, nullable=False),
)

# A view, not a table (created by migration 0002): every daily_prices row in the latest price basis, so a
# chart of a company that re-based reads one continuous series. It follows price_adjustments, so it is
# right after a new re-basing as soon as price_adjustments has run.
ADJUSTED_PRICES_VIEW = "adjusted_prices"

# The screener, point in time: one row per company in the universe of each session (session_date) as
# known at that session's close (ntx_assets/screener/table.py says what each column means). The
# `screener` asset rewrites the rows of the sessions it runs for; `screener_latest` (a view) is the
# latest session's rows, which the app and the exports read.
SCREENER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("session_date", "date"),
    ("security_id", "int"),
    ("symbol", "text"),
    ("name", "text"),
    ("sector", "text"),
    ("listing_date", "date"),
    ("website", "text"),
    ("logo_url", "text"),
    ("description", "text"),
    ("as_of", "date"),
    ("close", "float"),
    ("previous_close", "float"),
    ("change_pct", "float"),
    ("volume", "float"),
    ("turnover", "float"),
    ("trades", "float"),
    ("listed_shares", "float"),
    ("market_cap", "float"),
    ("nepse_market_cap", "float"),
    ("sma_20", "float"),
    ("sma_50", "float"),
    ("sma_200", "float"),
    ("ema_12", "float"),
    ("ema_26", "float"),
    ("rsi_14", "float"),
    ("macd", "float"),
    ("macd_signal", "float"),
    ("macd_hist", "float"),
    ("bb_upper", "float"),
    ("bb_lower", "float"),
    ("atr_14", "float"),
    ("high_52w", "float"),
    ("low_52w", "float"),
    ("pct_from_52w_high", "float"),
    ("return_1d", "float"),
    ("return_5d", "float"),
    ("return_20d", "float"),
    ("volume_vs_20d", "float"),
    ("days_traded_20", "int"),
    ("avg_turnover_20", "float"),
    ("circuit_hits_20", "int"),
    ("fiscal_year", "text"),
    ("quarter", "int"),
    ("report_type", "text"),
    ("report_known_on", "date"),
    ("eps_annualized", "float"),
    ("pe", "float"),
    ("book_value_per_share", "float"),
    ("pb", "float"),
    ("roe", "float"),
    ("paid_up_capital", "float"),
    ("profit", "float"),
    ("eps_growth_yoy", "float"),
    ("profit_growth_yoy", "float"),
    ("bvps_growth_yoy", "float"),
    ("eps_ttm", "float"),
    ("profit_ttm", "float"),
    ("pe_ttm", "float"),
    ("roe_ttm", "float"),
    ("profit_growth_ttm_yoy", "float"),
    ("pe_sector_median", "float"),
    ("pb_sector_median", "float"),
    ("roe_sector_median", "float"),
    ("pe_vs_sector", "float"),
    ("pe_rank_sector", "float"),
    ("pb_rank_sector", "float"),
    ("roe_rank_sector", "float"),
    ("return_20d_rank_sector", "float"),
    ("turnover_rank_sector", "float"),
    ("pe_ttm_sector_median", "float"),
    ("roe_ttm_sector_median", "float"),
    ("promoter_shares_pct", "float"),
    ("public_shares_pct", "float"),
    ("last_bonus_pct", "float"),
    ("last_cash_dividend_pct", "float"),
    ("last_right_ratio", "float"),
    ("dividend_yield", "float"),
    ("cash_dividend_3y_avg_pct", "float"),
    ("bonus_3y_total_pct", "float"),
    ("years_with_dividend_5y", "int"),
    ("payout_ratio", "float"),
    ("next_book_close_date", "date"),
    ("capital_adequacy_pct", "float"),
    ("npl_pct", "float"),
    ("provision_to_npl_pct", "float"),
    ("cost_of_funds_pct", "float"),
    ("cd_ratio_pct", "float"),
    ("base_rate_pct", "float"),
    ("spread_pct", "float"),
    ("ratios_known_on", "date"),
    ("capital_adequacy_pct_sector_median", "float"),
    ("npl_pct_sector_median", "float"),
    ("provision_to_npl_pct_sector_median", "float"),
    ("cost_of_funds_pct_sector_median", "float"),
    ("cd_ratio_pct_sector_median", "float"),
    ("base_rate_pct_sector_median", "float"),
    ("spread_pct_sector_median", "float"),
    ("capital_adequacy_pct_rank_sector", "float"),
    ("npl_pct_rank_sector", "float"),
    ("provision_to_npl_pct_rank_sector", "float"),
    # The first session the indicators of this row read: the company's first stored price, or its last
    # re-basing of unknown factor on or before the session (the series restarts there; docs/price-archive.md).
    ("history_continuous_from", "date"),
)
SCREENER_KEY = ("session_date", "security_id")
SCREENER_LATEST_VIEW = "screener_latest"
_SCREENER_TYPES = {"int": Integer, "text": Text, "date": Date, "float": Float}

screener = Table(
    "screener",
    metadata,
    *(
        Column(name, _SCREENER_TYPES[kind], primary_key=True, autoincrement=False)
        if name in SCREENER_KEY
        else Column(name, _SCREENER_TYPES[kind])
        for name, kind in SCREENER_COLUMNS
    ),
)

# Saved screens' alerts (ntx_assets/screens/alerts.py): one row per screen and session, so a change of a
# screen's picks is announced once whatever re-runs its session. status: sending | sent | failed (a failed
# one is tried again by the next run of that session); sent_at: when the last attempt ended; attempts: the
# webhook POSTs made in all.
screen_alerts = Table(
    "screen_alerts",
    metadata,
    Column("screen", String(64), primary_key=True),
    Column("session_date", Date, primary_key=True),
    Column("sent_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
)
