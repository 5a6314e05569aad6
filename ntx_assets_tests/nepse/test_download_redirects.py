"""Redirects on document downloads: followed on the same origin, refused to another host.

The stand-in never redirects, so this runs a minimal NEPSE-shaped server on loopback: a WASM module
with fixed cut positions, a prove answer built for it, and a fetchFiles endpoint that redirects.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import wasmtime

from ntx_assets.nepse import NepseClient, NepseHTTPError

CUTS = {"cdx": 25, "rdx": 36, "bdx": 64, "ndx": 91, "mdx": 113}
CLEAN = "c" * 150
PDF = b"%PDF-1.4 redirected document"


def _raw_token() -> str:
    raw = CLEAN
    for position in sorted(CUTS.values()):
        raw = raw[:position] + "#" + raw[position:]
    return raw


WASM = wasmtime.wat2wasm(
    "(module "
    + " ".join(
        f'(func (export "{name}") (param i32 i32 i32 i32 i32) (result i32) (i32.const {value}))'
        for name, value in CUTS.items()
    )
    + ")"
)


class _Handler(BaseHTTPRequestHandler):
    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/assets/prod/css.wasm":
            self._send(200, WASM, {"Content-Type": "application/wasm"})
        elif parts.path == "/api/authenticate/prove":
            token = _raw_token()
            payload = {"accessToken": token, "refreshToken": token, "serverTime": 0}
            payload.update({f"salt{n}": n for n in range(1, 6)})
            self._send(200, json.dumps(payload).encode(), {"Content-Type": "application/json"})
        elif self.headers.get("Authorization") != f"Salter {CLEAN}":
            self._send(401, b"", {})
        elif parts.path == "/api/nots/security/fetchFiles":
            location = parse_qs(parts.query)["fileLocation"][0]
            if location == "moved.pdf":
                self._send(302, b"", {"Location": "/files/moved.pdf"})
            else:
                self._send(302, b"", {"Location": "http://127.0.0.2:9/steal.pdf"})
        elif parts.path == "/files/moved.pdf":
            self._send(200, PDF, {"Content-Type": "application/pdf"})
        else:
            self._send(404, b"{}", {})

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_same_origin_redirect_is_followed(base_url: str) -> None:
    sink = io.BytesIO()
    with NepseClient(base_url, requests_per_second=100) as client:
        result = client.download(file_path="moved.pdf", max_bytes=1000, sink=sink)
    assert sink.getvalue() == PDF and result.url == f"{base_url}/files/moved.pdf"


def test_redirect_to_another_host_is_refused(base_url: str) -> None:
    client = NepseClient(base_url, requests_per_second=100)
    with client, pytest.raises(NepseHTTPError, match=r"redirect to http://127\.0\.0\.2:9 refused") as caught:
        client.download(file_path="elsewhere.pdf", max_bytes=1000, sink=io.BytesIO())
    assert caught.value.attempts == 1
