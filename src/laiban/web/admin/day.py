"""The staff's day view (`/admin/p/{slug}/day`): one group's children today or tomorrow — who is expected,
who is here, who has gone home, when and by whom each one is picked up — with quick marks (arrived, gone
home, undo) and a quick edit of the day per child. Every role at the preschool may use it; each read and
each write goes to the audit log (ids only).

A row updates in place with htmx: with the `HX-Request` header the answer is the row alone (status 400 with
the error shown in the row); without JavaScript the forms post as usual and the answer is a redirect back to
the page (303), or the whole page with the error (400). Nothing is saved on an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from laiban.model.pickup import ChildDay
from laiban.skills.pickup import RELATIONS
from laiban.store import audit
from laiban.store.children import (
    AVATAR_LABELS,
    AVATARS,
    PHOTO_LABEL,
    ChildError,
    Plan,
    changes_on,
    child_days,
    child_of,
    children_of,
    clear_day,
    closed_days,
    entries_on,
    mark,
    parse_clock,
    retention_in_words,
    set_day,
    shown_avatar,
    usual_plans,
)
from laiban.store.tables import Child, Preschool, Presence, PresenceChange
from laiban.store.today import local_now
from laiban.web.admin.render import Form, clock_text, date_in_words, form_text, render, render_error
from laiban.web.errors import ApiError
from laiban.web.params import RowId
from laiban.web.security import CsrfChecked, CurrentStaff, Db, Staff, preschool_for_staff

router = APIRouter(prefix="/admin/p/{slug}/day", include_in_schema=False)

# `?date=`: the days the view shows, as days after the preschool's local today.
DATES = {"today": 0, "tomorrow": 1}
DATE_LABELS = {"today": "Idag", "tomorrow": "Imorgon"}
BAD_DATE = "Dagsvyn visar bara idag eller imorgon. Välj Idag eller Imorgon."
ONLY_TODAY = "Barn kan bara markeras som komna eller hemgångna idag."
ALL = "all"  # `?group=all`: every child of the preschool, with or without a group

STATUS_LABELS = {
    "expected": "Väntas",
    "here": "Här",
    "gone": "Har gått hem",
    "absent": "Kommer inte",
    "unknown": "Okänt",
}
MARK_LABELS = {"in": "Har kommit", "out": "Har gått hem", "undo": "Ångra"}
# The kiosk's pictures in words (store.children.AVATARS), so staff see which picture is whose.


@dataclass(frozen=True)
class View:
    """Which day and which tab a page or a row is shown for."""

    preschool: Preschool
    date: str  # a key of DATES
    day: dt.date
    now: dt.datetime  # the preschool's local time
    group: str  # a group's id as text, or ALL

    @property
    def query(self) -> str:
        return f"date={self.date}&group={self.group}"

    @property
    def url(self) -> str:
        return f"/admin/p/{self.preschool.slug}/day?{self.query}"


@dataclass(frozen=True)
class Problem:
    """A refused change of one child's day: the sentence, and the form as typed (None for marks)."""

    child_id: int
    message: str
    typed: dict[str, Any] | None = None


def _group_of(request: Request, preschool: Preschool) -> str:
    """`?group=<id>|all`; by default the preschool's first group, or every child when it has none."""
    raw = request.query_params.get("group", "")
    if not raw:
        return str(preschool.groups[0].id) if preschool.groups else ALL
    if raw == ALL or any(str(group.id) == raw for group in preschool.groups):
        return raw
    raise ApiError(404, "There is no such group.")


def _view(request: Request, preschool: Preschool, date: str | None = None) -> View | None:
    """The view the request asks for; None for a date the day view does not show."""
    date = date or request.query_params.get("date") or "today"
    if date not in DATES:
        return None
    now = local_now(preschool)
    day = now.date() + dt.timedelta(days=DATES[date])
    return View(preschool, date, day, now, _group_of(request, preschool))


def _child(db: Db, preschool: Preschool, child_id: int) -> Child:
    child = child_of(db, preschool.id, child_id)
    if child is None or not child.active:
        raise ApiError(404, "There is no such child.")
    return child


def _avatar_label(preschool: Preschool, child: Child) -> str:
    avatar = shown_avatar(preschool, child)
    return AVATAR_LABELS.get(avatar, PHOTO_LABEL if avatar not in AVATARS else avatar)


