#!/usr/bin/env bash
# `make e2e-kind`: the same test suites against a kind cluster with the operator deployed by its Helm chart.
# Needs Docker, kind, kubectl and helm (the embedded local cluster does not; this path cannot run on hosts without
# Docker). Steps: create the cluster, build and load both images, run MinIO in the cluster, `make deploy`, then
# `make test USE_EXISTING_CLUSTER=1` with the deployed operator (tests that start their own operator process are
# deselected: -m "not local_operator").
set -euo pipefail
cd "$(dirname "$0")/.."
CLUSTER=${KIND_CLUSTER:-scribe-e2e}
for tool in docker kind kubectl helm; do
  command -v "$tool" >/dev/null || { echo "e2e-kind needs $tool on PATH" >&2; exit 1; }
done
docker info >/dev/null 2>&1 || { echo "e2e-kind needs a running Docker engine" >&2; exit 1; }

kind get clusters | grep -qx "$CLUSTER" || kind create cluster --name "$CLUSTER" --config hack/kind/kind-config.yaml
export KUBECONFIG="${KUBECONFIG_KIND:-$PWD/.cluster/kind-kubeconfig}"
mkdir -p "$(dirname "$KUBECONFIG")"
kind get kubeconfig --name "$CLUSTER" > "$KUBECONFIG"

make docker-build
version=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
for image in scribe-operator scribe-worker; do
  kind load docker-image --name "$CLUSTER" "ghcr.io/scribe-operator/$image:$version"
done

export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-scribe-e2e}
export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}
export AWS_REGION=us-east-1
kubectl apply -f hack/kind/minio.yaml >/dev/null
kubectl -n minio create secret generic minio --dry-run=client -o yaml \
  --from-env-file=<(printf 'MINIO_ROOT_USER=%s\nMINIO_ROOT_PASSWORD=%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY") \
  | kubectl apply -f - >/dev/null
kubectl -n minio rollout restart deploy/minio >/dev/null
kubectl -n minio rollout status deploy/minio --timeout=180s
node_ip=$(kubectl get nodes -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}')
export AWS_ENDPOINT_URL="http://$node_ip:30900"

make deploy USE_EXISTING_CLUSTER=1
export SCRIBE_E2E_EXTERNAL_OPERATOR=1
make test USE_EXISTING_CLUSTER=1 PYTEST_ARGS="${PYTEST_ARGS:--q -ra} -m 'not local_operator'"
