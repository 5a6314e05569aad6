"""Company profiles (description, logo path) from NEPSE, several at once under the client's pacing."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ntx_assets.common.clock import nepal_now
from ntx_assets.nepse import NepseClient


def fetch_profiles(client: NepseClient, security_ids: Sequence[int], workers: int) -> list[dict[str, Any]]:
    """One profile per company: `security_id`, `description`, `logo_path`, `fetched_at` (Nepal time)."""
    if not security_ids:
        return []
    fetched_at = nepal_now()

    def fetch(security_id: int) -> dict[str, Any]:
        profile = client.security_profile(security_id)
        return {
            "security_id": security_id,
            "description": profile.company_profile,
            "logo_path": profile.logo_file_path,
            "fetched_at": fetched_at,
        }

    # The client paces every request; threads only keep its concurrency budget busy.
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(fetch, security_ids))
