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

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
REGISTRY ?= ghcr.io/scribe-operator
OPERATOR_IMG ?= $(REGISTRY)/scribe-operator:$(VERSION)
WORKER_IMG ?= $(REGISTRY)/scribe-worker:$(VERSION)
HELM ?= $(shell command -v helm || echo $${SCRIBE_CACHE:-$$HOME/.cache/scribe-operator}/bin/helm)

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
system-deps: ## Install the Debian packages the tests and the local node need (espeak-ng, containerd, runc, buildah, ...), when missing
	@bash hack/system-deps.sh

# hack/build-binaries.sh COMPONENT...: each target builds only the binaries it needs (cached by version)
BUILD := bash hack/build-binaries.sh
CLUSTER_BINARIES := kubernetes node pause etcd minio

.PHONY: binaries
binaries: ## Build every binary of the local cluster, the chart checks and the scale benchmark (Kubernetes, etcd, helm, MinIO, promtool, kwok)
	@$(BUILD) >/dev/null

## -- local cluster -------------------------------------------------------------------------------------------
.PHONY: cluster-up
cluster-up: venv ## Start the embedded local cluster (idempotent); writes .cluster/kubeconfig and .cluster/env
	@$(BUILD) $(CLUSTER_BINARIES) >/dev/null
	$(PY) -m localcluster up

.PHONY: images
images: cluster-up ## Build the operator, worker and test images (when their inputs changed) and load them into the node
	$(PY) -m localcluster images

.PHONY: cluster-down
cluster-down: ## Stop the embedded local cluster; leaves no process, mount, network namespace or cgroup behind
	@if [ -x $(PY) ]; then $(PY) -m localcluster down; fi

.PHONY: cluster-clean
cluster-clean: cluster-down ## Stop the local cluster and delete its state (.cluster/)
	rm -rf $(CLUSTER_DIR)

## -- development ---------------------------------------------------------------------------------------------
.PHONY: manifests
manifests: venv ## Generate the CRDs (crds/), the generated parts of docs/ and the chart's settings from the models
	$(PY) -m scribe_operator.codegen
	$(PY) -m scribe_operator.runtime.settings.reference
	bash hack/sync-chart-crds.sh

.PHONY: lint
lint: venv ## ruff (lint + format check) and mypy --strict
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy operator worker-image contract tests/cluster

.PHONY: unit
unit: venv ## Unit tests only (no cluster; helm and promtool from the cache for the chart tests)
	@$(BUILD) helm promtool >/dev/null
	$(VENV)/bin/pytest tests/unit $(PYTEST_ARGS)

.PHONY: test
test: lint system-deps binaries ## All tests: lint, unit, worker, integration and e2e on the local cluster (or USE_EXISTING_CLUSTER=1)
ifeq ($(USE_EXISTING_CLUSTER),)
	$(MAKE) images
	$(PY) -m localcluster operator-stop  # the tests run their own operator; one left by `make dev` would compete
	source $(CLUSTER_ENV) && $(VENV)/bin/pytest tests $(PYTEST_ARGS)
	source $(CLUSTER_ENV) && bash hack/test-deployed.sh $(PYTEST_ARGS)
else
	$(VENV)/bin/pytest tests $(PYTEST_ARGS)
endif

.PHONY: test-deployed
test-deployed: venv ## The e2e suite against the chart-deployed operator (make deploy), then undeploy
	@$(BUILD) helm >/dev/null
ifeq ($(USE_EXISTING_CLUSTER),)
	$(MAKE) images
	$(PY) -m localcluster operator-stop
	source $(CLUSTER_ENV) && bash hack/test-deployed.sh $(PYTEST_ARGS)
else
	bash hack/test-deployed.sh $(PYTEST_ARGS)
endif

.PHONY: dev
dev: system-deps images ## The main job: bring up the local cluster and run a real transcription end to end
	source $(CLUSTER_ENV) && bash hack/dev.sh

.PHONY: run
run: venv ## Run the operator locally against the cluster KUBECONFIG names (S3 from AWS_*)
	$(PY) -m scribe_operator

.PHONY: bench
bench: system-deps images ## Benchmarks, printed as numbers: core speed, status memory, API writes per task, scale (N=1000), the worker's
	@$(BUILD) kwok >/dev/null
	source $(CLUSTER_ENV) && $(PY) hack/bench.py

# N items per phase; N=10000 takes about an hour on 2 cores (docs/performance.md)
N ?= 1000
.PHONY: bench-scale
bench-scale: cluster-up ## Scale benchmark on kwok nodes: N tasks vs N Jobs (make bench-scale N=1000; DOCS=1 updates docs/)
	@$(BUILD) kwok >/dev/null
	source $(CLUSTER_ENV) && $(PY) hack/benchscale --n $(N) $(if $(DOCS),--docs)

.PHONY: bench-worker
bench-worker: venv system-deps ## The worker's benchmarks only (no cluster): RTF and WER per decoding mode, overhead, long-audio memory
	$(PY) hack/bench.py worker

## -- packaging and deployment --------------------------------------------------------------------------------
.PHONY: chart-crds
chart-crds: ## Copy the generated CRDs (crds/) into the Helm chart
	bash hack/sync-chart-crds.sh

.PHONY: helm-lint
helm-lint: ## helm lint the chart: all namespaces, and listed namespaces with leader election
	@$(BUILD) helm >/dev/null
	$(HELM) lint --strict charts/scribe-operator
	$(HELM) lint --strict charts/scribe-operator --set 'watchNamespaces={a,b}' --set replicaCount=2

.PHONY: krew
krew: ## The krew plugin archive (dist/) and its manifest plugins/scribe.yaml (RELEASE_URL: where the archive is published)
	bash hack/krew.sh dist > plugins/scribe.yaml

.PHONY: docker-build
docker-build: ## Build the operator and worker images (needs a running Docker engine)
	@docker info >/dev/null 2>&1 || { echo "docker-build needs a running Docker engine"; exit 1; }
	docker build -f operator/Dockerfile -t $(OPERATOR_IMG) .
	docker build -f worker-image/Dockerfile -t $(WORKER_IMG) .

.PHONY: deploy
deploy: venv ## Install/upgrade the chart into the local cluster (or KUBECONFIG's with USE_EXISTING_CLUSTER=1)
	@$(BUILD) helm >/dev/null
ifeq ($(USE_EXISTING_CLUSTER),)
	$(MAKE) images
	source $(CLUSTER_ENV) && bash hack/deploy.sh deploy
else
	bash hack/deploy.sh deploy
endif

.PHONY: undeploy
undeploy: ## Uninstall the chart and its namespace (the CRDs stay)
ifeq ($(USE_EXISTING_CLUSTER),)
	source $(CLUSTER_ENV) && bash hack/deploy.sh undeploy
else
	bash hack/deploy.sh undeploy
endif

.PHONY: e2e-kind
e2e-kind: venv ## The test suites against kind with the chart-deployed operator (needs Docker, kind, helm)
	bash hack/e2e-kind.sh
