"""python -m ntx_assets.nepse.check: a read-only probe of NEPSE (the live site by default) with the
product's own client and models, before the first live run.

    python -m ntx_assets.nepse.check                       # NTX_NEPSE_BASE_URL, default the live site
    python -m ntx_assets.nepse.check --symbols NABIL,ACLBSL --save captures/2026-12-04

It calls every endpoint the product reads once (the per-company ones for each of --symbols), at the
product's rate (NTX_REQUESTS_PER_SECOND), parses each answer with the product's models, and prints one line
per endpoint: HTTP status, rows, fields the models refused (with the value), declared fields no row carried,
fields the models do not know, and the time. `--save DIR` writes each raw answer as JSON (any key that
names a token, a cookie or a salt blanked), to hand back as test data. It writes nothing else: no
warehouse, no Dagster run. The exit status is 0 when every endpoint answered and parsed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from ntx_assets.common.clock import nepal_now
from ntx_assets.nepse.client import NepseClient
from ntx_assets.nepse.errors import NepseError
from ntx_assets.nepse.models import (
    AgmApplication,
    Company,
    CorporateAction,
    DividendApplication,
    Holiday,
    MarketStatus,
    Report,
    Security,
    SecurityDetail,
    SecurityProfile,
    SecurityShares,
    TodayPrice,
)
from ntx_assets.nepse.transport import Call
from ntx_assets.nepse.trust import describe_shipped, server_chain
from ntx_assets.settings import SettingsError, load_settings

EXAMPLES = 3  # refused values quoted per field
# Keys whose values never leave this machine in a saved answer.
_SECRET = re.compile(r"token|cookie|salt|authorization|password|secret", re.IGNORECASE)


@dataclass
class Probe:
    """One endpoint's answer as the product's models read it."""

    endpoint: str
    status: str = "-"
    rows: int = 0
    refused: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.refused


def examine(model: type[BaseModel], payload: Any) -> tuple[int, list[str], list[str], list[str]]:
    """(rows, refused, absent, unknown) of a raw answer: every field each row's validation refused with
    its value, the declared fields no row carried, and the keys no model declares (dotted paths)."""
    rows = payload if isinstance(payload, list) else [payload]
    refused: dict[str, list[str]] = {}
    unknown: set[str] = set()
    seen: set[str] = set()
    for row in rows:
        try:
            record = model.model_validate(row)
        except ValidationError as error:
            for problem in error.errors():
                path = ".".join(str(part) for part in problem["loc"])
                refused.setdefault(path, []).append(f"{problem.get('input')!r} ({problem['msg']})")
            continue
        unknown |= set(_extras(record))
        seen |= set(_present(record))
    # A declared field no row carried, under a parent some row did carry (an absent object's own fields
    # are not listed again).
    missing = {
        path for path in set(_declared(model)) - seen if "." not in path or path.rsplit(".", 1)[0] in seen
    }
    return (
        len(rows),
        [f"{path} = {', '.join(values[:EXAMPLES])}" for path, values in sorted(refused.items())],
        sorted(missing) if rows and not refused else [],
        sorted(unknown),
    )


def _extras(record: BaseModel, prefix: str = "") -> Iterator[str]:
    for key in record.model_extra or {}:
        yield f"{prefix}{key}"
    for name, info in type(record).model_fields.items():
        value = getattr(record, name)
        alias = info.alias or name
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, BaseModel):
                yield from _extras(child, f"{prefix}{alias}.")


def _present(record: BaseModel, prefix: str = "") -> Iterator[str]:
    for name in record.model_fields_set:
        info = type(record).model_fields.get(name)
        if info is None:
            continue
        alias = info.alias or name
        yield f"{prefix}{alias}"
        value = getattr(record, name)
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, BaseModel):
                yield from _present(child, f"{prefix}{alias}.")


def _declared(model: type[BaseModel], prefix: str = "", depth: int = 0) -> Iterator[str]:
    for name, info in model.model_fields.items():
        alias = info.alias or name
        yield f"{prefix}{alias}"
        nested = _model_of(info.annotation)
        if nested is not None and depth < 3:
            yield from _declared(nested, f"{prefix}{alias}.", depth + 1)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
        for inner in getattr(candidate, "__args__", ()):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def scrubbed(payload: Any) -> Any:
    """`payload` with the value of every key that names a token, cookie, salt or secret blanked."""
    if isinstance(payload, dict):
        return {k: "<removed>" if _SECRET.search(str(k)) else scrubbed(v) for k, v in payload.items()}
    if isinstance(payload, list):
        return [scrubbed(item) for item in payload]
    return payload


class Checker:
    """Calls each endpoint once through the product's client and records what its models made of it."""

    def __init__(self, client: NepseClient, save: Path | None = None) -> None:
        self.client = client
        self.save = save
        self.probes: list[Probe] = []
        self._answers: list[tuple[Call, Any]] = []
        client.observe(lambda call, payload: self._answers.append((call, payload)))

    def probe(self, label: str, model: type[BaseModel], fetch: Callable[[], Any]) -> Any:
        probe = Probe(label)
        self.probes.append(probe)
        self._answers.clear()
        started = time.monotonic()
        result: Any = None
        try:
            result = fetch()
            probe.status = "200"
        except NepseError as error:
            probe.status = str(error.status_code) if error.status_code else type(error).__name__
            probe.error = str(error).splitlines()[0][:300]
        probe.seconds = time.monotonic() - started
        if self._answers:
            _, payload = self._answers[-1]
            probe.rows, probe.refused, probe.absent, probe.unknown = examine(model, payload)
            if self.save is not None:
                self._write(label, payload)
        return result

    def document(self, label: str, reports: Sequence[Report], max_bytes: int) -> None:
        """Download one document of the reports (the artifacts asset's call), into memory only."""
        document = next((d for r in reports for d in r.documents if d.file_path or d.encrypted_id), None)
        probe = Probe(label)
        self.probes.append(probe)
        if document is None:
            probe.error = "no report lists a document to download"
            return
        started = time.monotonic()
        try:
            download = self.client.download(
                file_path=document.file_path or None,
                encrypted_id=None if document.file_path else document.encrypted_id,
                max_bytes=max_bytes,
                sink=io.BytesIO(),
            )
            probe.status, probe.rows = "200", 1
            probe.note = f"{download.byte_size:,} bytes, {download.content_type or 'no content type'}"
        except NepseError as error:
            probe.status = str(error.status_code) if error.status_code else type(error).__name__
            probe.error = str(error).splitlines()[0][:300]
        probe.seconds = time.monotonic() - started

    def _write(self, label: str, payload: Any) -> None:
        assert self.save is not None
        self.save.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_") + ".json"
        (self.save / name).write_text(json.dumps(scrubbed(payload), indent=1, ensure_ascii=False) + "\n")


