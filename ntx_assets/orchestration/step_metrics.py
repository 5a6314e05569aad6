"""One helper for what every NEPSE-calling step does besides its work: time it, count its NEPSE calls, and
bound its run by its plan (ntx_assets/orchestration/run_bounds.py), instead of the same prologue in every
asset."""

from __future__ import annotations

import time
from typing import Any

import dagster as dg

from ntx_assets.nepse import NepseClient
from ntx_assets.orchestration.run_bounds import MAX_RUNTIME_TAG, PLANNED_TAG, max_runtime_seconds
from ntx_assets.resources import NepseResource


class NepseStep:
    """Started when a step that takes the `nepse_api` pool starts; `plan` (re)states its planned calls."""

    def __init__(
        self,
        context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
        nepse: NepseResource,
        planned_calls: int,
    ) -> None:
        self.context, self.nepse = context, nepse
        self.client: NepseClient = nepse.client
        self.started = time.monotonic()
        self.calls_before = self.client.stats.total_calls
        self.max_runtime: int | None = None
        self.plan(planned_calls)

    def plan(self, planned_calls: int) -> None:
        """Set the run's dagster/max_runtime for `planned_calls` more calls from now (unless whoever launched
        the run set one: that one stands)."""
        instance, run_id = self.context.instance, self.context.run.run_id
        run = instance.get_run_record_by_id(run_id)
        if run is None:
            return
        tags = run.dagster_run.tags
        if MAX_RUNTIME_TAG in tags and PLANNED_TAG not in tags:
            return
        elapsed = time.time() - run.start_time if run.start_time else 0.0
        self.max_runtime = max_runtime_seconds(
            elapsed, planned_calls, self.nepse.requests_per_second, self.nepse.run_start_seconds
        )
        instance.add_run_tags(
            run_id, {MAX_RUNTIME_TAG: str(self.max_runtime), PLANNED_TAG: str(planned_calls)}
        )

    @property
    def api_calls(self) -> int:
        return self.client.stats.total_calls - self.calls_before

    def metadata(self) -> dict[str, Any]:
        """api_calls, seconds and the run's bound, for the step's MaterializeResult."""
        return {
            "api_calls": self.api_calls,
            "run_max_runtime_seconds": self.max_runtime,
            "seconds": round(time.monotonic() - self.started, 2),
        }
