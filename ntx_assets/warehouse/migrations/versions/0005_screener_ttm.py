"""the screener's trailing-twelve-month columns

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 06:00:00

The screener's rows are derived, so the columns are added nullable and the stored sessions keep their
rows: their TTM columns are NULL until `screener` is backfilled over them (one run). `screener_latest`
is `SELECT *`, which PostgreSQL expands when the view is created, so the view is made again over the
widened table.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The columns this revision adds (frozen here: a later change is a later migration).
_COLUMNS = (
    "eps_ttm",
    "profit_ttm",
    "pe_ttm",
    "roe_ttm",
    "profit_growth_ttm_yoy",
    "pe_ttm_sector_median",
    "roe_ttm_sector_median",
)
SCREENER_LATEST = """
CREATE VIEW screener_latest AS
SELECT * FROM screener WHERE session_date = (SELECT MAX(session_date) FROM screener)
"""


def upgrade() -> None:
    op.execute("DROP VIEW screener_latest")
    for name in _COLUMNS:
        op.add_column("screener", sa.Column(name, sa.Float(), nullable=True))
    op.execute(SCREENER_LATEST)


def downgrade() -> None:
    op.execute("DROP VIEW screener_latest")
    with op.batch_alter_table("screener") as batch_op:
        for name in reversed(_COLUMNS):
            batch_op.drop_column(name)
    op.execute(SCREENER_LATEST)
