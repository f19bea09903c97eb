# linli — one command to try it, one command to test it.
#
#   make demo          install everything, load demo data, serve on http://127.0.0.1:8000 (PORT=8080 make demo)
#   make test          install everything, lint, run the suite on SQLite, on a throwaway PostgreSQL 15, in chromium
#
# Other targets: setup lint test-sqlite test-pg test-browser clean. See docs/operations.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.NOTPARALLEL:
MAKEFLAGS += --no-builtin-rules

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest -p no:cacheprovider
STAMP_PY := $(VENV)/.linli-installed
STAMP_NPM := node_modules/.linli-installed
PO_FILES := $(shell find linli -name '*.po' -path '*/LC_MESSAGES/*' 2>/dev/null)
PYTEST_ARGS ?=

# `pytest ... || [ $$? -eq 5 ]`: exit 5 means "no tests collected", which is not a failure for an empty stage.
NO_TESTS_OK = || [ $$? -eq 5 ]

.PHONY: help setup system-deps python-deps npm-deps messages demo serve lint test test-sqlite test-pg test-browser bench clean

help:
	@echo "make demo          install everything, create var/linli.sqlite3 with demo data, serve on http://127.0.0.1:$${PORT:-8000}"
	@echo "make test          install everything, lint, test on SQLite, on PostgreSQL 15 and in chromium"
	@echo "make setup         install only (Debian packages when root, .venv, node_modules, compiled translations)"
	@echo "make lint          ruff check, mypy, Django's deployment checks with production settings"
	@echo "make test-sqlite | test-pg | test-browser    one test stage (PYTEST_ARGS='-k name' to narrow)"
	@echo "make bench         benchmarks on SQLite and a throwaway PostgreSQL 15; JSON in var/bench/ (BENCH_QUICK=1: short)"
	@echo "make clean         remove .venv, node_modules, var/ (the demo database too) and caches"

# --- setup ----------------------------------------------------------------------------------------------------------
setup: system-deps python-deps npm-deps messages

system-deps:
	@PYTHON="$(PYTHON)" bash scripts/system-deps.sh

python-deps: $(STAMP_PY)

$(STAMP_PY): pyproject.toml
	@test -x $(PY) || { echo "setup: creating $(VENV) with $(PYTHON)"; "$(PYTHON)" -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $@

npm-deps: $(STAMP_NPM)

$(STAMP_NPM): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# compiled catalogues (.mo) are not committed; rebuild when one is missing or older than its .po
messages: python-deps
	@for po in $(PO_FILES); do \
	    if [ ! -f "$${po%.po}.mo" ] || [ "$$po" -nt "$${po%.po}.mo" ]; then \
	        $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules --ignore=var; \
	        break; \
	    fi; \
	done

# --- run ------------------------------------------------------------------------------------------------------------
demo: setup
	$(VENV)/bin/linli demo

serve: setup
	$(VENV)/bin/linli serve

# --- checks ---------------------------------------------------------------------------------------------------------
lint: python-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy linli
	LINLI_PRODUCTION=1 DEBUG=0 ALLOWED_HOSTS=example.org \
	    SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(60))')" \
	    $(PY) manage.py check --deploy --fail-level WARNING

test: setup
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-pg
	$(MAKE) --no-print-directory test-browser
	@echo "make test: all stages passed"

test-sqlite: setup
	@echo "== tests on SQLite =="
	env -u DATABASE_URL $(PYTEST) -m "not browser" $(PYTEST_ARGS) $(NO_TESTS_OK)

test-pg: setup
	@echo "== tests on PostgreSQL (throwaway cluster) =="
	bash scripts/with-postgres.sh $(PYTEST) -m "not browser" $(PYTEST_ARGS) $(NO_TESTS_OK)

test-browser: setup
	@echo "== browser tests (chromium) =="
	env -u DATABASE_URL $(PYTEST) -m browser $(PYTEST_ARGS) $(NO_TESTS_OK)

# --- benchmarks (docs/performance.md; BENCH_QUICK=1 for a short run, BENCH_ONLY=awards,batch for a subset) --------
bench: setup
	env -u DATABASE_URL $(PY) bench/ledger_run.py
	bash scripts/with-postgres.sh $(PY) bench/ledger_run.py
	env -u DATABASE_URL $(PY) bench/market_counter.py --out var/bench/market_counter-sqlite.json
	bash scripts/with-postgres.sh $(PY) bench/market_counter.py --out var/bench/market_counter-postgresql.json

clean:
	rm -rf $(VENV) node_modules var .mypy_cache .ruff_cache .pytest_cache .hypothesis test-results *.egg-info
	find linli -name '__pycache__' -type d -prune -exec rm -rf {} +
	find linli -name '*.mo' -path '*/LC_MESSAGES/*' -delete
