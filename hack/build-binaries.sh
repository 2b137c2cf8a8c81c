#!/usr/bin/env bash
# Build the local cluster's binaries from Go modules into a cache outside the repo.
#
#   hack/build-binaries.sh [COMPONENT...]      (no argument: every component)
#
# Components (each pinned in versions.env, each a few lines in the table below):
#   kubernetes  kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (k8s.io/kubernetes, version stamped)
#   node        kubelet, kube-proxy (k8s.io/kubernetes, the same version; the local cluster's real node)
#   pause       the node's sandbox-container binary (hack/pause, static; its version is its source's hash)
#   etcd        go.etcd.io/etcd/server/v3
#   helm        helm.sh/helm/v4/cmd/helm
#   minio       github.com/minio/minio
#   promtool    github.com/prometheus/prometheus/cmd/promtool (checks the chart's alerting rules)
#   kwok        sigs.k8s.io/kwok/cmd/kwok (simulated nodes for the scale benchmark only: `make bench-scale`)
#
# Modules come from wherever the Go toolchain is configured to fetch them (`go env GOPROXY`); nothing here names
# a proxy. The cache is keyed by version: a second run with the same versions.env does nothing. Progress goes to
# stderr, one line per component with an estimate and then the time it took; stdout's last line is the bin
# directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

cache=${SCRIBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scribe-operator}
bin="$cache/bin"
mkdir -p "$bin" "$cache/build"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOSUMDB=${GOSUMDB:-off} CGO_ENABLED=0
cores=$(nproc 2>/dev/null || echo 2)

log() { echo "[build-binaries] $*" >&2; }
die() { log "error: $*"; exit 1; }

# The module source the toolchain will use: its first GOPROXY entry. `off` forbids downloads, so nothing can be
# built; `direct` fetches each module from its origin repository (works where those hosts are reachable).
check_module_source() {
  command -v go >/dev/null || die "Go is required (see hack/versions.env for the versions it builds)"
  local proxy first
  proxy=$(go env GOPROXY)
  first=${proxy%%[,|]*}
  case "$first" in
    "" | off) die "GOPROXY is '${proxy:-empty}': the Go toolchain may not download modules, so the local cluster's" \
      "binaries cannot be built. Set GOPROXY to a module proxy (go env -w GOPROXY=...) or to 'direct'." ;;
    direct) log "GOPROXY's first entry is 'direct': modules are fetched from their origin repositories (slow)" ;;
    *) log "modules from ${first} (go env GOPROXY)" ;;
  esac
}

# wrapper DIR MODULE VERSION: a throwaway main module that requires MODULE@VERSION.
wrapper() {
  local dir=$1 module=$2 version=$3
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && go mod init "scribe.local/build/$(basename "$dir")" >/dev/null 2>&1 &&
    go mod edit -require="$module@$version")
}

# gobuild DIR LDFLAGS OUT PACKAGE...: build in DIR with every core.
gobuild() {
  local dir=$1 ld=$2 out=$3
  shift 3
  (cd "$dir" && go build -p "$cores" -trimpath -ldflags "$ld" -o "$out" "$@")
}

