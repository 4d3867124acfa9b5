# Commands for a newcomer: `make run`, `make test`, `make ui`. Everything else is bootstrapped.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin

export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__PARALLELISM := 4
export AIRFLOW__CORE__UNIT_TEST_MODE := False
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help run test ui lint typecheck security unit bench drill trend-history stop clean compose-env compose-check

help:
	@echo "make run    # run the main DAG once on the bundled sample (embedded PostgreSQL + Redis)"
	@echo "make test   # lint, type-check and the whole test suite (every tier, in parallel)"
	@echo "make ui     # the Airflow UI on the embedded servers (API server, scheduler, dag-processor, triggerer)"
	@echo "make unit   # the tests that need no PostgreSQL/Redis and start no Airflow process (fast)"
	@echo "make security  # bandit against security/baseline.toml; pip-audit of uv.lock when the feed is reachable"
	@echo "make bench  # performance benchmarks (results in bench/results/)"
	@echo "make drill  # fault drill: PostgreSQL frozen for 90 s mid-run; the try fails, the retry recovers (~4 min)"
	@echo "make trend-history  # 30 generated days through both DAGs, spikes scored (test-artifacts/)"
	@echo "make stop   # stop the Airflow UI and the embedded servers started by make run / make ui"
	@echo "make compose-env    # .env.compose with generated secrets for docker-compose.yml"
	@echo "make compose-check  # validate docker-compose.yml, its env template and monitoring files offline"

$(UV):
	python3 -m pip install --quiet --disable-pip-version-check --target $(CURDIR)/.tools uv==$(UV_VERSION)

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --quiet
	@touch $@

run: $(VENV)/.synced
	$(BIN)/coord local-run

ui: $(VENV)/.synced
	$(BIN)/coord local-ui

stop: $(VENV)/.synced
	$(BIN)/coord local-stop

# The layering (README, "Layering") is checked by import-linter with the contracts in .importlinter.
lint: $(VENV)/.synced
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONPATH=$(CURDIR)/plugins $(BIN)/lint-imports --no-cache

typecheck: $(VENV)/.synced
	$(BIN)/mypy coord_core plugins dags tests security
	$(BIN)/mypy -p bench

# Bandit findings must be fixed or accepted, one line each with its reason, in security/baseline.toml;
# the locked dependencies are audited with pip-audit against PyPI's vulnerability feed, or skipped
# with a message saying so when the feed is unreachable (an offline CI run does not fail for that).
security: $(VENV)/.synced
	UV=$(UV) $(BIN)/python security/check.py

# Tiers are marked automatically from the fixtures a test uses (tests/conftest.py): `integration`
# needs PostgreSQL/Redis, `e2e` starts Airflow processes. Every test has its own database, Redis key
# prefix, AIRFLOW_HOME and free ports, and each pytest-xdist worker its own embedded servers, so
# tests run on several workers; `--dist loadscope` runs each module on one worker (its module-scoped
# servers start once); `--no-loadscope-reorder` hands the modules out in collection order, which
# puts the longest first (tests/conftest.py).
UNIT_WORKERS ?= auto
TEST_WORKERS ?= 3

unit: $(VENV)/.synced
	$(BIN)/pytest -q -m "not integration and not e2e" -n $(UNIT_WORKERS)

test: lint typecheck security
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder --durations=25

# Fault drills, by hand: PostgreSQL frozen (SIGSTOP) for 90 s mid-run; prints the measured times.
drill: $(VENV)/.synced
	COORD_DRILL=1 $(BIN)/pytest -q -s -m drill tests/dags/test_frozen_postgres.py

compose-env:
	python3 deploy/generate_compose_env.py

compose-check: $(VENV)/.synced
	$(BIN)/pytest -q tests/observability/test_compose_stack.py tests/observability/test_dashboard.py

bench: $(VENV)/.synced
	$(BIN)/python -m bench

# A generated 30-day history through the main DAG's tasks (6-hour intervals) and coord_trends',
# then its spikes scored against the truth (HISTORY_ARGS to change; see tests/trends/history_run.py).
HISTORY_ARGS ?= --days 30 --interval-hours 6 --seed 7 --base-rate 96
trend-history: $(VENV)/.synced
	PYTHONPATH=$(CURDIR)/plugins:$(CURDIR) $(BIN)/python -m tests.trends.history_run $(HISTORY_ARGS)

clean:
	rm -rf .airflow .local .mypy_cache .ruff_cache .pytest_cache
