"""Let the whole suite run under Debian's faketime, child processes included (`make test-calendar`, or
`FAKETIME_DONT_FAKE_MONOTONIC=1 faketime '2027-02-11 09:30:00' make test`).

Loaded as a pytest plugin (`-p` in pyproject's addopts), so before any test module binds `time.sleep`. Under
faketime, and only there, it
- patches this process's `time.sleep` (`faketime_site/sitecustomize.py` says why and how), and
- puts `faketime_site/` first on PYTHONPATH, so every process a test starts imports the same patch at
  startup (Python imports `sitecustomize` from its path): the pytest-xdist workers, the stand-in, the demo,
  the bench, and the Dagster webserver, daemon, code server and run workers.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

SITE = Path(__file__).with_name("faketime_site")


def _load_site_patch():  # type: ignore[no-untyped-def]
    """Run faketime_site/sitecustomize.py in this process (it patches time.sleep under faketime only)."""
    spec = importlib.util.spec_from_file_location("ntx_faketime_site", SITE / "sitecustomize.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


UNDER_FAKETIME: bool = _load_site_patch().UNDER_FAKETIME

if UNDER_FAKETIME:
    _paths = [str(SITE), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(_paths))


def without_faketime(environ: dict[str, str] | None = None) -> dict[str, str]:
    """`environ` (default os.environ) minus libfaketime, for a program that is not ours and whose clock
    decides nothing a test asserts: headless Chromium's screenshot never finishes its virtual-time budget
    under libfaketime (measured: the DOM dump works, the screenshot hangs past 180 s)."""
    env = dict(os.environ if environ is None else environ)
    preload = [part for part in env.get("LD_PRELOAD", "").split(":") if part and "faketime" not in part]
    if preload:
        env["LD_PRELOAD"] = ":".join(preload)
    else:
        env.pop("LD_PRELOAD", None)
    for name in [name for name in env if name.startswith("FAKETIME")]:
        del env[name]
    return env
