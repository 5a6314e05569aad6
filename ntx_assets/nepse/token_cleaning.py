"""Removing the decoy characters from the tokens that `/api/authenticate/prove` hands out.

Each raw token carries 5 junk characters; NEPSE's own WebAssembly module (`/assets/prod/css.wasm`)
computes where they sit from the salts. We run the module the site serves rather than re-deriving its
arithmetic, so a change on NEPSE's side is picked up without a release of ours.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence

import wasmtime

CUT_FUNCTIONS: tuple[str, ...] = ("cdx", "rdx", "bdx", "ndx", "mdx")
DECOY_COUNT = len(CUT_FUNCTIONS)


class CutIndexModule:
    """NEPSE's css.wasm loaded into wasmtime; computes the five cut positions of each token."""

    def __init__(self, wasm_bytes: bytes) -> None:
        engine = wasmtime.Engine()
        # A wasmtime Store must not be entered from two threads at once.
        self._lock = threading.Lock()
        self._store = wasmtime.Store(engine)
        try:
            module = wasmtime.Module(engine, wasm_bytes)
            instance = wasmtime.Instance(self._store, module, [])
        except wasmtime.WasmtimeError as exc:
            raise ValueError(f"not a usable WebAssembly module: {exc}") from exc
        exports = instance.exports(self._store)
        functions: dict[str, wasmtime.Func] = {}
        for name in CUT_FUNCTIONS:
            export = exports.get(name)
            if not isinstance(export, wasmtime.Func):
                raise ValueError(f"the WebAssembly module does not export function {name!r}")
            functions[name] = export
        self._functions = functions

    def call(self, name: str, *args: int) -> int:
        """One exported function, evaluated as NEPSE's site evaluates it."""
        with self._lock:
            result = self._functions[name](self._store, *args)
        if not isinstance(result, int):
            raise ValueError(f"{name} returned {result!r}, expected an int32")
        return result

    def access_token_cuts(self, salts: Sequence[int]) -> tuple[int, ...]:
        # Argument orders are NEPSE's, from docs/NEPSE_API.md section 1; they differ per function on purpose.
        s1, s2, s3, s4, s5 = _five(salts)
        return (
            self.call("cdx", s1, s2, s3, s4, s5),
            self.call("rdx", s1, s2, s4, s3, s5),
            self.call("bdx", s1, s2, s4, s3, s5),
            self.call("ndx", s1, s2, s4, s3, s5),
            self.call("mdx", s1, s2, s4, s3, s5),
        )

    def refresh_token_cuts(self, salts: Sequence[int]) -> tuple[int, ...]:
        s1, s2, s3, s4, s5 = _five(salts)
        return (
            self.call("cdx", s2, s1, s3, s5, s4),
            self.call("rdx", s2, s1, s3, s4, s5),
            self.call("bdx", s2, s1, s4, s3, s5),
            self.call("ndx", s2, s1, s4, s3, s5),
            self.call("mdx", s2, s1, s4, s3, s5),
        )


def _five(salts: Sequence[int]) -> tuple[int, int, int, int, int]:
    if len(salts) != 5:
        raise ValueError(f"expected 5 salts, got {len(salts)}")
    return salts[0], salts[1], salts[2], salts[3], salts[4]


def strip_decoys(raw_token: str, cuts: Sequence[int]) -> str:
    """Delete the characters at raw positions `cuts`.

    NEPSE's formula (`t[0:n] + t[n+1:l] + ...`) only means "delete these positions" when the cuts are
    strictly ascending and inside the token; anything else signals a changed scheme, so refuse it rather
    than send a token the server will reject with a confusing 401.
    """
    if len(cuts) != DECOY_COUNT:
        raise ValueError(f"expected {DECOY_COUNT} cut positions, got {len(cuts)}")
    if any(later <= earlier for earlier, later in itertools.pairwise(cuts)):
        raise ValueError(f"cut positions {list(cuts)} are not strictly ascending")
    if cuts[0] < 0 or cuts[-1] >= len(raw_token):
        raise ValueError(f"cut positions {list(cuts)} fall outside a token of length {len(raw_token)}")
    removed = set(cuts)
    return "".join(char for index, char in enumerate(raw_token) if index not in removed)
