#!/usr/bin/env bash
# Install the Debian packages the tests and `make dev` need, when they are missing.
set -euo pipefail
packages=(espeak-ng util-linux mount busybox-static containerd runc containernetworking-plugins iptables conntrack mmdebstrap buildah podman skopeo socat)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "[system-deps] installing ${missing[*]}" >&2
$sudo apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
