"""A small fault-injecting HTTP reverse proxy for tests, in front of S3 (MinIO).

It listens on the upstream's address (pods that reach MinIO reach it too), forwards every request to the upstream
unchanged (the ``Host`` header included, so a URL presigned for the proxy's address verifies at the upstream),
records what it saw, and, for requests matching an injected :class:`Fault`, answers with an error status, resets
the connection, cuts the response body short, or stalls.

    with FaultProxy("http://127.0.0.1:19000") as proxy:
        proxy.inject(Fault("status", method="GET", path_contains="/audio/", status=500))
        ... presign URLs with endpoint_url=proxy.url ...
        assert [r.path for r in proxy.requests if r.method == "PUT"][-1].endswith(".json")

Presigned URLs must be signed for the proxy's address (a boto3 client with ``endpoint_url=proxy.url``
and path-style addressing): SigV4 signs the host.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal
from urllib.parse import unquote, urlsplit

Action = Literal["status", "reset", "truncate", "stall"]

# Hop-by-hop headers (RFC 9110 7.6.1) are not forwarded.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


@dataclass
class Fault:
    """What to do to matching requests.

    - ``status``: answer ``status`` with an S3-style XML error carrying ``code`` (upstream never sees it);
    - ``reset``: read the request, then close the connection with a TCP RST (no response at all);
    - ``truncate``: forward, then send the headers and only half the body, and close the connection;
    - ``stall``: wait ``seconds`` before forwarding (to provoke client timeouts).

    ``method`` and ``path_contains`` (matched against the URL-decoded path, never the query) narrow
    the match; ``times`` is how many requests it hits (None: all of them).
    """

    action: Action
    method: str | None = None
    path_contains: str | None = None
    status: int = 500
    code: str = "InternalError"
    seconds: float = 5.0
    times: int | None = None
    hits: int = field(default=0, init=False)

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path_contains is None or self.path_contains in path


@dataclass(frozen=True)
class Request:
    """One request as the proxy saw it; ``path`` is URL-decoded and has no query string."""

    method: str
    path: str
    started: float  # time.monotonic()
    status: int | None  # what the client got; None for a reset
    fault: Action | None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: FaultProxy

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # resets and client disconnects are expected here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    do_PUT = do_POST = do_HEAD = do_DELETE = do_GET

    def _handle(self) -> None:
        proxy = self.server.proxy
        path = unquote(urlsplit(self.path).path)
        started = time.monotonic()
        body = self._read_body()
        fault = proxy._take_fault(self.command, path)
        action = fault.action if fault else None
        if fault is not None and fault.action == "status":
            proxy._record(Request(self.command, path, started, fault.status, action))
            self._send_error(fault)
            return
        if fault is not None and fault.action == "reset":
            proxy._record(Request(self.command, path, started, None, action))
            self._reset()
            return
        if fault is not None and fault.action == "stall":
            proxy._stopping.wait(fault.seconds)
        status, reason, headers, payload = self._forward(body)
        if fault is not None and fault.action == "truncate":
            proxy._record(Request(self.command, path, started, status, action))
            self._send(status, reason, headers, payload[: len(payload) // 2], content_length=len(payload))
            self.close_connection = True  # a clean close (FIN) mid-body: the client sees a short body
            return
        # Recorded before answering, so a client that has its response always finds the request recorded.
        proxy._record(Request(self.command, path, started, status, action))
        self._send(status, reason, headers, payload)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise NotImplementedError("faultproxy does not support chunked request bodies")
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _forward(self, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        proxy = self.server.proxy
        conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            conn.request(self.command, self.path, body=body or None, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            return response.status, response.reason, response.getheaders(), payload
        finally:
            conn.close()

    def _send(
        self,
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        payload: bytes,
        content_length: int | None = None,
    ) -> None:
        self.send_response_only(status, reason)
        upstream_length = None
        for name, value in headers:
            lower = name.lower()
            if lower == "content-length":
                upstream_length = value
            elif lower not in _HOP_BY_HOP:
                self.send_header(name, value)
        if self.command == "HEAD":
            length = upstream_length or "0"
        else:
            length = str(content_length if content_length is not None else len(payload))
        self.send_header("Content-Length", length)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _send_error(self, fault: Fault) -> None:
        payload = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{fault.code}</Code><Message>injected by faultproxy</Message>"
            "<Resource></Resource><RequestId>faultproxy</RequestId></Error>"
        ).encode()
        self._send(fault.status, "", [("Content-Type", "application/xml")], payload)

    def _reset(self) -> None:
        # SO_LINGER with a zero timeout makes close() send an RST instead of a FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            super().finish()


class FaultProxy:
    def __init__(self, upstream: str, host: str | None = None, port: int = 0) -> None:
        """Listen on `host` (default: the upstream's own address, so whoever reaches the upstream, pods on the
        local cluster's node included, reaches the proxy)."""
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, not {upstream!r}")
        host = host or parts.hostname
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._requests: list[Request] = []
        self._stopping = threading.Event()
        self._server = _Server((host, port), _Handler)
        self._server.proxy = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, name="faultproxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault and forget the recorded requests."""
        with self._lock:
            self._faults.clear()
            self._requests.clear()

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    def _record(self, request: Request) -> None:
        with self._lock:
            self._requests.append(request)
