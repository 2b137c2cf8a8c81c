"""The operator's Kubernetes API client: JSON over aiohttp (the HTTP library kopf itself runs on), with the
credentials lightkube's configuration finds.

The operator makes a handful of kinds of request (create, merge-patch, delete and get of an object by path) and
makes them thousands of times: per request, lightkube over httpx costs about three times the CPU of a plain aiohttp
request against the same API server (model objects built and serialised both ways, httpx's and httpcore's layers;
docs/performance.md), and the requests are most of the operator's CPU. So the bodies stay plain dicts, and the
client is small:

- **Where and who**: lightkube's :class:`~lightkube.KubeConfig` (in cluster, or KUBECONFIG), its CA and client
  certificate (``verify_cluster``) and its authentication (``user_auth``: a token, a token file re-read when the API
  server answers 401 (rotated service-account tokens), an exec plugin, basic auth), driven here to get the
  ``Authorization`` header, which is kept until a 401 asks for a fresh one.
- **A pool of** :data:`CONNECTIONS` **kept-alive connections**; further requests wait for a free one, as long as it
  takes (a thousand reconciles at once against a slow API server must queue, not fail); connecting, sending and
  reading a response each have :data:`TIMEOUT_SECONDS`.
- **Status writes first**: when every connection is busy, a waiting request gets the next free one by priority
  (:data:`PRIORITY`: status patches and deletes, then gets, then creates, then Events), first come first served
  within one: with a thousand tasks starting at once, a finished pod's status write does not queue behind hundreds
  of other tasks' creates and Events.
- **Errors**: an answer other than 2xx raises :class:`ApiFailure` with the HTTP code and the API server's Status
  message; a connection failure or a timeout raises aiohttp's own errors (the reconcile fails and is retried).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
from collections.abc import Callable, Mapping
from typing import Any, Final

import aiohttp
import httpx2
from lightkube import KubeConfig
from lightkube.config.client_adapter import user_auth, verify_cluster

CONNECTIONS: Final = 16
TIMEOUT_SECONDS: Final = 10.0
FIELD_MANAGER: Final = "scribe-operator"
MERGE_PATCH: Final = "application/merge-patch+json"


PRIORITY: Final = {"PATCH": 0, "DELETE": 0, "GET": 1, "POST": 2}
"""Lower first; an Event (a POST to ``events``) after everything else."""
EVENT_PRIORITY: Final = 3


class PriorityGate:
    """At most ``size`` holders at a time; waiters are let in by priority, then in arrival order."""

    def __init__(self, size: int) -> None:
        self.free = size
        self.waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self.order = itertools.count()

    async def acquire(self, priority: int) -> None:
        if self.free > 0 and not self.waiting:
            self.free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self.waiting, (priority, next(self.order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # handed a slot while being cancelled: pass it on
            raise

    def release(self) -> None:
        while self.waiting:
            _, _, future = heapq.heappop(self.waiting)
            if not future.done():
                future.set_result(None)  # the slot goes straight to the waiter
                return
        self.free += 1


class ApiFailure(Exception):
    """The API server answered with an error status: ``code`` (HTTP), ``reason`` and ``message`` of its Status."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(f"{code} {reason}: {message}")
        self.code, self.reason, self.message = code, reason, message


class Authorization:
    """The ``Authorization`` header lightkube's authentication for the configured user gives, kept until a 401."""

    def __init__(self, auth: httpx2.Auth | None, server: str) -> None:
        self.auth, self.server = auth, server
        self.header: dict[str, str] | None = None

    async def headers(self, *, refused: bool = False) -> dict[str, str]:
        """The header to send; ``refused``: the API server answered 401 to the one kept (a rotated token)."""
        if self.auth is None:
            return {}
        if self.header is not None and not refused:
            return self.header
        request = httpx2.Request("GET", self.server)
        flow = self.auth.async_auth_flow(request)
        try:
            request = await flow.__anext__()
            if refused:  # the flow re-reads its token file or re-runs its plugin after a 401
                request = await flow.asend(httpx2.Response(401, request=request))
        except StopAsyncIteration:
            pass
        finally:
            await flow.aclose()
        value = request.headers.get("Authorization")
        self.header = {"Authorization": value} if value else {}
        return self.header


