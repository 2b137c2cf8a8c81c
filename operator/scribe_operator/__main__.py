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

import kopf
from aiohttp import web
from lightkube import AsyncClient

from scribe_operator.app import App
from scribe_operator.runtime import logs
from scribe_operator.runtime.kube.client import FIELD_MANAGER
from scribe_operator.runtime.leader import ElectionConfig, LeaderElector, LeadershipLost
from scribe_operator.runtime.settings import LeaderElectionSection, OperatorSettings, SettingsError

SA_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def _election(ours: LeaderElectionSection) -> ElectionConfig:
    namespace = ours.namespace
    if not namespace:
        namespace = SA_NAMESPACE_FILE.read_text().strip() if SA_NAMESPACE_FILE.exists() else "default"
    identity = os.environ.get("HOSTNAME") or socket.gethostname()
    return ElectionConfig(
        namespace=namespace,
        name=ours.lease,
        identity=f"{identity}_{uuid.uuid4().hex[:8]}",
        lease_seconds=ours.lease_seconds,
        renew_deadline_seconds=ours.lease_seconds * 0.7,
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
    namespaces = ours.operator.namespace_list
    elector = None
    if ours.leader_election.enabled:
        # The Lease has a client of its own: renewals never wait behind reconciles for a pooled connection.
        elector = LeaderElector(AsyncClient(field_manager=FIELD_MANAGER), _election(ours.leader_election))
        health = await _standby_health(ours.operator.health_port)
        try:
            await elector.acquire()
        finally:
            await health.cleanup()
    app = App.create(ours)
    app.serve_metrics()
    operator = asyncio.create_task(
        kopf.operator(
            registry=app.kopf_registry(),
            settings=app.kopf_settings(),
            clusterwide=not namespaces,
            namespaces=namespaces,
            liveness_endpoint=f"http://0.0.0.0:{ours.operator.health_port}/healthz",
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
    try:
        ours = OperatorSettings.from_environ()
    except SettingsError as exc:
        raise SystemExit(f"scribe-operator: {exc}") from exc
    logs.configure(ours.operator.log_format)
    try:
        asyncio.run(_run(ours))
    except LeadershipLost as exc:
        logging.getLogger("scribe_operator").error("%s; exiting", exc)
        raise SystemExit(1) from exc


if __name__ == "__main__":
    main()
