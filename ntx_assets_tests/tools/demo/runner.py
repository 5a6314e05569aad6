"""Runs of the code location's own asset job on a real Dagster instance, and what each run reported."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from ntx_assets.orchestration.run_requests import range_tags

DEMO_TAG = "ntx/demo"
PHASE_TAG = "ntx/demo_phase"
DEFAULT_GROUP_SIZE = 25


OPTIONAL_ASSETS = frozenset({"price_archive"})


@dataclass(frozen=True)
class Graph:
    """The definitions' assets sorted by how the demo runs them: unpartitioned, by date, by symbol,
    derived (unpartitioned, downstream of a partitioned asset: price_adjustments), and screens (by date,
    downstream of a symbol-partitioned asset: the screener, run last over the prices' dates)."""

    unpartitioned: tuple[dg.AssetKey, ...]
    by_date: tuple[dg.AssetKey, ...]
    by_symbol: tuple[dg.AssetKey, ...]
    derived: tuple[dg.AssetKey, ...]
    screens: tuple[dg.AssetKey, ...]
    date_partitions: dg.TimeWindowPartitionsDefinition | None
    symbol_partitions: dg.DynamicPartitionsDefinition | None
    symbol_group_size: int
    skipped: tuple[dg.AssetKey, ...]  # partitioned some other way: not run by the demo
    # Off unless configured (price_archive: NTX_PRICE_ARCHIVE): run by the demo's --history phase only.
    optional: tuple[dg.AssetKey, ...] = ()

    @property
    def all_keys(self) -> tuple[dg.AssetKey, ...]:
        return self.unpartitioned + self.by_date + self.by_symbol + self.derived + self.screens

    @classmethod
    def of(cls, defs: dg.Definitions) -> Graph:
        unpartitioned: list[dg.AssetKey] = []
        derived: list[dg.AssetKey] = []
        screens: list[dg.AssetKey] = []
        by_date: list[dg.AssetKey] = []
        by_symbol: list[dg.AssetKey] = []
        skipped: list[dg.AssetKey] = []
        date_partitions: dg.TimeWindowPartitionsDefinition | None = None
        symbol_partitions: dg.DynamicPartitionsDefinition | None = None
        group_sizes: list[int] = []
        optional: list[dg.AssetKey] = []
        for spec in _upstream_first(defs.resolve_all_asset_specs()):
            partitions = spec.partitions_def
            if spec.key.to_user_string() in OPTIONAL_ASSETS:
                optional.append(spec.key)
            elif partitions is None:
                upstream = {dep.asset_key for dep in spec.deps}
                # Upstream first: a partitioned (or derived) dependency has been sorted already.
                after_partitioned = upstream & {*by_date, *by_symbol, *derived, *skipped}
                (derived if after_partitioned else unpartitioned).append(spec.key)
            elif isinstance(partitions, dg.TimeWindowPartitionsDefinition) and date_partitions in (
                None,
                partitions,
            ):
                date_partitions = partitions
                upstream = {dep.asset_key for dep in spec.deps}
                (screens if upstream & {*by_symbol, *derived, *screens} else by_date).append(spec.key)
            elif isinstance(partitions, dg.DynamicPartitionsDefinition) and symbol_partitions in (
                None,
                partitions,
            ):
                symbol_partitions = partitions
                by_symbol.append(spec.key)
                policy = defs.resolve_assets_def(spec.key).backfill_policy
                if policy is not None and policy.max_partitions_per_run:
                    group_sizes.append(policy.max_partitions_per_run)
            else:
                skipped.append(spec.key)
        return cls(
            tuple(unpartitioned),
            tuple(by_date),
            tuple(by_symbol),
            tuple(derived),
            tuple(screens),
            date_partitions,
            symbol_partitions,
            min(group_sizes, default=DEFAULT_GROUP_SIZE),
            tuple(skipped),
            tuple(optional),
        )


def _upstream_first(specs: Sequence[dg.AssetSpec]) -> list[dg.AssetSpec]:
    """The specs in dependency order (a dependency before its dependents), by name among equals."""
    pending = {spec.key: spec for spec in specs}
    ordered: list[dg.AssetSpec] = []
    while pending:
        ready = [
            spec
            for spec in pending.values()
            if not any(dep.asset_key in pending for dep in spec.deps if dep.asset_key != spec.key)
        ] or list(pending.values())  # a cycle cannot happen in valid definitions; never loop forever
        first = min(ready, key=lambda spec: spec.key.to_user_string())
        ordered.append(first)
        del pending[first.key]
    return ordered


@dataclass(frozen=True)
class CheckOutcome:
    asset: str
    name: str
    passed: bool
    severity: str
    description: str | None
    metadata: Mapping[str, Any]


@dataclass
class RunOutcome:
    phase: str
    assets: tuple[str, ...]
    partition_range: tuple[str, str] | None
    success: bool = False
    run_id: str | None = None
    seconds: float = 0.0
    error: str | None = None
    checks: list[CheckOutcome] = field(default_factory=list)
    api_calls_reported: int = 0  # the sum of the assets' own "api_calls" metadata

    @property
    def label(self) -> str:
        assets = "+".join(self.assets)
        if self.partition_range is None:
            return assets
        first, last = self.partition_range
        return f"{assets} [{first}]" if first == last else f"{assets} [{first}...{last}]"


class Runner:
    """Executes the implicit asset job of the definitions in-process, one run per call."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance, *, log_level: str) -> None:
        self._job = defs.resolve_implicit_global_asset_job_def()
        self._instance = instance
        self._run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}

    def run(
        self,
        phase: str,
        assets: Sequence[dg.AssetKey],
        partition_range: tuple[str, str] | None = None,
        outcomes: list[RunOutcome] | None = None,
    ) -> RunOutcome:
        """One run; its outcome is appended to `outcomes` before a Ctrl-C inside it is re-raised."""
        outcome = RunOutcome(phase, tuple(k.to_user_string() for k in assets), partition_range)
        if outcomes is not None:
            outcomes.append(outcome)
        tags = {DEMO_TAG: "true", PHASE_TAG: phase}
        if partition_range is not None:
            tags.update(range_tags(*partition_range))
        started = time.monotonic()
        try:
            result = self._job.execute_in_process(
                run_config=self._run_config,
                instance=self._instance,
                asset_selection=list(assets),
                tags=tags,
                raise_on_error=False,
            )
        except Exception as error:  # a run that cannot even start still belongs in the summary
            outcome.error = f"{type(error).__name__}: {error}"
            outcome.seconds = time.monotonic() - started
            return outcome
        outcome.seconds = time.monotonic() - started
        outcome.success = result.success
        outcome.run_id = result.run_id
        outcome.checks = [_check(evaluation) for evaluation in result.get_asset_check_evaluations()]
        outcome.api_calls_reported = _reported_calls(result, assets)
        if not result.success:
            outcome.error = _failure(result)
            if _interrupted(result):
                # Dagster turns Ctrl-C inside a run into a failed run; the demo stops there too.
                raise KeyboardInterrupt(outcome.label)
        return outcome


def _check(evaluation: dg.AssetCheckEvaluation) -> CheckOutcome:
    return CheckOutcome(
        asset=evaluation.asset_key.to_user_string(),
        name=evaluation.check_name,
        passed=evaluation.passed,
        severity=evaluation.severity.value,
        description=evaluation.description,
        metadata={name: value.value for name, value in evaluation.metadata.items()},
    )


def _reported_calls(result: dg.ExecuteInProcessResult, assets: Sequence[dg.AssetKey]) -> int:
    # A range run records one materialization per partition, all with the step's metadata: count each
    # step once.
    total = 0
    for key in assets:
        events = result.asset_materializations_for_node(key.to_python_identifier())
        if events:
            calls = events[0].metadata.get("api_calls")
            total += int(calls.value) if calls is not None and isinstance(calls.value, int) else 0
    return total


_INTERRUPTS = ("DagsterExecutionInterruptedError", "KeyboardInterrupt")


def _interrupted(result: dg.ExecuteInProcessResult) -> bool:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            if error is not None and error.cls_name in _INTERRUPTS:
                return True
        if event.is_run_failure and event.job_failure_data is not None:
            error = event.job_failure_data.error
            if error is not None and error.cls_name in _INTERRUPTS:
                return True
    return False


def _failure(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            message = error.message.strip() if error is not None else "failed"
            return f"step {event.step_key}: {message.splitlines()[0] if message else 'failed'}"
    return "run failed"
