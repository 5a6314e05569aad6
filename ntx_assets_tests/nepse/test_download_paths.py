"""Document paths are checked before any request is built."""

from __future__ import annotations

import pytest

from ntx_assets.nepse.downloads import check_encrypted_id, check_file_path, download_call
from ntx_assets.nepse.errors import UnsafePath


@pytest.mark.parametrize(
    "path",
    [
        "nabil_user/2026-08-06/Nabil Bank Limited 4th Quarter.pdf",
        "scb_user/2024-02-26/SCB Logo-67x31inch_1708947438500.jpg",
        "a/b..c/d.pdf",  # dots inside a name are fine
        "report (1).pdf",
    ],
)
def test_plain_relative_paths_pass(path: str) -> None:
    assert check_file_path(path) == path


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/etc/passwd", "absolute"),
        ("~/secrets", "absolute"),
        ("C:/Windows/win.ini", "absolute"),
        ("../../etc/passwd", "'..' segment"),
        ("nabil_user/../../etc/passwd", "'..' segment"),
        ("nabil_user/..", "'..' segment"),
        ("nabil_user/%2e%2e/%2e%2e/etc/passwd", "'..' segment"),
        ("nabil_user\\..\\x.pdf", "backslash"),
        ("nabil_user/x\x00.pdf", "control"),
        ("nabil_user/x\n.pdf", "control"),
        ("nabil_user/x\x7f.pdf", "control"),
        ("nabil_user/x%00.pdf", "control"),
        ("http://evil.example/x.pdf", "URL"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_unsafe_paths_are_refused(path: str, reason: str) -> None:
    with pytest.raises(UnsafePath, match=reason) as caught:
        check_file_path(path)
    assert "no request was sent" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_encrypted_ids() -> None:
    assert check_encrypted_id("QmFzZTY0SWQ=") == "QmFzZTY0SWQ="
    for bad in ["", "a b", "a\x00b"]:
        with pytest.raises(UnsafePath):
            check_encrypted_id(bad)


def test_exactly_one_locator() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        download_call(file_path=None, encrypted_id=None)
    with pytest.raises(ValueError, match="exactly one"):
        download_call(file_path="a.pdf", encrypted_id="x")
    assert download_call(file_path="a b.pdf", encrypted_id=None).target == (
        "/api/nots/security/fetchFiles?fileLocation=a%20b.pdf"
    )
    assert download_call(file_path=None, encrypted_id="xyz").target == (
        "/api/nots/application/fetchFiles?encryptedId=xyz"
    )
