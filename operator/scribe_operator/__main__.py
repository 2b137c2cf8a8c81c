"""`python -m scribe_operator` / `scribe-operator`: run the operator until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

import kopf
from lightkube import AsyncClient
from prometheus_client import start_http_server

from . import handlers
from .controller import Controller
from .kube.effects import KubeEffects
from .metrics import register_phase_collector
from .settings import OperatorSettings
from .storage import Storage


def _configure_logging(settings: OperatorSettings) -> None:
    fmt = kopf.LogFormat.JSON if settings.log_format == "json" else kopf.LogFormat.FULL
    kopf.configure(log_format=fmt, verbose=False)
    for noisy in ("httpx", "httpx2", "httpcore", "botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@kopf.on.startup()
async def _startup(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    ours = OperatorSettings()
    settings.persistence.finalizer = "scribe.dev/unused-finalizer"  # none is ever added: no change handlers
    settings.posting.level = logging.WARNING
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.peering.standalone = not ours.peering
    if ours.peering:
        settings.peering.name = ours.peering
        settings.peering.priority = ours.priority
        settings.peering.mandatory = True
    try:
        start_http_server(ours.metrics_port)
    except OSError as exc:  # metrics are auxiliary: say so loudly, keep reconciling
        logging.getLogger("scribe_operator").error("metrics port %d unavailable: %s", ours.metrics_port, exc)
    register_phase_collector(handlers.Runtime.phases)
    handlers.Runtime.controller = Controller(
        ours, KubeEffects(AsyncClient(field_manager="scribe-operator")), Storage(ours)
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="scribe-operator", description="Run the scribe-operator. Configured by SCRIBE_* environment variables."
    )
    parser.parse_args(argv)
    ours = OperatorSettings()
    _configure_logging(ours)
    namespaces = ours.namespace_list
    asyncio.run(
        kopf.operator(
            clusterwide=not namespaces,
            namespaces=namespaces,
            liveness_endpoint=f"http://0.0.0.0:{ours.health_port}/healthz",
            standalone=not ours.peering,
            peering_name=ours.peering or None,
            priority=ours.priority,
        )
    )


if __name__ == "__main__":
    main()
