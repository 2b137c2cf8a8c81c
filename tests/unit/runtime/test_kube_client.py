"""The operator's API client against a small HTTP server speaking the API server's JSON: paths, the field manager,
merge patches, error statuses, and a rotated service-account token picked up on the API server's 401."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from lightkube.config.client_adapter import BearerTokenFileAuth
from scribe_operator.runtime.kube.client import (
    EVENT_PRIORITY,
    MERGE_PATCH,
    PRIORITY,
    ApiFailure,
    Authorization,
    KubeApi,
    PriorityGate,
    object_path,
)


class FakeApiServer:
    """Answers what the test scripted and records every request (method, path, query, headers, body)."""

    def __init__(self, token: str = "t1") -> None:
        self.token = token
        self.requests: list[dict[str, Any]] = []
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        self.requests.append({
            "method": request.method, "path": request.path, "query": dict(request.query),
            "authorization": request.headers.get("Authorization"), "content_type": request.content_type,
            "body": body,
        })  # fmt: skip
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"kind": "Status", "code": 401, "reason": "Unauthorized"}, status=401)
        if request.path.endswith("/missing"):
            status = {"kind": "Status", "code": 404, "reason": "NotFound", "message": 'pods "missing" not found'}
            return web.json_response(status, status=404)
        if request.method == "DELETE":
            return web.json_response({"kind": "Status", "status": "Success"})
        return web.json_response({**(body or {}), "metadata": {"resourceVersion": "7"}}, status=201)


class Served:
    """The fake API server, running, and the clients of it that a test opened; each client reads its bearer token
    from :attr:`token_file`, as the operator reads its projected service-account token."""

    def __init__(self, fake: FakeApiServer, test_server: TestServer, token_file: Path) -> None:
        self.fake = fake
        self.test_server = test_server
        self.token_file = token_file
        self.clients: list[KubeApi] = []

    def client(self, token: str) -> KubeApi:
        """A client of the server whose token file now holds ``token``; closed when the test ends."""
        self.token_file.write_text(token)
        url = str(self.test_server.make_url(""))
        api = KubeApi(url, None, Authorization(BearerTokenFileAuth(str(self.token_file)), url))
        self.clients.append(api)
        return api


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    """The fake API server for one test; its clients are closed, then the server, when the test ends."""
    fake = FakeApiServer()
    test_server = TestServer(fake.app)
    await test_server.start_server()
    served = Served(fake, test_server, tmp_path / "token")
    yield served
    for api in served.clients:
        await api.close()
    await test_server.close()


def test_paths_of_core_and_group_resources() -> None:
    assert object_path("v1", "pods", "media") == "/api/v1/namespaces/media/pods"
    assert object_path("v1", "pods", "media", "a-a1") == "/api/v1/namespaces/media/pods/a-a1"
    assert (
        object_path("scribe.dev/v1alpha1", "transcriptiontasks", "media", "a", "status")
        == "/apis/scribe.dev/v1alpha1/namespaces/media/transcriptiontasks/a/status"
    )


async def test_writes_name_the_field_manager_and_patches_are_merge_patches(served: Served) -> None:
    api = served.client("t1\n")
    created = await api.request("POST", "/api/v1/namespaces/media/secrets", {"kind": "Secret", "data": {}})
    patched = await api.request("PATCH", "/apis/g/v1/namespaces/media/things/a/status", {"status": {}},
                                content_type=MERGE_PATCH)  # fmt: skip
    await api.request("DELETE", "/api/v1/namespaces/media/secrets/a")
    assert created["kind"] == "Secret" and patched["metadata"]["resourceVersion"] == "7"
    post, patch, delete = served.fake.requests
    assert post["query"] == {"fieldManager": "scribe-operator"} and post["content_type"] == "application/json"
    assert patch["query"] == {"fieldManager": "scribe-operator"} and patch["content_type"] == MERGE_PATCH
    assert delete["query"] == {} and delete["body"] is None
    assert {r["authorization"] for r in served.fake.requests} == {"Bearer t1"}


async def test_an_error_status_raises_with_its_code_and_message(served: Served) -> None:
    with pytest.raises(ApiFailure) as failure:
        await served.client("t1").request("GET", "/api/v1/namespaces/media/pods/missing")
    assert (failure.value.code, failure.value.reason) == (404, "NotFound")
    assert failure.value.message == 'pods "missing" not found'


async def test_a_rotated_token_is_read_again_when_the_api_server_refuses_the_old_one(served: Served) -> None:
    api = served.client("t1")
    await api.request("GET", "/api/v1/namespaces/media/pods/a")
    served.fake.token = "t2"  # the kubelet rotated the projected token: the old one is refused from now on
    served.token_file.write_text("t2")
    await api.request("GET", "/api/v1/namespaces/media/pods/a")
    await api.request("GET", "/api/v1/namespaces/media/pods/a")
    assert [r["authorization"] for r in served.fake.requests] == ["Bearer t1", "Bearer t1", "Bearer t2", "Bearer t2"]


async def test_a_refused_fresh_token_is_an_error_not_a_loop(served: Served) -> None:
    with pytest.raises(ApiFailure) as failure:
        await served.client("wrong").request("GET", "/api/v1/namespaces/media/pods/a")
    assert failure.value.code == 401 and len(served.fake.requests) == 2


async def test_waiting_requests_get_a_free_connection_status_writes_first_then_in_arrival_order() -> None:
    gate = PriorityGate(1)
    await gate.acquire(PRIORITY["GET"])  # every connection busy
    order: list[str] = []

    async def request(name: str, priority: int) -> None:
        await gate.acquire(priority)
        order.append(name)
        gate.release()

    waiting = [
        asyncio.create_task(request(name, priority))
        for name, priority in [("event", EVENT_PRIORITY), ("create a", PRIORITY["POST"]),
                               ("create b", PRIORITY["POST"]), ("status", PRIORITY["PATCH"])]
    ]  # fmt: skip
    cancelled = asyncio.create_task(request("cancelled", PRIORITY["PATCH"]))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    gate.release()
    await asyncio.gather(*waiting)
    assert order == ["status", "create a", "create b", "event"]
    assert gate.free == 1 and not gate.waiting, "a cancelled waiter holds no connection"
