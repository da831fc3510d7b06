# Entry points: `make demo` runs a sample tenant, `make test` runs the test suite against real PostgreSQL.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# the sample tenant `make demo` serves; `fsp up --pilots && fsp serve` takes over once the CLI lands
DEMO_ENV := FSP_HOME=.fsp FSP_DATABASE_URL=sqlite:///.fsp/beijing.db FSP_KEYS_DIR=.fsp/keys/beijing \
	FSP_TENANT_CODE=110000 FSP_TENANT_SLUG=beijing

.PHONY: help venv test demo migration clean

help:
	@echo "make demo       serve the sample tenant (beijing) on http://127.0.0.1:8000"
	@echo "make test       run the tests (starts a local PostgreSQL; PYTEST_ARGS=... passes through)"
	@echo 'make migration  MSG="..." autogenerate an Alembic revision'
	@echo "make clean      remove demo state and caches (keeps $(VENV))"

venv: $(VENV)/.installed

$(BIN)/python:
	@# Debian's own python3 ships venv separately
	@python3 -c 'import ensurepip' 2>/dev/null || scripts/apt-install python3-venv
	python3 -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

test: venv
	url=$$(scripts/postgres-test-server | tail -n 1); \
	FSP_TEST_PG_URL="$$url" $(BIN)/pytest $(PYTEST_ARGS)

demo: venv
	mkdir -p .fsp
	$(DEMO_ENV) $(BIN)/alembic upgrade head
	@echo "dev token (another shell): $(DEMO_ENV) $(BIN)/python -m registry.devtoken --role registrar"
	$(DEMO_ENV) $(BIN)/uvicorn --factory registry.app:create_app --host 127.0.0.1 --port 8000

# autogenerate compares the models with a throwaway database at head, so the revision holds only the change
migration: venv
	@[ -n "$${MSG:-}" ] || { echo 'usage: make migration MSG="what changed"' >&2; exit 1; }
	scratch=$$(mktemp -d); trap 'rm -rf "$$scratch"' EXIT; \
	export FSP_DATABASE_URL="sqlite:///$$scratch/schema.db"; \
	$(BIN)/alembic upgrade head && $(BIN)/alembic revision --autogenerate -m "$$MSG"

clean:
	rm -rf .fsp .fsp-test build
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d -print0 \
		| xargs -0 rm -rf