class KubeApi:
    """JSON requests to one API server. The aiohttp session is made on first use (it needs the running loop)."""

    def __init__(
        self,
        server: str,
        ssl_context: Any,
        authorization: Authorization,
        *,
        connections: int = CONNECTIONS,
        field_manager: str = FIELD_MANAGER,
    ) -> None:
        self.server, self.ssl_context, self.authorization = server.rstrip("/"), ssl_context, authorization
        self.connections, self.field_manager = connections, field_manager
        self.gate = PriorityGate(connections)
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_env(cls, connections: int = CONNECTIONS) -> KubeApi:
        """For the configuration lightkube finds: in cluster, or KUBECONFIG (its current context)."""
        config = KubeConfig.from_env().get()
        assert config is not None and config.user is not None, "the Kubernetes configuration names no context or user"
        context = verify_cluster(config.cluster, config.user, config.abs_file)
        return cls(config.cluster.server, context, Authorization(user_auth(config.user), config.cluster.server),
                   connections=connections)  # fmt: skip

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self.ssl_context, limit=self.connections, keepalive_timeout=60)
            # no ``connect`` timeout: in aiohttp it includes the wait for a free connection of the pool
            timeout = aiohttp.ClientTimeout(
                total=None, connect=None, sock_connect=TIMEOUT_SECONDS, sock_read=TIMEOUT_SECONDS
            )
            self._session = aiohttp.ClientSession(connector=connector, timeout=timeout, json_serialize=_dumps)
        return self._session

    async def request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, *, content_type: str | None = None
    ) -> dict[str, Any]:
        """``method path`` with ``body`` as JSON; the decoded answer. Writes name the field manager."""
        params = {"fieldManager": self.field_manager} if method in ("POST", "PATCH", "PUT") else None
        headers = {"Content-Type": content_type or "application/json", "Accept": "application/json"}
        data = _dumps(body) if body is not None else None
        priority = EVENT_PRIORITY if method == "POST" and path.endswith("/events") else PRIORITY.get(method, 1)
        await self.gate.acquire(priority)
        try:
            return await self._send(method, path, params, data, headers)
        finally:
            self.gate.release()

    async def _send(
        self, method: str, path: str, params: dict[str, str] | None, data: str | None, headers: dict[str, str]
    ) -> dict[str, Any]:
        for refused in (False, True):
            auth = await self.authorization.headers(refused=refused)
            async with self._open().request(
                method, self.server + path, params=params, data=data, headers={**headers, **auth}
            ) as response:
                if response.status == 401 and not refused and self.authorization.auth is not None:
                    continue  # a rotated token: once more with a fresh one
                payload = await response.read()
                if response.status >= 300:
                    raise _failure(response.status, payload)
                return _loads(payload)
        raise AssertionError("unreachable")  # pragma: no cover

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            await asyncio.sleep(0)  # let the connector close its transports


def object_path(
    api_version: str, plural: str, namespace: str | None, name: str | None = None, subresource: str | None = None
) -> str:
    """The REST path of a collection (no ``name``) or of one object: core ``v1`` under /api, groups under /apis."""
    path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    if namespace:
        path += f"/namespaces/{namespace}"
    path += f"/{plural}"
    if name:
        path += f"/{name}"
    if subresource:
        path += f"/{subresource}"
    return path


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=_iso)


def _iso(value: Any) -> str:
    isoformat: Callable[[], str] | None = getattr(value, "isoformat", None)
    if isoformat is None:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")
    return isoformat()


def _loads(payload: bytes) -> dict[str, Any]:
    if not payload:
        return {}
    value = json.loads(payload)
    return value if isinstance(value, dict) else {}


def _failure(status: int, payload: bytes) -> ApiFailure:
    try:
        document = json.loads(payload)
    except ValueError:
        document = None
    if isinstance(document, dict):
        return ApiFailure(status, str(document.get("reason") or ""), str(document.get("message") or ""))
    return ApiFailure(status, "", payload[:200].decode(errors="replace"))
