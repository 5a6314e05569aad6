"""Where an archive's files come from: a local folder (a clone of the archive) or an HTTP(S) base URL.

`NTX_PRICE_ARCHIVE` names either. A folder is read as it is (`<folder>/<SYMBOL>.csv`, or the archive
repository's own layout `<folder>/data/company-wise/<SYMBOL>.csv`). A URL gets one GET per company file,
`<base>/<SYMBOL>.csv` (for the archive on GitHub:
https://raw.githubusercontent.com/Aabishkar2/nepse-data/main/data/company-wise), paced by its own token
bucket (`NTX_PRICE_ARCHIVE_REQUESTS_PER_SECOND`) and conditional: the ETag and Last-Modified of the last
import are sent back, and a 304 means nothing to read. A 404 means the archive has no file for that symbol;
any other failure fails that company alone (ArchiveFetchError).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from ntx_assets.nepse.pacing import TokenBucket

ARCHIVE_LAYOUT = Path("data") / "company-wise"


@dataclass(frozen=True)
class FileState:
    """What identifies the version of one company file that was last imported."""

    sha256: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Fetched:
    """One company file: `text` None when it is unchanged since `known` (or absent: `missing`)."""

    symbol: str
    text: str | None
    state: FileState | None
    missing: bool = False

    @property
    def unchanged(self) -> bool:
        return self.text is None and not self.missing


class ArchiveFetchError(RuntimeError):
    """A company file that could not be read: that company fails, the others go on."""


class ArchiveSource(Protocol):
    location: str

    def symbols(self) -> list[str] | None: ...

    def fetch(self, symbol: str, known: FileState | None) -> Fetched: ...


def open_archive(location: str, *, requests_per_second: float = 2.0, timeout: float = 30.0) -> ArchiveSource:
    """The source `location` names: an http(s) URL, else a folder that must exist."""
    if location.startswith(("http://", "https://")):
        return HttpArchive(location, requests_per_second=requests_per_second, timeout=timeout)
    folder = Path(location).expanduser()
    if not folder.is_dir():
        raise ArchiveFetchError(
            f"The price archive {location!r} is neither an http(s) URL nor a folder: set NTX_PRICE_ARCHIVE "
            "to a clone of github.com/Aabishkar2/nepse-data (or its data/company-wise folder), or to a base "
            "URL such as https://raw.githubusercontent.com/Aabishkar2/nepse-data/main/data/company-wise"
        )
    return LocalArchive(folder)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LocalArchive:
    def __init__(self, folder: Path) -> None:
        self.folder = folder / ARCHIVE_LAYOUT if (folder / ARCHIVE_LAYOUT).is_dir() else folder
        self.location = str(self.folder)

    def symbols(self) -> list[str]:
        return sorted(path.stem for path in self.folder.glob("*.csv"))

    def fetch(self, symbol: str, known: FileState | None) -> Fetched:
        path = self.folder / f"{symbol}.csv"
        if not path.is_file():
            return Fetched(symbol, None, None, missing=True)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise ArchiveFetchError(f"{symbol}: cannot read {path}: {error}") from error
        state = FileState(_digest(data))
        if known is not None and known.sha256 == state.sha256:
            return Fetched(symbol, None, state)
        return Fetched(symbol, _decode(symbol, data), state)


def _retryable(error: BaseException) -> bool:
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code >= 500 or error.response.status_code == 429
    return isinstance(error, httpx.TransportError)


class HttpArchive:
    def __init__(self, base_url: str, *, requests_per_second: float, timeout: float) -> None:
        self.location = base_url.rstrip("/")
        self._bucket = TokenBucket(requests_per_second, burst=1)
        self._client = httpx.Client(timeout=timeout, follow_redirects=True)
        self.requests = 0

    def symbols(self) -> None:
        # An HTTP base URL cannot be listed: the caller names the symbols (the warehouse's, or --symbols).
        return None

    def fetch(self, symbol: str, known: FileState | None) -> Fetched:
        headers = {}
        if known is not None and known.etag:
            headers["If-None-Match"] = known.etag
        if known is not None and known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        url = f"{self.location}/{symbol}.csv"
        try:
            response = self._get(url, headers)
        except httpx.HTTPError as error:
            raise ArchiveFetchError(f"{symbol}: GET {url} failed: {error}") from error
        if response.status_code == 304:
            return Fetched(symbol, None, known)
        if response.status_code == 404:
            return Fetched(symbol, None, None, missing=True)
        data = response.content
        state = FileState(_digest(data), response.headers.get("etag"), response.headers.get("last-modified"))
        if known is not None and known.sha256 == state.sha256:
            return Fetched(symbol, None, state)
        return Fetched(symbol, _decode(symbol, data), state)

    @retry(
        retry=retry_if_exception(_retryable),
        stop=stop_after_attempt(4),
        wait=wait_exponential(multiplier=0.5, max=8),
        reraise=True,
    )
    def _get(self, url: str, headers: dict[str, str]) -> httpx.Response:
        self._bucket.acquire()
        self.requests += 1
        response = self._client.get(url, headers=headers)
        if response.status_code not in (200, 304, 404):
            response.raise_for_status()
        return response

    def close(self) -> None:
        self._client.close()


def _decode(symbol: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ArchiveFetchError(f"{symbol}: the file is not UTF-8 text ({error})") from error