def run_check(
    client: NepseClient, symbols: Sequence[str], *, max_bytes: int, save: Path | None
) -> list[Probe]:
    """Every endpoint the product reads, once; the per-company ones for each of `symbols`."""
    check = Checker(client, save)
    status: MarketStatus | None = check.probe("market-open", MarketStatus, client.market_status)
    today = status.business_date if status is not None else dt.date.today()
    check.probe(f"holiday/list?year={today.year}", Holiday, lambda: client.holidays(today.year))
    companies: list[Company] = check.probe("company/list", Company, client.company_list) or []
    check.probe("security?nonDelisted=true", Security, client.security_list)
    check.probe("security/promoters", SecurityDetail, client.promoters)
    check.probe("security/classification", SecurityDetail, client.classification)
    check.probe(f"today-price?businessDate={today}", TodayPrice, lambda: client.today_prices(today))
    by_symbol = {company.symbol: company.id for company in companies}
    for symbol in symbols:
        security_id = by_symbol.get(symbol)
        if security_id is None:
            check.probes.append(
                Probe(f"{symbol}: company/list", error=f"{symbol} is not in the company list")
            )
            continue
        check.probe(
            f"{symbol}: security/profile/{security_id}",
            SecurityProfile,
            lambda i=security_id: client.security_profile(i),
        )
        check.probe(
            f"{symbol}: security/{security_id} (POST)",
            SecurityShares,
            lambda i=security_id: client.security_shares(i),
        )
        reports = check.probe(
            f"{symbol}: application/reports/{security_id}", Report, lambda i=security_id: client.reports(i)
        )
        check.probe(
            f"{symbol}: security/corporate-actions/{security_id}",
            CorporateAction,
            lambda i=security_id: client.corporate_actions(i),
        )
        check.probe(
            f"{symbol}: application/dividend/{security_id}",
            DividendApplication,
            lambda i=security_id: client.dividend_notices(i),
        )
        check.probe(
            f"{symbol}: application/agm/{security_id}",
            AgmApplication,
            lambda i=security_id: client.agm_notices(i),
        )
        check.document(f"{symbol}: fetchFiles (one document)", reports or [], max_bytes)
    return check.probes


