"""The children of a preschool in the admin: the list by avdelning with a form to add a child, and each
child's page (first name, group, picture, active; the weekly schedule Monday–Friday; guardians' links; a
photo when the preschool allows photos; erasing the child). Every staff role at the preschool may do all of
it, except downloading everything about a child (the right of access, `…/export`): the preschool's admins
only. Every page shown, every download and every change is written to the audit log (ids only, never a
child's name); erasing a child takes their id out of the log's entries too.

A new guardian's link is shown once, on the page answering the form that created it: only the token's hash
is stored, so it can never be shown again."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.background import BackgroundTask

from laiban.model.preschool import Role
from laiban.skills.pickup import RELATIONS
from laiban.store.audit import record
from laiban.store.children import (
    AVATAR_LABELS,
    AVATARS,
    GUARDIAN_LINK_DAYS,
    MAX_NAME,
    MAX_PICKUP_BY,
    PHOTO_LABEL,
    ChildError,
    Plan,
    add_child,
    check_plan,
    child_of,
    children_of,
    create_guardian_link,
    delete_child,
    export_child,
    guardian_links_of,
    parse_clock,
    retention_in_words,
    revoke_guardian_link,
    set_week,
    shown_avatar,
    update_child,
    week_of,
)
from laiban.store.tables import Activity, Child, GuardianLink, Preschool, utcnow
from laiban.store.uploads import (
    CleanPicture,
    UploadError,
    clean_picture,
    is_upload_key,
    picture_path,
    store_picture,
)
from laiban.web.admin.render import Form, form_text, render, uploaded
from laiban.web.errors import ApiError
from laiban.web.params import RowId
from laiban.web.security import CsrfChecked, CurrentStaff, Db, Staff, preschool_for_staff, settings_of

router = APIRouter(prefix="/admin/p/{slug}/children", include_in_schema=False)

# One Swedish label per picture a child can choose (store.children.AVATARS), in the same order.
WEEKDAYS = ("Måndag", "Tisdag", "Onsdag", "Torsdag", "Fredag")  # the weekly schedule's days, 0 = Monday
LINK_DAYS_LABELS = {30: "En månad", 90: "Tre månader", 180: "Ett halvår", 365: "Ett år"}
NO_GROUP = "Utan avdelning"


# --- helpers -----------------------------------------------------------------------------------------


def _audit(
    db: Db, preschool: Preschool, staff: Staff, action: str, subject: str, child_id: int | None = None
) -> None:
    record(
        db,
        preschool,
        actor=staff.name,
        user_id=staff.user_id,
        action=action,
        subject=subject,
        child_id=child_id,
    )


def _child(db: Db, preschool: Preschool, child_id: int) -> Child:
    """The child of this preschool, or 404 (the same answer whether it does not exist or is another's)."""
    child = child_of(db, preschool.id, child_id)
    if child is None:
        raise ApiError(404, "There is no such child.")
    return child


def _group_id(raw: str) -> int | None:
    """The chosen group's id ("" = none); whether it is the preschool's is checked by the store."""
    text = raw.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        raise ChildError("Välj en avdelning i listan.")
    return int(text)


def _avatar_view(preschool: Preschool, child: Child) -> dict[str, str | None]:
    """What the kiosk shows for the child: a picture's key and label, or the photo's hash."""
    key = shown_avatar(preschool, child)
    if is_upload_key(key):
        return {"key": key, "label": PHOTO_LABEL, "photo": key.removeprefix("upload/")}
    return {"key": key, "label": AVATAR_LABELS.get(key, key), "photo": None}


def _suggested_avatar(children: list[Child]) -> str:
    """A picture no active child has yet (so that the children's pictures differ), for the add form."""
    taken = {child.avatar for child in children if child.active}
    return next((key for key in AVATARS if key not in taken), AVATARS[len(children) % len(AVATARS)])


def _photo_unused(db: Db, key: str) -> bool:
    """Whether no child and no activity uses this uploaded picture any more."""
    for column in (Child.avatar, Activity.picture):
        if db.scalar(select(column).where(column == key).limit(1)) is not None:
            return False
    return True


def _forget(data_dir: Path, key: str) -> None:
    path = picture_path(data_dir, key)
    if path is not None:
        path.unlink(missing_ok=True)


def _forget_photo_later(request: Request, db: Db, key: str) -> BackgroundTask | None:
    """Deletes a child's former photo after the response (so after the commit), when nothing uses it."""
    if not is_upload_key(key) or not _photo_unused(db, key):
        return None
    return BackgroundTask(_forget, settings_of(request).data_dir, key)


def _list_url(preschool: Preschool, flag: str = "saved") -> str:
    return f"/admin/p/{preschool.slug}/children?{flag}=1"


def _child_url(preschool: Preschool, child: Child) -> str:
    return f"/admin/p/{preschool.slug}/children/{child.id}?saved=1"


# --- the list ----------------------------------------------------------------------------------------


def _list_page(
    request: Request,
    db: Db,
    preschool: Preschool,
    staff: Staff,
    errors: list[str] | None = None,
    entered: dict[str, str] | None = None,
) -> Response:
    children = children_of(db, preschool.id, active_only=False)
    group_ids = {group.id for group in preschool.groups}
    sections = [
        (group.name, [child for child in children if child.group_id == group.id])
        for group in preschool.groups
    ]
    sections.append((NO_GROUP, [child for child in children if child.group_id not in group_ids]))
    _audit(db, preschool, staff, "read", "children")
    return render(
        request,
        "children.html",
        {
            "preschool": preschool,
            "sections": [
                (name, [(child, _avatar_view(preschool, child)) for child in rows])
                for name, rows in sections
                if rows or name != NO_GROUP
            ],
            "count": len(children),
            "groups": preschool.groups,
            "avatar_labels": AVATAR_LABELS,
            "max_name": MAX_NAME,
            "retention": retention_in_words(preschool.presence_retention_days),
            "entered": entered or {"avatar": _suggested_avatar(children)},
            "errors": errors or [],
            "saved": request.query_params.get("saved"),
            "deleted": request.query_params.get("deleted"),
            "imported": request.query_params.get("imported", "").isdigit()
            and int(request.query_params["imported"]),
        },
        status=400 if errors else 200,
    )


@router.get("", response_class=HTMLResponse)
def children_page(request: Request, slug: str, db: Db, staff: CurrentStaff) -> Response:
    return _list_page(request, db, preschool_for_staff(db, staff, slug), staff)


@router.post("", dependencies=[CsrfChecked])
def add_child_form(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    entered = {name: form_text(form, name) for name in ("first_name", "group_id", "avatar")}
    try:
        if is_upload_key(entered["avatar"]):  # a photo is added on the child's own page
            raise ChildError("Välj en bild i listan.")
        child = add_child(
            db, preschool, entered["first_name"], _group_id(entered["group_id"]), entered["avatar"]
        )
    except ChildError as exc:
        db.rollback()
        return _list_page(request, db, preschool, staff, ["Inget sparades.", str(exc)], entered)
    _audit(db, preschool, staff, "create", "child", child.id)
    return RedirectResponse(_list_url(preschool), status_code=303)


# --- one child ---------------------------------------------------------------------------------------


def _clock(value: Any) -> str:
    return f"{value:%H:%M}" if value else ""


def _week_rows(db: Db, child: Child) -> list[dict[str, str]]:
    week = week_of(db, child.id)
    return [
        {
            "arrives": _clock(week[day].arrives_at) if day in week else "",
            "leaves": _clock(week[day].leaves_at) if day in week else "",
            "pickup_by": week[day].pickup_by if day in week else "",
        }
        for day in range(len(WEEKDAYS))
    ]


def _avatar_choices(preschool: Preschool, child: Child) -> list[tuple[str, str]]:
    """The pictures to choose from; the child's photo too while the preschool allows photos."""
    choices = list(AVATAR_LABELS.items())
    if is_upload_key(child.avatar) and preschool.child_photos:
        choices.insert(0, (child.avatar, PHOTO_LABEL))
    return choices


def _link_rows(db: Db, child: Child) -> list[dict[str, Any]]:
    now = utcnow()
    rows = []
    for link in guardian_links_of(db, child):
        if link.revoked_at is not None:
            status = "Återkallad"
        elif link.expires_at <= now:
            status = "Har gått ut"
        else:
            status = "Gäller"
        rows.append({"link": link, "status": status, "active": status == "Gäller"})
    return rows


def _child_page(
    request: Request,
    db: Db,
    preschool: Preschool,
    staff: Staff,
    child: Child,
    *,
    errors: dict[str, list[str]] | None = None,
    details: dict[str, Any] | None = None,
    week: list[dict[str, str]] | None = None,
    link_form: dict[str, str] | None = None,
    new_link: str | None = None,
) -> Response:
    _audit(db, preschool, staff, "read", "child", child.id)
    return render(
        request,
        "child.html",
        {
            "preschool": preschool,
            "child": child,
            "avatar": _avatar_view(preschool, child),
            "details": details
            or {
                "first_name": child.first_name,
                "group_id": str(child.group_id or ""),
                "avatar": shown_avatar(preschool, child),
                "active": child.active,
            },
            "groups": preschool.groups,
            "avatar_choices": _avatar_choices(preschool, child),
            "photo_dropped": is_upload_key(child.avatar) and not preschool.child_photos,
            "max_name": MAX_NAME,
            "max_pickup_by": MAX_PICKUP_BY,
            "weekdays": WEEKDAYS,
            "week": week or _week_rows(db, child),
            "relations": list(RELATIONS),
            "links": _link_rows(db, child),
            "link_days": [(days, LINK_DAYS_LABELS.get(days, f"{days} dagar")) for days in GUARDIAN_LINK_DAYS],
            "link_form": link_form or {"label": "", "valid_days": str(GUARDIAN_LINK_DAYS[0])},
            "new_link": new_link,
            "retention": retention_in_words(preschool.presence_retention_days),
            "can_export": staff.role_at(preschool) is Role.ADMIN,
            "errors": errors or {},
            "saved": request.query_params.get("saved"),
        },
        status=400 if errors else 200,
    )


def _failed(
    request: Request,
    db: Db,
    preschool: Preschool,
    staff: Staff,
    child_id: int,
    section: str,
    problems: list[str],
    **typed: Any,
) -> Response:
    """Drops every change of the request and shows the page again with the problems and what was typed."""
    db.rollback()
    child = _child(db, preschool, child_id)
    return _child_page(request, db, preschool, staff, child, errors={section: problems}, **typed)


@router.get("/{child_id}", response_class=HTMLResponse)
def child_page(request: Request, slug: str, child_id: RowId, db: Db, staff: CurrentStaff) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    return _child_page(request, db, preschool, staff, _child(db, preschool, child_id))


@router.post("/{child_id}", dependencies=[CsrfChecked])
def save_details(
    request: Request, slug: str, child_id: RowId, db: Db, staff: CurrentStaff, form: Form
) -> Response:
    """First name, group, picture and active; a new photo (checked and cleaned) when photos are allowed.
    The photo file is written only when everything else is valid."""
    preschool = preschool_for_staff(db, staff, slug)
    child = _child(db, preschool, child_id)
    typed = {
        "first_name": form_text(form, "first_name"),
        "group_id": form_text(form, "group_id"),
        "avatar": form_text(form, "avatar"),
        "active": bool(form.get("active")),
    }
    former = child.avatar
    problems: list[str] = []
    avatar = typed["avatar"]
    picture: CleanPicture | None = None
    raw = uploaded(form, "photo")
    if raw is not None:
        if not preschool.child_photos:
            problems.append("Förskolan använder inte foton av barnen; välj en bild i listan.")
        else:
            try:
                picture = clean_picture(raw)
                avatar = picture.key
            except UploadError as exc:
                problems.append(str(exc))
    if picture is None and is_upload_key(avatar) and avatar != child.avatar:
        problems.append("Välj en bild i listan.")  # a photo comes only as an upload
    else:  # checked even after a bad photo, so that every problem is shown at once (nothing is kept)
        try:
            update_child(
                db,
                preschool,
                child,
                typed["first_name"],
                _group_id(typed["group_id"]),
                avatar,
                typed["active"],
            )
        except ChildError as exc:
            problems.append(str(exc))
    if not problems and picture is not None:
        try:
            store_picture(settings_of(request).data_dir, picture)
        except UploadError as exc:
            problems.append(str(exc))
    if problems:
        return _failed(request, db, preschool, staff, child_id, "details", problems, details=typed)
    _audit(db, preschool, staff, "update", "child", child.id)
    cleanup = _forget_photo_later(request, db, former) if former != child.avatar else None
    return RedirectResponse(_child_url(preschool, child), status_code=303, background=cleanup)


@router.post("/{child_id}/week", dependencies=[CsrfChecked])
def save_week(
    request: Request, slug: str, child_id: RowId, db: Db, staff: CurrentStaff, form: Form
) -> Response:
    """Monday–Friday at once: all rows or none. A row without times and without who picks up is a day the
    child does not come."""
    preschool = preschool_for_staff(db, staff, slug)
    child = _child(db, preschool, child_id)
    rows: list[dict[str, str]] = []
    week: dict[int, Plan] = {}
    problems: list[str] = []
    for day, name in enumerate(WEEKDAYS):
        row = {key: form_text(form, f"{key}_{day}") for key in ("arrives", "leaves", "pickup_by")}
        rows.append(row)
        if not any(value.strip() for value in row.values()):
            continue
        try:
            plan = Plan(parse_clock(row["arrives"]), parse_clock(row["leaves"]), row["pickup_by"])
            week[day] = check_plan(preschool, plan)
        except ChildError as exc:
            problems.append(f"{name}: {exc}")
    if not problems:
        try:
            set_week(db, preschool, child, week)
        except ChildError as exc:
            problems.append(str(exc))
    if problems:
        return _failed(request, db, preschool, staff, child_id, "week", problems, week=rows)
    _audit(db, preschool, staff, "update", "week", child.id)
    return RedirectResponse(_child_url(preschool, child), status_code=303)


@router.post("/{child_id}/links", dependencies=[CsrfChecked])
def create_link(
    request: Request, slug: str, child_id: RowId, db: Db, staff: CurrentStaff, form: Form
) -> Response:
    """A new guardian's link, shown once on the page this answers with (only its hash is stored)."""
    preschool = preschool_for_staff(db, staff, slug)
    child = _child(db, preschool, child_id)
    typed = {"label": form_text(form, "label"), "valid_days": form_text(form, "valid_days")}
    try:
        raw_days = typed["valid_days"].strip()
        days = int(raw_days) if raw_days.isascii() and raw_days.isdigit() and len(raw_days) < 6 else 0
        _, token = create_guardian_link(db, child, typed["label"], days, staff.user_id, utcnow())
    except ChildError as exc:
        return _failed(request, db, preschool, staff, child_id, "links", [str(exc)], link_form=typed)
    _audit(db, preschool, staff, "create", "guardian_link", child.id)
    url = f"{str(request.base_url).rstrip('/')}/guardian/open?t={token}"
    return _child_page(request, db, preschool, staff, child, new_link=url)


@router.post("/{child_id}/links/{link_id}/revoke", dependencies=[CsrfChecked])
def revoke_link(slug: str, child_id: RowId, link_id: RowId, db: Db, staff: CurrentStaff) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    child = _child(db, preschool, child_id)
    link = db.get(GuardianLink, link_id)
    if link is None or link.child_id != child.id or link.preschool_id != preschool.id:
        raise ApiError(404, "There is no such link.")
    revoke_guardian_link(link, utcnow())
    _audit(db, preschool, staff, "update", "guardian_link", child.id)
    return RedirectResponse(_child_url(preschool, child), status_code=303)


@router.get("/{child_id}/export")
def export(request: Request, slug: str, child_id: RowId, db: Db, staff: CurrentStaff) -> Response:
    """Everything stored about the child as a JSON file (the right of access), for the preschool's admins:
    see store.children.export_child; the photo, if the child has one, inline. Audited before it is made,
    so the file lists its own download."""
    preschool = preschool_for_staff(db, staff, slug, need=Role.ADMIN)
    child = _child(db, preschool, child_id)
    _audit(db, preschool, staff, "read", "export", child.id)
    db.flush()
    now = utcnow()
    data = export_child(db, preschool, child, now)
    path = picture_path(settings_of(request).data_dir, child.avatar) if is_upload_key(child.avatar) else None
    if path is not None and path.is_file():
        data["child"]["photo_png_base64"] = base64.b64encode(path.read_bytes()).decode("ascii")
    filename = f"laiban-barn-{child.id}-{now:%Y-%m-%d}.json"
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/{child_id}/delete", dependencies=[CsrfChecked])
def erase_child(
    request: Request, slug: str, child_id: RowId, db: Db, staff: CurrentStaff, form: Form
) -> Response:
    """Erases the child and everything about them (store.children.delete_child; their photo when no one
    else uses the same picture). Needs the confirmation box."""
    preschool = preschool_for_staff(db, staff, slug)
    child = _child(db, preschool, child_id)
    if not form.get("confirm"):
        return _failed(
            request,
            db,
            preschool,
            staff,
            child_id,
            "delete",
            ["Kryssa i rutan för att bekräfta att allt om barnet ska raderas."],
        )
    former = child.avatar
    delete_child(db, child)
    _audit(db, preschool, staff, "delete", "child")  # which child: erased with the child
    cleanup = _forget_photo_later(request, db, former)
    return RedirectResponse(_list_url(preschool, "deleted"), status_code=303, background=cleanup)
