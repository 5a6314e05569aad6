"""Which certificates the NEPSE client trusts: certifi's roots plus the intermediates the package ships.

nepalstock.com's server sends its leaf without the "GeoTrust TLS RSA CA G1" intermediate, so a client that
trusts only the roots cannot build the chain (public NEPSE clients either turn verification off or bundle
that intermediate). The product adds the shipped intermediate (ntx_assets/nepse/certificates/) to certifi's
roots and verifies as usual: the chain must still end at a root certifi trusts, so a shipped intermediate
alone trusts nothing. `NTX_NEPSE_CA_BUNDLE` replaces all of it with the user's own bundle.

The leaf's AIA "CA Issuers" address is not chased at run time: it would be a plain-HTTP fetch from a host
the server names, inside every run, for a chain that changes once in years. When NEPSE's certificate moves
to another CA the first call fails with NepseTLSError naming the fix, and `make live-check` reports the
leaf's issuer, its CA Issuers address and whether the shipped intermediates cover it.
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID, NameOID

CERTIFICATES_DIR = Path(__file__).with_name("certificates")


def shipped_intermediates() -> list[Path]:
    return sorted(CERTIFICATES_DIR.glob("*.pem"))


def trust_context(
    roots: str | Path | None = None, intermediates: Sequence[Path] | None = None
) -> ssl.SSLContext:
    """A verifying client context: `roots` (default certifi's) plus `intermediates` (default the shipped)."""
    context = ssl.create_default_context(cafile=str(roots or certifi.where()))
    for path in shipped_intermediates() if intermediates is None else intermediates:
        context.load_verify_locations(cafile=str(path))
    return context


@dataclass(frozen=True)
class ShippedCertificate:
    file: str
    subject: str
    issuer: str
    not_after: dt.datetime
    sha256: str


def describe_shipped() -> list[ShippedCertificate]:
    described = []
    for path in shipped_intermediates():
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        described.append(
            ShippedCertificate(
                file=path.name,
                subject=common_name(cert.subject),
                issuer=common_name(cert.issuer),
                not_after=cert.not_valid_after_utc,
                sha256=cert.fingerprint(hashes.SHA256()).hex(":").upper(),
            )
        )
    return described


def common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string()


def ca_issuers_urls(cert: x509.Certificate) -> list[str]:
    """The leaf's AIA "CA Issuers" addresses: where its issuer's certificate is published."""
    try:
        access = cert.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
    except x509.ExtensionNotFound:
        return []
    return [
        str(item.access_location.value)
        for item in access
        if item.access_method == AuthorityInformationAccessOID.CA_ISSUERS
    ]


@dataclass(frozen=True)
class ServerChain:
    """What a server presents, read without verifying, and whether the product's trust covers it."""

    leaf_subject: str
    leaf_issuer: str
    leaf_not_after: dt.datetime
    ca_issuers: list[str]
    issuer_shipped: bool

    def describe(self) -> str:
        shipped = "shipped in the package" if self.issuer_shipped else "NOT shipped in the package"
        where = ", ".join(self.ca_issuers) or "no CA Issuers address"
        return (
            f"leaf {self.leaf_subject} issued by {self.leaf_issuer} ({shipped}; {where}), "
            f"valid to {self.leaf_not_after:%Y-%m-%d}"
        )


def server_chain(host: str, port: int, timeout: float = 10.0) -> ServerChain:
    """The server's leaf, fetched without verification (only to report on it, never to trust it)."""
    pem = ssl.get_server_certificate((host, port), timeout=timeout)
    leaf = x509.load_pem_x509_certificate(pem.encode())
    issuers = {x509.load_pem_x509_certificate(path.read_bytes()).subject for path in shipped_intermediates()}
    return ServerChain(
        leaf_subject=common_name(leaf.subject),
        leaf_issuer=common_name(leaf.issuer),
        leaf_not_after=leaf.not_valid_after_utc,
        ca_issuers=ca_issuers_urls(leaf),
        issuer_shipped=leaf.issuer in issuers,
    )
