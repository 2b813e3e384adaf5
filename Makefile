# The two commands of the README: `make serve` and `make test`. Each builds .venv when missing,
# from the hashed lock (requirements-dev.lock); `make lock` regenerates the locks from pyproject.toml.
VENV   ?= .venv
PYTHON ?= python3
HOST   ?= 127.0.0.1
PORT   ?= 8000
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LOCK     := requirements.lock
DEV_LOCK := requirements-dev.lock
# uv resolves the locks (`make lock`) and the lowest versions (`make test-lowest`); the installs
# themselves are plain pip. Its own small venv, so `make lock` works while .venv is stale.
UV_VERSION ?= 0.13.9
TOOLS  := .venv-tools
UV     := $(TOOLS)/bin/uv
LOWEST := .venv-lowest
# The locks are for CPython 3.11 on Linux (the Dockerfile's python:3.11-slim, CI, this machine);
# every wheel of each pinned version is hashed, so other Linux machines install from them too.
COMPILE := $(UV) pip compile pyproject.toml --quiet --generate-hashes --python-version 3.11 \
	--python-platform linux --custom-compile-command "make lock"
LOCK_ARGS ?=
# The fast tests: SQLite only, no browser, nothing marked slow; the two fuzz modules (all slow) build
# their app at import, so they are not even collected.
FAST   := -m "not postgres and not browser and not slow" \
	--ignore=tests/test_fuzz.py --ignore=tests/test_schemathesis.py

.PHONY: serve test test-fast test-lowest lint format check-seeds conformance bench lock clean

$(STAMP): pyproject.toml $(DEV_LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python tools/check_installed.py opstats dev
	touch $(STAMP)

$(UV):
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

lock: $(UV)  ## re-resolve the locks from pyproject.toml, keeping pins that still fit (LOCK_ARGS=--upgrade)
	$(COMPILE) $(LOCK_ARGS) --extra dev -o $(DEV_LOCK)
	$(COMPILE) -c $(DEV_LOCK) -o $(LOCK)

serve: $(STAMP)  ## migrate, seed an empty database, serve on $(HOST):$(PORT)
	$(BIN)/opstats serve --host $(HOST) --port $(PORT)

test: $(STAMP) lint  ## lint, type-check, then every test on SQLite and PostgreSQL
	$(BIN)/opstats seed --check
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --cov=app --cov-report=term:skip-covered

test-fast: $(STAMP)  ## the tests on SQLite only, without the browser and the slow ones
	$(BIN)/pytest -q -p no:cacheprovider -n 2 $(FAST)

test-lowest: $(UV)  ## the fast tests on every direct dependency at its lower bound in pyproject.toml
	rm -rf $(LOWEST)
	$(UV) venv --quiet --python $(PYTHON) $(LOWEST)
	$(UV) pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct -e ".[dev]"
	$(LOWEST)/bin/pytest -q -p no:cacheprovider -n 2 $(FAST)

lint: $(STAMP)
	$(BIN)/ruff check app tests bench tools migrations/env.py
	$(BIN)/ruff format --check app tests bench tools migrations/env.py
	$(BIN)/mypy app bench tools

format: $(STAMP)
	$(BIN)/ruff format app tests bench tools migrations/env.py
	$(BIN)/ruff check --fix app tests bench tools migrations/env.py

check-seeds: $(STAMP)
	$(BIN)/opstats seed --check

conformance: $(STAMP)
	$(BIN)/python ../shared/conformance/conformance.py -v

clean:
	rm -rf $(VENV) $(TOOLS) $(LOWEST) .pytest_cache .mypy_cache .ruff_cache opstats.db opstats.db-*
