"""`python -m scribe_operator` / `scribe-operator`: run the operator until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import uuid
from pathlib import Path
from typing import Any

import kopf
from aiohttp import web
from lightkube import AsyncClient
from prometheus_client import start_http_server

from scribe_operator.kinds.batch import handlers as batch_handlers  # noqa: F401 - handlers modules register with kopf
from scribe_operator.kinds.task import handlers
from scribe_operator.kinds.task.controller import Controller
from scribe_operator.kinds.task.storage import Storage
from scribe_operator.runtime import kopftuning, login, logs  # noqa: F401 - handlers modules register with kopf
from scribe_operator.runtime.kube.client import api_client
from scribe_operator.runtime.kube.effects import KubeEffects
from scribe_operator.runtime.leader import ElectionConfig, LeaderElector, LeadershipLost
from scribe_operator.runtime.metrics import register_phase_collector, register_running_collector
from scribe_operator.runtime.settings import OperatorSettings


@kopf.on.startup()
async def _startup(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    ours = OperatorSettings()
    settings.persistence.finalizer = "scribe.dev/unused-finalizer"  # none is ever added: no change handlers
    settings.posting.level = logging.WARNING
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.peering.standalone = True  # high availability is leader election on a Lease (leader.py)
    settings.watching.label_selectors[handlers.POD_SELECTOR] = handlers.POD_LABEL_SELECTOR  # server-side filter
    settings.scanning.disabled = True  # no CRD/namespace discovery: the resources are fixed, RBAC stays minimal
    kopftuning.tune(settings)  # no diff base (no change handlers), start-up linear in the objects listed
    try:
        start_http_server(ours.metrics_port)
    except OSError as exc:  # metrics are auxiliary: say so loudly, keep reconciling
        logging.getLogger("scribe_operator").error("metrics port %d unavailable: %s", ours.metrics_port, exc)
    register_phase_collector(handlers.Runtime.phases)
    register_running_collector(handlers.Runtime.running)
    handlers.Runtime.controller = Controller(ours, KubeEffects(api_client()), Storage(ours))


SA_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def _election(ours: OperatorSettings) -> ElectionConfig:
    namespace = ours.leader_election_namespace
    if not namespace:
        namespace = SA_NAMESPACE_FILE.read_text().strip() if SA_NAMESPACE_FILE.exists() else "default"
    identity = os.environ.get("HOSTNAME") or socket.gethostname()
    return ElectionConfig(
        namespace=namespace,
        name=ours.leader_election_lease,
        identity=f"{identity}_{uuid.uuid4().hex[:8]}",
        lease_seconds=ours.leader_election_lease_seconds,
        renew_deadline_seconds=ours.leader_election_lease_seconds * 0.7,
    )


async def _standby_health(port: int) -> web.AppRunner:
    """While waiting for leadership: answer the liveness probe (kopf serves it once this replica leads)."""

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"leader": False})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", port).start()
    return runner


async def _run(ours: OperatorSettings) -> None:
    namespaces = ours.namespace_list
    elector = None
    if ours.leader_election:
        elector = LeaderElector(AsyncClient(field_manager="scribe-operator"), _election(ours))
        health = await _standby_health(ours.health_port)
        try:
            await elector.acquire()
        finally:
            await health.cleanup()
    operator = asyncio.create_task(
        kopf.operator(
            clusterwide=not namespaces,
            namespaces=namespaces,
            liveness_endpoint=f"http://0.0.0.0:{ours.health_port}/healthz",
            standalone=True,
        )
    )
    if elector is None:
        await operator
        return
    keep = asyncio.create_task(elector.keep())
    try:
        done, _ = await asyncio.wait({operator, keep}, return_when=asyncio.FIRST_COMPLETED)
        if keep in done:
            operator.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await operator
            keep.result()  # raises LeadershipLost: exit, to come back as a standby
    finally:
        keep.cancel()
        await elector.release()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="scribe-operator", description="Run the scribe-operator. Configured by SCRIBE_* environment variables."
    )
    parser.parse_args(argv)
    ours = OperatorSettings()
    logs.configure(ours.log_format)
    try:
        asyncio.run(_run(ours))
    except LeadershipLost as exc:
        logging.getLogger("scribe_operator").error("%s; exiting", exc)
        raise SystemExit(1) from exc


if __name__ == "__main__":
    main()
