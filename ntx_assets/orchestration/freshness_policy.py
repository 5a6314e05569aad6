"""The freshness policy the UI shows for the daily path's assets: the latest session by its close + grace.

`FreshnessPolicy.cron` with its deadline at 15:00 + NTX_PRICES_FRESHNESS_GRACE_HOURS on each trading
weekday (Monday to Friday since 2026-04-06), Nepal time: the asset must have materialized between the close
and that deadline, or Dagster's freshness daemon reports it FAIL until it materializes again. Dagster's cron
policy knows no holiday list: on a NEPSE holiday nothing materializes and the policy reports FAIL for the
day; `daily_prices_fresh` (holiday-aware, NEPSE's calendar) stays the check that decides.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from ntx_assets.common.clock import SESSION_CLOSE
from ntx_assets.settings import definitions_settings

TRADING_WEEKDAYS_CRON = "1-5"  # Monday to Friday (ntx_assets.prices.sessions: the week since 2026-04-06)


def freshness_grace() -> dt.timedelta:
    """NTX_PRICES_FRESHNESS_GRACE_HOURS as a timedelta (a bad value raises SettingsError naming it).

    For what is fixed when the definitions load (the policy's deadline, the freshness schedule's time of
    day); the daily_prices_fresh check reads the grace from the check_targets resource, so a run can
    override it."""
    return dt.timedelta(hours=definitions_settings().prices_freshness_grace_hours)


def latest_session_policy(grace: dt.timedelta | None = None) -> dg.FreshnessPolicy:
    """Materialized between the 15:00 close and the close + `grace` (default: the setting) each weekday."""
    grace = freshness_grace() if grace is None else grace
    deadline = dt.datetime.combine(dt.date(2000, 1, 1), SESSION_CLOSE) + grace
    return dg.FreshnessPolicy.cron(
        deadline_cron=f"{deadline.minute} {deadline.hour} * * {TRADING_WEEKDAYS_CRON}",
        lower_bound_delta=grace,
        timezone="Asia/Kathmandu",
    )
