"""company_universe: exactly the listed ordinary-share companies, keyed on NEPSE's security id, with its
checks (the count against its target, only ordinary shares, unique symbols, NEPSE's own list)."""

from collections.abc import Iterator, Sequence

import dagster as dg
import pandas as pd
from sqlalchemy import Connection

from ntx_assets.common.clock import nepal_now
from ntx_assets.defs.partitions import symbol_partitions
from ntx_assets.nepse import SecurityDetail
from ntx_assets.orchestration.step_metrics import NepseStep
from ntx_assets.resources import CheckTargetsResource, NepseResource, WarehouseResource
from ntx_assets.universe.profiles import fetch_profiles
from ntx_assets.universe.rows import company_rows, preview, symbol_rows
from ntx_assets.universe.rule import NOT_LISTED, classify, included_symbols, summarize
from ntx_assets.warehouse.companies import (
    companies_without_profile,
    included_not_ordinary,
    included_symbol_list,
    store_profiles,
    write_universe,
)
from ntx_assets.warehouse.queries import included_symbols as stored_included_symbols

COUNT_MATCHES_TARGET = "universe_count_matches_target"
ONLY_ORDINARY_SHARES = "universe_has_only_ordinary_shares"
SYMBOLS_UNIQUE = "universe_symbols_unique"
MATCHES_NEPSE_CLASSIFICATION = "universe_matches_nepse_classification"

# The company list, the security list, the promoters and the classification: a refresh's fixed calls.
UNIVERSE_LIST_CALLS = 4


