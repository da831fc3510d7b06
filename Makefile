# Entry points: `make demo` runs a sample tenant, `make test` runs the test suite against real PostgreSQL.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# test modules spread over the machine's cores (PYTEST_WORKERS=0: one process, e.g. to debug)
PYTEST_WORKERS ?= auto
# what `make demo` prints before serving: the first token and calls to try, from another shell
define DEMO_HELP

Public portal (in Chinese, no sign-in): http://127.0.0.1:8000/ lists the provinces, e.g.
  http://127.0.0.1:8000/beijing/  (home)  and  http://127.0.0.1:8000/beijing/institutions  (directory and fees)
  http://127.0.0.1:8000/beijing/policies  (政务公开: policies, guides and notices, published with POST /api/v1/publications)

Staff workbench (development sign-in: choose a user name and a role): http://127.0.0.1:8000/beijing/workbench/

First calls, from another shell in this directory (API docs: http://127.0.0.1:8000/beijing/api/v1/docs):
  export FSP_HOME=.fsp
  TOKEN=$$($(BIN)/fsp token beijing --role provincial-admin)
  curl -s -X POST http://127.0.0.1:8000/beijing/api/v1/institutions \
    -H "Authorization: Bearer $$TOKEN" -H 'Content-Type: application/json' \
    -d '{"name":"北京市示范殡仪馆","type":"funeral_home","credit_code":"12110000MB0000001U","region_code":"110107","address":"石景山区石景山路1号","contact_name":"王主任","contact_phone":"010-68800000","licence_no":"BJ-00001"}'
  curl -s http://127.0.0.1:8000/beijing/api/v1/institutions -H "Authorization: Bearer $$TOKEN"
  $(BIN)/fsp status

Sample figures for the fleet: $(BIN)/fsp national demo-cases --all  (then, within 30 s,
  http://127.0.0.1:8000/ministry/figures  and  $(BIN)/fsp fleet status)
Ctrl-C stops the server; the data stays in .fsp (make clean removes it).

endef
export DEMO_HELP

.PHONY: help venv test demo migration clean

help:
	@echo "make demo       provision the ministry and the pilot provinces, serve them on http://127.0.0.1:8000"
	@echo "make test       lint (ruff), then the tests (starts a local PostgreSQL; PYTEST_ARGS=... passes through)"
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
	$(BIN)/ruff check .
	url=$$(scripts/postgres-test-server | tail -n 1); \
	FSP_TEST_PG_URL="$$url" $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS)

demo: venv
	FSP_HOME=.fsp $(BIN)/fsp up --pilots
	@echo "$$DEMO_HELP"
	FSP_HOME=.fsp $(BIN)/fsp serve --port 8000

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
