# Cost Code Portal. `make run` serves the demo; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PYTEST_ARGS ?=
# CI must test PostgreSQL for real; on a laptop without it the PostgreSQL pass is skipped, loudly.
POSTGRES_REQUIRED ?= $(if $(CI),1,0)

.PHONY: run test lint bench install install-test clean-instance

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Test-only tools from npm: axe-core for the browser tests, vnu-jar (the Nu HTML Checker, run on
# Java) for tests/test_html_validity.py.
node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund --silent
	touch $@

install: $(BIN)/.installed
install-test: $(BIN)/.installed-test node_modules/.installed

# On an existing instance this upgrades the database in place and says which migrations ran.
run: $(BIN)/.installed
	$(FLASK) portal upgrade
	$(FLASK) portal seed-demo --if-empty
	$(FLASK) portal serve

lint: install-test
	$(BIN)/ruff check portal tests wsgi.py bench

test: install-test lint
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  echo "== the database tests again, on PostgreSQL =="; \
	  PORTAL_TEST_DB=postgresql $(BIN)/python -m pytest -p no:cacheprovider -m "not browser" $(PYTEST_ARGS); \
	elif [ "$(POSTGRES_REQUIRED)" = "1" ]; then \
	  echo "PostgreSQL is not running on 127.0.0.1:5432; CI needs it." >&2; exit 1; \
	else \
	  echo "!! PostgreSQL is not running on 127.0.0.1:5432: the PostgreSQL pass was skipped."; \
	fi

bench: install-test
	$(BIN)/python -m bench $(if $(QUICK),--quick,) $(BENCH_ARGS)
