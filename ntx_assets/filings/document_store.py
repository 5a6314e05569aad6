"""The content-addressed store of filing documents: `<root>/<sha[:2]>/<sha[2:4]>/<sha256>` (no Dagster).

Bytes stream into a staging file inside the root (the same filesystem, so the final rename is atomic),
are hashed again from disk once written, are sniffed for what they really are, and only then are
renamed into place. A reader therefore never sees a partial file, and a stored file's name is the hash
of its bytes, so storing the same document twice is harmless.

The store never builds a path from NEPSE's data: the only names it writes are hex digests and its own
staging files, and every path is checked to resolve inside the root (a symlinked shard directory that
points elsewhere is refused). NEPSE's document paths are checked here too, strictly, before a download
is even attempted (`check_document_path`), on top of the NEPSE client's own checks.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import urlsplit

CHUNK_BYTES = 1024 * 1024
STAGING_DIR = ".staging"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_STORAGE_PATH = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")
_ENCRYPTED_ID = re.compile(r"[A-Za-z0-9_\-+/=]{1,512}")
_MAX_PATH_CHARS = 1024
# Besides letters, digits and combining marks (any script: Nepali names are fine), the punctuation a
# document name plausibly carries. Everything else (%, ?, #, :, ;, *, <, >, |, quotes, $, fullwidth
# look-alikes of / and .) is refused: none is needed, and each one has a history of tricking decoders.
_PATH_PUNCTUATION = frozenset(" -_.,()&'+[]@!~")

# What a file's first bytes say it is.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),  # docx, xlsx
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),  # doc, xls
)
# A PDF reader accepts %PDF- anywhere in the first KiB, so some real files have a few junk bytes first.
_PDF_MAGIC = b"%PDF-"
_SNIFF_BYTES = 1024
# What a file's name (or, without a known extension, its Content-Type) claims it is.
_EXTENSION_CLAIMS = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".docx": "application/zip",
    ".xlsx": "application/zip",
    ".doc": "application/x-ole-storage",
    ".xls": "application/x-ole-storage",
}
_TYPE_CLAIMS = frozenset({"application/pdf", "image/jpeg", "image/png", "image/gif"})


class ArtifactError(Exception):
    """A document that could not be stored; `permanent` says whether trying again could help."""

    permanent = False


class UnsafeDocumentPath(ArtifactError, ValueError):
    """A NEPSE file path or encrypted id that could address something other than a document."""

    permanent = True


class OffHostDownload(ArtifactError):
    """The bytes came from (or would come from) another host than the NEPSE base URL."""

    permanent = True


class ContentMismatch(ArtifactError):
    """The bytes are not what the document claims to be (a .pdf without %PDF-, an HTML error page)."""

    permanent = True


class ArtifactTooLarge(ArtifactError):
    """Larger than the store's size limit (NTX_MAX_ARTIFACT_BYTES)."""

    permanent = True


class ArtifactCorrupt(ArtifactError):
    """The bytes on disk do not hash to what was downloaded: a disk or filesystem problem; retry."""


class UnsafeStoragePath(ArtifactError, ValueError):
    """A storage path that is not one of the store's own, or would resolve outside its root."""

    permanent = True


@dataclass(frozen=True)
class StoredArtifact:
    sha256: str
    storage_path: str  # relative to the root, '/'-separated
    byte_size: int
    content_type: str


# --- checks on what NEPSE sends -------------------------------------------------------------------------


def check_document_path(file_path: str) -> str:
    """Return `file_path` if it is a plain relative path of ordinary names, else raise UnsafeDocumentPath."""

    def refuse(reason: str) -> UnsafeDocumentPath:
        return UnsafeDocumentPath(f"refusing document path {file_path!r}: {reason}")

    if not file_path or not file_path.strip():
        raise refuse("it is empty")
    if len(file_path) > _MAX_PATH_CHARS:
        raise refuse(f"it is longer than {_MAX_PATH_CHARS} characters")
    if "\\" in file_path:
        raise refuse("it contains a backslash")
    if file_path.startswith(("/", "~")) or re.match(r"[A-Za-z]:", file_path):
        raise refuse("it is absolute")
    if "://" in file_path or re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", file_path):
        raise refuse("it is a URL, not a path on the NEPSE host")
    for char in file_path:
        category = unicodedata.category(char)
        if category[0] == "C":
            # Cc (NUL, newlines), Cf (zero-width and bidi overrides), Cs, Co, Cn.
            raise refuse(f"it contains the control or format character U+{ord(char):04X}")
        if category[0] not in "LNM" and char not in _PATH_PUNCTUATION and char != "/":
            raise refuse(f"it contains the character {char!r}")
    segments = file_path.split("/")
    if ".." in segments:
        raise refuse("it contains a '..' segment")
    if "." in segments or "" in segments:
        raise refuse("it contains an empty or '.' segment")
    return file_path


def check_encrypted_id(encrypted_id: str) -> str:
    if not _ENCRYPTED_ID.fullmatch(encrypted_id or ""):
        raise UnsafeDocumentPath(
            f"refusing encrypted id {encrypted_id!r}: only 1-512 base64 characters are expected"
        )
    return encrypted_id


def original_file_name(file_path: str | None) -> str | None:
    """The document's own name (the last path segment), for people and for the content check."""
    if not file_path:
        return None
    return PurePosixPath(file_path).name or None


def check_same_origin(url: str, base_url: str) -> str:
    """Refuse bytes that came from anywhere but the NEPSE base URL's scheme, host and port."""
    got, want = urlsplit(url), urlsplit(base_url)
    if (got.scheme.lower(), got.netloc.lower()) != (want.scheme.lower(), want.netloc.lower()):
        raise OffHostDownload(
            f"refusing a document from {got.scheme}://{got.netloc}: documents come only from "
            f"{want.scheme}://{want.netloc}"
        )
    return url


