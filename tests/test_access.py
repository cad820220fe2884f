"""The access matrix (tests/access_matrix.py) against the real app and a real database.

1. Every route the app serves has a rule, and every rule a route (a new route without a rule fails here).
2. Every route × visitor: the real request, with the path filled with preschool A's own objects (made fresh
   for each visitor, so that one visitor's allowed delete does not turn the next one's answer into a 404)
   and a valid CSRF token for the visitor's cookies, so that authorisation decides, not CSRF.
3. Every form that changes something, sent by a signed-in staff member or guardian without its CSRF token
   (or with another session's), is refused with 403 and changes nothing.
4. A's objects asked for through preschool B's pages (by the org admin, who has every role at both) are
   404 and unchanged; a kiosk of another organisation cannot fetch A's child's photo (a regression).
5. docs/access.md is the rendering of the matrix.

SQLite only: the matrix is about the web layer (the store's scoping runs on both databases in their own
tests). For speed one app, world and set of signed-in visitors serve the whole module, and the database is
put back to that state (SQLite's backup API) before every case.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from laiban.config import Settings
from laiban.model.preschool import Role
from laiban.speech.tokens import Said, Tokens
from laiban.store import accounts
from laiban.store.calendar import add_activity, add_closed_day, add_event
from laiban.store.children import add_child, create_guardian_link
from laiban.store.db import make_engine, session_factory, transaction
from laiban.store.pronunciations import add_pronunciation
from laiban.store.tables import Base, Child, Preschool, User, utcnow
from laiban.store.today import TodayCache
from laiban.store.uploads import save_picture
from laiban.store.weather import correct
from laiban.web.app import create_app
from laiban.web.security import SESSION_COOKIE

from .access_matrix import BY_KEY, ROLES, RULES, STATE_CHANGING, Outcome, Rule, render
from .conftest import SECRET, csrf_from
from .world import PASSWORD, World, _password_hash, build_world

DOCS = Path(__file__).parent.parent / "docs" / "access.md"
STAFF_ROLES = ("pedagogue_a", "admin_a", "pedagogue_b", "org_admin", "other_org")
PEDAGOGUE_B = "pedagog@humlan.example"
NAMES = itertools.cycle(("Alva", "Bo", "Cleo", "Dante", "Ebba", "Frej", "Greta", "Hugo", "Ines", "Juni"))


# --- the routes the app serves ---------------------------------------------------------------------------


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every route, included routers (FastAPI ≥ 0.16x keeps them as
    `_IncludedRouter` around the original router) and mounts (as `<mount>/{path}`) too."""
    found: set[tuple[str, str]] = set()

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            if hasattr(route, "original_router"):  # fastapi.routing._IncludedRouter
                inner = route.original_router
                walk(
                    [*inner.routes, *getattr(inner, "_low_priority_routes", [])],
                    prefix + route.include_context.prefix,
                )
            elif isinstance(route, Mount):
                assert isinstance(route.app, StaticFiles), f"a mount of an unknown kind at {route.path}"
                found.update(
                    {("GET", f"{prefix}{route.path}/{{path}}"), ("HEAD", f"{prefix}{route.path}/{{path}}")}
                )
            elif isinstance(route, (APIRoute, Route)):
                found.update((method, prefix + route.path) for method in route.methods or ())
            else:
                raise AssertionError(f"a route of an unknown kind: {route!r}")

    walk(list(app.routes), "")
    return found


