"""The calendar page of a preschool's admin: its own events (once or every year), the days it is closed
and the activities of the coming days (with who takes part), each added with a small form and removed
with a button. Pedagogues may edit. Pictures are chosen from a short list; an activity may instead get an
uploaded picture (checked and cleaned by laiban.store.uploads)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from laiban.store import audit
from laiban.store.calendar import (
    ACTIVITY_PICTURES,
    EVENT_PICTURES,
    CalendarError,
    active_children,
    activity_rows,
    add_activity,
    add_closed_day,
    add_event,
    closed_day_rows,
    delete_activity,
    delete_closed_day,
    delete_event,
    event_occurrences,
    participant_names,
    set_show_child_names,
)
from laiban.store.tables import CalendarEvent, Preschool
from laiban.store.today import local_now
from laiban.store.uploads import CleanPicture, UploadError, clean_picture, store_picture
from laiban.web.admin.render import Form, form_text, render, uploaded
from laiban.web.errors import ApiError
from laiban.web.params import RowId
from laiban.web.security import CsrfChecked, CurrentStaff, Db, preschool_for_staff, settings_of

router = APIRouter(prefix="/admin/p/{slug}/calendar", include_in_schema=False)

AHEAD = dt.timedelta(days=60)  # how far ahead the page lists what is planned
WEEKDAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")


def _back(preschool: Preschool) -> RedirectResponse:
    return RedirectResponse(f"/admin/p/{preschool.slug}/calendar?saved=1", status_code=303)


def _page(
    request: Request,
    db: Db,
    preschool: Preschool,
    errors: list[str] | None = None,
    entered: dict[str, Any] | None = None,
) -> Response:
    today = local_now(preschool).date()
    last = today + AHEAD
    activities = activity_rows(db, preschool.id, today, last)
    staff = request.state.staff  # the page lists the children's names (who takes part): audited
    audit.record(db, preschool, actor=staff.name, user_id=staff.user_id, action="read", subject="children")
    names = participant_names(db, preschool.id, activities)
    yearly = db.scalars(
        select(CalendarEvent)
        .where(CalendarEvent.preschool_id == preschool.id, CalendarEvent.yearly)
        .order_by(CalendarEvent.day, CalendarEvent.title)
    ).all()
    return render(
        request,
        "calendar.html",
        {
            "preschool": preschool,
            "today": today,
            "last": last,
            "events": event_occurrences(db, preschool.id, today, last),
            "yearly": yearly,
            "closed": closed_day_rows(db, preschool.id, today, last),
            "activities": [(row, [names[i] for i in row.participants if i in names]) for row in activities],
            "children": active_children(db, preschool.id),
            "event_pictures": EVENT_PICTURES,
            "activity_pictures": ACTIVITY_PICTURES,
            "weekdays": WEEKDAYS,
            "errors": errors or [],
            "entered": entered or {},
            "saved": request.query_params.get("saved"),
        },
        status=400 if errors else 200,
    )


def _add(
    request: Request, db: Db, preschool: Preschool, form: Form, which: str, store: Callable[[], object]
) -> Response:
    """Stores with `store`, or shows the page again with every problem and what staff typed."""
    try:
        store()
    except CalendarError as exc:
        db.rollback()
        entered: dict[str, Any] = {
            key: value for key, value in form.items() if key != "csrf_token" and isinstance(value, str)
        }
        entered["form"] = which
        entered["participants"] = [str(v) for v in form.getlist("participants")]
        return _page(request, db, preschool, ["Inget sparades.", *exc.errors], entered)
    return _back(preschool)


@router.get("", response_class=HTMLResponse)
def calendar_page(request: Request, slug: str, db: Db, staff: CurrentStaff) -> Response:
    return _page(request, db, preschool_for_staff(db, staff, slug))


@router.post("/events", dependencies=[CsrfChecked])
def add_event_form(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    return _add(
        request,
        db,
        preschool,
        form,
        "event",
        lambda: add_event(
            db,
            preschool.id,
            day=form_text(form, "day"),
            at=form_text(form, "at"),
            title=form_text(form, "title"),
            picture=form_text(form, "picture"),
            yearly=bool(form.get("yearly")),
        ),
    )


@router.post("/events/{event_id}/delete", dependencies=[CsrfChecked])
def delete_event_form(slug: str, event_id: RowId, db: Db, staff: CurrentStaff) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    if not delete_event(db, preschool.id, event_id):
        raise ApiError(404, "There is no such calendar event.")
    return _back(preschool)


@router.post("/closed", dependencies=[CsrfChecked])
def add_closed_day_form(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    return _add(
        request,
        db,
        preschool,
        form,
        "closed",
        lambda: add_closed_day(
            db, preschool.id, day=form_text(form, "day"), reason=form_text(form, "reason")
        ),
    )


@router.post("/closed/{closed_day_id}/delete", dependencies=[CsrfChecked])
def delete_closed_day_form(slug: str, closed_day_id: RowId, db: Db, staff: CurrentStaff) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    if not delete_closed_day(db, preschool.id, closed_day_id):
        raise ApiError(404, "There is no such closed day.")
    return _back(preschool)


@router.post("/activities", dependencies=[CsrfChecked])
def add_activity_form(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    preschool = preschool_for_staff(db, staff, slug)

    def store() -> None:
        """Checks the picture and the other fields together; writes the picture only when all is well."""
        errors: list[str] = []
        picture: CleanPicture | None = None
        raw = uploaded(form, "picture_file")
        if raw is not None:
            try:
                picture = clean_picture(raw)
            except UploadError as exc:
                errors.append(str(exc))
        try:
            add_activity(
                db,
                preschool.id,
                day=form_text(form, "day"),
                title=form_text(form, "title"),
                future_text=form_text(form, "future_text"),
                past_text=form_text(form, "past_text"),
                starts_at=form_text(form, "starts_at"),
                ends_at=form_text(form, "ends_at"),
                picture=picture.key if picture else form_text(form, "picture"),
                participants=[str(v) for v in form.getlist("participants")],
            )
        except CalendarError as exc:
            errors.extend(exc.errors)
        if not errors and picture is not None:
            try:
                store_picture(settings_of(request).data_dir, picture)
            except UploadError as exc:
                errors.append(str(exc))
        if errors:
            raise CalendarError(errors)  # `_add` rolls back the activity if it was added

    return _add(request, db, preschool, form, "activity", store)


@router.post("/activities/{activity_id}/delete", dependencies=[CsrfChecked])
def delete_activity_form(slug: str, activity_id: RowId, db: Db, staff: CurrentStaff) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    if not delete_activity(db, preschool.id, activity_id):
        raise ApiError(404, "There is no such activity.")
    return _back(preschool)


@router.post("/names", dependencies=[CsrfChecked])
def save_show_child_names(slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    set_show_child_names(db, preschool, bool(form.get("show_child_names")))
    return _back(preschool)
