# The two commands of the README: `make serve` and `make test`. Each builds .venv when missing.
VENV   ?= .venv
PYTHON ?= python3
HOST   ?= 127.0.0.1
PORT   ?= 8000
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: serve test lint format check-seeds conformance bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

serve: $(STAMP)  ## migrate, seed an empty database, serve on $(HOST):$(PORT)
	$(BIN)/opstats serve --host $(HOST) --port $(PORT)

test: $(STAMP) lint  ## lint, type-check, then every test on SQLite and PostgreSQL
	$(BIN)/opstats seed --check
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --cov=app --cov-report=term:skip-covered

lint: $(STAMP)
	$(BIN)/ruff check app tests bench migrations/env.py
	$(BIN)/ruff format --check app tests bench migrations/env.py
	$(BIN)/mypy app

format: $(STAMP)
	$(BIN)/ruff format app tests bench migrations/env.py
	$(BIN)/ruff check --fix app tests bench migrations/env.py

check-seeds: $(STAMP)
	$(BIN)/opstats seed --check

conformance: $(STAMP)
	$(BIN)/python ../shared/conformance/conformance.py -v

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache opstats.db opstats.db-*
