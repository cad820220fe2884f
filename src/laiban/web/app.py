"""The FastAPI application: API under /api/v1, admin under /admin, kiosk under /kiosk."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from laiban import __version__
from laiban.config import Settings
from laiban.store.db import check, make_engine, session_factory
from laiban.web import errors
from laiban.web.security import SECURITY_SCHEMES, DatabaseGate

STATIC = Path(__file__).with_name("static")
access_log = logging.getLogger("laiban.access")

# No inline scripts or styles anywhere; every asset is served by Laiban itself (works offline).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
    "script-src 'self'; worker-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'; object-src 'none'"
)


# Requests holding a database session at once (see DatabaseGate); two cores gain nothing from more.
REQUESTS_IN_DATABASE = 8
SECURITY_HEADERS = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
)
# Only on responses to https requests (uvicorn makes the scheme https behind a trusted proxy that says so,
# LAIBAN_FORWARDED_ALLOW_IPS): browsers ignore it over plain http, and a LAN install without TLS must not
# be told to insist on it. LAIBAN_SECURE_COOKIES alone does not add it, for the same reason.
HSTS = ("strict-transport-security", "max-age=31536000; includeSubDomains")


class AccessLogAndHeaders:
    """Security headers on every response, `no-store` except for static files, and our own access log:
    the path without its query string, which may hold pairing codes or, later, children's names in text
    to speak (uvicorn's access log is switched off in `laiban serve`). Plain ASGI: no extra task per request.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        cacheable = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
                if scope.get("scheme") == "https":
                    headers.setdefault(*HSTS)
                if not cacheable:
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            access_log.info(
                "%s %s %d %.1fms",
                scope["method"],
                scope["path"],
                status or 500,
                (time.perf_counter() - started) * 1000,
            )


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The app for these settings. The schema must already be migrated (`laiban serve` does it)."""
    from laiban.speech.tts import voice_for
    from laiban.store.today import TodayCache
    from laiban.web.admin.audit import router as audit_router
    from laiban.web.admin.calendar import router as calendar_router
    from laiban.web.admin.children import router as children_router
    from laiban.web.admin.children_import import router as children_import_router
    from laiban.web.admin.day import router as day_router
    from laiban.web.admin.menu import router as menu_router
    from laiban.web.admin.routes import router as admin_router
    from laiban.web.admin.schedule import router as schedule_router
    from laiban.web.admin.translations import router as translations_router
    from laiban.web.admin.voice import router as voice_router
    from laiban.web.admin.weather import router as weather_router
    from laiban.web.api.listen import router as listen_router
    from laiban.web.api.routes import router as api_router
    from laiban.web.api.speech import router as speech_router
    from laiban.web.guardian import router as guardian_router
    from laiban.web.kiosk import kiosk_version
    from laiban.web.kiosk import router as kiosk_router
    from laiban.web.limits import BodyLimit
    from laiban.web.uploads import router as uploads_router

    app = FastAPI(
        title="Laiban",
        version=__version__,
        description="The kiosk and staff API of Laiban, a digital assistant for preschools.",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    default_openapi = app.openapi

    def openapi_with_security() -> dict[str, Any]:
        if app.openapi_schema is None:
            default_openapi().setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi_with_security  # type: ignore[method-assign]
    app.state.settings = settings
    app.state.version = kiosk_version()
    app.state.today_cache = TodayCache()
    app.state.engine = engine or make_engine(settings.database_url)
    app.state.sessions = session_factory(app.state.engine)
    app.state.database_gate = DatabaseGate(REQUESTS_IN_DATABASE)
    app.state.voice = voice_for(settings)  # text to speech and its audio cache (speech/tts.py)
    errors.install(app)
    app.add_middleware(BodyLimit)  # request body sizes (web/limits.py); inside the headers
    app.add_middleware(AccessLogAndHeaders)

    @app.get("/healthz", tags=["health"], summary="Is the server up and the database reachable?")
    def healthz() -> JSONResponse:
        problem = check(app.state.engine)
        if problem:
            return JSONResponse({"status": "unavailable", "reason": f"database: {problem}"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> FileResponse:
        return FileResponse(STATIC / "api-docs.html")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/admin", status_code=303)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(api_router)
    app.include_router(speech_router)
    app.include_router(listen_router)
    app.include_router(admin_router)
    app.include_router(weather_router)
    app.include_router(menu_router)
    app.include_router(schedule_router)
    app.include_router(calendar_router)
    app.include_router(children_import_router)  # before /children/{id}: "import" is not an id
    app.include_router(children_router)
    app.include_router(day_router)
    app.include_router(audit_router)
    app.include_router(voice_router)
    app.include_router(translations_router)
    app.include_router(guardian_router)
    app.include_router(kiosk_router)
    app.include_router(uploads_router)
    return app
