"""The universe rule on raw payload rows, as the company_universe asset applies it: the client types the
rows (Company, Security, SecurityDetail), then `classify` applies the rule to the records."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

import pandas as pd

from ntx_assets.nepse.models import Company, Security, SecurityDetail
from ntx_assets.universe.rule import classify as classify_records


def classify(
    companies: Iterable[Mapping[str, Any]],
    securities: Iterable[Mapping[str, Any]] | None = None,
    promoters: Iterable[Mapping[str, Any]] | None = None,
    not_permitted_to_trade: Collection[int] = (),
) -> pd.DataFrame:
    return classify_records(
        [Company.model_validate(row) for row in companies],
        [Security.model_validate(row) for row in securities or ()],
        [SecurityDetail.model_validate(row) for row in promoters or ()],
        not_permitted_to_trade=not_permitted_to_trade,
    )
