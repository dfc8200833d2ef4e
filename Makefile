# ggwatch — every entry point a developer or CI needs. Each target installs what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.13 2>/dev/null || command -v python3)
VENV := .venv
IAC_VENV := .venv-iac
BIN := $(VENV)/bin
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

SAM := $(IAC_VENV)/bin/sam
# The SAM CLI is pinned (requirements-iac.txt), so its weekly "SAM CLI update available" notice is
# noise. It has no setting to turn the check off; it skips the check while the last one is recent,
# so it keeps its settings here (__SAM_CLI_APP_DIR, the variable its own tests use), in a file whose
# last check lies in the future.
SAM_SETTINGS ?= $(CURDIR)/.aws-sam/sam-cli-settings
export __SAM_CLI_APP_DIR := $(SAM_SETTINGS)
# The stack `make deploy` creates on the first, guided run: the name the README's
# `export GGWATCH_STACK_NAME=ggwatch` and samconfig.toml.example use.
STACK_NAME ?= $(or $(GGWATCH_STACK_NAME),ggwatch)
SAMCONFIG ?= samconfig.toml
# Deploy and delete use the operator's region (samconfig.toml, AWS_REGION, AWS_DEFAULT_REGION or the
# profile's), never the one this Makefile pins above for the local tests and the demo.
OPERATOR_ENV := $(if $(filter file,$(origin AWS_DEFAULT_REGION)),env -u AWS_DEFAULT_REGION)

.PHONY: help test demo lint typecheck pytest iac build deploy delete bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# setuptools warns on every editable install of a project whose packages live in more than one
# directory (ours: layers/ggwatch and tools); the warning asks nothing of us, so it is not shown.
QUIET_EDITABLE := PYTHONWARNINGS="ignore:Editable installation"

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(QUIET_EDITABLE) $(BIN)/python -m pip install --quiet -e '.[dev]'
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

$(SAM_SETTINGS)/metadata.json:
	mkdir -p $(@D)
	echo '{"lastVersionCheck": 4102444800.0}' > $@

iac: $(IAC_VENV)/bin/.installed $(SAM_SETTINGS)/metadata.json ## cfn-lint, sam validate --lint and checkov on the templates
	$(IAC_VENV)/bin/cfn-lint template.yaml templates/region-forwarder.yaml
	$(IAC_VENV)/bin/sam validate --lint --template template.yaml
	$(IAC_VENV)/bin/checkov --config-file .checkov.yaml --quiet --compact
	$(IAC_VENV)/bin/checkov --config-file .checkov.yaml --file templates/region-forwarder.yaml

demo: $(BIN)/.installed ## The whole loop, live, on a local stack (Ctrl-C stops it)
	$(BIN)/python -m ggwatch_local.demo $(ARGS)

build: $(IAC_VENV)/bin/.installed $(SAM_SETTINGS)/metadata.json ## sam build: downloads the layer's arm64 (Graviton) wheels from PyPI
	@echo "sam build: downloading the layer's dependencies as arm64 wheels from PyPI into .aws-sam/"
	$(SAM) build --template template.yaml

deploy: build ## Build and deploy the stack (guided the first time; the answers go to samconfig.toml)
ifeq ($(wildcard $(SAMCONFIG)),)
	@echo "No $(SAMCONFIG) yet: a guided deploy (the README's Deploy section says what to answer)."
	$(OPERATOR_ENV) $(SAM) deploy --guided --stack-name $(STACK_NAME) --capabilities CAPABILITY_IAM
else
	$(OPERATOR_ENV) $(SAM) deploy --config-file $(SAMCONFIG)
endif

delete: $(IAC_VENV)/bin/.installed $(SAM_SETTINGS)/metadata.json ## sam delete: remove the stack and its table (asks first)
	$(OPERATOR_ENV) $(SAM) delete $(if $(wildcard $(SAMCONFIG)),--config-file $(SAMCONFIG),--stack-name $(STACK_NAME))

# BENCH_ARGS narrows the fleet benchmark for a quick run, e.g. BENCH_ARGS="--deployments 100 --regions 1 --rate-case 0".
BENCH_OUT ?= .bench/fleet.json
bench: $(BIN)/.installed ## Print cold-import and package figures, one idle poll cycle per fleet size, the monthly cost
	$(BIN)/python tools/bench/cold_start.py
	$(BIN)/python tools/bench/fleet.py --json $(BENCH_OUT) $(BENCH_ARGS)
	$(BIN)/python tools/bench/cost.py $(BENCH_OUT)

clean: ## Remove virtual environments and build output
	rm -rf $(VENV) $(IAC_VENV) .aws-sam .mypy_cache .ruff_cache .pytest_cache .hypothesis
