# Bellwether: `make run` serves, `make test` runs everything. Both set themselves up.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APP_STAMP := $(VENV)/.installed-app
DEMO_DB := bellwether.db
GRAPHIQL_DIR := web/graphiql
GRAPHIQL_STAMP := $(GRAPHIQL_DIR)/node_modules/.package-lock.json

.PHONY: install install-app graphiql graphiql-if-npm run demo-reset test lint bench bench-live clean reliability

# The app and the development tools (tests, linters): what `make test` needs.
install: $(STAMP)

# The app alone: what `make run` needs.
install-app: $(APP_STAMP)

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "needs $(PYTHON) on PATH (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(APP_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $(APP_STAMP)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(APP_STAMP) $(STAMP)

# GraphiQL's files from npm (web/graphiql_assets.py): /graphql then works offline.
graphiql: $(GRAPHIQL_STAMP)

$(GRAPHIQL_STAMP): $(GRAPHIQL_DIR)/package-lock.json
	npm ci --prefix $(GRAPHIQL_DIR) --ignore-scripts --no-audit --no-fund --loglevel=error

# GraphiQL's files where npm is at hand. Without npm (a fresh machine with Python alone,
# or offline) the app runs and its tests pass (the GraphiQL-file tests skip, except in CI);
# /graphql then says how to get GraphiQL.
graphiql-if-npm:
	@command -v npm >/dev/null 2>&1 && $(MAKE) --no-print-directory graphiql || \
		echo "GraphiQL's files not installed (needs npm: make graphiql); the app runs without them"

run: install-app graphiql-if-npm
	$(BIN)/bellwether serve

# Start again from the demo data: delete the default SQLite database; the next
# `make run` seeds it afresh (BELLWETHER_DATABASE_URL elsewhere: not touched).
demo-reset:
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	@echo "demo data removed: the next 'make run' seeds it again"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy domain persistence auth schema resolvers web
	$(BIN)/lint-imports

test: lint graphiql-if-npm
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/engine.py

# The live fan-out benchmark's WebSocket client (Node's ws, pinned in bench/live/package-lock.json);
# then: $(BIN)/python bench/live.py --url http://127.0.0.1:8000 --subscribers 5000 --server-pid PID
bench-live: install
	npm ci --prefix bench/live --no-audit --no-fund

# The heavy reliability runs (docs/RELIABILITY.md): 50 clients x 10,000 operations on both
# backends, kill -9 and PostgreSQL restarts at three points of heavy load, 1,000 fuzz examples
# per mode. Each run's figures are appended to $(RELIABILITY_FIGURES) as one JSON line.
RELIABILITY_FIGURES ?= /tmp/bellwether-reliability.jsonl
reliability: install
	BELLWETHER_HEAVY=1 BELLWETHER_FUZZ_EXAMPLES=1000 \
	BELLWETHER_RELIABILITY_FIGURES=$(RELIABILITY_FIGURES) $(BIN)/pytest tests/reliability -s -q
	@echo "figures: $(RELIABILITY_FIGURES)"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis $(GRAPHIQL_DIR)/node_modules