@pytest.fixture(scope="module")
def bare_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The app for its routes only (it opens no database connection until a request comes)."""
    data_dir = tmp_path_factory.mktemp("routes")
    return create_app(
        Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'x.db'}", secret_key=SECRET)
    )


def test_every_route_has_a_rule_and_every_rule_a_route(bare_app: FastAPI) -> None:
    served = served_routes(bare_app)
    missing = sorted(served - BY_KEY.keys())
    assert not missing, (
        "Routes without a rule in tests/access_matrix.py (decide who may use them, add a rule, then run "
        "`python -m tests.access_matrix > docs/access.md`):\n"
        + "\n".join(f"  {method} {path}" for method, path in missing)
    )
    gone = sorted(BY_KEY.keys() - served)
    assert not gone, "Rules for routes the app no longer serves:\n" + "\n".join(f"  {m} {p}" for m, p in gone)


def test_the_openapi_schema_lists_only_routes_that_have_a_rule(bare_app: FastAPI) -> None:
    app = bare_app
    documented = {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}
    assert documented, "the OpenAPI schema lists no route"
    assert not documented - served_routes(app), "the route walk missed a documented route"
    assert not documented - BY_KEY.keys(), sorted(documented - BY_KEY.keys())


def test_the_openapi_schema_says_who_may_call_each_operation_as_the_matrix_does(bare_app: FastAPI) -> None:
    # An integrator reads /api/docs: an operation only a kiosk may call must say "deviceToken", one for staff
    # "staffSession", and an open one nothing.
    spec = bare_app.openapi()
    schemes = spec["components"]["securitySchemes"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            expected = dict(zip(ROLES, BY_KEY[(method.upper(), path)].expected, strict=True))
            declared = {name for requirement in operation.get("security", []) for name in requirement}
            assert declared <= schemes.keys(), (method, path)
            wanted = set()
            if expected["anonymous"] is not Outcome.ALLOW:
                wanted |= {"deviceToken"} if expected["kiosk"] is Outcome.ALLOW else set()
                wanted |= {"staffSession"} if expected["pedagogue_a"] is Outcome.ALLOW else set()
            assert declared == wanted, (method, path)


def test_docs_access_md_is_the_matrix_rendered() -> None:
    assert DOCS.read_text(encoding="utf-8") == render(), (
        "docs/access.md differs from tests/access_matrix.py: "
        "run `python -m tests.access_matrix > docs/access.md`"
    )


# --- the house: preschool A's objects, the visitors and their credentials --------------------------------


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 120, 40)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Visitor:
    role: str
    cookies: Any  # the test client's kind of cookie jar (Starlette's TestClient may bring its own httpx)
    headers: dict[str, str] = field(default_factory=dict)
    admin_csrf: str = ""  # the admin forms' token for this visitor's cookies (a session's, or the seed's)
    guardian_csrf: str = ""
    link_token: str = ""  # the guardian's link


class House:
    """World (tests/world.py) plus what the matrix needs: a pedagogue of Humlan (preschool B), a photo
    used by a child at A, and fresh objects of A on demand."""

    def __init__(self, client: TestClient, world: World, sessions: sessionmaker[Session], settings: Settings):
        self.client = client
        self.app: FastAPI = client.app  # type: ignore[assignment]
        self.saved = sqlite3.connect(":memory:", check_same_thread=False)
        self.world = world
        self.sessions = sessions
        self.settings = settings
        self.counter = itertools.count(1)
        with transaction(sessions) as session:
            user = User(
                organisation_id=world.org_a,
                email=PEDAGOGUE_B,
                name="pedagog-humlan",
                password_hash=_password_hash(),
            )
            session.add(user)
            session.flush()
            accounts.set_roles(session, user, {world.humlan: Role.PEDAGOGUE})
            ekorren = session.get_one(Preschool, world.ekorren)
            ekorren.child_photos = True
            self.upload_key = save_picture(settings.data_dir, png())
            add_child(session, ekorren, "Fotis", None, self.upload_key)
        self.emails = {
            "pedagogue_a": world.pedagogue_ekorren,
            "admin_a": world.admin_ekorren,
            "pedagogue_b": PEDAGOGUE_B,
            "org_admin": world.org_admin_a,
            "other_org": world.org_admin_b,
        }
        self.visitors: dict[str, Visitor] = {}
        self.saved_cookies: dict[str, Any] = {}
        self.slug = "ekorren"

    # -- the database as it was --

    @contextmanager
    def _live(self) -> Iterator[sqlite3.Connection]:
        engine: Engine = self.app.state.engine
        raw = engine.raw_connection()
        try:
            yield raw.driver_connection  # type: ignore[misc]
        finally:
            raw.close()

    def save(self) -> None:
        with self._live() as live:
            live.backup(self.saved)
        self.saved_cookies = {role: type(v.cookies)(v.cookies) for role, v in self.visitors.items()}

    def restore(self) -> None:
        """The database and the visitors' cookies as `save` left them, and no cached Today from before."""
        with self._live() as live:
            self.saved.backup(live)
        for role, cookies in self.saved_cookies.items():  # a sign-in or sign-out answer changed them
            self.visitors[role].cookies = type(cookies)(cookies)
        self.app.state.today_cache = TodayCache()

    # -- visitors --

    def use(self, visitor: Visitor) -> TestClient:
        """The client with the visitor's cookie jar (the setter copies it: keep the client's, which the
        responses update)."""
        self.client.cookies = visitor.cookies
        visitor.cookies = self.client.cookies
        return self.client

    def visitor(self, role: str, *, csrf: bool) -> Visitor:
        """The visitor, signed in (or holding their link); with `csrf`, their forms' tokens too."""
        visitor = self.visitors.get(role)
        if visitor is None:
            visitor = self.visitors[role] = Visitor(role, type(self.client.cookies)())
            if role == "kiosk":
                visitor.headers["Authorization"] = f"Bearer {self.world.device_ekorren}"
            elif role == "guardian":
                visitor.link_token = self.guardian_link()
                opened = self.use(visitor).get(
                    "/guardian/open", params={"t": visitor.link_token}, follow_redirects=False
                )
                assert opened.status_code == 303, opened.text
            elif role in STAFF_ROLES:
                with transaction(self.sessions) as session:
                    user = session.scalar(select(User).where(User.email == self.emails[role]))
                    assert user is not None
                    token = accounts.start_session(session, user, 8)
                visitor.cookies.set(SESSION_COOKIE, token)
        if csrf and not visitor.admin_csrf:
            client = self.use(visitor)
            # Signed in: the token of the session (any admin page shows it); signed out: the seed cookie's.
            page = client.get(
                "/admin/account" if role in STAFF_ROLES else "/admin/login", headers=visitor.headers
            )
            assert page.status_code == 200, (role, page.status_code, page.text[:300])
            visitor.admin_csrf = csrf_from(page.text)
            if role == "guardian":
                page = client.get("/guardian")
                assert page.status_code == 200, page.text
                visitor.guardian_csrf = csrf_from(page.text)
        return visitor

    # -- preschool A's objects, fresh each time --

    def _preschool(self, session: Session) -> Preschool:
        return session.get_one(Preschool, self.world.ekorren)

    def child(self) -> int:
        with transaction(self.sessions) as session:
            preschool = self._preschool(session)
            return add_child(session, preschool, next(NAMES), preschool.groups[0].id).id

    def guardian_link(self, child_id: int | None = None) -> str:
        return self._link(child_id or self.child())[1]

    def _link(self, child_id: int) -> tuple[int, str]:
        with transaction(self.sessions) as session:
            link, token = create_guardian_link(
                session, session.get_one(Child, child_id), "Mamma", 90, None, utcnow()
            )
            return link.id, token

    def fill(self, rule: Rule, role: str) -> tuple[str, dict[str, str]]:
        """The rule's path with A's objects (made now) and the query string the visitor would send."""
        values: dict[str, str] = {}
        n = next(self.counter)
        day = (utcnow() + dt.timedelta(days=20 + n)).date()
        for name in re.findall(r"{(\w+)}", rule.path):
            with transaction(self.sessions) as session:
                preschool = self._preschool(session)
                if name == "slug":
                    value = preschool.slug
                elif name == "child_id":
                    value = str(self.child())
                elif name == "link_id":
                    value = str(self._link(int(values["child_id"]))[0])
                elif name == "event_id":
                    value = str(add_event(session, preschool.id, day=day, title="Utflykt").id)
                elif name == "closed_day_id":
                    value = str(add_closed_day(session, preschool.id, day=day, reason="Planering").id)
                elif name == "activity_id":
                    value = str(add_activity(session, preschool.id, day=day, title="Målning").id)
                elif name == "correction_id":
                    value = str(correct(session, preschool.id, "cold", ["sweater"], None).id)
                elif name == "entry_id":
                    value = str(
                        add_pronunciation(
                            session,
                            preschool.id,
                            "sv",
                            "Ord" + "".join(chr(ord("a") + int(d)) for d in str(n)),
                            "ord",
                        ).id
                    )
                elif name == "device_id":
                    value = str(accounts.create_device(session, preschool, f"Platta {n}")[0].id)
                elif name == "user_id":
                    user = User(
                        organisation_id=self.world.org_a,
                        email=f"u{n}@norrstad.example",
                        name="U",
                        password_hash="x",
                    )
                    session.add(user)
                    session.flush()
                    value = str(user.id)
                elif name == "preschool_id":
                    value = str(preschool.id)
                elif name == "token":
                    value = self.speech_token(preschool)
                elif name == "name":
                    value = self.upload_key.removeprefix("upload/") + ".png"
                elif name == "path":
                    value = "api-docs.html"
                else:
                    raise AssertionError(
                        f"{rule.method} {rule.path}: no object of A for {{{name}}} (add one to House.fill)"
                    )
            values[name] = value
        query = QUERIES.get(rule.key, {})
        if rule.key == ("GET", "/guardian/open"):
            visitor = self.visitors.get(role)
            query = {"t": visitor.link_token} if visitor and visitor.link_token else {}
        return rule.path.format(**values), query

    def speech_token(self, preschool: Preschool) -> str:
        voice = self.client.app.state.voice  # type: ignore[attr-defined]
        said = Said(
            "Hej",
            "sv",
            preschool.speech_rate,
            preschool.speech_pitch,
            voice.name or "",
            False,
            preschool.id,
            int(time.time()),
        )
        return Tokens(self.settings.secret_key).seal(said)

    def pairing_code(self) -> str:
        with transaction(self.sessions) as session:
            return accounts.create_device(session, self._preschool(session), "Ny platta")[1]

    # -- a request --

    def prepare(self, rule: Rule, role: str, *, csrf: bool = True, slug: str | None = None) -> Prepared:
        """The visitor's request for the rule: path with fresh objects of A, body, credentials, token.
        `slug` asks for A's objects through another preschool's pages."""
        visitor = self.visitor(role, csrf=csrf and rule.method in STATE_CHANGING)
        path, query = self.fill(rule, role)
        if slug is not None:
            path = path.replace(f"/p/{self.slug}/", f"/p/{slug}/", 1)
        kwargs: dict[str, Any] = {
            "params": query,
            "headers": dict(visitor.headers),
            "follow_redirects": False,
        }
        if rule.key in JSON_BODIES:
            kwargs["json"] = JSON_BODIES[rule.key](self)
        elif rule.key == ("POST", "/api/v1/listen"):
            kwargs["content"] = b"RIFF\x00\x00\x00\x00WAVE"
            kwargs["headers"]["content-type"] = "audio/wav"
        elif rule.method in STATE_CHANGING:
            form = dict(FORMS.get(rule.key, {}))
            if csrf:
                form["csrf_token"] = (
                    visitor.guardian_csrf if path.startswith("/guardian") else visitor.admin_csrf
                )
            kwargs["data"] = form
        return Prepared(visitor, rule.method, path, kwargs)

    def send(self, prepared: Prepared) -> httpx.Response:
        return self.use(prepared.visitor).request(prepared.method, prepared.path, **prepared.kwargs)


