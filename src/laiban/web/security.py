"""Who is asking: the database session per request, staff sessions, CSRF, and kiosk device tokens."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import secrets
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker

from laiban.config import Settings
from laiban.model.preschool import Role
from laiban.store import accounts
from laiban.store.db import transaction
from laiban.store.preschools import preschool_by_slug
from laiban.store.tables import Device, Preschool
from laiban.web.errors import ApiError, LoginRequired

SESSION_COOKIE = "laiban_session"
CSRF_SEED_COOKIE = "laiban_csrf"  # ties the CSRF token of signed-out forms (setup, login) to the browser
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

T = TypeVar("T")

# How the OpenAPI document says who may call an operation (`openapi_extra=`); the schemes themselves are
# added to the document by web/app.py. Documentation only: the checks are `for_device` and `CurrentStaff`.
SECURITY_SCHEMES = {
    "deviceToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A paired kiosk's device token (POST /api/v1/devices/pair).",
    },
    "staffSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "A signed-in staff member's session (sign in at /admin/login).",
    },
}
FOR_DEVICES = {"security": [{"deviceToken": []}]}
FOR_STAFF = {"security": [{"staffSession": []}]}


class DatabaseGate:
    """At most `limit` requests hold a database session at once; the others wait, without a thread.

    Every sync dependency and endpoint of a request runs on its own trip through the thread pool. Without
    the gate, a burst of requests each holding a pooled connection while waiting for a free thread, and
    threads waiting for a free connection, deadlocked the server (bench/load.py, 40 asks/s). The limit is
    below the engine's pool (store.db.POOL_SIZE) and the thread pool (40), so neither can run out.
    """

    def __init__(self, limit: int):
        self.limit = limit
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def __call__(self) -> asyncio.Semaphore:
        # One semaphore per event loop: test clients may run the same app on several loops.
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.limit)
        return gate


def _finish(session: Session, ok: bool) -> None:
    try:
        if ok:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One transaction per request, committed before the response is sent (see `Db`)."""
    async with request.app.state.database_gate():
        session = request.app.state.sessions()
        try:
            yield session
        except BaseException:
            with anyio.CancelScope(shield=True):  # a client that hung up must not leak the connection
                await run_in_threadpool(_finish, session, False)
            raise
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(_finish, session, True)


# scope="function": the commit happens before the response leaves, so an answered write is stored.
Db = Annotated[Session, Depends(get_db, scope="function")]


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- staff sessions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member as plain values (usable even after the request's transaction ended)."""

    user_id: int
    name: str
    access: accounts.Access

    def role_at(self, preschool: Preschool) -> Role | None:
        return self.access.role_at(preschool)


def optional_staff(request: Request, db: Db) -> Staff | None:
    token = request.cookies.get(SESSION_COOKIE)
    idle = dt.timedelta(minutes=settings_of(request).session_idle_minutes)
    user = accounts.user_for_session(db, token, idle=idle) if token else None
    staff = Staff(user.id, user.name, accounts.access_for(user)) if user else None
    request.state.staff = staff
    return staff


def require_staff(request: Request, staff: Annotated[Staff | None, Depends(optional_staff)]) -> Staff:
    if staff is None:
        if request.url.path.startswith("/admin"):
            raise LoginRequired()
        raise ApiError(401, "Sign in first.")
    return staff


CurrentStaff = Annotated[Staff, Depends(require_staff)]


def require_org_admin(staff: CurrentStaff) -> Staff:
    if not staff.access.is_org_admin:
        raise ApiError(403, "Only the organisation's administrators may do this.")
    return staff


OrgAdmin = Annotated[Staff, Depends(require_org_admin)]


def preschool_for_staff(db: Session, staff: Staff, slug: str, *, need: Role = Role.PEDAGOGUE) -> Preschool:
    """The preschool if the user may see it: 404 outside their organisation, 403 without the role."""
    preschool = preschool_by_slug(db, slug)
    if preschool is None or preschool.organisation_id != staff.access.organisation_id:
        raise ApiError(404, "There is no such preschool.")
    role = staff.role_at(preschool)
    if role is None or (need is Role.ADMIN and role is not Role.ADMIN):
        raise ApiError(403, "You do not have that role at this preschool.")
    return preschool


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = settings_of(request)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies or request.url.scheme == "https",
        path="/",
    )


# --- CSRF ----------------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The token forms must send back: an HMAC of the session (or, signed out, of a seed cookie)."""
    basis = request.cookies.get(SESSION_COOKIE) or request.cookies.get(CSRF_SEED_COOKIE)
    if not basis:
        basis = getattr(request.state, "new_csrf_seed", None) or secrets.token_urlsafe(24)
        request.state.new_csrf_seed = basis  # set as a cookie by `remember_csrf_seed`
    key = settings_of(request).secret_key.encode()
    return hmac.new(key, b"csrf:" + basis.encode(), hashlib.sha256).hexdigest()


def remember_csrf_seed(request: Request, response: Response) -> None:
    seed = getattr(request.state, "new_csrf_seed", None)
    if seed:
        response.set_cookie(
            CSRF_SEED_COOKIE,
            seed,
            httponly=True,
            samesite="lax",
            secure=settings_of(request).secure_cookies or request.url.scheme == "https",
        )


async def require_csrf(request: Request) -> None:
    """Every state change from a browser must carry the page's CSRF token (form field or header)."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    has_basis = request.cookies.get(SESSION_COOKIE) or request.cookies.get(CSRF_SEED_COOKIE)
    # Compared as bytes: compare_digest refuses non-ASCII str (a forged token must be a 403, not a 500).
    if not sent or not has_basis or not hmac.compare_digest(sent.encode(), csrf_token(request).encode()):
        raise ApiError(
            403,
            "The form has expired or did not come from Laiban; reload the page and try again.",
            code="csrf_failed",
        )


CsrfChecked = Depends(require_csrf)


# --- kiosk devices -------------------------------------------------------------------------------


def _device_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "This needs a kiosk device token (Authorization: Bearer …).")
    return token.strip()


async def for_device(request: Request, work: Callable[[Session, Device], T]) -> T:
    """What a kiosk endpoint does: check the device token, then `work(session, device)` in the request's
    transaction, committed before the answer leaves.

    Kiosk endpoints are async shells around this, so that a kiosk request makes one trip to the thread
    pool under the database gate. As sync endpoints with `Db` and a device dependency they made four (the
    dependency, the endpoint, the response check, the commit), and under load each trip waits for a thread
    and the GIL (bench/load.py).
    """
    token = _device_token(request)
    async with request.app.state.database_gate():
        return await run_in_threadpool(_for_device, request.app.state.sessions, token, work)


def _for_device(sessions: sessionmaker[Session], token: str, work: Callable[[Session, Device], T]) -> T:
    with transaction(sessions) as session:
        device = accounts.device_for_token(session, token)
        if device is None:
            raise ApiError(
                401, "The device token is not valid or the device was removed; pair the kiosk again."
            )
        return work(session, device)
