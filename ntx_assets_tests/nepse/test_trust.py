"""The product's TLS trust: certifi's roots plus the shipped intermediate, proved on a stand-in that, like
nepalstock.com, serves its leaf without the intermediate."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ntx_assets.nepse import NepseClient, NepseTLSError
from ntx_assets.nepse.check import tls_report
from ntx_assets.nepse.trust import describe_shipped, server_chain, shipped_intermediates, trust_context
from ntx_assets_tests.nepse.certificates import Chain, mint_chain
from ntx_assets_tests.pinned import PINNED_TODAY
from ntx_assets_tests.tools.standin import StandinConfig, StandinServer

GEOTRUST_SHA256 = (
    "C0:6E:30:7F:7C:FC:1D:32:FA:72:A4:C0:33:C8:7B:90:01:9A:F2:16:F0:77:5D:64:97:8A:2E:CA:6C:8A:23:0E"
)


@pytest.mark.filterwarnings("ignore:Parsed a serial number:cryptography.utils.CryptographyDeprecationWarning")
def test_the_shipped_intermediate_is_geotrusts_signed_by_certifis_digicert_root() -> None:
    (path,) = shipped_intermediates()
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    assert cert.fingerprint(hashes.SHA256()).hex(":").upper() == GEOTRUST_SHA256
    roots = x509.load_pem_x509_certificates(Path(certifi.where()).read_bytes())
    (issuer,) = [root for root in roots if root.subject == cert.issuer]
    assert "DigiCert Global Root G2" in issuer.subject.rfc4514_string()
    cert.verify_directly_issued_by(issuer)  # raises on a bad signature
    assert cert.not_valid_before_utc <= dt.datetime(2026, 11, 20, tzinfo=dt.UTC) < cert.not_valid_after_utc
    assert cert.not_valid_after_utc == dt.datetime(2027, 11, 2, 12, 23, 37, tzinfo=dt.UTC)
    (described,) = describe_shipped()
    assert (described.subject, described.issuer, described.sha256) == (
        "GeoTrust TLS RSA CA G1",
        "DigiCert Global Root G2",
        GEOTRUST_SHA256,
    )


def test_the_default_trust_is_certifis_roots_plus_the_shipped_intermediate() -> None:
    subjects = {cert["subject"] for cert in trust_context().get_ca_certs()}
    names = {value for subject in subjects for rdn in subject for (key, value) in rdn if key == "commonName"}
    assert {"GeoTrust TLS RSA CA G1", "DigiCert Global Root G2"} <= names
    assert len(trust_context().get_ca_certs()) == len(trust_context(intermediates=[]).get_ca_certs()) + 1


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Chain:
    return mint_chain(tmp_path_factory.mktemp("chain"))


@pytest.fixture(scope="module")
def leaf_only_standin(chain: Chain) -> Iterator[StandinServer]:
    config = StandinConfig(end_date=PINNED_TODAY)
    with StandinServer(config, tls=(chain.leaf, chain.leaf_key)) as server:
        yield server


def _companies(server: StandinServer, verify: object) -> int:
    with NepseClient(server.base_url, verify=verify, requests_per_second=50) as client:  # type: ignore[arg-type]
        return len(client.company_list())


def test_a_leaf_without_its_intermediate_verifies_with_the_intermediate_shipped(
    leaf_only_standin: StandinServer, chain: Chain
) -> None:
    assert leaf_only_standin.base_url.startswith("https://")
    assert (
        _companies(leaf_only_standin, trust_context(roots=chain.root, intermediates=[chain.intermediate])) > 0
    )


@pytest.mark.parametrize("trust", ["root only", "intermediate only", "certifi and the shipped"])
def test_without_the_chains_intermediate_the_leaf_is_refused(
    leaf_only_standin: StandinServer, chain: Chain, trust: str
) -> None:
    verify = {
        "root only": trust_context(roots=chain.root, intermediates=[]),
        # a bundle of the intermediate alone (NTX_NEPSE_CA_BUNDLE replaces the roots): no chain to a root
        "intermediate only": str(chain.intermediate),
        "certifi and the shipped": True,
    }[trust]
    with pytest.raises(NepseTLSError, match="certificate verification failed") as caught:
        _companies(leaf_only_standin, verify)
    assert "make live-check" in str(caught.value) and caught.value.attempts == 1


def test_the_chain_report_names_the_leafs_issuer_and_where_it_is_published(
    leaf_only_standin: StandinServer, chain: Chain
) -> None:
    report = server_chain(leaf_only_standin.host, leaf_only_standin.port)
    assert (report.leaf_subject, report.leaf_issuer) == ("127.0.0.1", "ntx test intermediate")
    assert report.ca_issuers == [chain.ca_issuers]
    assert report.issuer_shipped is False
    assert "NOT shipped in the package" in report.describe() and chain.ca_issuers in report.describe()


def test_the_live_check_reports_the_chain_and_the_shipped_certificates_expiry(
    leaf_only_standin: StandinServer,
) -> None:
    out = io.StringIO()
    tls_report(leaf_only_standin.base_url, None, out, today=dt.date(2026, 11, 20))
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "TLS trust: certifi's roots + GeoTrust TLS RSA CA G1 (issued by DigiCert Global Root G2), valid to "
        "2027-11-02, 347 days left"
    )
    assert lines[1].startswith("TLS chain: leaf 127.0.0.1 issued by ntx test intermediate (NOT shipped")
    assert "CA Issuers address" in lines[2]
    out = io.StringIO()
    tls_report(leaf_only_standin.base_url, None, out, today=dt.date(2027, 11, 3))
    assert "EXPIRED: replace it" in out.getvalue().splitlines()[0]
    out = io.StringIO()
    tls_report(leaf_only_standin.base_url.replace("https", "http"), None, out)
    assert out.getvalue() == ""  # plain HTTP (the stand-in's default): nothing to report
