"""The filings family's rules: reports as rows, and the store and downloads of their documents. The
Dagster objects are in ntx_assets/defs/filings/."""
