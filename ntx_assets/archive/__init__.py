"""The price archive family: fifteen years of daily prices from a public archive, before NEPSE's one year.

One reader per archive format (`company_csv`: one CSV per company), one set of quirk rules (`rules`), one
source of files (`sources`: a local clone or an HTTP base URL), and the plan of what an import writes
(`merge`). The Dagster asset is in ntx_assets/defs/archive/; docs/price-archive.md is the reference.
"""
