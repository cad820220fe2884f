"""Rendering admin pages: Jinja2 with autoescaping, the CSRF token and the signed-in user in every page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData, UploadFile

from laiban.model.preschool import LANGUAGES, MODULES, ROLE_LABELS
from laiban.store.tables import DEFAULT_WEEKDAY_COLOURS
from laiban.store.uploads import MAX_BYTES
from laiban.web.security import csrf_token, remember_csrf_seed

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
templates.env.globals.update(
    MODULES=MODULES,
    LANGUAGES=LANGUAGES,
    ROLE_LABELS=ROLE_LABELS,
    DEFAULT_WEEKDAY_COLOURS=DEFAULT_WEEKDAY_COLOURS,
)


def local_time(moment: dt.datetime, timezone: str) -> str:
    """A stored (UTC) moment as staff read it: the preschool's local date and time."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


templates.env.filters["local_time"] = local_time
templates.env.filters["lookup"] = lambda keys, table: [table[key] for key in keys]  # codes → labels


async def read_form(request: Request) -> FormData:
    return await request.form()


Form = Annotated[FormData, Depends(read_form)]  # the submitted form, for sync routes


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    page = {
        "csrf_token": csrf_token(request),
        "staff": getattr(request.state, "staff", None),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template, page, status_code=status)
    remember_csrf_seed(request, response)
    return response


def render_error(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def date_in_words(day: dt.date, *, weekday: bool = True) -> str:
    """A date as Swedish pages write it: "torsdag 26 november" (or "26 november")."""
    return format_date(day, "EEEE d MMMM" if weekday else "d MMMM", locale="sv")


def clock_text(at: dt.time | None) -> str:
    """ "15:30", or "" when there is no time."""
    return f"{at:%H:%M}" if at else ""


def form_text(form: FormData, name: str) -> str:
    """A text field of the form; "" when it is missing or is a file."""
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def uploaded(form: FormData, name: str) -> bytes | None:
    """The bytes of a chosen file (at most one byte more than an upload may have, so that a too large
    one is recognised), or None when none was chosen."""
    value = form.get(name)
    if not isinstance(value, UploadFile) or (not value.filename and not value.size):
        return None
    value.file.seek(0)
    return value.file.read(MAX_BYTES + 1)
