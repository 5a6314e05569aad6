"""ntx_assets: the NEPSE screener's data, as a Dagster code location.

`dagster ... -m ntx_assets` and `-m ntx_assets.definitions` load the same definitions. The package
exposes them lazily (PEP 562) under `code_location`, so that importing a pure module (`ntx_assets.nepse`,
`ntx_assets.prices.indicators`, ...) does not import Dagster and every asset. The name cannot be `defs`: the
`defs/` subpackage, where Dagster projects keep their objects, owns that attribute.
"""

from typing import Any

_LAZY = ("code_location",)


def __getattr__(name: str) -> Any:
    if name == "code_location":
        from ntx_assets.definitions import defs

        return defs
    raise AttributeError(f"module 'ntx_assets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
