"""A guardian's personal link (`/guardian`, Swedish, for a phone): who picks one child up today and
tomorrow, and about when.

Staff create a link per guardian and child (only the token's hash is stored) and send
`/guardian/open?t=<token>`. Opening it puts the token in an HttpOnly, SameSite=Strict cookie limited to
`/guardian` and redirects to `/guardian`, so the token leaves the address bar, the history and any
Referer. The link decides the child: no request names one, so a guardian reaches nothing else — not
another child, not the admin (another cookie), not the kiosk API (device tokens only).

Wrong tokens (in the link or the cookie) are throttled per client address. Every change is kept for
staff (who, what, when: `PresenceChange`) and in the audit log (by the link's id, never a child's name).
Nothing here logs; the app's access log leaves out the query string that holds the token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from laiban.model.pickup import ChildDay
from laiban.skills.pickup import RELATIONS
from laiban.store import accounts
from laiban.store.audit import record
from laiban.store.children import (
    MAX_PICKUP_BY,
    ChildError,
    Plan,
    changes_on,
    check_plan,
    child_days,
    child_of,
    closed_days,
    guardian_link_for_token,
    parse_clock,
    retention_in_words,
    set_pickup,
    week_of,
)
from laiban.store.db import transaction
from laiban.store.tables import Child, GuardianLink, Preschool, PresenceChange, utcnow
from laiban.store.today import local_now
from laiban.web.admin.render import Form, clock_text, date_in_words, templates
from laiban.web.security import Db, client_address, settings_of

router = APIRouter(prefix="/guardian", include_in_schema=False)

GUARDIAN_COOKIE = "laiban_guardian"
COOKIE_PATH = "/guardian"
MAX_COOKIE_AGE = 365 * 24 * 3600  # a year, whatever the link says
CSRF_FIELD = "csrf_token"
DAYS = ("today", "tomorrow")  # the only days a link may change
SHOWN_CHANGES = 10  # per day

NOT_OPENED = "Öppna länken i meddelandet från förskolan igen."
NOT_VALID = "Länken fungerar inte, eller fungerar inte längre. Be förskolan om en ny länk."
EXPIRED_FORM = "Formuläret har gått ut. Ladda om sidan och försök igen."


def current_time() -> dt.datetime:
    """The present moment (UTC). Every guardian request reads the clock here, once (tests set it)."""
    return utcnow()


# --- pages, the cookie, CSRF, throttling ---------------------------------------------------------


def _page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, context, status_code=status)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _error(
    request: Request, status: int, message: str, *, forget: bool = False, retry: bool = False
) -> HTMLResponse:
    """A guardian's error page; `forget` deletes the cookie, `retry` sends the browser once more to
    /guardian by itself (see `page`)."""
    response = _page(
        request, "guardian_error.html", {"status": status, "message": message, "retry": retry}, status
    )
    if forget:
        _forget(request, response)
    return response


def _secure(request: Request) -> bool:
    return settings_of(request).secure_cookies or request.url.scheme == "https"


def _remember(request: Request, response: Response, token: str, valid_for: dt.timedelta) -> None:
    response.set_cookie(
        GUARDIAN_COOKIE,
        token,
        max_age=max(0, min(int(valid_for.total_seconds()), MAX_COOKIE_AGE)),
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path=COOKIE_PATH,
    )


def _forget(request: Request, response: Response) -> None:
    response.delete_cookie(
        GUARDIAN_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict", secure=_secure(request)
    )


def guardian_csrf(request: Request, token: str) -> str:
    """The token the form sends back: an HMAC of the guardian's cookie (not the staff session's)."""
    key = settings_of(request).secret_key.encode()
    return hmac.new(key, b"guardian-csrf:" + token.encode(), hashlib.sha256).hexdigest()


def _throttle_keys(request: Request) -> list[str]:
    return [f"guardian-client:{client_address(request)}"]


def _throttled(request: Request, db: Session) -> HTMLResponse | None:
    settings = settings_of(request)
    try:
        accounts.check_throttle(
            db,
            _throttle_keys(request),
            settings.login_max_failures * 2,
            dt.timedelta(minutes=settings.login_window_minutes),
        )
    except accounts.TooManyAttempts:
        message = (
            "För många försök med länkar som inte fungerar. "
            f"Vänta {settings.login_window_minutes} minuter och försök igen."
        )
        return _error(request, 429, message)
    return None


def _failed(request: Request) -> None:
    with transaction(request.app.state.sessions) as own:  # kept although this request fails
        accounts.record_failure(own, _throttle_keys(request))


@dataclass
class Visit:
    """Who is here: a valid link, its child and preschool, and the token from the cookie."""

    link: GuardianLink
    child: Child
    preschool: Preschool
    token: str
    at: dt.datetime  # the moment of the request (UTC)
    now: dt.datetime  # the same moment in the preschool's time


def _visit(request: Request, db: Session) -> Visit | HTMLResponse:
    """The visit of the link in the cookie (its use noted), or the page to answer instead."""
    token = request.cookies.get(GUARDIAN_COOKIE, "")
    if not token:
        # Right after the redirect of `open` a SameSite=Strict cookie may be held back (the guardian
        # came from another site, e.g. webmail): a navigation of our own page sends it.
        return _error(request, 401, NOT_OPENED, retry="again" not in request.query_params)
    throttled = _throttled(request, db)
    if throttled:
        return throttled
    now = current_time()
    link = guardian_link_for_token(db, token, now)
    child = child_of(db, link.preschool_id, link.child_id) if link else None
    if link is None or child is None:
        _failed(request)
        return _error(request, 404, NOT_VALID, forget=True)
    link.last_used_at = now
    preschool = db.get_one(Preschool, link.preschool_id)
    return Visit(link, child, preschool, token, now, local_now(preschool, now))


# --- what the page shows -------------------------------------------------------------------------


def _pickup_words(leaves_at: dt.time | None, pickup_by: str) -> str:
    if leaves_at and pickup_by:
        return f"Hämtas ungefär {leaves_at:%H:%M} av {pickup_by}"
    if leaves_at:
        return f"Hämtas ungefär {leaves_at:%H:%M}"
    if pickup_by:
        return f"Hämtas av {pickup_by}"
    return ""


def _when(at: dt.datetime, today: dt.date) -> str:
    day = at.date()
    if day == today:
        return f"i dag {at:%H:%M}"
    if day == today - dt.timedelta(days=1):
        return f"i går {at:%H:%M}"
    return f"{date_in_words(day, weekday=False)} {at:%H:%M}"


@dataclass
class DayView:
    key: str  # "today" | "tomorrow"
    heading: str
    closed: bool = False
    not_coming: bool = False
    gone_home_at: str = ""
    day_over: bool = False  # today, after closing time
    status: str = ""
    usual: str = ""  # the weekly schedule's pickup, when today's differs from it
    as_usual: bool = False
    form_pickup_by: str = ""
    form_leaves_at: str = ""
    min_time: str = ""
    max_time: str = ""
    error: str = ""
    changes: list[dict[str, str]] = field(default_factory=list)

    @property
    def has_form(self) -> bool:
        return not (self.closed or self.not_coming or self.gone_home_at or self.day_over)


def _changes_of(db: Session, visit: Visit, day: dt.date) -> list[PresenceChange]:
    rows = changes_on(db, visit.preschool.id, day)
    return [row for row in rows if row.child_id == visit.child.id][:SHOWN_CHANGES]


def _days(db: Session, visit: Visit) -> dict[str, tuple[dt.date, ChildDay, bool]]:
    """today/tomorrow → (date, what Laiban knows of the child that day, whether the preschool is closed)."""
    today = visit.now.date()
    dates = {"today": today, "tomorrow": today + dt.timedelta(days=1)}
    zone = ZoneInfo(visit.preschool.timezone)
    known = child_days(db, visit.preschool, [visit.child], dates.values(), zone)[visit.child.id]
    closed = closed_days(db, visit.preschool.id, dates["today"], dates["tomorrow"])
    return {key: (day, known[day], day in closed) for key, day in dates.items()}


def _day_views(
    db: Session, visit: Visit, error: tuple[str, str] | None = None, sent: dict[str, str] | None = None
) -> list[DayView]:
    """The two days as the page shows them; `error` = (day key, message), `sent` = the form's values."""
    preschool, now = visit.preschool, visit.now
    week = week_of(db, visit.child.id)
    zone = ZoneInfo(preschool.timezone)
    views = []
    for key, (day, known, closed) in _days(db, visit).items():
        label = "I dag" if key == "today" else "I morgon"
        view = DayView(key=key, heading=f"{label}, {date_in_words(day)}")
        usual = week.get(day.weekday()) or Plan()
        if closed and not known.checked_in_at:
            view.closed = True
        elif known.coming is False:
            view.not_coming = True
        elif known.checked_out_at:
            view.gone_home_at = clock_text(known.checked_out_at)
        elif key == "today" and now.time() >= preschool.day_ends_at:
            view.day_over = True
        else:
            view.status = _pickup_words(known.leaves_at, known.pickup_by)
            usual_words = _pickup_words(usual.leaves_at, usual.pickup_by)
            view.as_usual = bool(usual_words) and view.status == usual_words
            view.usual = usual_words if not view.as_usual else ""
            view.form_pickup_by = known.pickup_by
            view.form_leaves_at = clock_text(known.leaves_at)
            earliest = preschool.day_starts_at
            if key == "today":
                earliest = max(earliest, now.time().replace(second=0, microsecond=0))
            view.min_time, view.max_time = clock_text(earliest), clock_text(preschool.day_ends_at)
        if error and error[0] == key:
            view.error = error[1]
            if sent is not None:
                view.form_pickup_by, view.form_leaves_at = sent["pickup_by"], sent["leaves_at"]
        view.changes = [
            {"when": _when(row.at.astimezone(zone), now.date()), "who": row.by, "what": row.what}
            for row in _changes_of(db, visit, day)
        ]
        views.append(view)
    return views


