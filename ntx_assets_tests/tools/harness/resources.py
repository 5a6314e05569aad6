"""What an in-process run against the stand-in binds: its NEPSE client, a warehouse, and the universe
target the stand-in's lists give; and the run config that keeps such a run's DEBUG events off the console."""

from __future__ import annotations

from typing import Any

from ntx_assets.resources import CheckTargetsResource, WarehouseResource

# Ordinary shares in the stand-in's company and security lists (the 2025-12-04 snapshots).
STANDIN_UNIVERSE_TARGET = 259
QUIET: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def run_resources(nepse: Any, database_url: str, **extra: Any) -> dict[str, Any]:
    """`nepse` (a NepseResource or an in-memory one), the warehouse at `database_url`, the stand-in's
    universe target, and any `extra` resources by key."""
    return {
        "nepse": nepse,
        "warehouse": WarehouseResource(database_url=database_url),
        "check_targets": CheckTargetsResource(universe_target=STANDIN_UNIVERSE_TARGET),
        **extra,
    }
