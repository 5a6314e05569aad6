"""The streaming size limit when no Content-Length is declared (chunked answers), without a network."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator

import httpx
import pytest

from ntx_assets.nepse.downloads import Download, _SinkStream
from ntx_assets.nepse.failures import CallFailure


class _Chunks(httpx.SyncByteStream):
    def __init__(self, *chunks: bytes) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks


def _chunked(*chunks: bytes) -> httpx.Response:
    return httpx.Response(
        200,
        headers={"Content-Type": "application/pdf"},
        stream=_Chunks(*chunks),
        request=httpx.Request("GET", "http://standin/api/nots/security/fetchFiles?fileLocation=a.pdf"),
    )


def test_streamed_bytes_over_the_limit_stop_the_download_and_rewind_the_sink() -> None:
    sink = io.BytesIO(b"kept")
    sink.seek(0, io.SEEK_END)
    stream = _SinkStream(sink, max_bytes=10)
    with pytest.raises(CallFailure) as caught:
        stream.consume(_chunked(b"123456", b"789012"))
    assert caught.value.kind.__name__ == "DownloadTooLarge" and not caught.value.retryable
    assert sink.getvalue() == b"kept"  # what was there before stays; the partial document does not


def test_streamed_bytes_within_the_limit_are_hashed() -> None:
    sink = io.BytesIO()
    result = _SinkStream(sink, max_bytes=12).consume(_chunked(b"123456", b"789012"))
    assert isinstance(result, Download)
    assert (result.byte_size, result.sha256) == (12, hashlib.sha256(b"123456789012").hexdigest())
    assert result.content_type == "application/pdf" and sink.getvalue() == b"123456789012"


def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    response = httpx.Response(
        200,
        headers={"Content-Length": "999"},
        stream=_Chunks(b"x"),
        request=httpx.Request("GET", "http://standin/x"),
    )
    sink = io.BytesIO()
    with pytest.raises(CallFailure, match="999 bytes"):
        _SinkStream(sink, max_bytes=10).consume(response)
    assert sink.getvalue() == b""
