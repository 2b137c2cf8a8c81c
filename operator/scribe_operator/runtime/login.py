"""How the operator authenticates to the API server (kopf's login handler).

In a pod: the service-account token and CA, and the API server at KUBERNETES_SERVICE_HOST:PORT, as client-go's
in-cluster config does (kopf's own service-account login assumes the DNS name kubernetes.default.svc, which not
every cluster resolves). Elsewhere: the kubeconfig (KUBECONFIG or ~/.kube/config). The app registers
:func:`login` in its kopf registry.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import kopf

TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"


def in_cluster_server() -> str | None:
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT")
    if not host or not port or not os.path.exists(TOKEN_PATH):
        return None
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    server = in_cluster_server()
    if server is not None:
        info = kopf.login_with_service_account(**kwargs)
        if info is not None:
            return dataclasses.replace(info, server=server)
    return kopf.login_with_kubeconfig(**kwargs)
