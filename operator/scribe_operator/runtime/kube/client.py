"""The operator's API client: lightkube over a connection pool sized for it.

httpx's default pool keeps 20 idle connections of at most 100: with more requests in flight than that (hundreds of
tasks reconciled at once), every request beyond the 20th opened a TLS connection and closed it after one request,
and every request scanned every pooled connection for expiry. A pool of :data:`CONNECTIONS` kept-alive connections,
where further requests wait for one, costs a quarter less CPU per request against the same API server
(docs/performance.md). A request waits for a free connection as long as it takes (no pool timeout: with a
thousand tasks reconciled at once against a slow API server, a 10 s wait for a connection failed their reconciles
and retried them, a storm); connecting, sending and reading keep lightkube's 10 s timeouts.
"""

from __future__ import annotations

import httpx2
from lightkube import AsyncClient, KubeConfig
from lightkube.config.client_adapter import verify_cluster

CONNECTIONS = 16
TIMEOUT = httpx2.Timeout(10.0, pool=None)
FIELD_MANAGER = "scribe-operator"


def api_client(connections: int = CONNECTIONS) -> AsyncClient:
    """An AsyncClient for the configuration lightkube finds (in cluster, or KUBECONFIG), with ``connections``
    kept-alive connections at most."""
    config = KubeConfig.from_env().get()
    assert config is not None and config.user is not None, "the Kubernetes configuration names no context or user"
    transport = httpx2.AsyncHTTPTransport(
        verify=verify_cluster(config.cluster, config.user, config.abs_file),
        limits=httpx2.Limits(max_connections=connections, max_keepalive_connections=connections),
    )
    return AsyncClient(config, field_manager=FIELD_MANAGER, transport=transport, timeout=TIMEOUT)
