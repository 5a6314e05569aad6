"""company_universe: exactly the listed ordinary-share companies, keyed on NEPSE's security id."""

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dagster as dg
import pandas as pd
from sqlalchemy import Connection, bindparam, select, update

from ntx_assets.clock import nepal_now
from ntx_assets.defs.partitions import symbol_partitions
from ntx_assets.nepse import NepseClient, SecurityDetail
from ntx_assets.resources import CheckTargetsResource, NepseResource, WarehouseResource
from ntx_assets.step_metrics import NepseStep
from ntx_assets.universe import NOT_LISTED, classify, included_symbols, summarize
from ntx_assets.warehouse import upsert
from ntx_assets.warehouse.queries import included_symbols as stored_included_symbols
from ntx_assets.warehouse.schema import companies, company_symbols

COUNT_MATCHES_TARGET = "universe_count_matches_target"
ONLY_ORDINARY_SHARES = "universe_has_only_ordinary_shares"
SYMBOLS_UNIQUE = "universe_symbols_unique"
MATCHES_NEPSE_CLASSIFICATION = "universe_matches_nepse_classification"

_COMPANY_COLUMNS = (
    "security_id",
    "symbol",
    "name",
    "sector",
    "instrument_type",
    "status",
    "included",
    "reason",
)


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
        # last_seen is bumped below for every row seen, so it neither counts as a change nor rewrites rows.
        counts = upsert(
            conn,
            companies,
            _company_rows(universe, listing_dates, today),
            insert_only={"first_seen", "last_seen"},
        )
        seen_ids = universe["security_id"].tolist()
        conn.execute(update(companies).where(companies.c.security_id.in_(seen_ids)).values(last_seen=today))
        # A security absent from every NEPSE list is no longer listed: it leaves the universe, and its rows,
        # prices and filings stay under its security id.
        left = (
            conn.execute(
                update(companies)
                .where(companies.c.included, companies.c.security_id.not_in(seen_ids))
                .values(included=False, reason=NOT_LISTED)
                .returning(companies.c.symbol)
            )
            .scalars()
            .all()
        )
        upsert(conn, company_symbols, _symbol_rows(universe, today), insert_only={"first_seen"})
        missing_profiles = _missing_profiles(conn)

    step.plan(len(missing_profiles))
    profiles = _fetch_profiles(client, missing_profiles, nepse.max_concurrent_requests)
    if profiles:
        # An UPDATE, not an upsert: profiles only complete rows written above.
        with warehouse.engine.begin() as conn:
            conn.execute(
                update(companies)
                .where(companies.c.security_id == bindparam("p_security_id"))
                .values(
                    description=bindparam("p_description"),
                    logo_path=bindparam("p_logo_path"),
                    profile_fetched_at=bindparam("p_fetched_at"),
                ),
                profiles,
            )

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
            "preview": dg.MetadataValue.md(_preview(universe)),
        }
    )
    if check_targets.universe_target_auto:
        target = sum(s.tradable for s in classification)
        source = "auto: NEPSE's classification list (rows permitted to trade)"
    else:
        target, source = check_targets.universe_target, "NTX_UNIVERSE_TARGET (check_targets.universe_target)"
    yield from _checks(warehouse, target, source, len(current), previous, current)
    yield matches_nepse_classification(universe, classification)


def _company_rows(
    universe: pd.DataFrame, listing_dates: Mapping[int, Any], today: dt.date
) -> list[dict[str, Any]]:
    rows = []
    for record in universe.to_dict("records"):
        row = {column: record[column] for column in _COMPANY_COLUMNS}
        row["security_id"] = int(row["security_id"])
        row["included"] = bool(row["included"])
        row["name"] = record["name"] or record.get("security_name") or record["symbol"]
        row["website"] = record.get("website")
        row["listing_date"] = _as_date(listing_dates.get(row["security_id"]))
        row["first_seen"] = today
        row["last_seen"] = today
        rows.append({k: (None if _is_missing(v) else v) for k, v in row.items()})
    return rows


def _symbol_rows(universe: pd.DataFrame, today: dt.date) -> list[dict[str, Any]]:
    return [
        {"security_id": int(sid), "symbol": symbol, "first_seen": today}
        for sid, symbol in zip(universe["security_id"], universe["symbol"], strict=True)
    ]


def _missing_profiles(conn: Connection) -> list[int]:
    # Profiles rarely change; fetch them once per company (new, or never fetched), not every run.
    query = select(companies.c.security_id).where(
        companies.c.included, companies.c.profile_fetched_at.is_(None)
    )
    return sorted(conn.execute(query).scalars())


def _fetch_profiles(client: NepseClient, security_ids: list[int], workers: int) -> list[dict[str, Any]]:
    if not security_ids:
        return []
    fetched_at = nepal_now()

    def fetch(security_id: int) -> dict[str, Any]:
        profile = client.security_profile(security_id)
        return {
            "p_security_id": security_id,
            "p_description": profile.company_profile,
            "p_logo_path": profile.logo_file_path,
            "p_fetched_at": fetched_at,
        }

    # The client paces every request; threads only keep its concurrency budget busy.
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(fetch, security_ids))


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


def _checks(
    warehouse: WarehouseResource,
    target: int,
    target_source: str,
    count: int,
    previous: set[str],
    current: set[str],
) -> Iterator[dg.AssetCheckResult]:
    yield dg.AssetCheckResult(
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
    with warehouse.engine.connect() as conn:
        yield only_ordinary_shares(conn)
        yield symbols_unique(conn)


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
    offenders = conn.execute(
        select(companies.c.symbol, companies.c.instrument_type, companies.c.status).where(
            companies.c.included,
            (companies.c.instrument_type != "Equity")
            | (companies.c.status != "A")
            | (companies.c.reason != "included")
            | companies.c.name.ilike("%promot_r share%"),
        )
    ).all()
    return dg.AssetCheckResult(
        check_name=ONLY_ORDINARY_SHARES,
        passed=not offenders,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"offenders": dg.MetadataValue.json([list(map(str, row)) for row in offenders])},
    )


def symbols_unique(conn: Connection) -> dg.AssetCheckResult:
    """No symbol is carried by two included securities."""
    symbols = list(conn.execute(select(companies.c.symbol).where(companies.c.included)).scalars())
    duplicates = sorted({s for s in symbols if symbols.count(s) > 1})
    return dg.AssetCheckResult(
        check_name=SYMBOLS_UNIQUE,
        passed=not duplicates,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"duplicates": dg.MetadataValue.json(duplicates), "included": len(symbols)},
    )


def _preview(universe: pd.DataFrame, rows: int = 10) -> str:
    included = universe[universe["included"]].sort_values("symbol").head(rows)
    lines = ["| symbol | name | sector |", "|---|---|---|"]
    lines += [f"| {r.symbol} | {r.name} | {r.sector} |" for r in included.itertuples()]
    excluded = universe[~universe["included"]].groupby("reason").head(1).sort_values("reason")
    lines += ["", "| excluded example | reason |", "|---|---|"]
    lines += [f"| {r.symbol} | {r.reason} |" for r in excluded.itertuples()]
    return "\n".join(lines)


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))
