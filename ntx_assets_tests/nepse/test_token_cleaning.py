"""Decoy removal and the WASM argument orders, using small modules written here (not NEPSE's)."""

from __future__ import annotations

import random
import string

import pytest
import wasmtime

from ntx_assets.nepse.token_cleaning import CUT_FUNCTIONS, CutIndexModule, strip_decoys


def _module(bodies: dict[str, str]) -> bytes:
    funcs = "\n".join(
        f'(func (export "{name}") (param i32 i32 i32 i32 i32) (result i32) {body})'
        for name, body in bodies.items()
    )
    return wasmtime.wat2wasm(f"(module {funcs})")


# Each function returns its arguments as decimal digits (a1 a2 a3 a4 a5), so a salt tuple of 1..5
# shows exactly which salt went into which argument.
_DIGITS = (
    "(i32.add (i32.add (i32.add (i32.add"
    " (i32.mul (local.get 0) (i32.const 10000)) (i32.mul (local.get 1) (i32.const 1000)))"
    " (i32.mul (local.get 2) (i32.const 100))) (i32.mul (local.get 3) (i32.const 10))) (local.get 4))"
)
SALTS = (1, 2, 3, 4, 5)


@pytest.fixture(scope="module")
def digits() -> CutIndexModule:
    return CutIndexModule(_module(dict.fromkeys(CUT_FUNCTIONS, _DIGITS)))


def test_access_token_argument_orders(digits: CutIndexModule) -> None:
    # cdx(s1,s2,s3,s4,s5), then rdx/bdx/ndx/mdx(s1,s2,s4,s3,s5)
    assert digits.access_token_cuts(SALTS) == (12345, 12435, 12435, 12435, 12435)


def test_refresh_token_argument_orders(digits: CutIndexModule) -> None:
    # cdx(s2,s1,s3,s5,s4), rdx(s2,s1,s3,s4,s5), bdx/ndx/mdx(s2,s1,s4,s3,s5)
    assert digits.refresh_token_cuts(SALTS) == (21354, 21345, 21435, 21435, 21435)


def test_realistic_module_cleans_a_token() -> None:
    # Like NEPSE's: each cut depends only on the 2nd argument and lands in its documented range.
    starts = {"cdx": 25, "rdx": 36, "bdx": 64, "ndx": 91, "mdx": 113}
    module = CutIndexModule(
        _module(
            {
                name: f"(i32.add (i32.const {start}) (i32.rem_u (local.get 1) (i32.const 7)))"
                for name, start in starts.items()
            }
        )
    )
    salts = (100, 9, 300, 400, 500)  # salt2 = 9 -> every access cut is start + 2
    cuts = module.access_token_cuts(salts)
    assert cuts == (27, 38, 66, 93, 115)
    clean = "".join(random.Random(1).choices(string.ascii_letters, k=150))
    raw = clean
    for position in cuts:
        raw = raw[:position] + "#" + raw[position:]
    assert strip_decoys(raw, cuts) == clean


def test_strip_decoys_matches_the_documented_slicing() -> None:
    token = "".join(random.Random(2).choices(string.ascii_letters, k=140))
    n, l, o, p, q = 25, 40, 70, 100, 120  # noqa: E741 - the doc's own names
    expected = (
        token[0:n]
        + token[n + 1 : l]
        + token[l + 1 : o]
        + token[o + 1 : p]
        + token[p + 1 : q]
        + token[q + 1 :]
    )
    assert strip_decoys(token, (n, l, o, p, q)) == expected


@pytest.mark.parametrize(
    "cuts",
    [
        (25, 25, 64, 91, 113),
        (36, 25, 64, 91, 113),
        (25, 36, 64, 91),
        (25, 36, 64, 91, 500),
        (-1, 36, 64, 91, 113),
    ],
)
def test_strip_decoys_refuses_cuts_that_do_not_fit_the_scheme(cuts: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        strip_decoys("x" * 140, cuts)


def test_module_missing_an_export_is_refused() -> None:
    with pytest.raises(ValueError, match="mdx"):
        CutIndexModule(_module(dict.fromkeys(CUT_FUNCTIONS[:4], "(i32.const 1)")))


def test_garbage_is_not_a_module() -> None:
    with pytest.raises(ValueError, match="WebAssembly"):
        CutIndexModule(b"<html>not wasm</html>")
