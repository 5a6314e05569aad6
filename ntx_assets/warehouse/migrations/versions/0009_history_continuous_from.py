"""the screener's history_continuous_from

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 07:10:00

The first session a row's indicators read (a company's first stored price, or its last re-basing of
unknown factor before the session: docs/price-archive.md). Derived: NULL in the stored sessions until
`screener` is backfilled. screener_latest is made again over the widened table (PostgreSQL expands its
SELECT * when the view is created).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SCREENER_LATEST = """
CREATE VIEW screener_latest AS
SELECT * FROM screener WHERE session_date = (SELECT MAX(session_date) FROM screener)
"""


def upgrade() -> None:
    op.execute("DROP VIEW screener_latest")
    op.add_column("screener", sa.Column("history_continuous_from", sa.Date(), nullable=True))
    op.execute(SCREENER_LATEST)


def downgrade() -> None:
    op.execute("DROP VIEW screener_latest")
    with op.batch_alter_table("screener") as batch_op:
        batch_op.drop_column("history_continuous_from")
    op.execute(SCREENER_LATEST)
