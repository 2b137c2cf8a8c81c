"""The embedded local Kubernetes cluster used by `make dev` and the tests.

Test and dev tooling, not product: real etcd, kube-apiserver, kube-controller-manager, kube-scheduler and MinIO
built from Go modules (hack/build-binaries.sh), plus a pod runner that stands in for the kubelet.
"""
