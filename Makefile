# Two commands for a newcomer: `make run` and `make test`. Everything else is bootstrapped.
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

.PHONY: help run test lint typecheck unit bench stop clean

help:
	@echo "make run    # run the main DAG once on the bundled sample (embedded PostgreSQL + Redis)"
	@echo "make test   # lint, type-check and the whole test suite"
	@echo "make bench  # performance benchmarks (results in bench/results/)"
	@echo "make stop   # stop the embedded servers started by make run"

$(UV):
	python3 -m pip install --quiet --disable-pip-version-check --target $(CURDIR)/.tools uv==$(UV_VERSION)

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --quiet
	@touch $@

run: $(VENV)/.synced
	$(BIN)/coord local-run

stop: $(VENV)/.synced
	$(BIN)/coord local-stop

lint: $(VENV)/.synced
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.synced
	$(BIN)/mypy coord_core plugins dags tests
	$(BIN)/mypy bench

test: lint typecheck
	$(BIN)/pytest -q

bench: $(VENV)/.synced
	$(BIN)/python -m bench

clean:
	rm -rf .airflow .local .mypy_cache .ruff_cache .pytest_cache
