"""`make demo`: the whole graph materialized through a real Dagster instance against the NEPSE stand-in.

`python -m ntx_assets_tests.tools.demo --help` for the options; `ntx_assets_tests.tools.demo.flow` for how
it works (`run_demo`).
Nothing is imported here, so `python -m ntx_assets_tests.tools.demo` can start its clock before Dagster loads.
"""
