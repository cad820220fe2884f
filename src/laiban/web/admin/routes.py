"""The admin shell (`/admin`, Swedish): first-run setup, sign-in, preschool settings, users, kiosk pairing.

Every POST carries the page's CSRF token. Pages of a preschool are addressed by slug and checked with
`preschool_for_staff`: another organisation's preschool is 404, a preschool without a role is 403.
Later issues add their pages to this router's shell (templates extend `base.html`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from laiban.i18n import SOURCE_LANGUAGE, catalog_status
from laiban.model.preschool import LANGUAGES, MODULES, RTL_LANGUAGES, Role
from laiban.store import accounts, audit, totp
from laiban.store.preschools import (
    InvalidSettings,
    PreschoolSettings,
    create_organisation,
    create_preschool,
)
from laiban.store.tables import Device, Group, Organisation, Preschool, User
from laiban.web.admin.render import Form, render
from laiban.web.api.speech import voice_of
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
PENDING_COOKIE = "laiban_pending"  # between a right password and a right code (signing in with TOTP)


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
    if accounts.has_totp(user):
        # The password was right; no session until the code is too (the state waits in a sealed cookie).
        response = redirect("/admin/login/code")
        response.set_cookie(
            PENDING_COOKIE,
            accounts.pending_sign_in(user, settings.secret_key),
            max_age=accounts.PENDING_CODE_SECONDS,
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies or request.url.scheme == "https",
            path="/admin/login",
        )
        return response
    return _signed_in(request, db, user)


def _signed_in(request: Request, db: Db, user: User) -> Response:
    """A fresh session for `user`; the browser's old session, if any, ends (no session fixation)."""
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        accounts.end_session(db, old)
    response = redirect("/admin")
    token = accounts.start_session(db, user, settings_of(request).session_hours)
    set_session_cookie(request, response, token)
    response.delete_cookie(PENDING_COOKIE, path="/admin/login")
    return response


def _pending(request: Request, db: Db) -> User | None:
    sealed = request.cookies.get(PENDING_COOKIE)
    return accounts.pending_user(db, sealed, settings_of(request).secret_key) if sealed else None


@router.get("/login/code", response_class=HTMLResponse)
def login_code_form(request: Request, db: Db) -> Response:
    if _pending(request, db) is None:
        return redirect("/admin/login")
    return render(request, "login_code.html", {"error": None})


@router.post("/login/code", response_class=HTMLResponse, dependencies=[CsrfChecked])
def login_code(request: Request, db: Db, form: Form) -> Response:
    settings = settings_of(request)
    user = _pending(request, db)
    if user is None:
        return render(
            request,
            "login.html",
            {"email": "", "error": "Inloggningen tog för lång tid. Logga in igen."},
            status=400,
        )
    try:
        accounts.check_code(
            db,
            user,
            str(form.get("code", ""))[:20],
            settings.secret_key,
            client=client_address(request),
            max_failures=settings.login_max_failures,
            window=dt.timedelta(minutes=settings.login_window_minutes),
        )
    except accounts.TooManyAttempts:
        message = (
            f"För många misslyckade försök. Vänta {settings.login_window_minutes} minuter och försök igen."
        )
        return render(request, "login_code.html", {"error": message}, status=429)
    except accounts.CodeRefused:
        message = "Koden stämmer inte. Skriv koden som appen visar just nu (en kod fungerar bara en gång)."
        return render(request, "login_code.html", {"error": message}, status=401)
    return _signed_in(request, db, user)


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, db: Db) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.end_session(db, token)
    response = redirect("/admin/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _account_page(
    request: Request,
    user: User,
    *,
    error: str | None = None,
    totp_error: str | None = None,
    status: int = 200,
) -> Response:
    context = {
        "error": error,
        "totp_error": totp_error,
        "saved": request.query_params.get("saved"),
        "has_totp": accounts.has_totp(user),
    }
    return render(request, "account.html", context, status=status)


@router.get("/account", response_class=HTMLResponse)
def account_form(request: Request, db: Db, staff: CurrentStaff) -> Response:
    return _account_page(request, db.get_one(User, staff.user_id))


TOO_MANY_ATTEMPTS = "För många misslyckade försök. Vänta en stund."