def _show(
    request: Request,
    db: Session,
    visit: Visit,
    *,
    status: int = 200,
    error: tuple[str, str] | None = None,
    sent: dict[str, str] | None = None,
) -> HTMLResponse:
    preschool = visit.preschool
    context = {
        "preschool_name": preschool.name,
        "first_name": visit.child.first_name,
        "days": _day_views(db, visit, error, sent),
        "error": error[1] if error and error[0] not in DAYS else "",
        "saved": status == 200 and request.query_params.get("saved") == "1",
        "who": list(RELATIONS),  # suggestions Laiban can say in every language; anything may be written
        "max_pickup_by": MAX_PICKUP_BY,
        "retention": retention_in_words(preschool.presence_retention_days),
        "expires": date_in_words(local_now(preschool, visit.link.expires_at).date()),
        "csrf_token": guardian_csrf(request, visit.token),
    }
    return _page(request, "guardian.html", context, status)


# --- routes --------------------------------------------------------------------------------------


@router.get("/open", response_class=HTMLResponse)
def open_link(request: Request, db: Db) -> Response:
    """The link from the message: the token goes into the cookie and out of the address bar."""
    throttled = _throttled(request, db)
    if throttled:
        return throttled
    token = request.query_params.get("t", "")
    now = current_time()
    link = guardian_link_for_token(db, token, now)
    if link is None:  # a cookie of another, valid link stays
        _failed(request)
        return _error(request, 404, NOT_VALID)
    link.last_used_at = now
    response = RedirectResponse("/guardian", status_code=303)
    response.headers["Referrer-Policy"] = "no-referrer"
    _remember(request, response, token, link.expires_at - now)
    return response


