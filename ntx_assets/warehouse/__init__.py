"""The warehouse: SQLAlchemy Core schema, versioned migrations and the one bulk upsert (no Dagster)."""

from ntx_assets.warehouse.engine import create_warehouse_engine, current_revision, head_revision, migrate
from ntx_assets.warehouse.upsert import UpsertCounts, upsert

__all__ = [
    "UpsertCounts",
    "create_warehouse_engine",
    "current_revision",
    "head_revision",
    "migrate",
    "upsert",
]