def _own_password_problem(request: Request, db: Db, user: User, form: Form) -> str | None:
    """Why the signed-in user's "current password" field does not confirm a change, or None when it does.
    Throttled like signing in, so a stolen session cannot guess the password either."""
    settings = settings_of(request)
    try:
        same = accounts.authenticate(
            db,
            user.email,
            str(form.get("current", "")),
            client=client_address(request),
            max_failures=settings.login_max_failures,
            window=dt.timedelta(minutes=settings.login_window_minutes),
        )
    except accounts.TooManyAttempts:
        return TOO_MANY_ATTEMPTS
    return None if same is not None else "Det nuvarande lösenordet stämmer inte."


@router.post("/account", response_class=HTMLResponse, dependencies=[CsrfChecked])
def change_own_password(request: Request, db: Db, staff: CurrentStaff, form: Form) -> Response:
    user = db.get_one(User, staff.user_id)
    error, status = _own_password_problem(request, db, user, form), 400
    if error == TOO_MANY_ATTEMPTS:
        status = 429
    elif error is None and form.get("new") != form.get("new_again"):
        error = "De nya lösenorden är inte lika."
    elif error is None:
        try:
            accounts.set_password(db, user, str(form.get("new", "")))
        except accounts.AccountError as exc:
            error = str(exc)
    if error:
        return _account_page(request, user, error=error, status=status)
    # Changing the password signed out every session, this one too: start a fresh one.
    response = redirect("/admin/account?saved=1")
    set_session_cookie(
        request, response, accounts.start_session(db, user, settings_of(request).session_hours)
    )
    return response


def _enrolment_page(
    request: Request, user: User, secret: str, sealed: str, *, error: str | None = None
) -> Response:
    uri = totp.provisioning_uri(secret, user.email)
    context = {
        "qr": segno.make(uri, error="m").svg_data_uri(scale=5, dark="#000", light="#fff"),
        "uri": uri,
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "sealed": sealed,
        "error": error,
    }
    return render(request, "account_totp.html", context, status=400 if error else 200)


@router.post("/account/totp", response_class=HTMLResponse, dependencies=[CsrfChecked])
def start_totp(request: Request, db: Db, staff: CurrentStaff) -> Response:
    user = db.get_one(User, staff.user_id)
    if accounts.has_totp(user):
        return redirect("/admin/account")
    secret, sealed = accounts.start_totp_enrolment(user, settings_of(request).secret_key)
    return _enrolment_page(request, user, secret, sealed)


@router.post("/account/totp/confirm", response_class=HTMLResponse, dependencies=[CsrfChecked])
def confirm_totp(request: Request, db: Db, staff: CurrentStaff, form: Form) -> Response:
    user = db.get_one(User, staff.user_id)
    key = settings_of(request).secret_key
    sealed = str(form.get("pending", ""))
    secret = accounts.enrolment_secret(user, sealed, key)
    if accounts.has_totp(user):
        return redirect("/admin/account")
    if secret is None:
        return _account_page(
            request, user, totp_error="Det tog för lång tid. Börja om och skanna den nya koden.", status=400
        )
    if not accounts.confirm_totp(db, user, sealed, str(form.get("code", ""))[:20], key):
        error = "Koden stämmer inte. Kontrollera att telefonens klocka går rätt och skriv koden som visas nu."
        return _enrolment_page(request, user, secret, sealed, error=error)
    audit.record_account(
        db, user.organisation_id, actor=staff.name, user_id=staff.user_id, action="create", account_id=user.id
    )
    return redirect("/admin/account?saved=totp")


@router.post("/account/totp/off", response_class=HTMLResponse, dependencies=[CsrfChecked])
def turn_off_own_totp(request: Request, db: Db, staff: CurrentStaff, form: Form) -> Response:
    user = db.get_one(User, staff.user_id)
    error = _own_password_problem(request, db, user, form)
    if error:
        return _account_page(
            request, user, totp_error=error, status=429 if error == TOO_MANY_ATTEMPTS else 400
        )
    accounts.disable_totp(db, user)
    audit.record_account(
        db, user.organisation_id, actor=staff.name, user_id=staff.user_id, action="delete", account_id=user.id
    )
    return redirect("/admin/account?saved=totp-off")


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


