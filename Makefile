# scribe-operator — make targets in the kubebuilder spirit. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CLUSTER_DIR := .cluster
CLUSTER_ENV := $(CLUSTER_DIR)/env
# Set USE_EXISTING_CLUSTER=1 to test against the cluster KUBECONFIG names (and the S3 that AWS_* name)
USE_EXISTING_CLUSTER ?=
PYTEST_ARGS ?=

export PYTHONPATH := $(CURDIR)/tests/cluster

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

## -- setup ---------------------------------------------------------------------------------------------------
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

.PHONY: venv
venv: $(VENV)/.installed ## Create .venv with the project and its dev dependencies

.PHONY: system-deps
system-deps: ## Install the Debian packages the tests need (espeak-ng), when missing
	@bash hack/system-deps.sh

.PHONY: binaries
binaries: ## Build kube-apiserver, controller-manager, scheduler, kubectl, etcd, helm, MinIO into the cache
	@bash hack/build-binaries.sh >/dev/null

## -- local cluster -------------------------------------------------------------------------------------------
.PHONY: cluster-up
cluster-up: venv binaries ## Start the embedded local cluster (idempotent); writes .cluster/kubeconfig and .cluster/env
	$(PY) -m localcluster up

.PHONY: cluster-down
cluster-down: ## Stop the embedded local cluster; leaves no process or mount behind
	@if [ -x $(PY) ]; then $(PY) -m localcluster down; fi

.PHONY: cluster-clean
cluster-clean: cluster-down ## Stop the local cluster and delete its state (.cluster/)
	rm -rf $(CLUSTER_DIR)

## -- development ---------------------------------------------------------------------------------------------
.PHONY: manifests
manifests: venv ## Generate the CRD (crds/) and the generated parts of docs/ from the API models
	$(PY) -m scribe_operator.api.crd > crds/scribe.dev_transcriptiontasks.yaml
	$(PY) -m scribe_operator.api.docs

.PHONY: lint
lint: venv ## ruff (lint + format check) and mypy --strict
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy operator worker-image tests/cluster

.PHONY: unit
unit: venv ## Unit tests only (no cluster)
	$(VENV)/bin/pytest tests/unit $(PYTEST_ARGS)

.PHONY: test
test: lint system-deps ## All tests: lint, unit, worker, integration and e2e on the local cluster (or USE_EXISTING_CLUSTER=1)
ifeq ($(USE_EXISTING_CLUSTER),)
	$(MAKE) cluster-up
	$(PY) -m localcluster operator-stop  # the tests run their own operator; one left by `make dev` would compete
	source $(CLUSTER_ENV) && $(VENV)/bin/pytest tests $(PYTEST_ARGS)
else
	$(VENV)/bin/pytest tests $(PYTEST_ARGS)
endif

.PHONY: dev
dev: system-deps cluster-up ## The main job: bring up the local cluster and run a real transcription end to end
	source $(CLUSTER_ENV) && bash hack/dev.sh

.PHONY: run
run: venv ## Run the operator locally against the cluster KUBECONFIG names (S3 from AWS_*)
	$(PY) -m scribe_operator

.PHONY: bench
bench: system-deps cluster-up ## Benchmarks, printed as numbers: core reconcile speed, status memory, API writes per task
	source $(CLUSTER_ENV) && $(PY) hack/bench.py
