"""NEPSE's own index history (nepse_index)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 10:10:00

One row per index and session (index 58: the NEPSE index), as GET /api/nots/index/history/{indexId}
serves it. It starts empty; the `nepse_index` asset fills it, and the backtest's `--benchmark index`
reads the NEPSE index's close from it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _amount(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.Numeric(20, 4, asdecimal=False), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "nepse_index",
        sa.Column("index_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        _amount("open"),
        _amount("high"),
        _amount("low"),
        _amount("close", nullable=False),
        _amount("turnover_value"),
        sa.Column("turnover_volume", sa.BigInteger(), nullable=True),
        sa.Column("total_transactions", sa.Integer(), nullable=True),
        _amount("abs_change"),
        _amount("percentage_change"),
        sa.PrimaryKeyConstraint("index_id", "business_date"),
    )


def downgrade() -> None:
    op.drop_table("nepse_index")
