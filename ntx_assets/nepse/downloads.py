"""Streaming report documents and logos to a caller's file, with a size cap and a sha256.

The paths come from NEPSE's own JSON, which we do not control, so they are checked before any request:
a path that could climb out of the document store is refused rather than encoded and sent.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from typing import BinaryIO, Final
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from ntx_assets.nepse.errors import DownloadTooLarge, UnsafePath
from ntx_assets.nepse.failures import CallFailure, check_status
from ntx_assets.nepse.session import ApiSession
from ntx_assets.nepse.transport import Call

SECURITY_FILES_PATH = "/api/nots/security/fetchFiles"
APPLICATION_FILES_PATH = "/api/nots/application/fetchFiles"
CHUNK_BYTES: Final = 64 * 1024
MAX_REDIRECTS: Final = 3


@dataclass(frozen=True)
class Download:
    byte_size: int
    sha256: str  # hex
    content_type: str | None
    url: str  # the URL the bytes finally came from


def _refuse(kind: str, value: str, reason: str) -> UnsafePath:
    return UnsafePath(
        f"refusing {kind} {value!r}: {reason}. NEPSE document paths look like "
        "'nabil_user/2026-08-06/Nabil Bank Limited 4th Quarter.pdf'; no request was sent.",
        params={kind: value},
    )


def check_file_path(file_path: str) -> str:
    """Return `file_path` if it is a plain relative path, else raise UnsafePath.

    The percent-decoded form is checked too, in case a server or proxy decodes the query twice.
    """
    if not file_path or not file_path.strip():
        raise _refuse("file_path", file_path, "it is empty")
    for form in dict.fromkeys((file_path, unquote(file_path))):
        if any(unicodedata.category(char) == "Cc" for char in form):
            raise _refuse("file_path", file_path, "it contains NUL or other control characters")
        if "\\" in form:
            raise _refuse("file_path", file_path, "it contains a backslash")
        if form.startswith(("/", "~")) or (len(form) > 1 and form[1] == ":" and form[0].isalpha()):
            raise _refuse("file_path", file_path, "it is absolute")
        if "://" in form:
            raise _refuse("file_path", file_path, "it is a URL, not a path")
        if ".." in form.split("/"):
            raise _refuse("file_path", file_path, "it contains a '..' segment")
    return file_path


def check_encrypted_id(encrypted_id: str) -> str:
    if not encrypted_id or any(char.isspace() or unicodedata.category(char) == "Cc" for char in encrypted_id):
        raise _refuse("encrypted_id", encrypted_id, "it is empty or contains whitespace/control characters")
    return encrypted_id


def download_call(*, file_path: str | None, encrypted_id: str | None) -> Call:
    if (file_path is None) == (encrypted_id is None):
        raise ValueError("pass exactly one of file_path or encrypted_id")
    if file_path is not None:
        return Call("GET", SECURITY_FILES_PATH, params={"fileLocation": check_file_path(file_path)})
    assert encrypted_id is not None
    return Call("GET", APPLICATION_FILES_PATH, params={"encryptedId": check_encrypted_id(encrypted_id)})


@dataclass(frozen=True)
class _Redirect:
    location: str


class _SinkStream:
    """Writes one attempt's bytes to the sink, rewinding first if an earlier attempt broke mid-stream."""

    def __init__(self, sink: BinaryIO, max_bytes: int) -> None:
        self._sink = sink
        self._max_bytes = max_bytes
        self._start = sink.tell() if sink.seekable() else None
        self._dirty = 0

    def _rewind(self) -> None:
        if not self._dirty:
            return
        if self._start is None:
            raise CallFailure(
                f"the transfer broke after {self._dirty} bytes and the sink cannot rewind for a retry",
                retryable=False,
            )
        self._sink.seek(self._start)
        self._sink.truncate()
        self._dirty = 0

    def _too_large(self, size_text: str) -> CallFailure:
        return CallFailure(
            f"document is {size_text}, over the limit of max_bytes={self._max_bytes}",
            retryable=False,
            kind=DownloadTooLarge,
        )

    def consume(self, response: httpx.Response) -> Download | _Redirect:
        if response.is_redirect and "Location" in response.headers:
            return _Redirect(response.headers["Location"])
        check_status(response)
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_bytes:
            raise self._too_large(f"{int(declared)} bytes (Content-Length)")
        self._rewind()
        digest = hashlib.sha256()
        size = 0
        for chunk in response.iter_bytes(CHUNK_BYTES):
            if size + len(chunk) > self._max_bytes:
                # Leave no half document behind when the sink allows it.
                if self._start is not None:
                    self._rewind()
                raise self._too_large(f"more than {self._max_bytes} bytes (streamed)")
            self._sink.write(chunk)
            self._dirty += len(chunk)
            digest.update(chunk)
            size += len(chunk)
        if size == 0:
            # A real document is never empty; an empty 200 is the server's glitch, worth another try.
            raise CallFailure("HTTP 200 with an empty body", retryable=True)
        return Download(size, digest.hexdigest(), response.headers.get("Content-Type"), str(response.url))


def download(
    session: ApiSession,
    *,
    file_path: str | None,
    encrypted_id: str | None,
    max_bytes: int,
    sink: BinaryIO,
) -> Download:
    """Stream one document into `sink`; raises UnsafePath before any request for a suspicious path."""
    call = download_call(file_path=file_path, encrypted_id=encrypted_id)
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be positive, got {max_bytes}")
    stream = _SinkStream(sink, max_bytes)
    origin = urlsplit(session.transport.base_url)

    def attempt() -> Download:
        url = session.transport.base_url + call.target
        for _ in range(MAX_REDIRECTS + 1):
            result = session.authorized_exchange(call, stream.consume, url=url)
            if isinstance(result, Download):
                return result
            target = urljoin(url, result.location)
            parts = urlsplit(target)
            if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
                raise CallFailure(
                    f"redirect to {parts.scheme}://{parts.netloc} refused (documents come only from "
                    f"{origin.scheme}://{origin.netloc})",
                    retryable=False,
                )
            url = target
        raise CallFailure(f"more than {MAX_REDIRECTS} redirects", retryable=False)

    return session.transport.run(call, attempt)