# kubernetes_wrapper DIR: a wrapper module for k8s.io/kubernetes at KUBERNETES_VERSION, its staging modules
# (which k8s.io/kubernetes points at ./staging) replaced by their published versions. Prints the ldflags that
# stamp the version (so `kubectl version` and API discovery report it).
kubernetes_wrapper() {
  local dir=$1 v=$KUBERNETES_VERSION staging_v="v0.${KUBERNETES_VERSION#v1.}" gomod mod
  wrapper "$dir" k8s.io/kubernetes "$v"
  gomod=$(cd "$dir" && go mod download -json "k8s.io/kubernetes@$v" | sed -n 's/^\s*"GoMod": "\(.*\)",\?$/\1/p')
  [[ -f $gomod ]] || die "could not download k8s.io/kubernetes@$v (go mod download)"
  for mod in $(sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod"); do
    (cd "$dir" && go mod edit -replace="$mod=$mod@$staging_v")
  done
  local major=${v#v} minor ld="-s -w" pkg
  minor=${major#*.}
  minor=${minor%%.*}
  major=${major%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$ld"
}

# build_kubernetes_cmds CMD...: k8s.io/kubernetes/cmd/CMD for each, from the one wrapper module (so the second
# component reuses the first one's build cache).
build_kubernetes_cmds() {
  local dir="$cache/build/kubernetes-$KUBERNETES_VERSION" ld cmd pkgs=()
  ld=$(kubernetes_wrapper "$dir")
  for cmd in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$cmd"); done
  gobuild "$dir" "$ld" "$bin/" "${pkgs[@]}"
}
build_kubernetes() { build_kubernetes_cmds kube-apiserver kube-controller-manager kube-scheduler kubectl; }
build_node() { build_kubernetes_cmds kubelet kube-proxy; }
build_pause() { (cd "$here/pause" && go build -trimpath -ldflags "-s -w" -o "$bin/pause" .); }
PAUSE_VERSION=$(cat "$here/pause/go.mod" "$here/pause/main.go" | sha256sum | cut -c1-12)

# build_module NAME MODULE VERSION PACKAGE LDFLAGS: one binary from one module.
build_module() {
  local name=$1 module=$2 v=$3 pkg=$4 ld=$5 dir="$cache/build/$1-$3"
  wrapper "$dir" "$module" "$v"
  gobuild "$dir" "-s -w $ld" "$bin/$name" "$pkg"
}

build_etcd() {
  build_module etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3 \
    "-X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION"
}
build_helm() {
  build_module helm helm.sh/helm/v4 "$HELM_VERSION" helm.sh/helm/v4/cmd/helm \
    "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"
}
build_minio() { build_module minio github.com/minio/minio "$MINIO_VERSION" github.com/minio/minio ""; }
build_promtool() {
  build_module promtool github.com/prometheus/prometheus "$PROMETHEUS_VERSION" \
    github.com/prometheus/prometheus/cmd/promtool "-X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION"
}
build_kwok() {
  build_module kwok sigs.k8s.io/kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok \
    "-X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}"
}

# name | version | what it builds | usual cold time on 2 cores
COMPONENTS=(
  "kubernetes|$KUBERNETES_VERSION|kube-apiserver, kube-controller-manager, kube-scheduler, kubectl|10-15 min"
  "node|$KUBERNETES_VERSION|kubelet, kube-proxy|2-3 min after kubernetes"
  "pause|$PAUSE_VERSION|pause|seconds"
  "etcd|$ETCD_VERSION|etcd|about 1 min"
  "helm|$HELM_VERSION|helm|about 1 min"
  "minio|$MINIO_VERSION|minio|2-3 min"
  "promtool|$PROMETHEUS_VERSION|promtool|3-5 min"
  "kwok|$KWOK_VERSION|kwok (simulated nodes, scale benchmark only)|2-4 min"
)

component() { # NAME -> "version|what|estimate"
  local row
  for row in "${COMPONENTS[@]}"; do
    [[ ${row%%|*} == "$1" ]] && { echo "${row#*|}"; return 0; }
  done
  return 1
}

elapsed() {
  local s=$(($(date +%s) - $1))
  printf '%dm%02ds' $((s / 60)) $((s % 60))
}

build() { # NAME: build it unless its stamp for the pinned version exists
  local name=$1 row version what estimate stamp start
  row=$(component "$name") || die "unknown component '$name' (known: $(printf '%s ' "${COMPONENTS[@]%%|*}"))"
  IFS='|' read -r version what estimate <<<"$row"
  stamp="$bin/.$name-$version"
  [[ -f $stamp ]] && return 0
  [[ -n ${checked:-} ]] || { check_module_source; checked=1; }
  log "building $name $version: $what (usually $estimate on 2 cores; $cores cores here)"
  start=$(date +%s)
  "build_$name"
  touch "$stamp"
  log "built $name $version in $(elapsed "$start")"
}

wanted=("$@")
[[ ${#wanted[@]} -gt 0 ]] || wanted=("${COMPONENTS[@]%%|*}")
for name in "${wanted[@]}"; do
  build "$name"
done
echo "$bin"
