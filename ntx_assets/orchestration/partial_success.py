"""Partial success of a multi-partition run, written once for every asset that has it.

A range run whose units (dates, symbols) land one by one must not be reported all-or-nothing: the
units that landed are recorded as materialized, the step fails naming the ones that did not and why, and
"re-execute from failure" (or "backfill missing") then has only those left to do.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NoReturn

import dagster as dg


def fail_the_rest(
    context: dg.AssetExecutionContext,
    landed: Iterable[dg.AssetMaterialization],
    failures: Mapping[str, object],
    *,
    unit: str,
    metadata: Mapping[str, Any],
    hint: str = "",
) -> NoReturn:
    """Record `landed`, then raise a Failure naming each failed unit (its key -> its error)."""
    count = 0
    for materialization in landed:
        context.log_event(materialization)
        count += 1
    reasons = dict.fromkeys(str(error) for error in failures.values())  # one line per distinct reason
    raise dg.Failure(
        description=(
            f"{len(failures)} {unit}(s) failed: {' '.join(reasons)} The other {count} {unit}(s) landed."
            + (f" {hint}" if hint else "")
        ),
        metadata={**metadata, "failed": dg.MetadataValue.json({k: str(e) for k, e in failures.items()})},
    )


def materialized(
    context: dg.AssetExecutionContext, partitions: Sequence[str]
) -> list[dg.AssetMaterialization]:
    """Plain materializations of `partitions` of the running asset."""
    return [dg.AssetMaterialization(asset_key=context.asset_key, partition=key) for key in partitions]
