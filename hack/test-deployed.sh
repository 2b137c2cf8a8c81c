#!/usr/bin/env bash
# The e2e suite a second way: against the operator the Helm chart deploys into the cluster (its own ServiceAccount,
# token and least-privilege RBAC; restricted namespace) instead of a process the tests start. Tests that kill or
# restart the operator (marker local_operator) need that process and are deselected.
#   hack/test-deployed.sh [pytest args...]       (KUBECONFIG and AWS_* as for make test)
set -euo pipefail
cd "$(dirname "$0")/.."
undeploy() { bash hack/deploy.sh undeploy >/dev/null 2>&1 || true; }
trap undeploy EXIT
bash hack/deploy.sh deploy >/dev/null
echo "operator deployed by the chart; running the e2e suite against it"
SCRIBE_E2E_EXTERNAL_OPERATOR=1 .venv/bin/pytest tests/e2e -m "not local_operator" "$@"