@dg.asset(
    group_name="universe",
    kinds={"python", "sql"},
    pool="nepse_api",
    description=(
        "NEPSE's listed ordinary-share companies (company status A, instrument Equity, not a promoter "
        "share), with every other security kept and labelled with why it is excluded. Keeps the dynamic "
        "`symbol` partitions equal to the included symbols."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            COUNT_MATCHES_TARGET,
            asset="company_universe",
            description="The number of included companies equals NTX_UNIVERSE_TARGET.",
        ),
        dg.AssetCheckSpec(
            ONLY_ORDINARY_SHARES,
            asset="company_universe",
            description="Every included row is an active Equity company and not a promoter share.",
        ),
        dg.AssetCheckSpec(
            SYMBOLS_UNIQUE, asset="company_universe", description="No two included companies share a symbol."
        ),
        dg.AssetCheckSpec(
            MATCHES_NEPSE_CLASSIFICATION,
            asset="company_universe",
            description="The included companies are exactly the securities of NEPSE's own company "
            "classification list (GET /api/nots/security/classification, every page).",
        ),
    ],
)
def company_universe(
    context: dg.AssetExecutionContext,
    nepse: NepseResource,
    warehouse: WarehouseResource,
    check_targets: CheckTargetsResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    step = NepseStep(context, nepse, planned_calls=UNIVERSE_LIST_CALLS)
    client = step.client

    classification = client.classification()
    universe = classify(
        client.company_list(),
        client.security_list(),
        client.promoters(),
        not_permitted_to_trade={s.id for s in classification if not s.tradable},
    )
    listing_dates = {s.id: s.listing_date for s in classification}
    today = nepal_now().date()

    with warehouse.engine.begin() as conn:
        previous = stored_included_symbols(conn)
        counts, left = write_universe(
            conn,
            company_rows(universe, listing_dates, today),
            symbol_rows(universe, today),
            not_listed_reason=NOT_LISTED,
            today=today,
        )
        missing_profiles = companies_without_profile(conn)

    step.plan(len(missing_profiles))
    profiles = fetch_profiles(client, missing_profiles, nepse.max_concurrent_requests)
    with warehouse.engine.begin() as conn:
        store_profiles(conn, profiles)

    current = set(included_symbols(universe))
    added, removed = _sync_symbol_partitions(context.instance, current)
    context.log.info(f"universe: {len(current)} companies; +{len(added)} -{len(removed)} symbol partitions")

    summary = summarize(universe)
    yield dg.MaterializeResult(
        metadata={
            "included": len(current),
            "securities_seen": len(universe),
            "by_reason": dg.MetadataValue.json(summary["by_reason"]),
            "included_by_sector": dg.MetadataValue.json(summary["included_by_sector"]),
            "symbols_added": dg.MetadataValue.json(sorted(added)),
            "symbols_removed": dg.MetadataValue.json(sorted(removed)),
            "not_listed_any_more": dg.MetadataValue.json(sorted(left)),
            "profiles_fetched": len(profiles),
            **counts.as_metadata("companies"),
            **step.metadata(),
            "preview": dg.MetadataValue.md(preview(universe)),
        }
    )
    if check_targets.universe_target_auto:
        target = sum(s.tradable for s in classification)
        source = "auto: NEPSE's classification list (rows permitted to trade)"
    else:
        target, source = check_targets.universe_target, "NTX_UNIVERSE_TARGET (check_targets.universe_target)"
    yield count_check(target, source, previous, current)
    with warehouse.engine.connect() as conn:
        yield only_ordinary_shares(conn)
        yield symbols_unique(conn)
    yield matches_nepse_classification(universe, classification)


def _sync_symbol_partitions(instance: dg.DagsterInstance, current: set[str]) -> tuple[set[str], set[str]]:
    """Make the `symbol` partitions equal the included symbols.

    A symbol that leaves (delisted, suspended, renamed) loses its partition so no new filings run is
    planned for it; its rows stay in the warehouse, keyed on the security id, and its past
    materializations stay in Dagster's event log.
    """
    existing = set(instance.get_dynamic_partitions(symbol_partitions.name))
    added, removed = current - existing, existing - current
    if added:
        instance.add_dynamic_partitions(symbol_partitions.name, sorted(added))
    for symbol in sorted(removed):
        instance.delete_dynamic_partition(symbol_partitions.name, symbol)
    return added, removed


def count_check(
    target: int, target_source: str, previous: set[str], current: set[str]
) -> dg.AssetCheckResult:
    count = len(current)
    return dg.AssetCheckResult(
        check_name=COUNT_MATCHES_TARGET,
        passed=count == target,
        severity=dg.AssetCheckSeverity.ERROR,
        description=None
        if count == target
        else f"{count} companies listed, target {target} ({count - target:+d})",
        metadata={
            "count": count,
            "target": target,
            "target_source": target_source,
            "difference": count - target,
            "added_since_last": dg.MetadataValue.json(sorted(current - previous)),
            "removed_since_last": dg.MetadataValue.json(sorted(previous - current)),
        },
    )


def matches_nepse_classification(
    universe: pd.DataFrame, classification: Sequence[SecurityDetail]
) -> dg.AssetCheckResult:
    """Our rule's included set against NEPSE's own list of listed companies, by security id.

    NEPSE's set is the classification rows it permits to trade: a row marked permittedToTrade "N" is
    excluded by our rule too (reason not_permitted_to_trade), and listed apart in the metadata."""
    included = universe[universe["included"]]
    ours = dict(zip(included["security_id"].astype(int), included["symbol"], strict=True))
    nepse = {s.id: s.symbol for s in classification if s.tradable}
    not_permitted = sorted(s.symbol for s in classification if not s.tradable)
    reasons = dict(zip(universe["security_id"].astype(int), universe["reason"], strict=True))
    only_ours = [f"{ours[i]} (our rule: included)" for i in sorted(ours.keys() - nepse.keys())]
    only_nepse = [
        f"{nepse[i]} (our rule: {reasons.get(i, 'in none of the company, security or promoter lists')})"
        for i in sorted(nepse.keys() - ours.keys())
    ]
    passed = not only_ours and not only_nepse
    return dg.AssetCheckResult(
        check_name=MATCHES_NEPSE_CLASSIFICATION,
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=None
        if passed
        else (
            f"Only in our universe: {', '.join(only_ours) or 'none'}. "
            f"Only in NEPSE's classification: {', '.join(only_nepse) or 'none'}."
        ),
        metadata={
            "included": len(ours),
            "nepse_classification": len(nepse),
            "only_in_universe": dg.MetadataValue.json(only_ours),
            "only_in_nepse_classification": dg.MetadataValue.json(only_nepse),
            "not_permitted_to_trade": dg.MetadataValue.json(not_permitted),
        },
    )


def only_ordinary_shares(conn: Connection) -> dg.AssetCheckResult:
    """The stored included rows are all active ordinary shares (not a fund, debenture or promoter share)."""
    offenders = included_not_ordinary(conn)
    return dg.AssetCheckResult(
        check_name=ONLY_ORDINARY_SHARES,
        passed=not offenders,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"offenders": dg.MetadataValue.json([list(row) for row in offenders])},
    )


def symbols_unique(conn: Connection) -> dg.AssetCheckResult:
    """No symbol is carried by two included securities."""
    symbols = included_symbol_list(conn)
    duplicates = sorted({s for s in symbols if symbols.count(s) > 1})
    return dg.AssetCheckResult(
        check_name=SYMBOLS_UNIQUE,
        passed=not duplicates,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"duplicates": dg.MetadataValue.json(duplicates), "included": len(symbols)},
    )
