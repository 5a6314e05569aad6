"""The project's tools, apart from the product: the NEPSE stand-in, the Dagster deployment harness, the demo
and the benchmark. They run from the repository (`make standin`, `make demo`, `make bench`, `make dev`) with
the dev extra's dependencies; nothing in `ntx_assets` imports them."""
