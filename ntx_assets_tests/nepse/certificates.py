"""Certificates minted for the TLS tests: a private root, an intermediate and a loopback leaf."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID


def certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name | None,
    signer: ec.EllipticCurvePrivateKey,
    ca: bool,
    ca_issuers: str | None = None,
) -> x509.Certificate:
    """Valid from five minutes before the real clock for a day: the TLS stack checks the real clock."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
    if ca_issuers:
        builder = builder.add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(ca_issuers)
                    )
                ]
            ),
            critical=False,
        )
    return builder.sign(signer, hashes.SHA256())


def write_pem(path: Path, *certs: x509.Certificate) -> Path:
    path.write_bytes(b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs))
    return path


def write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return path


@dataclass(frozen=True)
class Chain:
    root: Path  # the root alone, as a trust store
    intermediate: Path  # the intermediate alone
    leaf: Path  # the leaf alone: what a server that forgets its intermediate sends
    leaf_key: Path
    ca_issuers: str


def mint_chain(folder: Path, ca_issuers: str = "http://127.0.0.1:9/ntx-test-intermediate.crt") -> Chain:
    """root -> intermediate -> leaf for 127.0.0.1, the leaf naming its issuer's address (AIA CA Issuers)."""
    root_key, middle_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = certificate("ntx test root", root_key, None, root_key, ca=True)
    middle = certificate("ntx test intermediate", middle_key, root.subject, root_key, ca=True)
    leaf = certificate("127.0.0.1", leaf_key, middle.subject, middle_key, ca=False, ca_issuers=ca_issuers)
    return Chain(
        root=write_pem(folder / "root.pem", root),
        intermediate=write_pem(folder / "intermediate.pem", middle),
        leaf=write_pem(folder / "leaf.pem", leaf),
        leaf_key=write_key(folder / "leaf.key", leaf_key),
        ca_issuers=ca_issuers,
    )
