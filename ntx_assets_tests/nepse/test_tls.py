"""TLS verification against a real HTTPS server on loopback with a certificate from a private CA."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from ntx_assets.nepse import NepseAuthError, NepseClient, NepseTLSError
from ntx_assets_tests.nepse.certificates import certificate, write_key, write_pem


class _NotFound(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"message":"not here"}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("tls")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = certificate("ntx test CA", ca_key, None, ca_key, ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_cert = certificate("127.0.0.1", leaf_key, ca_cert.subject, ca_key, ca=False)
    ca_file = write_pem(folder / "ca.pem", ca_cert)
    chain_file = write_pem(folder / "leaf.pem", leaf_cert)
    key_file = write_key(folder / "leaf.key", leaf_key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain_file, key_file)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", ca_file
    finally:
        server.shutdown()
        server.server_close()


def test_unknown_chain_raises_tls_error_naming_the_fix(https_server: tuple[str, Path]) -> None:
    base_url, _ = https_server
    client = NepseClient(base_url, requests_per_second=50, backoff_base_seconds=0.01)
    with client, pytest.raises(NepseTLSError) as caught:
        client.company_list()
    message = str(caught.value)
    assert "certificate verification failed" in message
    assert "NTX_NEPSE_CA_BUNDLE=/path/to/bundle-with-intermediate.pem" in message
    assert "NTX_NEPSE_VERIFY_TLS=false" in message
    assert caught.value.attempts == 1  # never retried: a certificate does not heal
    assert client.stats.total_retries == 0


@pytest.mark.parametrize("use_bundle", [True, False], ids=["ca-bundle", "verify-off"])
def test_ca_bundle_or_verify_off_gets_through_tls(https_server: tuple[str, Path], use_bundle: bool) -> None:
    base_url, ca_file = https_server
    verify: bool | str = str(ca_file) if use_bundle else False
    client = NepseClient(base_url, verify=verify, requests_per_second=50)
    # TLS succeeds; this server has no NEPSE on it, so the handshake fails with a plain 404.
    with client, pytest.raises(NepseAuthError, match="HTTP 404"):
        client.company_list()
