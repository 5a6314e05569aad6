"""Filing documents: what each one says, where it lives (filePath, encryptedId) and its PDF bytes."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass

from ntx_assets_tests.tools.standin.bank_reports import BankReport, render_bank_report
from ntx_assets_tests.tools.standin.pdf import PdfFile, render_pdf


@dataclass(frozen=True)
class Document:
    document_id: int
    file_path: str
    encrypted_id: str
    title: str
    lines: tuple[str, ...]
    padded_size: int | None = None  # the oversize document: padded to this many bytes, streamed
    # A financial institution's quarterly report in NRB's format (bank_reports.py), rendered from this
    # instead of `lines` (which then only say what it is).
    bank_report: BankReport | None = None


def encrypted_id(seed: int, document_id: int) -> str:
    """An opaque, seed-stable token standing in for NEPSE's encrypted document id."""
    digest = hmac.new(f"standin:{seed}".encode(), f"document:{document_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode("ascii")


class DocumentStore:
    def __init__(self) -> None:
        self._by_path: dict[str, Document] = {}
        self._by_encrypted: dict[str, Document] = {}

    def add(self, document: Document) -> None:
        if document.file_path in self._by_path or document.encrypted_id in self._by_encrypted:
            raise ValueError(f"duplicate document {document.file_path!r}")
        self._by_path[document.file_path] = document
        self._by_encrypted[document.encrypted_id] = document

    def by_path(self, file_path: str) -> Document | None:
        return self._by_path.get(file_path)

    def by_encrypted_id(self, value: str) -> Document | None:
        return self._by_encrypted.get(value)

    def __len__(self) -> int:
        return len(self._by_path)

    @staticmethod
    def pdf(document: Document) -> PdfFile:
        return _render(document)

    def chunks(self, document: Document) -> Iterator[bytes]:
        return self.pdf(document).chunks()


@functools.lru_cache(maxsize=512)
def _render(document: Document) -> PdfFile:
    # Cheap to cache even for the oversize document: only its head and tail are held, not the padding.
    if document.bank_report is not None:
        return render_bank_report(document.bank_report)
    return render_pdf(list(document.lines), document.title, document.padded_size)
