"""the NRB ratios read from report documents (report_ratios) and the screener's bank-ratio columns

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 06:15:00

report_ratios starts empty (the asset that reads the downloaded documents fills it). The screener's new
columns are added nullable, as in 0005: stored sessions keep their rows, NULL in these columns until
`screener` is backfilled over them; `screener_latest` is made again over the widened table.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Frozen here: a later change is a later migration.
_RATIOS = (
    "capital_fund_to_rwa_pct",
    "npl_pct",
    "provision_to_npl_pct",
    "cost_of_funds_pct",
    "cd_ratio_pct",
    "base_rate_pct",
    "spread_pct",
)
_SCREENER = (
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
)
_TYPES = {"float": sa.Float, "date": sa.Date}
SCREENER_LATEST = """
CREATE VIEW screener_latest AS
SELECT * FROM screener WHERE session_date = (SELECT MAX(session_date) FROM screener)
"""


def upgrade() -> None:
    op.create_table(
        "report_ratios",
        sa.Column("document_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=True),
        sa.Column("security_id", sa.Integer(), nullable=False),
        sa.Column("report_type", sa.String(length=16), nullable=True),
        sa.Column("fiscal_year", sa.String(length=16), nullable=True),
        sa.Column("quarter", sa.Integer(), nullable=True),
        sa.Column("known_on", sa.Date(), nullable=True),
        sa.Column("format", sa.String(length=32), nullable=True),
        sa.Column("period", sa.Text(), nullable=True),
        *(sa.Column(name, sa.Float(), nullable=True) for name in _RATIOS),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("problems", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("reader_version", sa.String(length=32), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("document_id"),
    )
    op.create_index("ix_report_ratios_security", "report_ratios", ["security_id"])
    op.execute("DROP VIEW screener_latest")
    for name, kind in _SCREENER:
        op.add_column("screener", sa.Column(name, _TYPES[kind](), nullable=True))
    op.execute(SCREENER_LATEST)


def downgrade() -> None:
    op.execute("DROP VIEW screener_latest")
    with op.batch_alter_table("screener") as batch_op:
        for name, _ in reversed(_SCREENER):
            batch_op.drop_column(name)
    op.execute(SCREENER_LATEST)
    op.drop_index("ix_report_ratios_security", table_name="report_ratios")
    op.drop_table("report_ratios")
