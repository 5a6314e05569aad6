"""the screener in time: session-partitioned screener with the screener_latest view, report publication
dates, announced book closures, share-count history

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 18:00:00

The screener's rows are derived (the `screener` asset recomputes them from the other tables), so the old
one-session table is dropped and the new one starts empty: backfill `screener` after upgrading.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The screener's columns as of this revision (frozen here: a later change is a later migration).
_TYPES = {"int": sa.Integer(), "text": sa.Text(), "date": sa.Date(), "float": sa.Float()}
_KEY = ("session_date", "security_id")
_SCREENER = [
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
    ("pe_sector_median", "float"),
    ("pb_sector_median", "float"),
    ("roe_sector_median", "float"),
    ("pe_vs_sector", "float"),
    ("pe_rank_sector", "float"),
    ("pb_rank_sector", "float"),
    ("roe_rank_sector", "float"),
    ("return_20d_rank_sector", "float"),
    ("turnover_rank_sector", "float"),
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
]
# The columns of revision 0003's one-session table, for the downgrade.
_SCREENER_0003 = frozenset(
    (
        "security_id",
        "symbol",
        "name",
        "sector",
        "listing_date",
        "website",
        "logo_url",
        "description",
        "as_of",
        "close",
        "previous_close",
        "change_pct",
        "volume",
        "turnover",
        "trades",
        "listed_shares",
        "market_cap",
        "nepse_market_cap",
        "sma_20",
        "sma_50",
        "sma_200",
        "ema_12",
        "ema_26",
        "rsi_14",
        "macd",
        "macd_signal",
        "macd_hist",
        "bb_upper",
        "bb_lower",
        "atr_14",
        "high_52w",
        "low_52w",
        "pct_from_52w_high",
        "return_1d",
        "return_5d",
        "return_20d",
        "volume_vs_20d",
        "fiscal_year",
        "quarter",
        "report_type",
        "eps_annualized",
        "pe",
        "book_value_per_share",
        "pb",
        "roe",
        "paid_up_capital",
        "profit",
        "last_bonus_pct",
        "last_cash_dividend_pct",
        "last_right_ratio",
        "dividend_yield",
    )
)
SCREENER_LATEST = """
CREATE VIEW screener_latest AS
SELECT * FROM screener WHERE session_date = (SELECT MAX(session_date) FROM screener)
"""


def _amount(name: str) -> sa.Column:
    return sa.Column(name, sa.Numeric(20, 4, asdecimal=False), nullable=True)


def upgrade() -> None:
    with op.batch_alter_table("filings") as batch_op:
        batch_op.add_column(sa.Column("known_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("first_fetched_on", sa.Date(), nullable=True))
    op.create_table(
        "book_closures",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("nepse_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("security_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("fiscal_year", sa.String(length=16), nullable=True),
        sa.Column("announced_on", sa.Date(), nullable=True),
        sa.Column("book_close_date", sa.Date(), nullable=False),
        sa.Column("agm_date", sa.Date(), nullable=True),
        _amount("bonus_pct"),
        _amount("cash_dividend_pct"),
        sa.PrimaryKeyConstraint("source", "nepse_id"),
    )
    op.create_index("ix_book_closures_security", "book_closures", ["security_id"])
    op.create_table(
        "security_shares",
        sa.Column("security_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fetched_on", sa.Date(), nullable=False),
        sa.Column("listed_shares", sa.BigInteger(), nullable=True),
        sa.Column("promoter_shares", sa.BigInteger(), nullable=True),
        sa.Column("public_shares", sa.BigInteger(), nullable=True),
        _amount("paid_up_capital"),
        sa.PrimaryKeyConstraint("security_id", "fetched_on"),
    )
    op.drop_table("screener")
    op.create_table(
        "screener",
        *(
            sa.Column(name, _TYPES[kind], nullable=name not in _KEY, autoincrement=False)
            for name, kind in _SCREENER
        ),
        sa.PrimaryKeyConstraint(*_KEY),
    )
    op.execute(SCREENER_LATEST)


def downgrade() -> None:
    op.execute("DROP VIEW screener_latest")
    op.drop_table("screener")
    op.create_table(
        "screener",
        *(
            sa.Column(name, _TYPES[kind], nullable=name != "security_id", autoincrement=False)
            for name, kind in _SCREENER
            if name != "session_date" and name in _SCREENER_0003
        ),
        sa.PrimaryKeyConstraint("security_id"),
    )
    op.drop_table("security_shares")
    op.drop_index("ix_book_closures_security", table_name="book_closures")
    op.drop_table("book_closures")
    with op.batch_alter_table("filings") as batch_op:
        batch_op.drop_column("first_fetched_on")
        batch_op.drop_column("known_on")
