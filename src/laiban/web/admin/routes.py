"""The admin shell (`/admin`, Swedish): first-run setup, sign-in, preschool settings, users, kiosk pairing.

Every POST carries the page's CSRF token. Pages of a preschool are addressed by slug and checked with
`preschool_for_staff`: another organisation's preschool is 404, a preschool without a role is 403.
Later issues add their pages to this router's shell (templates extend `base.html`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from laiban.model.preschool import MODULES, Role
from laiban.store import accounts
from laiban.store.preschools import (
    InvalidSettings,
    PreschoolSettings,
    create_organisation,
    create_preschool,
)
from laiban.store.tables import Device, Group, Organisation, Preschool, User
from laiban.web.admin.render import Form, render
from laiban.web.errors import ApiError
from laiban.web.params import RowId
from laiban.web.security import (
    SESSION_COOKIE,
    CsrfChecked,
    CurrentStaff,
    Db,
    OrgAdmin,
    Staff,
    client_address,
    optional_staff,
    preschool_for_staff,
    set_session_cookie,
    settings_of,
)

router = APIRouter(prefix="/admin", include_in_schema=False)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _needs_setup(db: Db) -> bool:
    return db.scalar(select(Organisation.id).limit(1)) is None


def _lines(text: str) -> list[str]:
    """Distinct non-empty lines, in order (group names typed one per line)."""
    seen: dict[str, None] = {}
    for line in text.splitlines():
        if line.strip():
            seen.setdefault(line.strip()[:100], None)
    return list(seen)


# --- first run, sign-in ----------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, db: Db, staff: Annotated[Staff | None, Depends(optional_staff)]) -> Response:
    if _needs_setup(db):
        return redirect("/admin/setup")
    if staff is None:
        return redirect("/admin/login")
    preschools = accounts.visible_preschools(db, staff.access)
    return render(request, "dashboard.html", {"preschools": preschools})


@router.get("/setup", response_class=HTMLResponse)
def setup_form(request: Request, db: Db) -> Response:
    if not _needs_setup(db):
        return redirect("/admin/login")
    return render(request, "setup.html", {"values": {}, "errors": {}})


@router.post("/setup", response_class=HTMLResponse, dependencies=[CsrfChecked])
def setup(request: Request, db: Db, form: Form) -> Response:
    if not _needs_setup(db):
        return redirect("/admin/login")
    values = {key: str(form.get(key, "")) for key in ("organisation", "preschool", "slug", "name", "email")}
    errors: dict[str, str] = {}
    try:
        organisation = create_organisation(db, values["organisation"])
        settings = PreschoolSettings.parse({"name": values["preschool"]}, list(MODULES), ["sv"])
        preschool = create_preschool(db, organisation, values["slug"], settings)
        if str(form.get("password", "")) != str(form.get("password_again", "")):
            raise accounts.AccountError("Lösenorden är inte lika.")
        user = accounts.create_user(
            db,
            organisation_id=organisation.id,
            email=values["email"],
            name=values["name"],
            password=str(form.get("password", "")),
            is_org_admin=True,
            roles={preschool.id: Role.ADMIN},
        )
    except InvalidSettings as exc:
        errors = {"preschool" if key == "name" else key: message for key, message in exc.errors.items()}
    except accounts.AccountError as exc:
        errors = {"account": str(exc)}
    if errors:
        db.rollback()
        return render(request, "setup.html", {"values": values, "errors": errors}, status=400)
    response = redirect("/admin")
    set_session_cookie(
        request, response, accounts.start_session(db, user, settings_of(request).session_hours)
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, db: Db) -> Response:
    if _needs_setup(db):
        return redirect("/admin/setup")
    return render(request, "login.html", {"email": "", "error": None})


@router.post("/login", response_class=HTMLResponse, dependencies=[CsrfChecked])
def login(request: Request, db: Db, form: Form) -> Response:
    settings = settings_of(request)
    email = str(form.get("email", ""))[:254]
    try:
        user = accounts.authenticate(
            db,
            email,
            str(form.get("password", "")),
            client=client_address(request),
            max_failures=settings.login_max_failures,
            window=dt.timedelta(minutes=settings.login_window_minutes),
        )
    except accounts.TooManyAttempts:
        message = (
            f"För många misslyckade försök. Vänta {settings.login_window_minutes} minuter och försök igen."
        )
        return render(request, "login.html", {"email": email, "error": message}, status=429)
    if user is None:
        return render(
            request, "login.html", {"email": email, "error": "Fel e-postadress eller lösenord."}, status=401
        )
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        accounts.end_session(db, old)
    response = redirect("/admin")
    set_session_cookie(request, response, accounts.start_session(db, user, settings.session_hours))
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, db: Db) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.end_session(db, token)
    response = redirect("/admin/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account", response_class=HTMLResponse)
def account_form(request: Request, staff: CurrentStaff) -> Response:
    return render(request, "account.html", {"error": None, "saved": request.query_params.get("saved")})


@router.post("/account", response_class=HTMLResponse, dependencies=[CsrfChecked])
def change_own_password(request: Request, db: Db, staff: CurrentStaff, form: Form) -> Response:
    user = db.get_one(User, staff.user_id)
    error = None
    if (
        accounts.authenticate(
            db,
            user.email,
            str(form.get("current", "")),
            client=client_address(request),
            max_failures=settings_of(request).login_max_failures,
            window=dt.timedelta(minutes=settings_of(request).login_window_minutes),
        )
        is None
    ):
        error = "Det nuvarande lösenordet stämmer inte."
    elif form.get("new") != form.get("new_again"):
        error = "De nya lösenorden är inte lika."
    else:
        try:
            accounts.set_password(db, user, str(form.get("new", "")))
        except accounts.AccountError as exc:
            error = str(exc)
    if error:
        return render(request, "account.html", {"error": error, "saved": None}, status=400)
    # Changing the password signed out every session, this one too: start a fresh one.
    response = redirect("/admin/account?saved=1")
    set_session_cookie(
        request, response, accounts.start_session(db, user, settings_of(request).session_hours)
    )
    return response


# --- preschools ----------------------------------------------------------------------------------


def _settings_values(preschool: Preschool) -> dict[str, object]:
    return {
        "name": preschool.name,
        "address": preschool.address,
        "latitude": "" if preschool.latitude is None else preschool.latitude,
        "longitude": "" if preschool.longitude is None else preschool.longitude,
        "timezone": preschool.timezone,
        "modules": preschool.modules,
        "languages": preschool.languages,
        "day_starts_at": preschool.day_starts_at.strftime("%H:%M"),
        "day_ends_at": preschool.day_ends_at.strftime("%H:%M"),
        "groups": "\n".join(group.name for group in preschool.groups),
        **{f"colour_{i}": colour for i, colour in enumerate(preschool.weekday_colours)},
        "presence_retention_days": str(preschool.presence_retention_days),
        "child_photos": preschool.child_photos,
    }


def _form_values(form: FormData) -> dict[str, object]:
    values: dict[str, object] = {key: str(value) for key, value in form.items() if key != "csrf_token"}
    values["modules"] = [str(m) for m in form.getlist("modules")]
    values["languages"] = [str(lang) for lang in form.getlist("languages")]
    return values


def _parse_settings(form: FormData) -> PreschoolSettings:
    return PreschoolSettings.parse(
        {key: str(value) for key, value in form.items()},
        [str(m) for m in form.getlist("modules")],
        [str(lang) for lang in form.getlist("languages")],
    )


@router.get("/preschools/new", response_class=HTMLResponse)
def new_preschool_form(request: Request, staff: OrgAdmin) -> Response:
    values = {
        "modules": list(MODULES),
        "languages": ["sv"],
        "timezone": "Europe/Stockholm",
        "day_starts_at": "06:30",
        "day_ends_at": "17:30",
    }
    return render(request, "preschool_new.html", {"values": values, "errors": {}})


@router.post("/preschools/new", response_class=HTMLResponse, dependencies=[CsrfChecked])
def new_preschool(request: Request, db: Db, staff: OrgAdmin, form: Form) -> Response:
    try:
        settings = _parse_settings(form)
        organisation = db.get_one(Organisation, staff.access.organisation_id)
        preschool = create_preschool(
            db, organisation, str(form.get("slug", "")), settings, _lines(str(form.get("groups", "")))
        )
    except InvalidSettings as exc:
        return render(
            request, "preschool_new.html", {"values": _form_values(form), "errors": exc.errors}, status=400
        )
    return redirect(f"/admin/p/{preschool.slug}/settings?saved=1")


@router.get("/p/{slug}/settings", response_class=HTMLResponse)
def preschool_settings_form(request: Request, slug: str, db: Db, staff: CurrentStaff) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    return render(
        request,
        "preschool_settings.html",
        {
            "preschool": preschool,
            "values": _settings_values(preschool),
            "errors": {},
            "can_edit": staff.role_at(preschool) is Role.ADMIN,
            "saved": request.query_params.get("saved"),
        },
    )


@router.post("/p/{slug}/settings", response_class=HTMLResponse, dependencies=[CsrfChecked])
def save_preschool_settings(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    preschool = preschool_for_staff(db, staff, slug, need=Role.ADMIN)
    try:
        settings = _parse_settings(form)
    except InvalidSettings as exc:
        return render(
            request,
            "preschool_settings.html",
            {
                "preschool": preschool,
                "values": _form_values(form),
                "errors": exc.errors,
                "can_edit": True,
                "saved": None,
            },
            status=400,
        )
    settings.apply(preschool)
    wanted = _lines(str(form.get("groups", "")))
    preschool.groups = [g for g in preschool.groups if g.name in wanted] + [
        Group(name=name) for name in wanted if name not in {g.name for g in preschool.groups}
    ]
    return redirect(f"/admin/p/{preschool.slug}/settings?saved=1")


# --- kiosk devices -------------------------------------------------------------------------------


def _devices_page(
    request: Request,
    db: Db,
    preschool: Preschool,
    *,
    new: dict[str, object] | None = None,
    error: str | None = None,
) -> Response:
    devices = db.scalars(
        select(Device).where(Device.preschool_id == preschool.id).order_by(Device.created_at)
    )
    context = {
        "preschool": preschool,
        "devices": list(devices),
        "new": new,
        "error": error,
        "now": accounts.utcnow(),
    }
    return render(request, "devices.html", context, status=400 if error else 200)


@router.get("/p/{slug}/devices", response_class=HTMLResponse)
def devices_page(request: Request, slug: str, db: Db, staff: CurrentStaff) -> Response:
    return _devices_page(request, db, preschool_for_staff(db, staff, slug, need=Role.ADMIN))


@router.post("/p/{slug}/devices", response_class=HTMLResponse, dependencies=[CsrfChecked])
def create_device(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    preschool = preschool_for_staff(db, staff, slug, need=Role.ADMIN)
    try:
        group = str(form.get("group", ""))
        group_id = int(group) if group.isdigit() else None
        device, code = accounts.create_device(db, preschool, str(form.get("name", "")), group_id)
    except accounts.AccountError as exc:
        return _devices_page(request, db, preschool, error=str(exc))
    pairing_url = str(request.base_url).rstrip("/") + f"/kiosk/pair?code={code}"
    return _devices_page(request, db, preschool, new={"device": device, "code": code, "url": pairing_url})


@router.post("/p/{slug}/devices/{device_id}/revoke", dependencies=[CsrfChecked])
def revoke_device(slug: str, device_id: RowId, db: Db, staff: CurrentStaff) -> Response:
    preschool = preschool_for_staff(db, staff, slug, need=Role.ADMIN)
    device = db.get(Device, device_id)
    if device is None or device.preschool_id != preschool.id:
        raise ApiError(404, "There is no such device.")
    accounts.revoke_device(device)
    return redirect(f"/admin/p/{preschool.slug}/devices")


# --- users (org admins) --------------------------------------------------------------------------


def _org_preschools(db: Db, staff: Staff) -> list[Preschool]:
    return list(
        db.scalars(
            select(Preschool)
            .where(Preschool.organisation_id == staff.access.organisation_id)
            .order_by(Preschool.name)
        )
    )


def _roles_from(form: FormData, preschools: list[Preschool]) -> dict[int, Role]:
    roles = {}
    for preschool in preschools:
        value = str(form.get(f"role_{preschool.id}", ""))
        if value in (Role.ADMIN, Role.PEDAGOGUE):
            roles[preschool.id] = Role(value)
    return roles


def _org_user(db: Db, staff: Staff, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None or user.organisation_id != staff.access.organisation_id:
        raise ApiError(404, "There is no such user.")
    return user


def _users_page(
    request: Request, db: Db, staff: Staff, *, values: dict[str, str] | None = None, error: str | None = None
) -> Response:
    users = db.scalars(
        select(User).where(User.organisation_id == staff.access.organisation_id).order_by(User.name)
    )
    context = {
        "users": list(users),
        "preschools": _org_preschools(db, staff),
        "values": values or {},
        "error": error,
    }
    return render(request, "users.html", context, status=400 if error else 200)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, db: Db, staff: OrgAdmin) -> Response:
    return _users_page(request, db, staff)


@router.post("/users", response_class=HTMLResponse, dependencies=[CsrfChecked])
def add_user(request: Request, db: Db, staff: OrgAdmin, form: Form) -> Response:
    try:
        accounts.create_user(
            db,
            organisation_id=staff.access.organisation_id,
            email=str(form.get("email", "")),
            name=str(form.get("name", "")),
            password=str(form.get("password", "")),
            is_org_admin=form.get("is_org_admin") == "on",
            roles=_roles_from(form, _org_preschools(db, staff)),
        )
    except accounts.AccountError as exc:
        db.rollback()
        values = {key: str(value) for key, value in form.items() if key not in ("password", "csrf_token")}
        return _users_page(request, db, staff, values=values, error=str(exc))
    return redirect("/admin/users")


@router.get("/users/{user_id}", response_class=HTMLResponse)
def user_page(request: Request, user_id: RowId, db: Db, staff: OrgAdmin) -> Response:
    user = _org_user(db, staff, user_id)
    return render(
        request,
        "user_edit.html",
        {
            "user": user,
            "preschools": _org_preschools(db, staff),
            "roles": accounts.access_for(user).roles,
            "error": None,
        },
    )


@router.post("/users/{user_id}", response_class=HTMLResponse, dependencies=[CsrfChecked])
def save_user(request: Request, user_id: RowId, db: Db, staff: OrgAdmin, form: Form) -> Response:
    user = _org_user(db, staff, user_id)
    preschools = _org_preschools(db, staff)
    roles = _roles_from(form, preschools)
    error = None
    name = str(form.get("name", "")).strip()
    is_org_admin = form.get("is_org_admin") == "on"
    active = form.get("active") == "on"
    if not name:
        error = "Ange ett namn."
    elif user.id == staff.user_id and (not is_org_admin or not active):
        error = "Du kan inte ta bort din egen administratörsbehörighet eller stänga av dig själv."
    password = str(form.get("password", ""))
    if error is None and password:
        try:
            accounts.set_password(db, user, password)
        except accounts.AccountError as exc:
            error = str(exc)
    if error:
        return render(
            request,
            "user_edit.html",
            {"user": user, "preschools": preschools, "roles": roles, "error": error},
            status=400,
        )
    user.name = name[:200]
    user.is_org_admin = is_org_admin
    user.active = active
    accounts.set_roles(db, user, roles)
    if not active:
        accounts.end_all_sessions(db, user)
    return redirect("/admin/users")
