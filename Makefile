# ntx_assets developer commands. Everything runs from the repo's own .venv, created on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
# dagster.yaml is only read from $DAGSTER_HOME: point it at a folder that holds a copy of ours.
DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DAGSTER_HOME
STANDIN_PORT ?= 8765
# More flags for the stand-in of make standin / make dev, e.g. STANDIN_FLAGS=--end-date=2026-11-20 (its
# year then ends on that day instead of today).
STANDIN_FLAGS ?=
UI_PORT ?= 3000
# make prod-local: its own Dagster home (the production dagster.yaml, PostgreSQL) and the code server's port.
PROD_DAGSTER_HOME ?= $(CURDIR)/.dagster_home_prod
CODE_SERVER_PORT ?= 4266
PG_READY = pg_isready -h 127.0.0.1 -p 5432 -q

.PHONY: help install test test-fast test-calendar lint postgres chromium faketime dagster-home dev prod-local standin demo bench asset-graph live-check clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed  ## Create .venv and install the project with its dev tools

postgres:  ## Make sure the local PostgreSQL answers on 127.0.0.1:5432
	@$(PG_READY) || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 1 30); do $(PG_READY) && exit 0; sleep 1; done; echo "PostgreSQL did not come up" >&2; exit 1

chromium:  ## Debian's chromium for the browser test (needs root the first time)
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
	  || { echo "Install Debian's chromium (apt-get install chromium) for the browser test" >&2; exit 1; }

faketime:  ## Debian's faketime for the calendar runs (needs root the first time)
	@command -v faketime >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime; } \
	  || { echo "Install Debian's faketime (apt-get install faketime) for make test-calendar" >&2; exit 1; }

dagster-home:
	@mkdir -p $(DAGSTER_HOME)
	@cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

lint: install  ## ruff (lint and format check)
	$(BIN)/ruff check ntx_assets ntx_assets_tests
	$(BIN)/ruff format --check ntx_assets ntx_assets_tests

test: install postgres chromium faketime dagster-home lint  ## Lint, check the definitions load, run every test (SQLite and PostgreSQL)
	VIRTUAL_ENV=$(abspath $(VENV)) PATH=$(abspath $(BIN)):$$PATH $(BIN)/dg check defs
	$(BIN)/pytest

test-fast: install postgres dagster-home  ## The fast tier only: pytest -m "not slow" (no webserver, daemon or bench)
	$(BIN)/pytest -m "not slow"

# Instants (UTC) that cross the calendar's edges: a Nepali fiscal-year start (Shrawan 1, mid-July), the
# calendar year changing at midnight Nepal time (23:59 NPT = 18:14 UTC, a minute before), a day under
# the Sunday-Thursday week before the 2026-04-06 switch, and two years ahead.
CALENDAR_INSTANTS ?= 2027-07-16T18:10:00 2026-12-31T18:14:00 2026-03-20T06:00:00 2028-12-01T06:00:00

test-calendar: install postgres faketime dagster-home  ## The calendar-sensitive tests (-m calendar) under faketime at each of CALENDAR_INSTANTS
	@for instant in $(CALENDAR_INSTANTS); do \
	  echo "== pytest -m calendar at $$instant UTC (faketime)"; \
	  TZ=UTC FAKETIME_DONT_FAKE_MONOTONIC=1 faketime "$${instant/T/ }" $(BIN)/pytest -m "calendar and not postgres" -q \
	    || exit 1; \
	done

standin: install  ## Serve the NEPSE stand-in on 127.0.0.1:$(STANDIN_PORT)
	$(PY) -m ntx_assets_tests.tools.standin --host 127.0.0.1 --port $(STANDIN_PORT) $(STANDIN_FLAGS)

dev: install dagster-home  ## The stand-in plus the Dagster UI (webserver + daemon) on loopback
	@$(PY) -m ntx_assets_tests.tools.standin --host 127.0.0.1 --port $(STANDIN_PORT) $(STANDIN_FLAGS) & \
	standin=$$!; trap 'kill $$standin 2>/dev/null' EXIT INT TERM; \
	NTX_NEPSE_BASE_URL=$${NTX_NEPSE_BASE_URL:-http://127.0.0.1:$(STANDIN_PORT)} \
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(UI_PORT)

prod-local: install postgres  ## Production topology here: gRPC code server + webserver + daemon, PostgreSQL everywhere
	PROD_DAGSTER_HOME=$(PROD_DAGSTER_HOME) UI_PORT=$(UI_PORT) NTX_CODE_SERVER_PORT=$(CODE_SERVER_PORT) \
	VENV_BIN=$(abspath $(BIN)) bash ntx_assets/deploy/prod-local.sh

demo: install dagster-home  ## Backfill the whole graph against the stand-in and print a summary
	$(PY) -m ntx_assets_tests.tools.demo

bench: install postgres dagster-home  ## Measure API calls, rate, upsert and indicator throughput
	$(PY) -m ntx_assets_tests.tools.bench

asset-graph: install chromium  ## Redraw docs/asset-graph.png from the Dagster UI (webserver + headless chromium)
	$(PY) -m ntx_assets_tests.tools.asset_graph_picture --out docs/asset-graph.png

# e.g. LIVE_CHECK_FLAGS="--symbols NABIL,ACLBSL --save captures/$$(date +%F)"
LIVE_CHECK_FLAGS ?=

live-check: install  ## Read-only probe of NEPSE (NTX_NEPSE_BASE_URL, default the live site) with the product's models
	$(PY) -m ntx_assets.nepse.check $(LIVE_CHECK_FLAGS)

clean:  ## Remove local state (warehouse, Dagster home); keeps .venv
	rm -rf data $(DAGSTER_HOME)