@dataclass
class Prepared:
    visitor: Visitor
    method: str
    path: str
    kwargs: dict[str, Any]


# What a request sends beyond the path (everything else: an empty form, which the routes refuse with 400
# when allowed: enough to show that authorisation let it through, without changing anything).
FORMS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/admin/login"): {"email": "pedagog@ekorren.example", "password": PASSWORD},
    ("POST", "/admin/account"): {"current": PASSWORD},  # and no new password: 400, nothing changes
    ("POST", "/admin/p/{slug}/voice/try"): {"lang": "sv", "prova": "Hej"},
}
QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/admin/p/{slug}/voice/preview"): {"lang": "sv"},
}
JSON_BODIES: dict[tuple[str, str], Callable[[House], object]] = {
    ("POST", "/api/v1/devices/pair"): lambda house: {"code": house.pairing_code()},
    ("POST", "/api/v1/ask"): lambda house: {"intent": "time"},
    ("POST", "/api/v1/clothes/rating"): lambda house: {"rating": "up"},
    ("POST", "/api/v1/lunch/rating"): lambda house: {"rating": 3},
}


@pytest.fixture(scope="module")
def _house(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[House]:
    data_dir = tmp_path_factory.mktemp("access")
    shutil.copy(sqlite_template, data_dir / "laiban.db")
    settings = Settings(
        data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'laiban.db'}", secret_key=SECRET
    )
    engine = make_engine(settings.database_url)
    try:
        with TestClient(create_app(settings, engine), base_url="http://testserver") as client:
            sessions = session_factory(engine)
            with transaction(sessions) as session:
                world = build_world(session)
            house = House(client, world, sessions, settings)
            for role in ROLES:
                house.visitor(role, csrf=True)
            house.save()
            yield house
            house.saved.close()
    finally:
        engine.dispose()


