"""Which companies a session's screen holds: the universe at t, as well as the stored tables tell it (pure).

The warehouse knows each security's CURRENT classification (`companies.included`, `reason`), its listing
date (profile), the last day a universe refresh saw it in NEPSE's lists (`last_seen`) and the sessions it
traded (`daily_prices`). So a company is in the universe of session t when

- it is an ordinary share by what does not change with time (its instrument, not a promoter share, not a
  mutual fund or debenture: every reason but the time-varying ones below), and
- it was listed by t (`listing_date` <= t; a company without a listing date counts as listed), and
- it is included now, or it is out now for a reason that came with time (suspended, delisted, inactive,
  not permitted to trade, no longer listed) and t is not after the last session it traded (or, for one no
  list carries any more, the last day a list carried it): it was trading then.

What the tables cannot tell: the day a company was suspended, permitted again or delisted (only its last
trade bounds it, so a company suspended while still quoted is taken as in the universe up to its last
trade), and any company that had left NEPSE's lists before the first universe refresh (it was never
stored, and neither were its prices: screens of the past are free of it, a survivorship bias).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ntx_assets.universe.rule import (
    DELISTED,
    INACTIVE,
    INCLUDED,
    NOT_LISTED,
    NOT_PERMITTED_TO_TRADE,
    SUSPENDED,
)

# Reasons a once-included company can have now: it may have been in the universe before.
TIME_VARYING_REASONS = frozenset({SUSPENDED, DELISTED, INACTIVE, NOT_PERMITTED_TO_TRADE, NOT_LISTED})


def universe_grid(companies: pd.DataFrame, prices: pd.DataFrame, sessions: list) -> pd.DataFrame:
    """(session_date, security_id) of every company in the universe of each of `sessions`.

    companies: security_id, included, reason, listing_date, last_seen; prices: security_id, business_date
    (every stored traded session of the companies, or at least each one's last).
    """
    if not sessions or companies.empty:
        return pd.DataFrame({"session_date": pd.Series(dtype="datetime64[ns]"), "security_id": []})
    candidates = companies[
        companies["included"].astype(bool) | companies["reason"].isin(TIME_VARYING_REASONS)
    ]
    last_trade = prices.groupby("security_id")["business_date"].max()
    ids = candidates["security_id"].to_numpy()
    listed = pd.to_datetime(candidates["listing_date"]).to_numpy()
    # Out now for a reason that came with time: in the universe up to its last trade (or last listing).
    until = pd.to_datetime(candidates["security_id"].map(last_trade)).to_numpy()
    seen = pd.to_datetime(candidates["last_seen"]).to_numpy()
    not_listed = (candidates["reason"] == NOT_LISTED).to_numpy()
    until = np.where(not_listed & ~np.isnat(seen) & (np.isnat(until) | (seen > until)), seen, until)
    current = (candidates["reason"] == INCLUDED).to_numpy() & candidates["included"].astype(bool).to_numpy()

    days = pd.to_datetime(pd.Series(sessions)).to_numpy()
    day = np.repeat(days, len(ids))
    security = np.tile(ids, len(days))
    listed_by = np.tile(np.isnat(listed), len(days)) | (np.tile(listed, len(days)) <= day)
    trading = np.tile(current, len(days)) | (
        ~np.isnat(np.tile(until, len(days))) & (day <= np.tile(until, len(days)))
    )
    keep = listed_by & trading
    return pd.DataFrame({"session_date": day[keep], "security_id": security[keep]})
