# airflow-platform: `make up` deploys a stack, `make test` runs every test.
SHELL := /bin/bash
STACK ?= local
PYTHON ?= python3
BIN := .venv/bin
# The project's version: pyproject.toml's, the newest entry of CHANGELOG.md (tests/docs/test_changelog.py).
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' pyproject.toml)
export PYTHON
# Python's bytecode cache is what makes a second run fast: the cloud SDKs' modules take
# seconds to compile on every import without it (warm `make test` 40 s instead of 21 s).
# Some images set PYTHONDONTWRITEBYTECODE (this project's CI machine does); the targets
# here keep the cache in the virtualenv they own. dags/ stays clean: scripts/test-dags.sh
# sets the variable again for the DAG suite, and the ConfigMap packer skips __pycache__.
unexport PYTHONDONTWRITEBYTECODE

.DEFAULT_GOAL := help
.PHONY: docs docs-check help up sleep wake preview destroy status plan plan-diff test lint test-infra test-infra-review test-infra-program test-dags test-runtime venv policy-venv clean config-reference

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'
	@echo "  STACK=$(STACK) (local | dev | prod)"
	@echo "  airflow-platform $(VERSION) (CHANGELOG.md)"

up: ## pulumi up on STACK (default: local); checks prerequisites first
	@scripts/pulumi.sh up "$(STACK)"

sleep: ## Park STACK: nodes to zero, database stopped, state kept (docs/operations/sleep.md); not prod or local
	@scripts/pulumi.sh sleep "$(STACK)"

wake: ## Wake a sleeping STACK (same DAGs and history), then wait until Airflow is healthy
	@scripts/pulumi.sh wake "$(STACK)"

preview: ## pulumi preview --diff on STACK
	@scripts/pulumi.sh preview "$(STACK)"

destroy: ## Delete STACK's resources (Airflow first, then the platform); protected ones stay (docs/operations/destroy.md)
	@scripts/pulumi.sh destroy "$(STACK)"

status: venv ## Airflow's health, heartbeats, pods, worker nodes, last DAG runs and alerts of STACK (docs/operations/monitoring.md)
	@$(BIN)/python -m monitoring.status --stack "$(STACK)"

plan: venv ## Offline plan of STACK: resources, policy verdict, monthly cost (OUT=plan.json also writes JSON)
	@$(BIN)/python -m review plan --stack "$(STACK)" $(if $(OUT),--out "$(OUT)")

plan-diff: venv ## What the working tree changes in STACK since BASE=<git ref>, as Markdown (OUT=file, JSON=file)
	@$(if $(BASE),,echo "make plan-diff needs BASE=<git ref>, e.g. BASE=origin/main" >&2; exit 1)
	@$(BIN)/python -m review plan-diff --stack "$(STACK)" --base "$(BASE)" $(if $(OUT),--out "$(OUT)") $(if $(JSON),--json "$(JSON)")

# The steps of `make test`, independent once the virtualenvs exist: scripts/test.sh runs
# them in parallel, prints each one's output when it ends and totals every pytest summary.
# A new suite's target goes here.
TEST_STEPS := lint docs-check test-infra-review test-infra-program test-dags test-runtime

# The step `make test` waits for longest; scripts/test.sh gives it the CPU first (the others run niced).
TEST_PRIORITY_STEP := test-runtime

test: ## Lint, infrastructure tests under mocks, DAG tests, the real-Airflow runtime suite; ends with "N passed, N failed, N skipped"
	@TEST_PRIORITY_STEP=$(TEST_PRIORITY_STEP) scripts/test.sh $(TEST_STEPS)

lint: venv ## ruff lint + format check, mypy on the Pulumi program
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The infrastructure suite runs as two pytest processes so that `make test` keeps both
# cores busy: the review layer (plans, plan-diff, cost, policy, CI, bootstrap) and the
# program itself (everything else under tests/, new test files included).
# Warm `make test` on 2 cores: one process 27.5 s, pytest-xdist -n 2 24-25 s (each worker
# imports the providers and collects every test), these two halves 20-22 s.
REVIEW_TESTS := tests/review tests/policy tests/ci tests/bootstrap

test-infra: test-infra-review test-infra-program ## Config, values, components and stacks under Pulumi mocks

test-infra-review: venv
	@echo "test-infra-review: $(REVIEW_TESTS) under Pulumi mocks"
	@scripts/pytest.sh .venv $(REVIEW_TESTS)

test-infra-program: venv
	@echo "test-infra-program: the rest of tests/ (but tests/dags and tests/runtime) under Pulumi mocks"
	@scripts/pytest.sh .venv tests --ignore=tests/dags --ignore=tests/runtime --ignore=tests/docs $(addprefix --ignore=,$(REVIEW_TESTS))

config-reference: venv ## Regenerate docs/configuration.md and schema/stack.schema.json from components/config_keys.py
	@$(BIN)/python -m components.config_reference --write

test-dags: ## DAG integrity and behaviour on the Airflow version the stack deploys
	@echo "test-dags: pytest in .venv-dags on the deployed Airflow"
	@scripts/test-dags.sh

# Mostly waiting on its own processes (PostgreSQL, Airflow, Chromium), so it runs beside the others.
test-runtime: ## The stack's generated configuration run by the real Airflow, PostgreSQL (TLS) and Chromium
	@echo "test-runtime: tests/runtime, Airflow from .venv-dags against a throwaway PostgreSQL"
	@scripts/pytest.sh .venv tests/runtime -p no:cacheprovider

docs: ## Serve the documentation site (docs/) on http://127.0.0.1:8000, rebuilt on every edit
	@scripts/venvs.sh docs
	NO_MKDOCS_2_WARNING=1 .venv-docs/bin/mkdocs serve

# The site built with --strict (a broken link or anchor fails) and the README's front-page checks.
docs-check: venv
	@echo "docs-check: mkdocs build --strict, and the README's links into docs/"
	@scripts/venvs.sh docs
	@scripts/pytest.sh .venv tests/docs

venv: ## The Pulumi program's virtualenv (.venv), rebuilt when its requirements change
	@scripts/venvs.sh main

policy-venv: ## The policy pack's virtualenv (policy/venv) that `--policy-pack policy` runs; CI builds it too
	@scripts/venvs.sh policy

clean: ## Remove the virtualenvs and caches `make test` and `make policy-venv` created (not the stack state)
	rm -rf .venv .venv-dags .venv-airflow-previous .test-artefacts policy/venv .pytest_cache .ruff_cache .mypy_cache
	find . -name __pycache__ -type d -not -path './.git/*' -prune -exec rm -rf {} +
