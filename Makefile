# airflow-platform: `make up` deploys a stack, `make test` runs every test.
SHELL := /bin/bash
STACK ?= local
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.DEFAULT_GOAL := help
.PHONY: help up preview plan plan-diff test lint test-infra test-dags venv clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'
	@echo "  STACK=$(STACK) (local | dev | prod)"

up: ## pulumi up on STACK (default: local); checks prerequisites first
	@scripts/pulumi.sh up "$(STACK)"

preview: ## pulumi preview --diff on STACK
	@scripts/pulumi.sh preview "$(STACK)"

plan: venv ## Offline plan of STACK: resources, protected, exports (OUT=plan.json writes JSON)
	@$(BIN)/python -m review plan --stack "$(STACK)" $(if $(OUT),--out "$(OUT)")

plan-diff: venv ## What the working tree changes in STACK since BASE=<git ref>, as Markdown (OUT=file)
	@$(if $(BASE),,echo "make plan-diff needs BASE=<git ref>, e.g. BASE=origin/main" >&2; exit 1)
	@$(BIN)/python -m review plan-diff --stack "$(STACK)" --base "$(BASE)" $(if $(OUT),--out "$(OUT)")

test: lint test-infra test-dags ## Lint, infrastructure tests under mocks, DAG tests

lint: venv ## ruff lint + format check, mypy on the Pulumi program
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-infra: venv ## Config, values, components and stacks under Pulumi mocks
	$(BIN)/python -m pytest tests --ignore=tests/dags

test-dags: ## DAG integrity and behaviour on the Airflow version the stack deploys
	@scripts/test-dags.sh

venv: $(BIN)/.installed

$(BIN)/.installed: requirements.txt requirements-dev.txt bootstrap/requirements.txt
	@scripts/check-python.sh "$(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

clean: ## Remove virtualenvs and caches (not the stack state)
	rm -rf $(VENV) .venv-dags .pytest_cache .ruff_cache
