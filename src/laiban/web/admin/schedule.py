"""The day schedule page of a preschool's admin: the every-day schedule and each weekday's own (which
replaces the every-day one when it has any events), typed as rows of time, kind and text. Pedagogues may
edit it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from laiban.store.schedule import ScheduleError, copy_to_weekday, events_of, replace_events
from laiban.store.tables import Preschool
from laiban.web.admin.render import Form, render
from laiban.web.errors import ApiError
from laiban.web.security import CsrfChecked, CurrentStaff, Db, preschool_for_staff

router = APIRouter(prefix="/admin/p/{slug}/schedule", include_in_schema=False)

# One label per kind the store accepts (store.schedule.KINDS), in the same order.
KIND_LABELS = {
    "breakfast": "Frukost",
    "gathering": "Samling",
    "fruit": "Fruktstund",
    "outdoor": "Utevistelse",
    "lunch": "Lunch",
    "rest": "Vila",
    "snack": "Mellanmål",
    "pickup": "Hämtning",
    "other": "Annat",
}

# The days staff can edit: `?day=all` (every day) or a weekday, 0 = Monday.
DAYS: dict[str, int | None] = {"all": None, "0": 0, "1": 1, "2": 2, "3": 3, "4": 4}
DAY_LABELS: dict[int | None, str] = {
    None: "Alla dagar",
    0: "Måndag",
    1: "Tisdag",
    2: "Onsdag",
    3: "Torsdag",
    4: "Fredag",
}
EMPTY_ROWS = 3  # blank rows under the day's events, for adding new ones


def _day_param(day: int | None) -> str:
    return "all" if day is None else str(day)


def _day_of(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if raw not in DAYS:
        raise ApiError(400, "Okänd dag.")
    return DAYS[raw]


def _group_of(request: Request, preschool: Preschool) -> int | None:
    """`?group=<id>`: a group's own schedule (it replaces the whole preschool's for that group's kiosks)."""
    raw = request.query_params.get("group", "")
    if not raw:
        return None
    group = next((g for g in preschool.groups if str(g.id) == raw), None)
    if group is None:
        raise ApiError(404, "There is no such group.")
    return group.id


def _query(day: int | None, group: int | None) -> str:
    return f"day={_day_param(day)}" + (f"&group={group}" if group is not None else "")


def _url(preschool: Preschool, day: int | None, group: int | None, saved: bool = False) -> str:
    return f"/admin/p/{preschool.slug}/schedule?{_query(day, group)}" + ("&saved=1" if saved else "")


def _blank() -> dict[str, str]:
    return {"time": "", "kind": "", "title": ""}


def _page(
    request: Request,
    db: Db,
    preschool: Preschool,
    day: int | None,
    group: int | None = None,
    rows: list[dict[str, str]] | None = None,
    errors: list[str] | None = None,
) -> Response:
    schedule = events_of(db, preschool.id, group)
    if rows is None:
        rows = [
            {
                "time": f"{event.at:%H:%M}",
                # A kind this page does not know is spoken by its title, exactly like "other".
                "kind": event.kind if event.kind in KIND_LABELS else "other",
                "title": event.title,
            }
            for event in schedule.get(day, [])
        ] + [_blank() for _ in range(EMPTY_ROWS)]
    every_day = [
        {"time": f"{e.at:%H:%M}", "label": KIND_LABELS.get(e.kind, "Annat"), "title": e.title}
        for e in schedule.get(None, [])
    ]
    tabs = [
        {
            "param": _day_param(d),
            "label": label,
            "current": d == day,
            "own": d is not None and bool(schedule.get(d)),
        }
        for d, label in DAY_LABELS.items()
    ]
    copy_sources = [
        {"param": _day_param(d), "label": label}
        for d, label in DAY_LABELS.items()
        if d != day and schedule.get(d)
    ]
    return render(
        request,
        "schedule.html",
        {
            "preschool": preschool,
            "day": _day_param(day),
            "query": _query(day, group),
            "group": group,
            "group_query": f"&group={group}" if group is not None else "",
            "groups": preschool.groups,
            "is_weekday": day is not None,
            "day_label": DAY_LABELS[day],
            "tabs": tabs,
            "rows": rows,
            "own": bool(schedule.get(day)) if day is not None else False,
            "own_days": [t["label"] for t in tabs if t["own"]],
            "every_day": every_day,
            "kind_labels": KIND_LABELS,
            "copy_sources": copy_sources,
            "errors": errors or [],
            "saved": request.query_params.get("saved"),
        },
        status=400 if errors else 200,
    )


def _texts(form: FormData, name: str) -> list[str]:
    return [value if isinstance(value, str) else "" for value in form.getlist(name)]


@router.get("", response_class=HTMLResponse)
def schedule_page(request: Request, slug: str, db: Db, staff: CurrentStaff) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    return _page(
        request, db, preschool, _day_of(request.query_params.get("day")), _group_of(request, preschool)
    )


@router.post("", dependencies=[CsrfChecked])
def save_day(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    """All rows or none: with any bad row nothing is stored, every problem is listed and the typed rows
    stay on the page."""
    preschool = preschool_for_staff(db, staff, slug)
    day = _day_of(request.query_params.get("day"))
    group = _group_of(request, preschool)
    times, kinds, titles = _texts(form, "time"), _texts(form, "kind"), _texts(form, "title")
    count = max(len(times), len(kinds), len(titles))
    typed = [
        {
            "time": times[i] if i < len(times) else "",
            "kind": kinds[i] if i < len(kinds) else "",
            "title": titles[i] if i < len(titles) else "",
        }
        for i in range(count)
    ]
    try:
        rows = [(row["time"], row["kind"], row["title"]) for row in typed]
        replace_events(db, preschool.id, day, rows, group_id=group)
    except ScheduleError as exc:
        db.rollback()
        return _page(request, db, preschool, day, group, typed, exc.errors)
    return RedirectResponse(_url(preschool, day, group, saved=True), status_code=303)


@router.post("/clear", dependencies=[CsrfChecked])
def clear_day(request: Request, slug: str, db: Db, staff: CurrentStaff) -> Response:
    """A weekday's own schedule removed: the day follows the every-day schedule again."""
    preschool = preschool_for_staff(db, staff, slug)
    day = _day_of(request.query_params.get("day"))
    group = _group_of(request, preschool)
    if day is None and group is None:
        raise ApiError(400, "Only a weekday's or a group's own schedule can be removed.")
    replace_events(db, preschool.id, day, [], group_id=group)
    return RedirectResponse(_url(preschool, day, group, saved=True), status_code=303)


@router.post("/copy", dependencies=[CsrfChecked])
def copy_day(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    """Another day's events copied onto this day, replacing its rows (a start for a weekday's own)."""
    preschool = preschool_for_staff(db, staff, slug)
    day = _day_of(request.query_params.get("day"))
    source = form.get("from")
    if not isinstance(source, str) or source not in DAYS or DAYS[source] == day:
        raise ApiError(400, "Choose another day to copy from.")
    group = _group_of(request, preschool)
    copy_to_weekday(db, preschool.id, DAYS[source], day, group_id=group)
    return RedirectResponse(_url(preschool, day, group, saved=True), status_code=303)
