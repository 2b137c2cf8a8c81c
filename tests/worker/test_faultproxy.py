"""The fault-injecting proxy itself, against a tiny local upstream (no S3 needed)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.support.faultproxy import Fault, FaultProxy

BODY = b"0123456789" * 1000


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.send_header("X-Seen-Host", self.headers["Host"])
        self.end_headers()
        self.wfile.write(BODY)

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        received = self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.send_header("X-Received", str(len(received)))
        self.end_headers()


@pytest.fixture(scope="module")
def proxy() -> Iterator[FaultProxy]:
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=upstream.serve_forever, daemon=True)
    thread.start()
    with FaultProxy(f"http://127.0.0.1:{upstream.server_address[1]}") as running:
        yield running
    upstream.shutdown()
    upstream.server_close()


@pytest.fixture
def client(proxy: FaultProxy) -> Iterator[httpx.Client]:
    proxy.clear()
    with httpx.Client(base_url=proxy.url, timeout=5) as c:
        yield c


def test_forwards_unchanged_with_the_clients_host(proxy: FaultProxy, client: httpx.Client) -> None:
    response = client.get("/b/some%20key?X-Amz-Signature=abc")
    assert response.status_code == 200
    assert response.content == BODY
    assert response.headers["X-Seen-Host"] == proxy.url.removeprefix("http://")
    put = client.put("/b/out.json", content=b"x" * 123)
    assert put.headers["X-Received"] == "123"
    assert [(r.method, r.path, r.status, r.fault) for r in proxy.requests] == [
        ("GET", "/b/some key", 200, None),  # decoded path, no query string
        ("PUT", "/b/out.json", 200, None),
    ]


def test_status_fault_with_s3_error_body(proxy: FaultProxy, client: httpx.Client) -> None:
    fault = proxy.inject(Fault("status", method="PUT", path_contains=".txt", status=503, code="SlowDown", times=1))
    assert client.put("/b/a.json", content=b"{}").status_code == 200  # no match
    response = client.put("/b/a.txt", content=b"hi")
    assert response.status_code == 503
    assert b"<Code>SlowDown</Code>" in response.content
    assert client.put("/b/a.txt", content=b"hi").status_code == 200  # times=1 used up
    assert fault.hits == 1


def test_reset_fault(proxy: FaultProxy, client: httpx.Client) -> None:
    proxy.inject(Fault("reset", method="GET"))
    with pytest.raises(httpx.TransportError):
        client.get("/b/k")
    assert proxy.requests[-1].status is None


def test_truncate_fault(proxy: FaultProxy, client: httpx.Client) -> None:
    proxy.inject(Fault("truncate", method="GET"))
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/b/k")


def test_stall_fault_provokes_a_client_timeout(proxy: FaultProxy) -> None:
    proxy.clear()
    proxy.inject(Fault("stall", method="GET", seconds=3))
    with httpx.Client(base_url=proxy.url, timeout=0.5) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.get("/b/k")
