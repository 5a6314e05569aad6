"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 16:13:03.431943
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "artifacts",
        sa.Column("document_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("security_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("storage_path", sa.Text(), nullable=True),
        sa.Column("file_name", sa.Text(), nullable=True),
        sa.Column("content_type", sa.String(length=128), nullable=True),
        sa.Column("byte_size", sa.BigInteger(), nullable=True),
        sa.Column("downloaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("permanent", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("document_id"),
    )
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        batch_op.create_index("ix_artifacts_security", ["security_id"], unique=False)

    op.create_table(
        "companies",
        sa.Column("security_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sector", sa.String(length=128), nullable=True),
        sa.Column("instrument_type", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=4), nullable=True),
        sa.Column("included", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("listing_date", sa.Date(), nullable=True),
        sa.Column("website", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("logo_path", sa.Text(), nullable=True),
        sa.Column("profile_fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen", sa.Date(), nullable=False),
        sa.Column("last_seen", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("security_id"),
    )
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.create_index("ix_companies_symbol", ["symbol"], unique=False)

    op.create_table(
        "daily_prices",
        sa.Column("security_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("open", sa.Numeric(precision=20, scale=4, asdecimal=False), nullable=True),
        sa.Column("high", sa.Numeric(precision=20, scale=4, asdecimal=False), nullable=False),
        sa.Column("low", sa.Numeric(precision=20, scale=4, asdecimal=False), nullable=False),
        sa.Column("close", sa.Numeric(precision=20, scale=4, asdecimal=False), nullable=False),
        sa.Column("previous_close", sa.Numeric(precision=20, scale=4, asdecimal=False), nullable=True),
        sa.Column("volume", sa.BigInteger(), nullable=False),
        sa.Column("turnover", sa.Numeric(precision=20, scale=4, asdecimal=False), nullable=False),
        sa.Column("trades", sa.Integer(), nullable=True),
        sa.Column("average_traded_price", sa.Numeric(precision=20, scale=4, asdecimal=False), nullable=True),
        sa.Column("fifty_two_week_high", sa.Numeric(precision=20, scale=4, asdecimal=False), nullable=True),
        sa.Column("fifty_two_week_low", sa.Numeric(precision=20, scale=4, asdecimal=False), nullable=True),
        sa.PrimaryKeyConstraint("security_id", "business_date"),
    )
    with op.batch_alter_table("daily_prices", schema=None) as batch_op:
        batch_op.create_index("ix_daily_prices_business_date", ["business_date"], unique=False)
        batch_op.create_index("ix_daily_prices_symbol_date", ["symbol", "business_date"], unique=False)

    op.create_table(
        "filing_documents",
        sa.Column("document_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("security_id", sa.Integer(), nullable=False),
        sa.Column("file_path", sa.Text(), nullable=True),
        sa.Column("encrypted_id", sa.Text(), nullable=True),
        sa.Column("submitted_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("document_id"),
    )
    with op.batch_alter_table("filing_documents", schema=None) as batch_op:
        batch_op.create_index("ix_filing_documents_security", ["security_id"], unique=False)

    op.create_table(
        "filings",
        sa.Column("report_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("security_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("report_type", sa.String(length=16), nullable=False),
        sa.Column("fiscal_year", sa.String(length=16), nullable=True),
        sa.Column("fiscal_year_nepali", sa.String(length=16), nullable=True),
        sa.Column("quarter", sa.Integer(), nullable=True),
        sa.Column("eps", sa.Numeric(precision=20, scale=4, asdecimal=False), nullable=True),
        sa.Column("pe", sa.Numeric(precision=20, scale=4, asdecimal=False), nullable=True),
        sa.Column("net_worth_per_share", sa.Numeric(precision=20, scale=4, asdecimal=False), nullable=True),
        sa.Column("profit", sa.Numeric(precision=20, scale=4, asdecimal=False), nullable=True),
        sa.Column("paid_up_capital", sa.Numeric(precision=20, scale=4, asdecimal=False), nullable=True),
        sa.Column("modified_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("report_id"),
    )
    with op.batch_alter_table("filings", schema=None) as batch_op:
        batch_op.create_index("ix_filings_security", ["security_id"], unique=False)

    op.create_table(
        "indicators",
        sa.Column("security_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("sma_20", sa.Float(), nullable=True),
        sa.Column("sma_50", sa.Float(), nullable=True),
        sa.Column("sma_200", sa.Float(), nullable=True),
        sa.Column("ema_12", sa.Float(), nullable=True),
        sa.Column("ema_26", sa.Float(), nullable=True),
        sa.Column("rsi_14", sa.Float(), nullable=True),
        sa.Column("macd", sa.Float(), nullable=True),
        sa.Column("macd_signal", sa.Float(), nullable=True),
        sa.Column("macd_hist", sa.Float(), nullable=True),
        sa.Column("bb_upper", sa.Float(), nullable=True),
        sa.Column("bb_middle", sa.Float(), nullable=True),
        sa.Column("bb_lower", sa.Float(), nullable=True),
        sa.Column("atr_14", sa.Float(), nullable=True),
        sa.Column("high_52w", sa.Float(), nullable=True),
        sa.Column("low_52w", sa.Float(), nullable=True),
        sa.Column("volume_sma_20", sa.Float(), nullable=True),
        sa.Column("return_1d", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("security_id", "business_date"),
    )
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.create_index("ix_indicators_business_date", ["business_date"], unique=False)

    op.create_table(
        "company_symbols",
        sa.Column("security_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("first_seen", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["security_id"],
            ["companies.security_id"],
        ),
        sa.PrimaryKeyConstraint("security_id", "symbol"),
    )


def downgrade() -> None:
    op.drop_table("company_symbols")
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.drop_index("ix_indicators_business_date")

    op.drop_table("indicators")
    with op.batch_alter_table("filings", schema=None) as batch_op:
        batch_op.drop_index("ix_filings_security")

    op.drop_table("filings")
    with op.batch_alter_table("filing_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_filing_documents_security")

    op.drop_table("filing_documents")
    with op.batch_alter_table("daily_prices", schema=None) as batch_op:
        batch_op.drop_index("ix_daily_prices_symbol_date")
        batch_op.drop_index("ix_daily_prices_business_date")

    op.drop_table("daily_prices")
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_index("ix_companies_symbol")

    op.drop_table("companies")
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        batch_op.drop_index("ix_artifacts_security")

    op.drop_table("artifacts")
