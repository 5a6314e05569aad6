"""The cut-index WebAssembly module: compiled from css.wat at startup, served and evaluated here."""

from __future__ import annotations

import functools
from pathlib import Path

import wasmtime

from ntx_assets.nepse.token_cleaning import CUT_FUNCTIONS, CutIndexModule

WAT_PATH = Path(__file__).with_name("css.wat")
EXPORTS: tuple[str, ...] = CUT_FUNCTIONS

Salts = tuple[int, int, int, int, int]
Cuts = tuple[int, int, int, int, int]


@functools.cache
def wasm_bytes() -> bytes:
    """The binary module served at /assets/prod/css.wasm."""
    return bytes(wasmtime.wat2wasm(WAT_PATH.read_text(encoding="utf-8")))


def cut_indexer(module_bytes: bytes | None = None) -> CutIndexModule:
    """The module evaluated exactly as the product's client evaluates it: one home for NEPSE's argument
    orders (`ntx_assets.nepse.token_cleaning`), so the server cuts where clients will look."""
    return CutIndexModule(module_bytes if module_bytes is not None else wasm_bytes())
