"""ntx_assets.filings.document_store: path checks, content sniffing, and the content-addressed store on
disk."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from ntx_assets.filings.document_store import (
    STAGING_DIR,
    ArtifactCorrupt,
    ArtifactStore,
    ArtifactTooLarge,
    ContentMismatch,
    OffHostDownload,
    UnsafeDocumentPath,
    UnsafeStoragePath,
    check_content,
    check_document_path,
    check_encrypted_id,
    check_same_origin,
    original_file_name,
    sniff,
)

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


def _put(store: ArtifactStore, data: bytes, name: str | None = "report.pdf", **kwargs: object):  # type: ignore[no-untyped-def]
    with store.staging() as staged:
        staged.file.write(data)
        return staged.commit(file_name=name, **kwargs)  # type: ignore[arg-type]


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


# --- document paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "nabil_user/2026-08-06/Nabil Bank Limited 4th Quarter.pdf",
        "nica_user/2026-11-16/NIC Asia Bank Ltd. 1st Quarter.pdf",
        "x_user/2026-01-01/Laxmi Sunrise (Annual) & Co, Report [v2].pdf",
        "x_user/2026-01-01/नबिल बैंक त्रैमासिक.pdf",
        "report..final.pdf",
    ],
)
def test_ordinary_document_paths_are_accepted(path: str) -> None:
    assert check_document_path(path) == path


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("stc_user/2026-11-15/../../../../etc/passwd", "'..' segment"),
        ("..", "'..' segment"),
        ("/etc/passwd", "absolute"),
        ("~root/.ssh/id_rsa", "absolute"),
        ("C:/Windows/win.ini", "absolute"),
        ("a\\..\\..\\b.pdf", "backslash"),
        ("a/b\x00.pdf", "control"),
        ("a/b\n.pdf", "control"),
        ("a/\u202egnp.pdf", "format"),  # right-to-left override
        ("a/\u200b/b.pdf", "format"),  # zero-width space
        ("https://evil.example/x.pdf", "URL"),
        ("file:/etc/passwd", "URL"),
        ("a/%2e%2e/%2e%2e/etc/passwd", "'%'"),
        ("a/b.pdf?x=1", "'?'"),
        ("a/b.pdf#frag", "'#'"),
        ("a/\uff0e\uff0e/b.pdf", "'．'"),  # fullwidth full stops
        ("a/\u2025/b.pdf", "'‥'"),  # two-dot leader: NFKC makes it '..'
        ("a//b.pdf", "empty or '.' segment"),
        ("a/./b.pdf", "empty or '.' segment"),
        ("", "empty"),
        ("   ", "empty"),
        ("a/" + "x" * 1100 + ".pdf", "longer"),
    ],
)
def test_hostile_document_paths_are_refused(path: str, reason: str) -> None:
    with pytest.raises(UnsafeDocumentPath) as caught:
        check_document_path(path)
    assert reason in str(caught.value)


@pytest.mark.parametrize("value", ["OwDq8a70c50v9MJBKjCfaHZX", "a+b/c==", "x_-y"])
def test_ordinary_encrypted_ids_are_accepted(value: str) -> None:
    assert check_encrypted_id(value) == value


@pytest.mark.parametrize("value", ["", "a b", "a\x00", "a&fileLocation=/etc/passwd", "é", "x" * 513])
def test_odd_encrypted_ids_are_refused(value: str) -> None:
    with pytest.raises(UnsafeDocumentPath):
        check_encrypted_id(value)


def test_original_file_name() -> None:
    assert original_file_name("nabil_user/2026-08-06/Nabil 4th Quarter.pdf") == "Nabil 4th Quarter.pdf"
    assert original_file_name(None) is None


def test_downloads_must_come_from_the_nepse_host() -> None:
    base = "https://www.nepalstock.com"
    assert check_same_origin("https://www.nepalstock.com/api/nots/security/fetchFiles?x=1", base)
    for url in (
        "https://evil.example/api/nots/security/fetchFiles",
        "http://www.nepalstock.com/api/x",  # scheme downgrade
        "https://www.nepalstock.com:8443/api/x",
        "https://www.nepalstock.com.evil.example/api/x",
    ):
        with pytest.raises(OffHostDownload):
            check_same_origin(url, base)


# --- content ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (PDF, "application/pdf"),
        (b"\r\n\r\n" + PDF, "application/pdf"),  # junk before the header, as some real PDFs have
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00", "image/png"),
        (b"PK\x03\x04\x14\x00", "application/zip"),
        (b"  <!DOCTYPE html><html>", "text/html"),
        (b'{"error": "x"}', "application/json"),
        (b"plain words", None),
    ],
)
def test_sniff(head: bytes, mime: str | None) -> None:
    assert sniff(head) == mime


def test_content_must_be_what_its_name_claims() -> None:
    assert check_content(PDF, "Q4.pdf", "application/octet-stream") == "application/pdf"
    with pytest.raises(ContentMismatch, match="claims application/pdf, but its bytes are text/html"):
        check_content(b"<html><body>Service unavailable</body></html>", "Q4.pdf", "application/pdf")
    with pytest.raises(ContentMismatch, match="unrecognised"):
        check_content(b"just text", "Q4.PDF", None)
    with pytest.raises(ContentMismatch, match="image/jpeg"):
        check_content(b"\xff\xd8\xff\xe0", "scan.pdf", None)


def test_without_a_known_extension_the_content_type_is_the_claim() -> None:
    with pytest.raises(ContentMismatch, match="Content-Type"):
        check_content(b"<html></html>", None, "application/pdf; charset=binary")
    assert check_content(PDF, None, "application/pdf") == "application/pdf"
    assert check_content(b"odd bytes", "notes.txt", "text/plain") == "text/plain"
    assert check_content(b"odd bytes", None, None) == "application/octet-stream"


# --- the store --------------------------------------------------------------------------------------


def test_a_document_lands_under_its_sha256(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "artifacts", max_bytes=1 << 20)
    sha = hashlib.sha256(PDF).hexdigest()
    stored = _put(store, PDF, expected_sha256=sha, declared_content_type="application/pdf")
    assert stored.sha256 == sha
    assert stored.storage_path == f"{sha[:2]}/{sha[2:4]}/{sha}"
    assert stored.byte_size == len(PDF) and stored.content_type == "application/pdf"
    path = tmp_path / "artifacts" / stored.storage_path
    assert path.read_bytes() == PDF
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert store.verify(stored.storage_path, sha)
    assert list((tmp_path / "artifacts" / STAGING_DIR).iterdir()) == []  # nothing left half-written


def test_the_same_bytes_twice_are_one_file(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, max_bytes=1 << 20)
    first, second = _put(store, PDF), _put(store, PDF, name="copy.pdf")
    assert first == second
    assert len([p for p in _files(tmp_path) if STAGING_DIR not in p.parts]) == 1


def test_verify_notices_a_missing_or_altered_file(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, max_bytes=1 << 20)
    stored = _put(store, PDF)
    path = store.path_of(stored.storage_path)
    path.write_bytes(PDF + b"tampered")
    assert not store.verify(stored.storage_path, stored.sha256)
    path.unlink()
    assert not store.verify(stored.storage_path, stored.sha256)
    assert not store.verify("../../etc/passwd", stored.sha256)


@pytest.mark.parametrize(
    ("data", "kwargs", "error"),
    [
        (PDF, {"expected_sha256": "0" * 64}, ArtifactCorrupt),
        (PDF * 100, {}, ArtifactTooLarge),
        (b"", {}, ContentMismatch),
        (b"<html>502 Bad Gateway</html>", {}, ContentMismatch),
    ],
)
def test_a_refused_document_leaves_nothing_behind(
    tmp_path: Path, data: bytes, kwargs: dict, error: type[Exception]
) -> None:
    store = ArtifactStore(tmp_path, max_bytes=1024)
    with pytest.raises(error):
        _put(store, data, **kwargs)
    assert _files(tmp_path) == []


def test_an_interrupted_write_leaves_nothing_behind(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, max_bytes=1 << 20)
    with pytest.raises(RuntimeError), store.staging() as staged:
        staged.file.write(PDF[:10])
        raise RuntimeError("connection lost")
    assert _files(tmp_path) == []


@pytest.mark.parametrize(
    "storage_path",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "ab/cd/" + "0" * 64,  # a digest that does not start with its own shard names
        "AB/CD/ABCD" + "0" * 60,
        "ab/cd/../../../" + "0" * 55,
        "",
    ],
)
def test_the_store_refuses_paths_that_are_not_its_own(tmp_path: Path, storage_path: str) -> None:
    with pytest.raises(UnsafeStoragePath):
        ArtifactStore(tmp_path, max_bytes=1024).path_of(storage_path)


def test_the_store_never_writes_through_a_symlink_out_of_its_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "artifacts", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    sha = hashlib.sha256(PDF).hexdigest()
    # A planted shard directory pointing elsewhere: the commit must refuse rather than follow it.
    (root / sha[:2]).symlink_to(outside, target_is_directory=True)
    store = ArtifactStore(root, max_bytes=1 << 20)
    with pytest.raises(UnsafeStoragePath, match="outside the store's root"):
        _put(store, PDF)
    assert _files(outside) == []
    # The same for a planted staging directory.
    (root / sha[:2]).unlink()
    (root / STAGING_DIR).rmdir()
    (root / STAGING_DIR).symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafeStoragePath), store.staging():
        pass
    assert _files(outside) == []


def test_a_root_given_through_a_symlink_works(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    os.symlink(real, link)
    stored = _put(ArtifactStore(link, max_bytes=1 << 20), PDF)
    assert (real / stored.storage_path).read_bytes() == PDF
