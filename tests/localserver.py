"""A real HTTP server on 127.0.0.1 standing in for the outside services in tests (SMHI, MET Norway…)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering; cut short when the test ends
    # A source that trickles: `piece` bytes of the body every `pace` seconds (and, with `slow_head`, of
    # the status line and headers too). It stops without finishing when the test ends.
    pace: float = 0.0
    piece: int = 1
    slow_head: bool = False
    # A body without end: `body` again and again (chunked, no Content-Length), `pace` seconds apart,
    # until the client hangs up or the test ends.
    endless: bool = False


@dataclass
class Seen:
    path: str  # with the query
    headers: dict[str, str]  # names in lower case
    sent: int = 0  # bytes of the body written so far
    hung_up: bool = False  # the client closed the connection before the reply was written
    ended: threading.Event = field(default_factory=threading.Event)  # the reply is over, one way or another
    method: str = "GET"
    body: bytes = b""  # what a POST sent


Route = Reply | Callable[[Seen], Reply]


def json_reply(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})}
    )


class _Paced:
    """The handler's output, written `piece` bytes every `pace` seconds (for a trickling status line and
    headers); stops writing when the test ends."""

    def __init__(self, out: Any, reply: Reply, release: threading.Event) -> None:
        self.out, self.reply, self.release = out, reply, release

    def write(self, data: bytes) -> int:
        step = max(self.reply.piece, 1)
        for start in range(0, len(data), step):
            if self.release.wait(self.reply.pace):
                raise OSError("the test is over")
            self.out.write(data[start : start + step])
        return len(data)

    def __getattr__(self, name: str) -> Any:  # flush, closed, close …
        return getattr(self.out, name)


class LocalServer:
    """Answers GETs and POSTs from `routes` (keyed by path without query) and remembers what it saw."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                seen = Seen(self.path, {name.lower(): value for name, value in self.headers.items()})
                seen.method = self.command
                length = self.headers.get("Content-Length", "")
                if length.isdigit():
                    seen.body = self.rfile.read(int(length))
                owner.seen.append(seen)
                release = owner.release
                route = owner.routes.get(urlsplit(self.path).path)
                if route is None:
                    reply = Reply(501, b"no route for this path in the test")
                else:
                    reply = route(seen) if callable(route) else route
                if reply.delay:
                    release.wait(reply.delay)
                try:
                    if reply.slow_head:
                        self.wfile = _Paced(self.wfile, reply, release)  # type: ignore[assignment]
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    if reply.endless:
                        self.send_header("Transfer-Encoding", "chunked")
                    else:
                        self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if reply.endless:
                        self._send_endless(reply, seen, release)
                    elif reply.pace:
                        self._send_paced(reply, seen, release)
                    else:
                        self.wfile.write(reply.body)
                        seen.sent = len(reply.body)
                except OSError:
                    seen.hung_up = True  # the client gave up (timeout and size tests)
                    self.close_connection = True
                finally:
                    seen.ended.set()

            do_POST = do_GET  # the same routes; the body is in `seen.body`

            def _send_paced(self, reply: Reply, seen: Seen, release: threading.Event) -> None:
                for start in range(0, len(reply.body), max(reply.piece, 1)):
                    if start and release.wait(reply.pace):
                        self.close_connection = True  # the test is over: the reply stays unfinished
                        return
                    piece = reply.body[start : start + max(reply.piece, 1)]
                    self.wfile.write(piece)
                    seen.sent += len(piece)

            def _send_endless(self, reply: Reply, seen: Seen, release: threading.Event) -> None:
                chunk = b"%x\r\n%s\r\n" % (len(reply.body), reply.body)
                while reply.body and not release.is_set():
                    self.wfile.write(chunk)
                    seen.sent += len(reply.body)
                    if reply.pace:
                        release.wait(reply.pace)
                self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def reset(self) -> None:
        self.release.set()
        self.release = threading.Event()
        self.routes.clear()
        self.seen.clear()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
