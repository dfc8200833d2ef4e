# ggwatch — every entry point a developer or CI needs. Each target installs what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.13 2>/dev/null || command -v python3)
VENV := .venv
IAC_VENV := .venv-iac
BIN := $(VENV)/bin
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

.PHONY: help test demo lint typecheck pytest iac build bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(IAC_VENV)/bin/.installed: requirements-iac.txt
	$(PYTHON) -m venv $(IAC_VENV)
	$(IAC_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(IAC_VENV)/bin/python -m pip install --quiet -r requirements-iac.txt
	touch $@

test: lint typecheck pytest iac ## Every test, lint, type check and template check (the CI command)

lint: $(BIN)/.installed ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed ## mypy, strict
	$(BIN)/mypy

pytest: $(BIN)/.installed ## unit, integration and fault-injection tests
	$(BIN)/python -m pytest -n 2

iac: $(IAC_VENV)/bin/.installed ## cfn-lint, sam validate --lint and checkov on template.yaml
	$(IAC_VENV)/bin/cfn-lint template.yaml
	$(IAC_VENV)/bin/sam validate --lint --template template.yaml
	$(IAC_VENV)/bin/checkov --config-file .checkov.yaml --quiet --compact

demo: $(BIN)/.installed ## The whole loop, live, on a local stack (Ctrl-C stops it)
	$(BIN)/python -m ggwatch_local.demo $(ARGS)

build: $(IAC_VENV)/bin/.installed ## sam build (arm64 wheels for the layer)
	$(IAC_VENV)/bin/sam build --template template.yaml

bench: $(BIN)/.installed ## Print cold-import time and package size figures
	$(BIN)/python tools/bench/cold_start.py

clean: ## Remove virtual environments and build output
	rm -rf $(VENV) $(IAC_VENV) .aws-sam .mypy_cache .ruff_cache .pytest_cache .hypothesis
