"""corporate actions, price adjustments and the adjusted_prices view

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 01:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Rows before a security's re-basings are multiplied (volume divided) by the factor_to_latest of the first
# re-basing after them; rows on or after the last re-basing are already in the latest basis. A correlated
# subquery with ORDER BY ... LIMIT 1 reads the same on SQLite and PostgreSQL.
ADJUSTED_PRICES = """
CREATE VIEW adjusted_prices AS
SELECT security_id, business_date, symbol,
       open * f AS open, high * f AS high, low * f AS low, close * f AS close,
       volume / f AS volume, turnover, trades, f AS factor_to_latest
FROM (
    SELECT p.security_id, p.business_date, p.symbol, p.open, p.high, p.low, p.close, p.volume,
           p.turnover, p.trades,
           COALESCE((
               SELECT a.factor_to_latest FROM price_adjustments a
               WHERE a.security_id = p.security_id AND a.ex_date > p.business_date
               ORDER BY a.ex_date LIMIT 1
           ), 1.0) AS f
    FROM daily_prices p
) AS priced
"""


def _amount(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.Numeric(20, 4, asdecimal=False), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "corporate_actions",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("nepse_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("security_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("fiscal_year", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=64), nullable=True),
        sa.Column("announced_on", sa.Date(), nullable=True),
        _amount("bonus_pct"),
        _amount("right_pct"),
        _amount("right_price"),
        _amount("cash_dividend_pct"),
        sa.PrimaryKeyConstraint("source", "nepse_id"),
    )
    op.create_index("ix_corporate_actions_security", "corporate_actions", ["security_id"])
    op.create_table(
        "price_adjustments",
        sa.Column("security_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ex_date", sa.Date(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        _amount("prior_close", nullable=False),
        _amount("adjusted_base", nullable=False),
        sa.Column("factor", sa.Float(), nullable=False),
        sa.Column("factor_to_latest", sa.Float(), nullable=False),
        sa.Column("explanation", sa.String(length=32), nullable=False),
        _amount("expected_base"),
        sa.Column("action_source", sa.String(length=64), nullable=True),
        sa.Column("action_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("security_id", "ex_date"),
    )
    op.execute(ADJUSTED_PRICES)


def downgrade() -> None:
    op.execute("DROP VIEW adjusted_prices")
    op.drop_table("price_adjustments")
    op.drop_index("ix_corporate_actions_security", table_name="corporate_actions")
    op.drop_table("corporate_actions")
