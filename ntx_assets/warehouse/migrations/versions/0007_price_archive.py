"""the price archive: daily_prices.source, re-basings whose factor is unknown, archive files and the rows
set aside

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 06:30:00

daily_prices rows get the name of who served them (`nepse` for every row stored before). price_adjustments
can hold a re-basing whose factor is unknown (factor, factor_to_latest and adjusted_base NULL) and says
where each factor comes from; the adjusted_prices view gives NULL prices before such a re-basing instead of
reading them as unadjusted.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# As 0002's view, but a row before a re-basing of unknown factor is NULL (unknown), not unadjusted.
ADJUSTED_PRICES = """
CREATE VIEW adjusted_prices AS
SELECT security_id, business_date, symbol,
       open * f AS open, high * f AS high, low * f AS low, close * f AS close,
       volume / f AS volume, turnover, trades, f AS factor_to_latest
FROM (
    SELECT p.security_id, p.business_date, p.symbol, p.open, p.high, p.low, p.close, p.volume,
           p.turnover, p.trades,
           CASE WHEN EXISTS (
               SELECT 1 FROM price_adjustments a
               WHERE a.security_id = p.security_id AND a.ex_date > p.business_date
           ) THEN (
               SELECT a.factor_to_latest FROM price_adjustments a
               WHERE a.security_id = p.security_id AND a.ex_date > p.business_date
               ORDER BY a.ex_date LIMIT 1
           ) ELSE 1.0 END AS f
    FROM daily_prices p
) AS priced
"""


def upgrade() -> None:
    op.execute("DROP VIEW adjusted_prices")
    with op.batch_alter_table("daily_prices") as batch:
        batch.add_column(sa.Column("source", sa.String(length=64), nullable=False, server_default="nepse"))
    with op.batch_alter_table("price_adjustments") as batch:
        batch.alter_column("adjusted_base", existing_type=sa.Numeric(20, 4, asdecimal=False), nullable=True)
        batch.alter_column("factor", existing_type=sa.Float(), nullable=True)
        batch.alter_column("factor_to_latest", existing_type=sa.Float(), nullable=True)
        batch.add_column(
            sa.Column("factor_source", sa.String(length=32), nullable=False, server_default="exchange_base")
        )
    op.create_table(
        "archive_files",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("security_id", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=True),
        sa.Column("last_date", sa.Date(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "symbol"),
    )
    op.create_table(
        "archive_set_aside",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("line", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("business_date", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("source", "symbol", "line", "reason"),
    )
    op.execute(ADJUSTED_PRICES)


def downgrade() -> None:
    op.execute("DROP VIEW adjusted_prices")
    op.drop_table("archive_set_aside")
    op.drop_table("archive_files")
    with op.batch_alter_table("price_adjustments") as batch:
        batch.drop_column("factor_source")
    with op.batch_alter_table("daily_prices") as batch:
        batch.drop_column("source")
    op.execute(_ADJUSTED_PRICES_0002)


_ADJUSTED_PRICES_0002 = """
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
