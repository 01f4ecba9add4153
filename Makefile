# Signaalhub — every target creates .venv from the lock file when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test lint typecheck unit integration e2e bench lock clean

$(STAMP): requirements/lock.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

$(BENCH_STAMP): $(STAMP) requirements/bench.txt
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/bench.txt
	touch $(BENCH_STAMP)

demo: $(STAMP)
	$(BIN)/signaalhub demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP)
	$(BIN)/pytest tests/integration

e2e: $(STAMP)
	$(BIN)/pytest tests/e2e

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.intake
	$(BIN)/python -m bench.routing
	$(BIN)/python -m bench.queue
	$(BIN)/python -m bench.reports
	$(BIN)/python -m bench.encryption

# Re-pin after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/pip-compile -q --extra dev --generate-hashes --allow-unsafe --strip-extras -o requirements/lock.txt pyproject.toml
	$(BIN)/pip-compile -q --generate-hashes --allow-unsafe --strip-extras -o requirements/runtime.txt pyproject.toml
	$(BIN)/pip-compile -q --extra dev --extra bench --generate-hashes --allow-unsafe --strip-extras -o requirements/bench.txt pyproject.toml

clean:
	rm -rf $(VENV) var/*.sqlite3 .mypy_cache .ruff_cache .pytest_cache