@pytest.fixture
def house(_house: House) -> House:
    """The module's house, its database as it was after signing everyone in."""
    _house.restore()
    return _house


def outcome_of(rule: Rule, response: httpx.Response) -> Outcome | None:
    """The response's class; None for a server error (never right)."""
    status = response.status_code
    if status == 501 and rule.key == ("POST", "/api/v1/listen"):
        return Outcome.ALLOW  # past the device token: this test server has no speech model
    if status >= 500:
        return None
    if status == 401:
        return Outcome.LOGIN
    if status == 403:
        return Outcome.FORBIDDEN
    if status == 404:
        return Outcome.NOT_FOUND
    if status in (302, 303, 307) and response.headers.get("location", "").split("?")[0] == "/admin/login":
        return Outcome.ALLOW if rule.done_at_login else Outcome.LOGIN
    return Outcome.ALLOW


def _said(response: httpx.Response) -> str:
    where = response.headers.get("location")
    if where:
        return f"{response.status_code} → {where}"
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))
    return f"{response.status_code} {text.strip()[:160]}"


# --- 2. every route × every visitor ----------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES, ids=[f"{rule.method} {rule.path}" for rule in RULES])
def test_each_visitor_gets_what_the_matrix_says(rule: Rule, house: House) -> None:
    problems = []
    for role in ROLES:
        response = house.send(house.prepare(rule, role))
        got = outcome_of(rule, response)
        if got is not rule.outcome(role):
            shown = got.name if got else "SERVER ERROR"
            problems.append(f"  {role}: expected {rule.outcome(role).name}, got {shown} ({_said(response)})")
    assert not problems, f"{rule.method} {rule.path}:\n" + "\n".join(problems)


