"""How long a run that calls NEPSE may take before Dagster's run monitoring fails it (pure).

The default run launcher cannot tell that a run's host died (docs/operations.md, "A killed run"): a run
whose code server and worker were lost stays STARTED, holding the `nepse_api` pool (limit 1), until its
maximum runtime. So every step that takes the pool sets its run's `dagster/max_runtime` from its own plan
when it starts (and again when its plan grows): the time the run has already taken, plus its planned NEPSE
calls at the configured rate times MARGIN, plus `run_start_seconds` (NTX_RUN_START_SECONDS) for what is not a
call: the rest of the run's steps, its checks, process start. A daily run at 2 requests/s (about six
calls) is bounded at about 2 minutes 20 seconds; a year of prices (about 232 calls) at about 8 minutes.
"""

from __future__ import annotations

import math

# Dagster's run tag read by run monitoring (dagster._core.storage.tags.MAX_RUNTIME_SECONDS_TAG).
MAX_RUNTIME_TAG = "dagster/max_runtime"
# Marks the bound as the product's own: a max_runtime set by whoever launched the run is left alone.
PLANNED_TAG = "ntx/max_runtime_planned_calls"
# Retries with backoff, 429s with their Retry-After, token renewals and slow answers, on top of pacing.
MARGIN = 3.0
DEFAULT_RUN_START_SECONDS = 120.0


def max_runtime_seconds(
    elapsed_seconds: float, planned_calls: int, requests_per_second: float, run_start_seconds: float
) -> int:
    """The run's bound: what it took so far + planned calls / rate x MARGIN + run start, whole seconds."""
    if requests_per_second <= 0:
        raise ValueError(f"requests_per_second must be > 0, got {requests_per_second}")
    pacing = max(planned_calls, 0) / requests_per_second
    return math.ceil(max(elapsed_seconds, 0.0) + pacing * MARGIN + run_start_seconds)
