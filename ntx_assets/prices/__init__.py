"""The prices family's rules: the trading calendar, today-price rows, re-basings and indicators. The
Dagster objects are in ntx_assets/defs/prices/."""
