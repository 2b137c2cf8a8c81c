#!/usr/bin/env bash
# `make dev`: a real transcription end to end on the local cluster (run with .cluster/env sourced).
# Creates the demo bucket, speaks a sample with espeak-ng, starts the operator (a local process, left running
# for you to play with; `make cluster-down` stops it), applies examples/task.yaml, watches it, prints the transcript.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export PYTHONPATH="$PWD/tests/cluster"

kubectl apply --server-side -f crds/ >/dev/null
kubectl wait --for condition=established crd/transcriptiontasks.scribe.dev --timeout=60s >/dev/null

sample=$(mktemp --suffix .wav)
trap 'rm -f "$sample"' EXIT
espeak-ng -w "$sample" "Thank you for joining us today. We are testing the scribe operator on a real Kubernetes control plane."
$PY - "$sample" <<'PYEOF'
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
try:
    s3.create_bucket(Bucket="scribe-demo")
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
s3.upload_file(sys.argv[1], "scribe-demo", "interviews/interview-42.wav")
print("uploaded s3://scribe-demo/interviews/interview-42.wav")
PYEOF

$PY -m localcluster operator-start
kubectl create namespace scribe-demo --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl delete -f examples/task.yaml --ignore-not-found --wait=true >/dev/null
kubectl apply -f examples/task.yaml

kubectl get tt -n scribe-demo -w &
watcher=$!
kubectl wait -n scribe-demo tt/interview-42 --for=jsonpath='{.status.phase}'=Succeeded --timeout=300s >/dev/null || {
  kill "$watcher" 2>/dev/null; echo; kubectl get tt -n scribe-demo interview-42 -o yaml; exit 1; }
sleep 0.5; kill "$watcher" 2>/dev/null || true; wait "$watcher" 2>/dev/null || true
echo
echo "== transcript (s3://scribe-demo/transcripts/interview-42/transcript.txt) =="
$PY -c "
import boto3
from botocore.config import Config
s3 = boto3.client('s3', config=Config(s3={'addressing_style': 'path'}))
print(s3.get_object(Bucket='scribe-demo', Key='transcripts/interview-42/transcript.txt')['Body'].read().decode())"
# The next commands to type, from their one definition (tests/integration/test_next_steps.py runs them as printed)
echo "== next, in your shell =="
sed 's/^/  /' hack/next-steps.txt