def _status(day: ChildDay) -> tuple[str, str]:
    """The status key and, when staff marked it, since when."""
    if day.checked_out_at:
        return "gone", clock_text(day.checked_out_at)
    if day.checked_in_at:
        return "here", f"sedan {clock_text(day.checked_in_at)}"
    if day.coming is None:
        return "unknown", ""
    return ("expected" if day.coming else "absent"), ""


def _own(entry: Presence | None) -> bool:
    """Whether the day has its own plan (not only staff's marks)."""
    return entry is not None and bool(entry.absent or entry.arrives_at or entry.leaves_at or entry.pickup_by)


def _row(
    view: View,
    child: Child,
    day: ChildDay,
    entry: Presence | None,
    usual: Plan | None,
    last: PresenceChange | None,
    problem: Problem | None,
) -> dict[str, Any]:
    zone = ZoneInfo(view.preschool.timezone)
    status, since = _status(day)
    comes = day.coming is not False
    usual_by = usual.pickup_by if usual else ""
    pickup_changed = bool(
        comes
        and entry is not None
        and entry.pickup_by
        and usual_by
        and entry.pickup_by.casefold() != usual_by.casefold()
    )
    leaves_changed = bool(comes and day.usual_leaves_at and day.leaves_at != day.usual_leaves_at)
    groups = {group.id: group.name for group in view.preschool.groups}
    form = (
        problem.typed
        if problem is not None and problem.typed is not None
        else {
            "absent": bool(entry is not None and entry.absent),
            "arrives": clock_text(day.arrives_at),
            "leaves": clock_text(day.leaves_at),
            "pickup_by": day.pickup_by,
        }
    )
    if not day.checked_in_at:
        marks = ["in"]
    elif not day.checked_out_at:
        marks = ["out", "undo"]
    else:
        marks = ["undo"]
    return {
        "id": child.id,
        "name": child.first_name,
        "avatar": _avatar_label(view.preschool, child),
        "group": groups.get(child.group_id or 0, "") if view.group == ALL else "",
        "status": status,
        "status_label": STATUS_LABELS[status],
        "since": since,
        "arrives": clock_text(day.arrives_at) if comes else "",
        "leaves": clock_text(day.leaves_at) if comes else "",
        "pickup_by": day.pickup_by if comes else "",
        "usual_leaves": clock_text(day.usual_leaves_at) if leaves_changed else "",
        "usual_by": usual_by if pickup_changed else "",
        "own": _own(entry),
        "last": {
            "time": f"{last.at.astimezone(zone):%H:%M}",
            "by": last.by,
            "what": last.what,
        }
        if last is not None
        else None,
        "form": form,
        "marks": [(what, MARK_LABELS[what]) for what in marks] if view.date == "today" else [],
        "error": problem.message if problem is not None else "",
    }


def _rows(db: Db, view: View, children: list[Child], problem: Problem | None = None) -> list[dict[str, Any]]:
    """One row per child (a handful of reads for the whole group)."""
    preschool = view.preschool
    days = child_days(db, preschool, children, [view.day], ZoneInfo(preschool.timezone))
    entries = entries_on(db, preschool.id, view.day)
    usual = usual_plans(db, (child.id for child in children), view.day.weekday())
    last: dict[int, PresenceChange] = {}
    for change in changes_on(db, preschool.id, view.day):
        last.setdefault(change.child_id, change)  # newest first
    return [
        _row(
            view,
            child,
            days[child.id][view.day],
            entries.get(child.id),
            usual.get(child.id),
            last.get(child.id),
            problem if problem is not None and problem.child_id == child.id else None,
        )
        for child in children
    ]


