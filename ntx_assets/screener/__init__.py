"""The screener: one table an app reads as it is, its exports, and a query command.

- `table.screener_frame`: the rows, from stored prices, indicators, filings and corporate actions (pure).
- `query.where_clause`: a filter expression ("pe < 15 and rsi_14 < 35") -> SQL, with errors that name
  the problem (pure).
- `exports.write_json`: the JSON exports, written atomically.
- `python -m ntx_assets.screener`: the command for people without the app.
"""
