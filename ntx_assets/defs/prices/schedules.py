"""daily_prices_freshness_schedule: the daily_prices_fresh check, every day shortly after its deadline."""

import datetime as dt

import dagster as dg

from ntx_assets.common.clock import SESSION_CLOSE
from ntx_assets.defs.prices.checks import daily_prices_freshness_job
from ntx_assets.orchestration.freshness_policy import freshness_grace


def _freshness_cron() -> str:
    # Five minutes after the deadline of a session that closed today.
    at = dt.datetime.combine(dt.date(2000, 1, 1), SESSION_CLOSE) + freshness_grace() + dt.timedelta(minutes=5)
    return f"{at.minute} {at.hour} * * *"


daily_prices_freshness_schedule = dg.ScheduleDefinition(
    name="daily_prices_freshness_schedule",
    job=daily_prices_freshness_job,
    cron_schedule=_freshness_cron(),
    execution_timezone="Asia/Kathmandu",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Every day, five minutes after the 15:00 close + NTX_PRICES_FRESHNESS_GRACE_HOURS (Nepal time), "
        "runs the daily_prices_fresh check."
    ),
)