def _page(request: Request, db: Db, staff: Staff, view: View, problem: Problem | None = None) -> Response:
    preschool = view.preschool
    children = children_of(db, preschool.id, None if view.group == ALL else int(view.group))
    names = {child.id: child.first_name for child in children}
    zone = ZoneInfo(preschool.timezone)
    changes = [
        {
            "time": f"{change.at.astimezone(zone):%H:%M}",
            "by": change.by,
            "what": change.what,
            "name": names[change.child_id],
        }
        for change in changes_on(db, preschool.id, view.day)
        if change.child_id in names
    ]
    tabs = [{"key": str(group.id), "label": group.name} for group in preschool.groups]
    tabs.append({"key": ALL, "label": "Alla"})
    audit.record(db, preschool, actor=staff.name, user_id=staff.user_id, action="read", subject="day")
    return render(
        request,
        "day.html",
        {
            "preschool": preschool,
            "view": view,
            "tabs": tabs,
            "dates": DATE_LABELS,
            "day_words": date_in_words(view.day),
            "closed": view.day in closed_days(db, preschool.id, view.day, view.day),
            "rows": _rows(db, view, children, problem),
            "changes": changes,
            "relations": list(RELATIONS),
            "retention": retention_in_words(preschool.presence_retention_days),
            "problem": problem,
        },
        status=400 if problem else 200,
    )


def _answer(
    request: Request, db: Db, staff: Staff, view: View, child: Child, problem: Problem | None = None
) -> Response:
    """After a change (or a refused one): the row for htmx, otherwise back to the page (or the page with
    the error)."""
    if request.headers.get("hx-request") == "true":
        row = _rows(db, view, [child], problem)[0]
        return render(
            request,
            "_day_row.html",
            {"preschool": view.preschool, "view": view, "row": row},
            status=400 if problem else 200,
        )
    if problem is not None:
        return _page(request, db, staff, view, problem)
    return RedirectResponse(f"{view.url}#child-{child.id}", status_code=303)


@router.get("", response_class=HTMLResponse)
def day_page(request: Request, slug: str, db: Db, staff: CurrentStaff) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    view = _view(request, preschool)
    if view is None:
        return render_error(request, 400, BAD_DATE)
    return _page(request, db, staff, view)


@router.post("/{child_id}/mark", dependencies=[CsrfChecked])
def mark_child(
    request: Request, slug: str, child_id: RowId, db: Db, staff: CurrentStaff, form: Form
) -> Response:
    """Arrived ("in"), gone home ("out") or undo either ("undo"): today only."""
    preschool = preschool_for_staff(db, staff, slug)
    child = _child(db, preschool, child_id)
    if request.query_params.get("date", "today") != "today":
        return render_error(request, 400, ONLY_TODAY)
    view = _view(request, preschool, "today")
    assert view is not None
    try:
        mark(db, child, view.day, form_text(form, "what"), by=staff.name, at=view.now)
    except ChildError as exc:
        db.rollback()
        return _answer(request, db, staff, view, child, Problem(child.id, str(exc)))
    audit.record(
        db,
        preschool,
        actor=staff.name,
        user_id=staff.user_id,
        action="update",
        subject="day",
        child_id=child.id,
    )
    return _answer(request, db, staff, view, child)


@router.post("/{child_id}", dependencies=[CsrfChecked])
def edit_day(
    request: Request, slug: str, child_id: RowId, db: Db, staff: CurrentStaff, form: Form
) -> Response:
    """The day's own plan (absent, arrival, pickup time, who picks up), or back to the weekly schedule
    ("Som vanligt")."""
    preschool = preschool_for_staff(db, staff, slug)
    child = _child(db, preschool, child_id)
    view = _view(request, preschool)
    if view is None:
        return render_error(request, 400, BAD_DATE)
    typed = {
        "absent": bool(form_text(form, "absent")),
        "arrives": form_text(form, "arrives")[:20],
        "leaves": form_text(form, "leaves")[:20],
        "pickup_by": form_text(form, "pickup_by")[:200],
    }
    try:
        if form_text(form, "action") == "usual":
            clear_day(db, child, view.day, by=staff.name, at=view.now)
        else:
            plan = Plan(parse_clock(typed["arrives"]), parse_clock(typed["leaves"]), typed["pickup_by"])
            set_day(
                db, preschool, child, view.day, absent=typed["absent"], plan=plan, by=staff.name, at=view.now
            )
    except ChildError as exc:
        db.rollback()
        return _answer(request, db, staff, view, child, Problem(child.id, str(exc), typed))
    audit.record(
        db,
        preschool,
        actor=staff.name,
        user_id=staff.user_id,
        action="update",
        subject="day",
        child_id=child.id,
    )
    return _answer(request, db, staff, view, child)
