"""Errors: JSON `{"error": {"code", "message"}}` for the API, a Swedish HTML page for people in the admin.

No traceback ever reaches a client; unexpected errors are logged (without request bodies) and answered 500.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("laiban.web")

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}

ADMIN_MESSAGES = {
    400: "Förfrågan kunde inte läsas.",
    403: "Du har inte behörighet till den här sidan.",
    404: "Sidan finns inte.",
    405: "Det går inte att göra så här på den här sidan.",
    429: "För många försök. Vänta en stund och försök igen.",
    500: "Något gick fel hos Laiban. Försök igen om en stund.",
}


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, for programs: invalid_request, unauthorized, not_found, …")
    message: str = Field(description="One sentence for the person reading it.")


class ErrorOut(BaseModel):
    """Every API error's body (the OpenAPI document's error responses)."""

    error: ErrorDetail


def documented(description: str, code: str) -> dict[str, Any]:
    """An error response for a route's `responses=`: its description, the body's schema and an example."""
    return {
        "model": ErrorOut,
        "description": description,
        "content": {"application/json": {"example": {"error": {"code": code, "message": "…"}}}},
    }


class ApiError(Exception):
    """An error with a stable machine code and a sentence for the person reading it."""

    def __init__(
        self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None
    ):
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.headers = headers or {}  # e.g. Retry-After


class LoginRequired(Exception):
    """An admin page was asked for without a valid session: send the browser to the login page."""


def _is_admin_page(request: Request) -> bool:
    return request.url.path.startswith("/admin")


def error_response(request: Request, status: int, message: str, code: str | None = None) -> Response:
    if _is_admin_page(request):
        from laiban.web.admin.render import render_error  # the admin's page shell

        return render_error(request, status, ADMIN_MESSAGES.get(status, message))
    code = code or CODES.get(status, "error")
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        response = error_response(request, exc.status, exc.message, exc.code)
        response.headers.update(exc.headers)
        return response

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/admin/login", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and message == "Not Found":
            message = "There is nothing at this address."
        response = error_response(request, exc.status_code, message)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for error in exc.errors()[:5]:
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
            problems.append(
                f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", "invalid")
            )
        return error_response(request, 422, "The request is not valid: " + "; ".join(problems) + ".")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "Something went wrong on the server; it has been logged.")
