#!/usr/bin/env bash
# Deploy the operator with its Helm chart into the cluster KUBECONFIG names (the embedded local cluster after
# `source .cluster/env`), with S3 settings and credentials from the environment (AWS_ENDPOINT_URL, AWS_REGION,
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: .cluster/env sets them for MinIO).
#
#   hack/deploy.sh            install or upgrade; extra helm flags in HELM_ARGS (e.g. HELM_ARGS="--set replicaCount=2")
#   hack/deploy.sh undeploy   uninstall and delete the namespace (the CRD stays: helm.sh/resource-policy: keep)
#
# The namespace (SCRIBE_NAMESPACE, default scribe-system) enforces the `restricted` Pod Security Standard. The images
# are the chart's defaults (ghcr.io/scribe-operator/scribe-{operator,worker}:<appVersion>) unless
# SCRIBE_OPERATOR_IMAGE / SCRIBE_WORKER_IMAGE name others: on the local cluster, .cluster/env names the ones
# `make images` built from this checkout's Dockerfiles and loaded into the node. On another cluster, build and push
# (or load) them first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAMESPACE="${SCRIBE_NAMESPACE:-scribe-system}"
RELEASE="${SCRIBE_RELEASE:-scribe-operator}"
SECRET="${RELEASE}-s3"
HELM="$(command -v helm || echo "${SCRIBE_CACHE:-$HOME/.cache/scribe-operator}/bin/helm")"
[ -x "$HELM" ] || { echo "helm not found: run \`make binaries\` or put helm on PATH" >&2; exit 1; }
: "${KUBECONFIG:?KUBECONFIG is not set: run \`make cluster-up\` and \`source .cluster/env\`, or point it at your cluster}"

case "${1:-deploy}" in
  deploy)
    kubectl create namespace "$NAMESPACE" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
    kubectl label --overwrite namespace "$NAMESPACE" \
      pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/warn=restricted >/dev/null

    args=(upgrade --install "$RELEASE" "$ROOT/charts/scribe-operator" --namespace "$NAMESPACE" --wait --timeout 3m)
    if [ -n "${AWS_ENDPOINT_URL:-}" ]; then
      args+=(--set-string "s3.endpoint=$AWS_ENDPOINT_URL" --set s3.addressingStyle=path)
    fi
    if [ -n "${AWS_REGION:-}" ]; then
      args+=(--set-string "s3.region=$AWS_REGION")
    fi
    if [ -n "${AWS_ACCESS_KEY_ID:-}" ]; then
      # The key goes into a Secret through stdin, never onto a command line.
      kubectl create secret generic "$SECRET" --namespace "$NAMESPACE" --dry-run=client -o yaml \
        --from-env-file=<(printf 'accessKeyId=%s\nsecretAccessKey=%s\n' "$AWS_ACCESS_KEY_ID" "${AWS_SECRET_ACCESS_KEY:-}") \
        | kubectl apply -f - >/dev/null
      args+=(--set-string "s3.existingSecret=$SECRET")
    fi
    # image references repository:tag (the tag is a hash of the image's inputs)
    if [ -n "${SCRIBE_OPERATOR_IMAGE:-}" ]; then
      args+=(--set-string "image.repository=${SCRIBE_OPERATOR_IMAGE%:*}" --set-string "image.tag=${SCRIBE_OPERATOR_IMAGE##*:}")
    fi
    if [ -n "${SCRIBE_WORKER_IMAGE:-}" ]; then
      args+=(--set-string "worker.image.repository=${SCRIBE_WORKER_IMAGE%:*}")
      args+=(--set-string "worker.image.tag=${SCRIBE_WORKER_IMAGE##*:}")
    fi
    if [ -n "${SCRIBE_TEST_KUBECTL_IMAGE:-}" ]; then
      args+=(--set-string "tests.image.repository=${SCRIBE_TEST_KUBECTL_IMAGE%:*}")
      args+=(--set-string "tests.image.tag=${SCRIBE_TEST_KUBECTL_IMAGE##*:}")
    fi
    # Objects applied before with kubectl (the CRDs by make dev and the tests, the worker progress policy by the
    # e2e harness) are taken over, not refused: ownership, and the fields kubectl's server-side apply manages.
    if "$HELM" upgrade --help | grep -q -- '--take-ownership'; then
      args+=(--take-ownership)
    fi
    if "$HELM" upgrade --help | grep -q -- '--force-conflicts'; then
      args+=(--force-conflicts)
    fi
    # shellcheck disable=SC2086  # HELM_ARGS is a list of flags
    "$HELM" "${args[@]}" ${HELM_ARGS:-}
    kubectl --namespace "$NAMESPACE" get pods -l "app.kubernetes.io/instance=$RELEASE"
    ;;
  undeploy)
    "$HELM" uninstall "$RELEASE" --namespace "$NAMESPACE" --wait --ignore-not-found || true
    kubectl delete namespace "$NAMESPACE" --ignore-not-found --wait=true
    ;;
  *)
    echo "usage: $0 [deploy|undeploy]" >&2
    exit 2
    ;;
esac
