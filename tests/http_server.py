"""A scripted HTTP server on 127.0.0.1 for download tests: no internet, real sockets.

Each path gets a queue of :class:`Reply` objects; every request to the path pops the next
one, and the last one repeats. The server is bounded: at most ``max_requests`` requests
(anything beyond gets 503 and is counted as ``overflow``), every delay is capped, it stops
itself after ``max_seconds``, and it is shut down (waking any sleeping handler) when the test ends.

Use it through the ``http_server`` fixture, loading this module as a plugin::

    from http_server import Reply

    pytest_plugins = ["http_server"]

    def test_x(http_server):
        http_server.script("/file.csv", Reply(status=429), Reply(body=b"a,b\\n1,2\\n"))
        url = http_server.url("/file.csv")
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

MAX_DELAY_SECONDS = 5.0


@dataclass(frozen=True)
class Reply:
    """One scripted response.

    Parameters
    ----------
    status
        HTTP status code.
    body
        Bytes of the full body; ``Content-Length`` announces ``len(body)`` unless overridden in ``headers``.
    headers
        Extra response headers (e.g. ``Content-Type``, ``Retry-After``, ``Location``).
    delay
        Seconds to wait before sending anything (a timeout case); capped at ``MAX_DELAY_SECONDS``.
    truncate_to
        Send only this many bytes of the body, then close the connection (a truncated download).
    stall_after
        Send this many bytes, then wait ``delay`` seconds before the rest (a mid-body stall).
    dribble
        ``(size, interval)``: send the body ``size`` bytes at a time, ``interval`` seconds apart (a slow-loris).
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate_to: int | None = None
    stall_after: int | None = None
    dribble: tuple[int, float] | None = None


class ScriptedServer:
    """The running server: script replies, build URLs, inspect what was requested."""

    def __init__(self, max_requests: int = 50, max_seconds: float = 60.0) -> None:
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self.expired = False
        self.requests: list[str] = []
        self.hits: dict[str, int] = defaultdict(int)
        self.overflow = 0
        #: TCP connections accepted, whatever was sent on them (a TLS handshake or garbage counts too).
        self.connections = 0
        self._scripts: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        # A test that hangs must not hang the suite: the server stops itself after max_seconds.
        self._watchdog = threading.Timer(max_seconds, self._expire)
        self._watchdog.daemon = True

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``, the value for ``NAO_EXTRA_ALLOWED_ORIGINS``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def script(self, path: str, *replies: Reply) -> None:
        """Queue ``replies`` for ``path`` (the last one repeats for further requests)."""
        if not replies:
            raise ValueError("script() needs at least one Reply")
        with self._lock:
            self._scripts[path] = list(replies)

    def _next_reply(self, path: str) -> Reply:
        with self._lock:
            self.requests.append(path)
            self.hits[path] += 1
            if len(self.requests) > self.max_requests:
                self.overflow += 1
                return Reply(status=503, body=b"request budget of the test server exhausted")
            queue = self._scripts.get(path)
            if not queue:
                return Reply(status=404, body=b"not scripted")
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                with server._lock:
                    server.connections += 1
                super().setup()

            def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
                reply = server._next_reply(self.path)
                wait = min(reply.delay, MAX_DELAY_SECONDS)
                if wait and reply.stall_after is None and server._stop.wait(wait):
                    return
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Length": str(len(reply.body)), "Connection": "close", **reply.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    body = reply.body if reply.truncate_to is None else reply.body[: reply.truncate_to]
                    if reply.dribble is not None:
                        size, interval = reply.dribble
                        for start in range(0, len(body), size):
                            self.wfile.write(body[start : start + size])
                            self.wfile.flush()
                            if server._stop.wait(min(interval, MAX_DELAY_SECONDS)):
                                return
                        return
                    if reply.stall_after is not None:
                        self.wfile.write(body[: reply.stall_after])
                        self.wfile.flush()
                        if server._stop.wait(wait):
                            return
                        body = body[reply.stall_after :]
                    self.wfile.write(body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing more to send
                finally:
                    self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature fixed by http.server
                pass  # keep test output clean

        return Handler

    def start(self) -> ScriptedServer:
        self._thread.start()
        self._watchdog.start()
        return self

    def _expire(self) -> None:
        self.expired = True
        self._stop.set()
        self._httpd.shutdown()

    def stop(self) -> None:
        self._watchdog.cancel()
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def http_server() -> Iterator[ScriptedServer]:
    """A started :class:`ScriptedServer`, shut down after the test."""
    server = ScriptedServer().start()
    try:
        yield server
    finally:
        server.stop()