def _language_rows(request: Request) -> list[dict[str, object]]:
    """Every language Laiban knows, for the settings' checkboxes: its name in itself, writing direction,
    how complete and how reviewed its catalog is, and whether the server's voice speaks it."""
    voice = voice_of(request)
    voices = voice.engine.voices() if voice is not None and voice.engine is not None else {}
    rows = []
    for code, name in LANGUAGES.items():
        status = catalog_status(code)
        if code == SOURCE_LANGUAGE:
            review = "källspråket"
        elif status.reviewed == status.translated and status.translated:
            review = "granskad"
        elif status.reviewed == 0:
            review = "ej granskad av modersmålstalare"
        else:
            review = f"{status.reviewed} av {status.translated} granskade"
        if voice is None:
            spoken = "ingen röst på servern – surfplattans egen röst om den har en, annars texten"
        elif code in voices:
            spoken = "röst: " + ("piper" if voices[code].startswith("piper") else "espeak")
        else:
            spoken = "ingen röst – barnen ser texten och bilderna"
        rows.append(
            {
                "code": code,
                "name": name,
                "dir": "rtl" if code in RTL_LANGUAGES else "ltr",
                "status": status,
                "review": review,
                "voice": spoken,
            }
        )
    return rows


def _parse_settings(form: FormData, enabled: Sequence[str] = ()) -> PreschoolSettings:
    """The checked settings. A language whose catalog is incomplete cannot be switched on (one already on
    stays: `speakable` keeps it from the children until its catalog is complete again)."""
    languages = [str(lang) for lang in form.getlist("languages")]
    errors: dict[str, str] = {}
    incomplete = [
        lang
        for lang in LANGUAGES
        if lang in languages and lang not in enabled and not catalog_status(lang).complete
    ]
    if incomplete:
        said = [
            f"{LANGUAGES[lang]} ({catalog_status(lang).translated} av {catalog_status(lang).total} meningar)"
            for lang in incomplete
        ]
        errors["languages"] = (
            "Ett språk kan slås på först när alla dess meningar är översatta. Inte färdigt än: "
            + ", ".join(said)
            + "."
        )
    try:
        settings = PreschoolSettings.parse(
            {key: str(value) for key, value in form.items()},
            [str(m) for m in form.getlist("modules")],
            languages,
        )
    except InvalidSettings as exc:
        if "languages" in exc.errors and errors:
            errors["languages"] = exc.errors["languages"] + " " + errors["languages"]
        raise InvalidSettings({**exc.errors, **errors}) from None
    if errors:
        raise InvalidSettings(errors)
    return settings


@router.get("/preschools/new", response_class=HTMLResponse)
def new_preschool_form(request: Request, staff: OrgAdmin) -> Response:
    values = {
        "modules": list(MODULES),
        "languages": ["sv"],
        "timezone": "Europe/Stockholm",
        "day_starts_at": "06:30",
        "day_ends_at": "17:30",
    }
    rows = _language_rows(request)
    return render(request, "preschool_new.html", {"values": values, "errors": {}, "language_rows": rows})


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
            request,
            "preschool_new.html",
            {"values": _form_values(form), "errors": exc.errors, "language_rows": _language_rows(request)},
            status=400,
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
            "language_rows": _language_rows(request),
        },
    )


@router.post("/p/{slug}/settings", response_class=HTMLResponse, dependencies=[CsrfChecked])
def save_preschool_settings(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    preschool = preschool_for_staff(db, staff, slug, need=Role.ADMIN)
    try:
        settings = _parse_settings(form, enabled=preschool.languages)
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
                "language_rows": _language_rows(request),
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
            "totp_off": request.query_params.get("totp") == "off",
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


@router.post("/users/{user_id}/totp/off", dependencies=[CsrfChecked])
def turn_off_totp(user_id: RowId, db: Db, staff: OrgAdmin) -> Response:
    """For a staff member who lost their phone: they sign in with the password alone, and may switch
    codes on again with a new phone."""
    user = _org_user(db, staff, user_id)
    if accounts.has_totp(user):
        accounts.disable_totp(db, user)
        audit.record_account(
            db,
            user.organisation_id,
            actor=staff.name,
            user_id=staff.user_id,
            action="delete",
            account_id=user.id,
        )
    return redirect(f"/admin/users/{user.id}?totp=off")
