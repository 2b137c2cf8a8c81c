#!/usr/bin/env bash
# Build the local control plane's binaries from the Go module proxy into a cache outside the repo.
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl  (k8s.io/kubernetes, version stamped)
#   etcd (go.etcd.io/etcd/server/v3), helm (helm.sh/helm/v4/cmd/helm), minio (github.com/minio/minio),
#   promtool (github.com/prometheus/prometheus/cmd/promtool: checks the chart's alerting rules)
# The cache is keyed by version: a second run with the same versions.env does nothing.
# Prints the bin directory on stdout (last line).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

cache=${SCRIBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scribe-operator}
bin="$cache/bin"
mkdir -p "$bin" "$cache/build"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOSUMDB=${GOSUMDB:-off} CGO_ENABLED=0

log() { echo "[build-binaries] $*" >&2; }

# wrapper DIR MODULE VERSION: a throwaway main module that requires MODULE@VERSION.
wrapper() {
  local dir=$1 module=$2 version=$3
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && go mod init "scribe.local/build/$(basename "$dir")" >/dev/null 2>&1 &&
    go mod edit -require="$module@$version")
}

build_kubernetes() {
  local v=$KUBERNETES_VERSION stamp="$bin/.kubernetes-$KUBERNETES_VERSION"
  [[ -f $stamp ]] && return 0
  log "building Kubernetes $v (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl)"
  local dir="$cache/build/kubernetes-$v" staging_v="v0.${v#v1.}"
  wrapper "$dir" k8s.io/kubernetes "$v"
  # k8s.io/kubernetes points its staging modules at ./staging; point them at their published versions.
  local mod
  for mod in $(curl -fsSL "${GOPROXY_URL:-https://proxy.golang.org}/k8s.io/kubernetes/@v/$v.mod" |
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p'); do
    (cd "$dir" && go mod edit -replace="$mod=$mod@$staging_v")
  done
  local major=${v#v} minor
  minor=${major#*.}; minor=${minor%%.*}; major=${major%%.*}
  local ld="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$dir" && go build -trimpath -ldflags "$ld" -o "$bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
  touch "$stamp"
}

build_simple() { # NAME MODULE VERSION PACKAGE LDFLAGS
  local name=$1 module=$2 v=$3 pkg=$4 ld=$5 stamp="$bin/.$1-$3"
  [[ -f $stamp ]] && return 0
  log "building $name $v"
  local dir="$cache/build/$name-$v"
  wrapper "$dir" "$module" "$v"
  (cd "$dir" && go build -trimpath -ldflags "-s -w $ld" -o "$bin/$name" "$pkg")
  touch "$stamp"
}

build_kubernetes
build_simple etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3 \
  "-X go.etcd.io/etcd/api/v3/version.GitSHA=${ETCD_VERSION}"
build_simple helm helm.sh/helm/v4 "$HELM_VERSION" helm.sh/helm/v4/cmd/helm \
  "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"
build_simple minio github.com/minio/minio "$MINIO_VERSION" github.com/minio/minio ""
build_simple promtool github.com/prometheus/prometheus "$PROMETHEUS_VERSION" \
  github.com/prometheus/prometheus/cmd/promtool "-X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION"
echo "$bin"
