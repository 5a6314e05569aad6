"""screener table, share counts, NEPSE's market capitalization

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 02:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The screener's columns as of this revision (frozen here: a later change is a later migration).
_TYPES = {"int": sa.Integer(), "text": sa.Text(), "date": sa.Date(), "float": sa.Float()}
_SCREENER = [
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
    ("fiscal_year", "text"),
    ("quarter", "int"),
    ("report_type", "text"),
    ("eps_annualized", "float"),
    ("pe", "float"),
    ("book_value_per_share", "float"),
    ("pb", "float"),
    ("roe", "float"),
    ("paid_up_capital", "float"),
    ("profit", "float"),
    ("last_bonus_pct", "float"),
    ("last_cash_dividend_pct", "float"),
    ("last_right_ratio", "float"),
    ("dividend_yield", "float"),
]


def upgrade() -> None:
    with op.batch_alter_table("companies") as batch_op:
        batch_op.add_column(sa.Column("listed_shares", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("paid_up_capital", sa.Numeric(20, 4, asdecimal=False), nullable=True))
        batch_op.add_column(sa.Column("shares_fetched_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("daily_prices") as batch_op:
        batch_op.add_column(
            sa.Column("market_capitalization", sa.Numeric(20, 4, asdecimal=False), nullable=True)
        )
    op.create_table(
        "screener",
        *(
            sa.Column(name, _TYPES[kind], nullable=name != "security_id", autoincrement=False)
            for name, kind in _SCREENER
        ),
        sa.PrimaryKeyConstraint("security_id"),
    )


def downgrade() -> None:
    op.drop_table("screener")
    with op.batch_alter_table("daily_prices") as batch_op:
        batch_op.drop_column("market_capitalization")
    with op.batch_alter_table("companies") as batch_op:
        batch_op.drop_column("shares_fetched_at")
        batch_op.drop_column("paid_up_capital")
        batch_op.drop_column("listed_shares")
