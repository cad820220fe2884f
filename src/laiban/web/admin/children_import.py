"""Importing children's weekly schedules from the attendance system's CSV export: upload, a preview of
every row (nothing is stored), then "Spara" posts the checked rows back and they are parsed and checked
again before all of them are saved, or none. The accepted format is described in
`laiban.store.schedule_import` and on the page itself. Any staff role at the preschool may import."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from laiban.store.audit import record
from laiban.store.children import ChildError, children_of
from laiban.store.schedule_import import (
    MAX_BYTES,
    MAX_ROWS,
    WEEKDAY_NAMES,
    WEEKDAYS,
    ImportFileError,
    ScheduleImport,
    apply,
    decode,
    parse,
)
from laiban.store.tables import Preschool
from laiban.web.admin.render import Form, render
from laiban.web.security import CsrfChecked, CurrentStaff, Db, preschool_for_staff

router = APIRouter(prefix="/admin/p/{slug}/children/import", include_in_schema=False)

MAX_ERRORS_SHOWN = 50  # the rows' errors listed above the table (every row shows its own)


def _page(
    request: Request,
    preschool: Preschool,
    *,
    found: ScheduleImport | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "children_import.html",
        {
            "preschool": preschool,
            "found": found,
            "errors": errors or [],
            "weekdays": list(WEEKDAYS),
            "weekday_names": WEEKDAY_NAMES,
            "weekday_labels": [name.capitalize() for name in WEEKDAY_NAMES],
            "max_rows": MAX_ROWS,
            "max_errors": MAX_ERRORS_SHOWN,
            "max_megabytes": MAX_BYTES // (1024 * 1024),
        },
        status=status,
    )


def _parsed(
    request: Request, db: Db, preschool: Preschool, text: str, saving: bool = False
) -> Response | ScheduleImport:
    """The parsed file when every row is right, else the page telling what to fix (400)."""
    try:
        found = parse(text, preschool, children_of(db, preschool.id))
    except ImportFileError as exc:
        return _page(request, preschool, errors=[str(exc)], status=400)
    if not found.ok:
        errors = ["Inget sparades: raderna nedan går inte att spara. Läs in filen igen."] if saving else []
        return _page(request, preschool, found=found, errors=errors, status=400)
    return found


@router.get("", response_class=HTMLResponse)
def import_page(request: Request, slug: str, db: Db, staff: CurrentStaff) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    return _page(request, preschool)


@router.post("", dependencies=[CsrfChecked])
def preview(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    """Reads the uploaded file and shows what saving it would do; stores nothing."""
    preschool = preschool_for_staff(db, staff, slug)
    upload = form.get("file")
    raw = upload.file.read(MAX_BYTES + 1) if upload is not None and not isinstance(upload, str) else b""
    if not raw:
        return _page(request, preschool, errors=["Välj en CSV-fil att läsa in."], status=400)
    try:
        text = decode(raw)
    except ImportFileError as exc:
        return _page(request, preschool, errors=[str(exc)], status=400)
    result = _parsed(request, db, preschool, text)
    if isinstance(result, ScheduleImport):
        return _page(request, preschool, found=result)
    return result


@router.post("/save", dependencies=[CsrfChecked])
def save(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    """Parses the posted rows again (the preview is not trusted) and saves all of them, or none."""
    preschool = preschool_for_staff(db, staff, slug)
    text = form.get("csv")
    if not isinstance(text, str) or not text.strip():
        return _page(request, preschool, errors=["Det fanns inget att spara; läs in filen igen."], status=400)
    result = _parsed(request, db, preschool, text, saving=True)
    if not isinstance(result, ScheduleImport):
        return result
    try:
        saved = apply(db, preschool, result)
    except ChildError as exc:
        db.rollback()
        return _page(request, preschool, errors=[str(exc)], status=400)
    for child in saved:  # one entry per child, so that each child's history shows the import
        record(
            db,
            preschool,
            actor=staff.name,
            user_id=staff.user_id,
            action="import",
            subject="week",
            child_id=child.id,
        )
    return RedirectResponse(f"/admin/p/{preschool.slug}/children?imported={len(saved)}", status_code=303)
