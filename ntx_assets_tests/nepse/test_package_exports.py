"""`ntx_assets.nepse` exports its names lazily: each resolves to its module's object, and importing one
module of the package (the payload models) does not load the client's HTTP and wasm stack. An archive
import's writer processes start on that (~0.5 s each instead of ~0.9 s)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import ntx_assets.nepse as nepse


@pytest.mark.parametrize("name", nepse.__all__)
def test_every_exported_name_is_its_module_s_object(name: str) -> None:
    module = importlib.import_module(f"ntx_assets.nepse.{nepse._MODULE_OF[name]}")
    assert getattr(nepse, name) is getattr(module, name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        nepse.Nope  # noqa: B018


def test_an_archive_writer_process_imports_neither_the_client_nor_alembic() -> None:
    probe = (
        "import sys, ntx_assets.archive.importer; "
        "print(sorted(m for m in ('wasmtime', 'ntx_assets.nepse.client', 'alembic') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