# --- 3. CSRF ---------------------------------------------------------------------------------------------

# Bookkeeping a refused request may still write: when a link or a device was last used.
VOLATILE = {("guardian_links", "last_used_at"), ("devices", "last_seen_at")}


def snapshot(engine: Engine, data_dir: Path) -> tuple[dict[str, list[str]], list[str]]:
    """Every row of every table (but the VOLATILE columns), and the files of the data directory."""
    tables: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
            tables[table.name] = sorted(repr(tuple(row)) for row in connection.execute(select(*columns)))
    files = sorted(
        str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.is_file() and "laiban.db" not in p.name
    )
    return tables, files


def _changed(
    before: tuple[dict[str, list[str]], list[str]], after: tuple[dict[str, list[str]], list[str]]
) -> list[str]:
    tables = [name for name in before[0] if before[0][name] != after[0][name]]
    return tables + (["files in the data directory"] if before[1] != after[1] else [])


def _csrf_sender(rule: Rule) -> str:
    """A visitor the rule allows, signed in or holding a link (anonymous only for the signed-out forms)."""
    for role in ("org_admin", "admin_a", "pedagogue_a", "guardian"):
        if rule.outcome(role) is Outcome.ALLOW:
            return role
    return "org_admin"  # setup: closed, and still refused without a token first


