"""The cut-index WebAssembly module: compiled from css.wat at startup, served and evaluated here."""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import wasmtime

WAT_PATH = Path(__file__).with_name("css.wat")
EXPORTS: tuple[str, ...] = ("cdx", "rdx", "bdx", "ndx", "mdx")

Salts = tuple[int, int, int, int, int]
Cuts = tuple[int, int, int, int, int]


@functools.cache
def wasm_bytes() -> bytes:
    """The binary module served at /assets/prod/css.wasm."""
    return bytes(wasmtime.wat2wasm(WAT_PATH.read_text(encoding="utf-8")))


class CutIndexer:
    """Evaluates the module exactly as clients do, so the server cuts where clients will look."""

    def __init__(self, module_bytes: bytes | None = None) -> None:
        engine = wasmtime.Engine()
        self._store = wasmtime.Store(engine)
        module = wasmtime.Module(engine, module_bytes if module_bytes is not None else wasm_bytes())
        exports = wasmtime.Instance(self._store, module, []).exports(self._store)
        self._funcs = {name: exports[name] for name in EXPORTS}
        # A wasmtime Store must not be entered from two threads at once.
        self._lock = threading.Lock()

    def _call(self, name: str, *args: int) -> int:
        func = self._funcs[name]
        assert isinstance(func, wasmtime.Func)
        with self._lock:
            return int(func(self._store, *args))

    def access_cuts(self, salts: Salts) -> Cuts:
        s1, s2, s3, s4, s5 = salts
        return (
            self._call("cdx", s1, s2, s3, s4, s5),
            self._call("rdx", s1, s2, s4, s3, s5),
            self._call("bdx", s1, s2, s4, s3, s5),
            self._call("ndx", s1, s2, s4, s3, s5),
            self._call("mdx", s1, s2, s4, s3, s5),
        )

    def refresh_cuts(self, salts: Salts) -> Cuts:
        s1, s2, s3, s4, s5 = salts
        return (
            self._call("cdx", s2, s1, s3, s5, s4),
            self._call("rdx", s2, s1, s3, s4, s5),
            self._call("bdx", s2, s1, s4, s3, s5),
            self._call("ndx", s2, s1, s4, s3, s5),
            self._call("mdx", s2, s1, s4, s3, s5),
        )