def render(probes: Sequence[Probe], base_url: str, out: TextIO) -> None:
    out.write(
        f"NEPSE at {base_url}: {sum(p.ok for p in probes)} of {len(probes)} endpoints answered and parsed\n"
    )
    width = max(len(p.endpoint) for p in probes)
    out.write(f"{'endpoint':<{width}}  status  rows  seconds  findings\n")
    for probe in probes:
        out.write(f"{probe.endpoint:<{width}}  {probe.status:>6}  {probe.rows:>4}  {probe.seconds:>7.2f}\n")
        lines = []
        if probe.error:
            lines.append(f"error: {probe.error}")
        if probe.note:
            lines.append(probe.note)
        lines += [f"refused: {item}" for item in probe.refused]
        if probe.absent:
            lines.append(f"declared, in no row: {', '.join(probe.absent)}")
        if probe.unknown:
            lines.append(f"not in the models: {', '.join(probe.unknown)}")
        for line in lines:
            out.write(f"{'':<{width}}  {line}\n")


def tls_report(base_url: str, ca_bundle: Path | None, out: TextIO, today: dt.date | None = None) -> None:
    """What the server presents and what the product trusts, before any call: the leaf's issuer and its CA
    Issuers address, whether the shipped intermediates cover it, and when each shipped one expires."""
    parts = urlsplit(base_url)
    if parts.scheme != "https":
        return
    today = today or nepal_now().date()
    if ca_bundle is not None:
        out.write(
            f"TLS trust: NTX_NEPSE_CA_BUNDLE={ca_bundle} (replaces certifi and the shipped intermediates)\n"
        )
    else:
        for shipped in describe_shipped():
            days = (shipped.not_after.date() - today).days
            state = f"{days} days left" if days > 0 else "EXPIRED: replace it (ntx_assets/nepse/certificates)"
            out.write(
                f"TLS trust: certifi's roots + {shipped.subject} (issued by {shipped.issuer}), valid to "
                f"{shipped.not_after:%Y-%m-%d}, {state}\n"
            )
    try:
        chain = server_chain(parts.hostname or "", parts.port or 443)
    except (OSError, ValueError) as error:
        out.write(f"TLS chain: could not read the server's certificate: {error}\n")
        return
    out.write(f"TLS chain: {chain.describe()}\n")
    if not chain.issuer_shipped and ca_bundle is None:
        out.write(
            "TLS chain: the server's issuer is not shipped: if the calls below fail certificate "
            "verification, fetch the issuer's certificate from its CA Issuers address and set "
            "NTX_NEPSE_CA_BUNDLE to certifi's roots with it appended\n"
        )


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ntx_assets.nepse.check", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--base-url", help="NEPSE's address (default: NTX_NEPSE_BASE_URL, else the live site)"
    )
    parser.add_argument(
        "--symbols", default="NABIL", help="companies for the per-company endpoints (default NABIL)"
    )
    parser.add_argument("--save", type=Path, help="write each raw answer as JSON into this folder")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    base_url = args.base_url or settings.nepse_base_url
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    tls_report(base_url, settings.nepse_ca_bundle, out)
    with NepseClient(base_url, **settings.client_options()) as client:
        probes = run_check(client, symbols, max_bytes=settings.max_artifact_bytes, save=args.save)
        calls = client.stats.total_calls
    render(probes, base_url, out)
    out.write(f"{calls} requests at {settings.requests_per_second:g} requests/s")
    out.write(f"; raw answers saved in {args.save}\n" if args.save else "\n")
    return 0 if all(probe.ok for probe in probes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