def test_forms_without_their_csrf_token_are_refused_and_change_nothing(house: House) -> None:
    engine, data_dir = house.app.state.engine, house.settings.data_dir
    checked, problems = [], []
    other = house.visitor("pedagogue_b", csrf=True)  # whose token is sent as another session's
    for rule in RULES:
        if rule.method not in STATE_CHANGING or rule.path.startswith("/api/"):
            continue  # the API's writes take a device token in a header, which no other site can send
        role = _csrf_sender(rule)
        for variant in ("no token", "another session's token"):
            prepared = house.prepare(rule, role, csrf=variant != "no token")
            if variant != "no token":
                prepared.kwargs["data"]["csrf_token"] = other.admin_csrf
            before = snapshot(engine, data_dir)
            response = house.send(prepared)
            changed = _changed(before, snapshot(engine, data_dir))
            if response.status_code != 403 or changed:
                problems.append(
                    f"  {rule.method} {rule.path} as {role}, {variant}: {_said(response)}"
                    + (f"; changed {', '.join(changed)}" if changed else "")
                )
            checked.append(rule.key)
    assert len(checked) > 40 and not problems, "Refused without a valid CSRF token? No:\n" + "\n".join(
        problems
    )


# --- 4. A's objects through B's pages --------------------------------------------------------------------


def test_objects_of_a_are_not_found_through_another_preschool(house: House) -> None:
    """Ekorren's child, event, link … asked for through Humlan's pages, by the org admin (who may see both
    preschools, with every role): 404, the same answer as for an id that does not exist, and no change."""
    engine, data_dir = house.app.state.engine, house.settings.data_dir
    problems, checked = [], 0
    for rule in RULES:
        names = set(re.findall(r"{(\w+)}", rule.path))
        if not rule.path.startswith("/admin/p/{slug}") or names == {"slug"}:
            continue
        prepared = house.prepare(rule, "org_admin", slug="humlan")
        before = snapshot(engine, data_dir)
        response = house.send(prepared)
        changed = _changed(before, snapshot(engine, data_dir))
        if response.status_code != 404 or changed:
            problems.append(
                f"  {rule.method} {rule.path}: {_said(response)}"
                + (f"; changed {changed}" if changed else "")
            )
        checked += 1
    assert checked > 10 and not problems, "A's objects reached through Humlan:\n" + "\n".join(problems)


def test_a_kiosk_of_another_organisation_cannot_fetch_a_childs_photo(house: House) -> None:
    """Regression (#11): /uploads served any picture to any paired kiosk and any signed-in staff member."""
    url = f"/uploads/{house.upload_key.removeprefix('upload/')}.png"
    answers = []
    for token in (house.world.device_ekorren, house.world.device_myran):
        kiosk = Visitor("kiosk", type(house.client.cookies)(), {"Authorization": f"Bearer {token}"})
        answers.append(house.use(kiosk).get(url, headers=kiosk.headers).status_code)
    assert answers == [200, 404]
