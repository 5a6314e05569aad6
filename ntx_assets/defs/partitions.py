"""Every partitions definition of the graph, and nowhere else.

Partitions follow the unit of fetch: one today-price call answers every security for one session date,
so prices and indicators are partitioned by date (symbols live in the data); one reports call answers one
company, so filings and artifacts are partitioned by symbol. See docs/ARCHITECTURE.md for why not
symbol x date.
"""

import dagster as dg

from ntx_assets.settings import definitions_settings

# Calendar days, not a session calendar: the trading week changed in 2026-04 (Sun-Thu to Mon-Fri), which
# one cron cannot describe, so non-session days materialize as "no session" without an API call.
# end_offset=1 makes today's date a partition, so the new-session sensor can request it after the close.
session_date_partitions = dg.DailyPartitionsDefinition(
    start_date=definitions_settings().history_start.isoformat(),
    timezone="Asia/Kathmandu",
    end_offset=1,
)

# The included companies' symbols, maintained by company_universe.
symbol_partitions = dg.DynamicPartitionsDefinition(name="symbol")