# --- what the bytes are -------------------------------------------------------------------------------


def sniff(head: bytes) -> str | None:
    """The MIME type the first bytes reveal, or None when they match nothing we know."""
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if _PDF_MAGIC in head[:_SNIFF_BYTES]:
        return "application/pdf"
    lowered = head[:64].lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<?xml")):
        return "text/html" if b"html" in lowered else "application/xml"
    if lowered.startswith((b"{", b"[")):
        return "application/json"
    return None


def check_content(head: bytes, file_name: str | None, declared_content_type: str | None) -> str:
    """Return the content type to record; raise ContentMismatch when the bytes contradict the claim.

    The claim is the file name's extension when we know it, else the declared Content-Type when that
    is a document type; a document that claims nothing we know is accepted as what it sniffs as.
    """
    sniffed = sniff(head)
    declared = (declared_content_type or "").split(";")[0].strip().lower() or None
    extension = PurePosixPath(file_name).suffix.lower() if file_name else ""
    claim = _EXTENSION_CLAIMS.get(extension)
    claimed_by = f"its name {file_name!r}"
    if claim is None and declared in _TYPE_CLAIMS:
        claim, claimed_by = declared, f"its Content-Type {declared_content_type!r}"
    if claim is not None and sniffed != claim:
        raise ContentMismatch(
            f"{claimed_by} claims {claim}, but its bytes are {sniffed or 'unrecognised'} "
            f"(they begin {head[:16]!r})"
        )
    return sniffed or declared or "application/octet-stream"


# --- the store ----------------------------------------------------------------------------------------


def storage_path_for(sha256: str) -> str:
    if not _SHA256.fullmatch(sha256):
        raise UnsafeStoragePath(f"{sha256!r} is not a lower-case hex sha256")
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def hash_file(path: Path) -> tuple[str, int, bytes]:
    """(sha256 hex, size, first bytes) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            if len(head) < _SNIFF_BYTES:
                head += chunk[: _SNIFF_BYTES - len(head)]
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size, head


class ArtifactStore:
    """Files named by their sha256 under `root`, each at most `max_bytes`."""

    def __init__(self, root: Path | str, *, max_bytes: int) -> None:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        # Resolved once: every later check compares real paths against this real root.
        self.root = Path(root).expanduser().resolve()
        self.max_bytes = max_bytes

    def path_of(self, storage_path: str) -> Path:
        """The absolute path of a stored file; refuses anything but `xx/yy/<sha256>` inside the root."""
        match = _STORAGE_PATH.fullmatch(storage_path or "")
        if match is None or not match.group(3).startswith(match.group(1) + match.group(2)):
            raise UnsafeStoragePath(f"{storage_path!r} is not a storage path of this store (xx/yy/<sha256>)")
        return self._inside_root(self.root / storage_path)

    def verify(self, storage_path: str, sha256: str) -> bool:
        """True when the stored file exists and its bytes still hash to `sha256`."""
        try:
            path = self.path_of(storage_path)
        except UnsafeStoragePath:
            return False
        if not path.is_file():
            return False
        return hash_file(path)[0] == sha256

    @contextmanager
    def staging(self) -> Iterator[StagedFile]:
        """A fresh staging file inside the root; removed on exit unless committed."""
        staging_dir = self._inside_root(self.root / STAGING_DIR)
        staging_dir.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in the finally below
            mode="w+b", dir=staging_dir, prefix="incoming-", delete=False
        )
        staged = StagedFile(self, Path(handle.name), handle)
        try:
            yield staged
        finally:
            handle.close()
            if not staged.committed:
                Path(handle.name).unlink(missing_ok=True)

    def _inside_root(self, path: Path) -> Path:
        resolved = path.resolve()
        if resolved != self.root and not resolved.is_relative_to(self.root):
            raise UnsafeStoragePath(f"{path} resolves to {resolved}, outside the store's root {self.root}")
        return path


class StagedFile:
    """Write the document's bytes to `file`, then `commit()` moves them into the store."""

    def __init__(self, store: ArtifactStore, path: Path, handle: BinaryIO) -> None:
        self._store = store
        self.path = path
        self.file = handle
        self.committed = False

    def commit(
        self,
        *,
        expected_sha256: str | None = None,
        file_name: str | None = None,
        declared_content_type: str | None = None,
    ) -> StoredArtifact:
        """Flush, re-hash from disk, check size and content, and atomically rename into place."""
        if self.committed:
            raise RuntimeError("this staged file was already committed")
        self.file.flush()
        os.fsync(self.file.fileno())
        sha256, size, head = hash_file(self.path)
        if size > self._store.max_bytes:
            raise ArtifactTooLarge(f"{size} bytes, over the limit of {self._store.max_bytes} bytes")
        if size == 0:
            raise ContentMismatch("the document is empty")
        if expected_sha256 is not None and sha256 != expected_sha256:
            raise ArtifactCorrupt(f"the written file hashes to {sha256}, the download to {expected_sha256}")
        content_type = check_content(head, file_name, declared_content_type)
        storage_path = storage_path_for(sha256)
        final = self._store.path_of(storage_path)
        final.parent.mkdir(parents=True, exist_ok=True)
        # mkdir follows a planted symlink; check again now that the shard directories exist.
        self._store.path_of(storage_path)
        os.chmod(self.path, 0o644)  # staging files are private (0600); stored documents are for readers
        os.replace(self.path, final)
        self.committed = True
        _fsync_dir(final.parent)
        return StoredArtifact(sha256, storage_path, size, content_type)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not every filesystem lets a directory be opened for this.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
