"""The menu page of a preschool's admin: where the menu comes from, a week to type or correct (with the
child-friendly wording side by side), copy last week, CSV import and export, and the children's ratings."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from laiban.model.menu import MEALS
from laiban.skills.dishes import dish
from laiban.store.menus import (
    MenuError,
    copy_week,
    export_csv,
    menu_between,
    monday_of,
    parse_csv,
    ratings_between,
    set_day,
    set_source,
    source_of,
)
from laiban.store.tables import Preschool
from laiban.store.today import local_now
from laiban.web.admin.render import Form, render
from laiban.web.security import CsrfChecked, CurrentStaff, Db, preschool_for_staff

router = APIRouter(prefix="/admin/p/{slug}/menu", include_in_schema=False)

MEAL_LABELS = {"lunch": "Lunch", "breakfast": "Frukost", "snack": "Mellanmål"}
SOURCE_LABELS = {"manual": "Pedagogerna skriver in maten", "skolmaten": "skolmaten.se", "mashie": "Mashie"}
MAX_CSV_BYTES = 200_000


def _week(request: Request, preschool: Preschool) -> dt.date:
    try:
        return monday_of(dt.date.fromisoformat(request.query_params.get("week", "")))
    except ValueError:
        return monday_of(local_now(preschool).date())


def _page(
    request: Request, db: Db, preschool: Preschool, monday: dt.date, errors: list[str] | None = None
) -> Response:
    days = [monday + dt.timedelta(days=i) for i in range(5)]
    stored = menu_between(db, preschool.id, monday, monday + dt.timedelta(days=6))
    week = {
        (day, meal): [
            {
                "text": d.text,
                "simple": dish(d.text).simple,
                "override": d.simple_override or "",
                "source": d.source,
            }
            for d in stored.get((day, meal), ())
        ]
        for day in days
        for meal in MEALS
    }
    ratings = ratings_between(db, preschool.id, monday, monday + dt.timedelta(days=6))
    return render(
        request,
        "menu.html",
        {
            "preschool": preschool,
            "monday": monday,
            "days": days,
            "meals": MEALS,
            "meal_labels": MEAL_LABELS,
            "week": week,
            "source": source_of(db, preschool.id),
            "source_labels": SOURCE_LABELS,
            "ratings": ratings,
            "previous": monday - dt.timedelta(days=7),
            "next": monday + dt.timedelta(days=7),
            "errors": errors or [],
            "saved": request.query_params.get("saved"),
        },
        status=400 if errors else 200,
    )


@router.get("", response_class=HTMLResponse)
def menu_page(request: Request, slug: str, db: Db, staff: CurrentStaff) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    return _page(request, db, preschool, _week(request, preschool))


@router.post("", dependencies=[CsrfChecked])
def save_week(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    monday = _week(request, preschool)
    errors = []
    stored = menu_between(db, preschool.id, monday, monday + dt.timedelta(days=6))
    for offset in range(5):
        day = monday + dt.timedelta(days=offset)
        for meal in MEALS:
            field = f"{day.isoformat()}_{meal}"
            if field not in form:
                continue
            lines = str(form.get(field, "")).splitlines()
            # A wording stays with its dish only while the dish's text is unchanged.
            was = [str(v) for v in form.getlist(f"was_{field}")]
            overrides = [str(v) for v in form.getlist(f"override_{field}")]
            texts = [" ".join(line.split()) for line in lines if line.strip()]
            kept = [
                overrides[i] if i < len(was) and i < len(overrides) and was[i] == text else None
                for i, text in enumerate(texts)
            ]
            before = stored.get((day, meal), ())
            if [d.text for d in before] == texts and [d.simple_override for d in before] == [
                k or None for k in kept
            ]:
                continue  # unchanged: a fetched day stays fetched (and keeps being updated)
            try:
                set_day(db, preschool.id, day, meal, texts, kept)
            except MenuError as exc:
                errors.append(f"{day.isoformat()}: {exc}")
    if errors:
        db.rollback()
        return _page(request, db, preschool, monday, errors)
    return RedirectResponse(
        f"/admin/p/{preschool.slug}/menu?week={monday.isoformat()}&saved=1", status_code=303
    )


@router.post("/copy", dependencies=[CsrfChecked])
def copy_last_week(request: Request, slug: str, db: Db, staff: CurrentStaff) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    monday = _week(request, preschool)
    copy_week(db, preschool.id, monday - dt.timedelta(days=7), monday)
    return RedirectResponse(
        f"/admin/p/{preschool.slug}/menu?week={monday.isoformat()}&saved=1", status_code=303
    )


@router.get("/menu.csv")
def download_csv(request: Request, slug: str, db: Db, staff: CurrentStaff) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    monday = _week(request, preschool)
    body = export_csv(db, preschool.id, monday, monday + dt.timedelta(days=6))
    return PlainTextResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="matsedel-{preschool.slug}-{monday}.csv"'},
    )


@router.post("/import", dependencies=[CsrfChecked])
def import_csv(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    """All rows or none: with any bad row, nothing is stored and every problem is listed."""
    preschool = preschool_for_staff(db, staff, slug)
    monday = _week(request, preschool)
    upload = form.get("file")
    raw = upload.file.read(MAX_CSV_BYTES + 1) if upload is not None and not isinstance(upload, str) else b""
    if len(raw) > MAX_CSV_BYTES:
        return _page(request, db, preschool, monday, ["Filen är för stor (högst 200 kB)."])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _page(request, db, preschool, monday, ["Filen är inte en textfil i UTF-8."])
    found, errors = parse_csv(text)
    if not found and not errors:
        errors = ["Filen innehåller ingen matsedel."]
    if errors:
        return _page(request, db, preschool, monday, ["Inget importerades.", *errors[:20]])
    for (day, meal), dishes in found.items():
        set_day(db, preschool.id, day, meal, dishes)
    first = min(day for day, _ in found)
    return RedirectResponse(
        f"/admin/p/{preschool.slug}/menu?week={monday_of(first).isoformat()}&saved=1", status_code=303
    )


@router.post("/source", dependencies=[CsrfChecked])
def save_source(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    monday = _week(request, preschool)
    try:
        set_source(db, preschool.id, str(form.get("kind", "")), str(form.get("identifier", "")))
    except MenuError as exc:
        db.rollback()
        return _page(request, db, preschool, monday, [str(exc)])
    return RedirectResponse(
        f"/admin/p/{preschool.slug}/menu?week={monday.isoformat()}&saved=1", status_code=303
    )
