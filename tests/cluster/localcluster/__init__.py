"""The embedded local Kubernetes cluster used by `make dev` and the tests.

Test and dev tooling, not product: real etcd, kube-apiserver, kube-controller-manager, kube-scheduler and MinIO
built from Go modules (hack/build-binaries.sh), and a real node (containerd, runc, kubelet, kube-proxy: `node/`).
"""
