"""The operator process's shared state, built once: the settings, one Kubernetes API client, one S3 client, and
every registered kind started over them (:data:`scribe_operator.kinds.registry.KINDS`).

:meth:`App.create` builds it; :meth:`App.kopf_settings` and :meth:`App.kopf_registry` are what kopf runs with
(``kopf.operator(settings=..., registry=...)``): the kinds' handlers are bound to their controllers, so no handler
reads global state, and nothing is registered by importing a module. :meth:`App.serve_metrics` starts the metrics
endpoint with the kinds' collectors.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import kopf
from prometheus_client import start_http_server
from prometheus_client.registry import REGISTRY, CollectorRegistry

from scribe_operator.kinds.kind import Kind, Wiring
from scribe_operator.kinds.registry import KINDS
from scribe_operator.runtime import kopftuning
from scribe_operator.runtime.kube.client import KubeApi
from scribe_operator.runtime.login import login
from scribe_operator.runtime.s3 import s3_client
from scribe_operator.runtime.settings import OperatorSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger("scribe_operator")

UNUSED_FINALIZER: Final = "scribe.dev/unused-finalizer"
"""kopf's finalizer setting; none is ever added (no change handlers)."""


@dataclass
class App:
    """One operator process: settings, clients and the running kinds (by name)."""

    settings: OperatorSettings
    api: KubeApi
    s3: S3Client
    kinds: dict[str, Wiring] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        settings: OperatorSettings,
        *,
        kinds: Iterable[Kind] = KINDS,
        api: KubeApi | None = None,
        s3: S3Client | None = None,
    ) -> App:
        """Build the clients (unless given) and start every kind over them."""
        app = cls(
            settings, api if api is not None else KubeApi.from_env(), s3 if s3 is not None else s3_client(settings.s3)
        )
        for kind in kinds:
            app.kinds[kind.name] = kind.start(app)
        return app

    def kopf_settings(self) -> kopf.OperatorSettings:
        """kopf's settings: no persistence, warnings-only posting, long watches, no peering, no scanning."""
        settings = kopf.OperatorSettings()
        settings.persistence.finalizer = UNUSED_FINALIZER
        settings.posting.level = logging.WARNING
        settings.watching.server_timeout = 300
        settings.watching.client_timeout = 330
        settings.peering.standalone = True  # high availability is leader election on a Lease (runtime/leader.py)
        settings.scanning.disabled = True  # no CRD/namespace discovery: the resources are fixed, RBAC stays minimal
        kopftuning.tune(settings)  # no diff base (no change handlers), start-up linear in the objects listed
        for wiring in self.kinds.values():
            wiring.configure(settings)
        return settings

    def kopf_registry(self) -> kopf.OperatorRegistry:
        """A registry with the login handler and every kind's handlers, bound to this app's controllers."""
        registry = kopf.OperatorRegistry()
        kopf.on.login(id="login", registry=registry)(login)
        for wiring in self.kinds.values():
            wiring.register(registry)
        return registry

    def register_collectors(self, registry: CollectorRegistry = REGISTRY) -> None:
        """Add the kinds' watch-cache collectors to ``registry`` (once per process)."""
        for wiring in self.kinds.values():
            for collector in wiring.collectors():
                registry.register(collector)

    def serve_metrics(self) -> None:
        """The kinds' collectors, then the metrics endpoint; a port in use is logged, not fatal."""
        self.register_collectors()
        port = self.settings.operator.metrics_port
        try:
            start_http_server(port)
        except OSError as exc:  # metrics are auxiliary: say so loudly, keep reconciling
            log.error("metrics port %d unavailable: %s", port, exc)

    async def close(self) -> None:
        await self.api.close()
