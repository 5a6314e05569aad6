"""The universe family's rules: which securities are listed companies, as warehouse rows, and their
profiles. The Dagster objects are in ntx_assets/defs/universe/."""
