"""The NEPSE client's defaults, in one place: `NepseClient`, the NTX_* settings and `NepseResource` read
them from here, so a change of pace or patience is one edit."""

from __future__ import annotations

from pathlib import Path
from typing import Final

# docs/NEPSE_API.md section 2: the site throttles bursts; two requests a second has held for the reference
# clients' daily loads.
REQUESTS_PER_SECOND: Final = 2.0
# 2: public clients met protocol errors (dropped connections) on the live site above 2 concurrent
# connections and went back to sequential requests; at the pace of 2 requests/s a third buys nothing.
MAX_CONCURRENT_REQUESTS: Final = 2
TIMEOUT_SECONDS: Final = 30.0
MAX_ATTEMPTS: Final = 6
# 1: every request 1/R after the last. With 2, requests compressed in transit reach a server that limits at R
# as bursts: the bench's stand-in at 2 requests/s answered 7-21 of 57-71 today-price requests with 429 (a
# whole-second Retry-After each).
BURST: Final = 1
MAX_RETRY_AFTER_SECONDS: Final = 30.0
BACKOFF_BASE_SECONDS: Final = 0.5
BACKOFF_MAX_SECONDS: Final = 20.0


def tls_verify(verify_tls: bool, ca_bundle: str | Path | None) -> bool | str:
    """What the client's `verify=` takes: a CA bundle, when one is given, wins over the on/off switch."""
    if ca_bundle is not None:
        return str(ca_bundle)
    return verify_tls