@router.get("", response_class=HTMLResponse)
def page(request: Request, db: Db) -> Response:
    visit = _visit(request, db)
    if not isinstance(visit, Visit):
        return visit
    return _show(request, db, visit)


def _check(
    db: Session, visit: Visit, key: str, leaves_raw: str, pickup_raw: str
) -> tuple[dt.date, dt.time | None]:
    """The day and time to save; raises ChildError with the sentence for the guardian."""
    day, known, closed = _days(db, visit)[key]
    if closed and not known.checked_in_at:
        raise ChildError("Förskolan är stängd den dagen.")
    if known.coming is False:
        raise ChildError("Enligt förskolan kommer barnet inte den dagen. Ring förskolan om det har ändrats.")
    if known.checked_out_at:
        raise ChildError("Barnet har redan gått hem.")
    leaves_at = parse_clock(leaves_raw)
    if not pickup_raw.strip() and leaves_at is None:
        raise ChildError("Skriv vem som hämtar eller när.")
    check_plan(visit.preschool, Plan(None, leaves_at, pickup_raw))  # opening hours, who's length
    if leaves_at is not None and known.arrives_at is not None and leaves_at <= known.arrives_at:
        raise ChildError(f"Hämtningen måste vara senare än lämningen ({known.arrives_at:%H:%M}).")
    now = visit.now.time().replace(second=0, microsecond=0)
    if key == "today" and leaves_at is not None and leaves_at < now:
        raise ChildError(f"Klockan är redan {now:%H:%M}. Välj en senare tid i dag.")
    return day, leaves_at


@router.post("", response_class=HTMLResponse)
def save(request: Request, db: Db, form: Form) -> Response:
    """Who picks up and about when, for today or tomorrow of the link's child (and no one else's)."""
    visit = _visit(request, db)
    if not isinstance(visit, Visit):
        return visit
    sent_token = form.get(CSRF_FIELD)
    expected = guardian_csrf(request, visit.token).encode()
    if not isinstance(sent_token, str) or not hmac.compare_digest(sent_token.encode(), expected):
        return _error(request, 403, EXPIRED_FORM)
    key = str(form.get("day", ""))
    sent = {name: str(form.get(name, ""))[:200] for name in ("pickup_by", "leaves_at")}
    if key not in DAYS:
        return _show(request, db, visit, status=400, error=("", "Välj i dag eller i morgon."))
    link, child, preschool = visit.link, visit.child, visit.preschool
    try:
        day, leaves_at = _check(db, visit, key, sent["leaves_at"], sent["pickup_by"])
        set_pickup(
            db,
            preschool,
            child,
            day,
            leaves_at,
            sent["pickup_by"],
            by=f"{link.label} (vårdnadshavare)",
            at=visit.at,
        )
    except ChildError as exc:
        db.rollback()  # set_pickup may have begun the day's entry: nothing is saved
        link.last_used_at = visit.at
        return _show(request, db, visit, status=400, error=(key, str(exc)), sent=sent)
    record(
        db,
        preschool,
        actor=f"Vårdnadshavarlänk {link.id}",
        action="update",
        subject="pickup",
        child_id=child.id,
        at=visit.at,
    )
    response = RedirectResponse(f"/guardian?saved=1#{key}", status_code=303)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
