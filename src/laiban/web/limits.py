"""How large a request body may be: refused with 413 before the app reads it, without holding it in memory.

A declared Content-Length over the limit is answered at once (the body is never read). A body without one
(chunked) is counted as the app reads it; past the limit, reading raises an HTTP 413 error, which the app's
error handlers answer as JSON `{error: {code, message}}` for the API and as a page for people.

Limits: `DEFAULT_BYTES` for ordinary forms and JSON; multipart forms (the file uploads: pictures, CSV files)
may carry an upload of `store.uploads.MAX_BYTES` and the rest of the form; the kiosk's recording
(`/api/v1/listen`) has the same 2 MB as its route, which reads it as a stream with its own check.
"""

from __future__ import annotations

import html
import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from laiban.store.uploads import MAX_BYTES as UPLOAD_BYTES
from laiban.web.api.listen import LARGEST_BYTES as RECORDING_BYTES

DEFAULT_BYTES = 1024 * 1024
FORM_OVERHEAD = 1024 * 1024  # the other fields and the multipart framing around an upload
MULTIPART_BYTES = UPLOAD_BYTES + FORM_OVERHEAD
ROUTE_BYTES = {"/api/v1/listen": RECORDING_BYTES}
PAGES = ("/admin", "/guardian")  # answered with a page for people; anything else with JSON


def limit_for(scope: Scope) -> int:
    """The largest body this request may send."""
    path = scope["path"]
    if path in ROUTE_BYTES:
        return ROUTE_BYTES[path]
    for name, value in scope["headers"]:
        if name == b"content-type":
            if value.split(b";", 1)[0].strip().lower() == b"multipart/form-data":
                return MULTIPART_BYTES
            break
    return DEFAULT_BYTES


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):.0f} MB" if limit >= 1024 * 1024 else f"{limit // 1024} kB"


def too_large_message(scope: Scope, limit: int) -> str:
    if scope["path"].startswith(PAGES):
        return f"Det som skickades är för stort: högst {_megabytes(limit)}."
    return f"The request body is larger than {_megabytes(limit)}."


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a streamed body passes its limit (answered 413 by the error handlers)."""

    def __init__(self, message: str):
        super().__init__(413, message)


def _page(message: str, status: int) -> bytes:
    title = {413: "För stort", 400: "Felaktig förfrågan"}[status]
    return (
        '<!DOCTYPE html><html lang="sv"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title} – Laiban</title>"
        '<link rel="stylesheet" href="/static/admin.css"></head>'
        f"<body><main><h1>{title}</h1><p>{html.escape(message)}</p>"
        '<p><a href="/admin">Till början</a></p></main></body></html>'
    ).encode()


async def _refuse(scope: Scope, send: Send, status: int, message: str) -> None:
    if scope["path"].startswith(PAGES):
        body, kind = _page(message, status), b"text/html; charset=utf-8"
    else:
        code = "too_large" if status == 413 else "bad_request"
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        kind = b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),  # the rest of the body is not read
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Plain ASGI middleware: no buffering, no extra task; see the module's docstring."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope)
        declared = [value for name, value in scope["headers"] if name == b"content-length"]
        if declared:
            text = declared[0].decode("latin-1").strip()
            if len(declared) > 1 or not (text.isascii() and text.isdigit()) or len(text) > 18:
                message = "Content-Length is not a number."
                await _refuse(scope, send, 400, message)
                return
            if int(text) > limit:
                await _refuse(scope, send, 413, too_large_message(scope, limit))
                return

        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(too_large_message(scope, limit))
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as exc:  # read outside the app's error handlers (no route caught it)
            if started:
                raise
            await _refuse(scope, send, 413, exc.detail)
