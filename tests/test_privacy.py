"""Privacy (issue #11): docs/privacy.md against the models and the settings, the retention job's rules, the
export of everything about one child (right of access) and erasing a child (right to erasure: nothing of
them left in any table), and no outside host contacted with, or without, personal data.

Log lines are checked for children's and guardians' names in every test (tests/conftest.py)."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import ipaddress
import json
import pkgutil
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from laiban import sources
from laiban.config import Settings
from laiban.demo import DEMO_ADMIN_EMAIL, DEMO_SLUG, ensure_demo
from laiban.jobs.menus import refresh_menus
from laiban.jobs.prerender import prerender_morning
from laiban.jobs.retention import purge_personal_data
from laiban.jobs.weather import refresh_forecasts
from laiban.model.intent import INTENTS
from laiban.model.preschool import MODULES
from laiban.sources import mashie, metno, skolmaten, smhi
from laiban.store import accounts, audit
from laiban.store.calendar import add_activity
from laiban.store.children import (
    Plan,
    add_child,
    create_guardian_link,
    mark,
    revoke_guardian_link,
    set_pickup,
    set_week,
)
from laiban.store.db import transaction
from laiban.store.menus import set_source
from laiban.store.pronunciations import add_pronunciation
from laiban.store.tables import (
    Activity,
    AuditEntry,
    Base,
    Child,
    GuardianLink,
    LoginFailure,
    LoginSession,
    Preschool,
    Presence,
    PresenceChange,
    User,
    utcnow,
)
from laiban.web.app import create_app

from .conftest import Browser, SignIn, sign_in
from .localserver import LocalServer, Reply, json_reply
from .world import PASSWORD, World

DOC = Path(__file__).resolve().parents[1] / "docs" / "privacy.md"
FIXTURES = Path(__file__).with_name("fixtures")
UTC = dt.UTC


# --- docs/privacy.md ---------------------------------------------------------------------------------


def section(title: str) -> str:
    """The text of the `## title` section of docs/privacy.md."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def table_rows(text: str) -> list[dict[str, str]]:
    """The rows of the Markdown tables in `text`, each as header → cell."""
    rows: list[dict[str, str]] = []
    header: list[str] | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif not all(set(cell) <= set("-: ") for cell in cells):
            assert len(cells) == len(header), line
            rows.append(dict(zip(header, cells, strict=True)))
    return rows


def code_names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def inventory() -> dict[tuple[str, str], dict[str, str]]:
    """(table, column) → its line in the inventory."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for row in table_rows(section("Personal data in the database, table by table")):
        (table,) = code_names(row["Table"])
        for column in code_names(row["Column"]):
            assert (table, column) not in found, f"{table}.{column} is listed twice in docs/privacy.md"
            found[(table, column)] = row
    return found


def test_the_inventory_lists_every_column_of_every_table_and_nothing_else() -> None:
    listed = set(inventory())
    actual = {
        (table.name, column.name) for table in Base.metadata.tables.values() for column in table.columns
    }
    assert sorted(actual - listed) == [], "columns without a line in docs/privacy.md: add them"
    assert sorted(listed - actual) == [], "lines in docs/privacy.md for columns that do not exist"


def test_every_personal_column_says_what_why_how_long_and_who() -> None:
    for (table, column), row in inventory().items():
        assert row["Personal"] in ("yes", "no"), (table, column)
        if row["Personal"] == "yes":
            for heading in ("Kind", "Why", "How long", "Who can see it"):
                assert row[heading].strip(" –-"), f"{table}.{column}: {heading} is empty"


def test_names_and_references_to_people_are_marked_personal() -> None:
    personal = {key for key, row in inventory().items() if row["Personal"] == "yes"}
    tables = Base.metadata.tables
    about_people = {("children", column.name) for column in tables["children"].columns}
    about_people |= {
        (table.name, column.name)
        for table in tables.values()
        for column in table.columns
        if any(key.column.table.name in ("children", "users") for key in column.foreign_keys)
    }
    about_people |= {
        ("audit_log", "child_id"),
        ("audit_log", "actor"),
        ("activities", "participants"),
        ("users", "name"),
        ("users", "email"),
        ("guardian_links", "label"),
        ("child_weekdays", "pickup_by"),
        ("presence", "pickup_by"),
        ("presence_changes", "by"),
        ("login_failures", "key"),
        ("pronunciations", "written"),
    }
    assert sorted(about_people - personal) == []


def default_hosts() -> dict[str, str | None]:
    """LAIBAN_<SERVICE>_URL or _BASE_URL → the host it calls by default (None: off unless set)."""
    return {
        f"LAIBAN_{field.name.upper()}": urlsplit(str(field.default)).hostname or None
        for field in fields(Settings)
        if field.name.endswith("_url") and field.name != "database_url"
    }


def test_the_outside_services_are_exactly_the_documented_third_parties() -> None:
    documented = {
        code_names(row["Setting"])[0]: next(iter(code_names(row["Default host"])), None)
        for row in table_rows(section("Third parties"))
    }
    assert documented == default_hosts()
    # Every source module that fetches has its address among the settings (so it is documented above).
    fetching = {
        info.name
        for info in pkgutil.iter_modules(sources.__path__)
        if hasattr(importlib.import_module(f"laiban.sources.{info.name}"), "fetch")
    }
    for name in fetching:
        assert {f"LAIBAN_{name.upper()}_BASE_URL", f"LAIBAN_{name.upper()}_URL"} & set(default_hosts()), name


def test_the_documented_retention_matches_the_code() -> None:
    from laiban.jobs.retention import ENDED_LINKS_KEPT, FAILED_SIGN_INS_KEPT
    from laiban.store.audit import AUDIT_KEEP

    rules = {row["What"]: row["Deleted"] for row in table_rows(section("Retention"))}
    assert f"{ENDED_LINKS_KEPT.days} days after" in rules["Guardians' links"]
    assert AUDIT_KEEP.days == 365 and "after 1 year" in rules["Audit entries"]
    assert FAILED_SIGN_INS_KEPT.days == 1 and "after 1 day" in rules["Failed sign-ins (e-mail or IP address)"]


# --- retention ---------------------------------------------------------------------------------------

WEDNESDAY = dt.date(2026, 11, 25)
NOON = dt.datetime(2026, 11, 26, 12, tzinfo=UTC)  # Thursday


def purge(engine: Engine, settings: Settings, now: dt.datetime) -> str:
    return purge_personal_data(engine, settings, now=now)


def days_kept(session: Session) -> dict[int, list[dt.date]]:
    found: dict[int, list[dt.date]] = {}
    for table in (Presence, PresenceChange):
        for child_id, day in session.execute(select(table.child_id, table.day)):
            found.setdefault(child_id, [])
            if day not in found[child_id]:
                found[child_id].append(day)
    return found


def test_a_day_is_deleted_when_it_ends_in_its_own_preschools_timezone(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    with transaction(sessions) as session:
        ekorren = session.get_one(Preschool, world.ekorren)  # Europe/Stockholm
        humlan = session.get_one(Preschool, world.humlan)
        humlan.timezone = "America/New_York"
        ella = add_child(session, ekorren, "Ella", None, "cat")
        noah = add_child(session, humlan, "Noah", None, "dog")
        for child, preschool in ((ella, ekorren), (noah, humlan)):
            set_pickup(session, preschool, child, WEDNESDAY, dt.time(15), "mormor", by="Anna")
            mark(session, child, WEDNESDAY, "in", by="Anna", at=dt.datetime(2026, 11, 25, 8, tzinfo=UTC))
        ella_id, noah_id = ella.id, noah.id
    # 23:30 UTC: Thursday 00:30 in Stockholm, still Wednesday 18:30 in New York.
    line = purge(engine, settings, dt.datetime(2026, 11, 25, 23, 30, tzinfo=UTC))
    assert line.startswith("deleted 1 day entries")
    with sessions() as session:
        assert days_kept(session) == {noah_id: [WEDNESDAY]}
    # 05:10 UTC: Thursday in New York too.
    purge(engine, settings, dt.datetime(2026, 11, 26, 5, 10, tzinfo=UTC))
    with sessions() as session:
        assert days_kept(session) == {}
        assert session.get(Child, ella_id) is not None  # the child stays; only the day goes


def test_ended_guardian_links_stay_thirty_days_then_go(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    with transaction(sessions) as session:
        ella = add_child(session, session.get_one(Preschool, world.ekorren), "Ella", None, "cat")

        def link(label: str, created: int, valid: int, revoked: int | None = None) -> None:
            row, _ = create_guardian_link(
                session, ella, label, valid, None, NOON - dt.timedelta(days=created)
            )
            if revoked is not None:
                revoke_guardian_link(row, NOON - dt.timedelta(days=revoked))

        link("expired 29 days ago", 59, 30)
        link("expired 31 days ago", 61, 30)
        link("revoked 29 days ago", 40, 90, revoked=29)
        link("revoked 31 days ago", 40, 90, revoked=31)
        link("valid", 5, 30)
    assert ", 2 ended guardian links," in purge(engine, settings, NOON)
    with sessions() as session:
        assert set(session.scalars(select(GuardianLink.label))) == {
            "expired 29 days ago",
            "revoked 29 days ago",
            "valid",
        }


def test_audit_entries_go_after_a_year_in_every_organisation(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    with transaction(sessions) as session:
        for preschool_id in (world.ekorren, world.myran):
            preschool = session.get_one(Preschool, preschool_id)
            for days in (364, 366):
                audit.record(
                    session,
                    preschool,
                    actor="Anna",
                    action="read",
                    subject="children",
                    at=NOON - dt.timedelta(days=days),
                )
    assert ", 2 old audit entries," in purge(engine, settings, NOON)
    with sessions() as session:
        kept = session.execute(select(AuditEntry.organisation_id, AuditEntry.at)).all()
        assert sorted(kept) == sorted(
            (org, NOON - dt.timedelta(days=364)) for org in (world.org_a, world.org_b)
        )


def test_failed_sign_ins_go_after_a_day_and_expired_sessions_at_once(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    with transaction(sessions) as session:
        session.add(LoginFailure(key="login-email:anna@ekorren.example", at=NOON - dt.timedelta(hours=25)))
        session.add(LoginFailure(key="login-client:10.1.2.3", at=NOON - dt.timedelta(hours=23)))
        user_id = session.scalars(select(User.id).where(User.email == world.pedagogue_ekorren)).one()
        for token, ends in (("a", -1), ("b", 11)):
            session.add(
                LoginSession(
                    token_hash=token * 64,
                    user_id=user_id,
                    created_at=NOON - dt.timedelta(hours=1),
                    expires_at=NOON + dt.timedelta(hours=ends),
                )
            )
    assert purge(engine, settings, NOON).endswith(", 1 old failed sign-ins, 1 expired sessions")
    with sessions() as session:
        assert list(session.scalars(select(LoginFailure.key))) == ["login-client:10.1.2.3"]
        assert list(session.scalars(select(LoginSession.token_hash))) == ["b" * 64]
    # Safe to run again and again: nothing more to delete.
    assert purge(engine, settings, NOON) == (
        "deleted 0 day entries, 0 ended guardian links, 0 old audit entries, 0 old failed sign-ins, "
        "0 expired sessions"
    )


# --- one child's data: export and erasure --------------------------------------------------------------

CHILDREN = "/admin/p/ekorren/children"
NAMES = ("Ella", "Ali")  # the child, and the guardian her link is for


@dataclass(frozen=True)
class Family:
    ella: int
    ture: int  # another child of the same preschool, whose data must stay
    activity: int
    links: tuple[int, ...]


@pytest.fixture
def family(sessions: sessionmaker[Session], world: World) -> Family:
    """Ella and Ture at Ekorren with everything Laiban can store about a child: a week, a day with a
    guardian's change and staff's marks, guardians' links (one revoked), an activity, a pronunciation of
    the name, and audit entries."""
    now = utcnow()
    today = now.astimezone(ZoneInfo("Europe/Stockholm")).date()
    with transaction(sessions) as session:
        ekorren = session.get_one(Preschool, world.ekorren)
        group = ekorren.groups[0].id
        ella = add_child(session, ekorren, "Ella", group, "owl")
        ture = add_child(session, ekorren, "Ture", None, "fox")
        links = []
        for child, guardian in ((ella, "Pappa Ali"), (ture, "Farmor")):
            set_week(session, ekorren, child, dict.fromkeys(range(5), Plan(dt.time(8), dt.time(16), "mamma")))
            link, _ = create_guardian_link(session, child, guardian, 90, None, now)
            links.append(link.id)
            set_pickup(
                session,
                ekorren,
                child,
                today,
                dt.time(15),
                "morfar",
                by=f"{guardian} (vårdnadshavare)",
                at=now,
            )
            mark(session, child, today, "in", by="pedagog", at=now + dt.timedelta(minutes=1))
            audit.record(
                session,
                ekorren,
                actor=f"Vårdnadshavarlänk {link.id}",
                action="update",
                subject="pickup",
                child_id=child.id,
            )
            add_pronunciation(session, ekorren.id, "sv", child.first_name, "x" + child.first_name)
        revoked, _ = create_guardian_link(session, ella, "Mamma", 30, None, now)
        revoke_guardian_link(revoked, now)
        activity = add_activity(
            session,
            ekorren.id,
            day=today.isoformat(),
            title="Skogen",
            future_text="Vi ska gå till skogen.",
            past_text="Vi gick till skogen.",
            participants=[str(ella.id), str(ture.id)],
        )
        return Family(ella.id, ture.id, activity.id, (*links, revoked.id))


@pytest.fixture
def admin(world: World, browser_for: SignIn) -> Browser:
    return browser_for(world.admin_ekorren, PASSWORD)


@pytest.fixture
def pedagogue(world: World, browser_for: SignIn) -> Browser:
    return browser_for(world.pedagogue_ekorren, PASSWORD)


def test_an_admin_downloads_everything_stored_about_one_child(
    admin: Browser, family: Family, db: Session, world: World
) -> None:
    page = admin.get(f"{CHILDREN}/{family.ella}")
    assert f'href="{CHILDREN}/{family.ella}/export" download' in page.text
    response = admin.get(f"{CHILDREN}/{family.ella}/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and f"laiban-barn-{family.ella}-" in disposition
    assert "Ella" not in disposition  # the file's name says no name
    data = response.json()
    assert data["format"] == "laiban-child-export/1"
    assert data["child"] == {
        "id": family.ella,
        "first_name": "Ella",
        "group": "Svamp",
        "avatar": "owl",
        "active": True,
    }
    assert [day["weekday_name"] for day in data["week"]] == [
        "måndag",
        "tisdag",
        "onsdag",
        "torsdag",
        "fredag",
    ]
    assert {day["pickup_by"] for day in data["week"]} == {"mamma"}
    (day,) = data["days"]
    assert (day["leaves_at"], day["pickup_by"], day["absent"]) == ("15:00", "morfar", False)
    assert day["checked_in_at"] is not None
    assert [change["by"] for change in data["day_changes"]] == ["Pappa Ali (vårdnadshavare)", "pedagog"]
    assert [(link["label"], link["revoked_at"] is None) for link in data["guardian_links"]] == [
        ("Pappa Ali", True),
        ("Mamma", False),
    ]
    assert [activity["title"] for activity in data["activities"]] == ["Skogen"]
    assert data["pronunciations"] == [{"lang": "sv", "written": "Ella", "spoken": "xElla"}]
    trail = [(entry["actor"], entry["action"], entry["subject"]) for entry in data["audit_log"]]
    assert trail == [
        (f"Vårdnadshavarlänk {family.links[0]}", "update", "pickup"),
        ("admin", "read", "child"),
        ("admin", "read", "export"),  # the download itself, written before the file was made
    ]
    # Only this child, and never a link's secret or its hash.
    assert "Ture" not in response.text and "Farmor" not in response.text
    for token_hash in db.scalars(select(GuardianLink.token_hash)):
        assert token_hash not in response.text
    assert "token" not in response.text
    entry = db.scalars(select(AuditEntry).where(AuditEntry.subject == "export")).one()
    assert (entry.child_id, entry.actor, entry.preschool_id) == (family.ella, "admin", world.ekorren)


def test_only_the_preschools_admins_may_export(
    pedagogue: Browser, browser_for: SignIn, client: TestClient, family: Family, world: World, db: Session
) -> None:
    url = f"{CHILDREN}/{family.ella}/export"
    page = pedagogue.get(f"{CHILDREN}/{family.ella}")
    assert "/export" not in page.text and "Bara förskolans administratörer" in page.text
    assert pedagogue.get(url).status_code == 403
    assert browser_for(world.org_admin_b, PASSWORD).get(url).status_code == 404
    org_admin = browser_for(world.org_admin_a, PASSWORD)
    assert org_admin.get(url).status_code == 200
    assert org_admin.get(f"/admin/p/humlan/children/{family.ella}/export").status_code == 404
    assert org_admin.get(f"{CHILDREN}/999999/export").status_code == 404
    signed_out = client.get(url, follow_redirects=False)
    assert signed_out.status_code == 303 and "/admin/login" in signed_out.headers["location"]
    exports = db.scalars(select(AuditEntry.actor).where(AuditEntry.subject == "export")).all()
    assert exports == ["chef"]  # the refused ones wrote nothing


def child_reference(column: Any) -> bool:
    """Whether a column holds children's ids."""
    return (
        any(key.column.table.name == "children" for key in column.foreign_keys)
        or column.name in ("child_id", "participants")
        or (column.table.name == "children" and column.name == "id")
    )


def traces(db: Session, name: str, child_id: int) -> set[str]:
    """ "table.column" of every value in the database that holds `name` (as a word, in any text or JSON
    column) or `child_id` (in any column of children's ids)."""
    word = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)
    found = set()
    db.expire_all()
    with db.bind.connect() as connection:  # type: ignore[union-attr]
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                for column, value in zip(table.columns, row, strict=True):
                    where = f"{table.name}.{column.name}"
                    if isinstance(value, str | list | dict):
                        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                        if word.search(text):
                            found.add(where)
                    if child_reference(column) and (
                        value == child_id or (isinstance(value, list) and child_id in value)
                    ):
                        found.add(where)
    return found


def test_erasing_a_child_leaves_nothing_of_them_in_any_table(
    pedagogue: Browser, family: Family, db: Session
) -> None:
    assert pedagogue.get(f"{CHILDREN}/{family.ella}").status_code == 200  # an audited read
    before = traces(db, "Ella", family.ella) | traces(db, "Ali", family.ella)
    assert {
        "children.id",
        "children.first_name",
        "child_weekdays.child_id",
        "presence.child_id",
        "presence_changes.child_id",
        "guardian_links.child_id",
        "guardian_links.label",
        "audit_log.child_id",
        "activities.participants",
        "pronunciations.written",
    } <= before

    erased = pedagogue.post(f"{CHILDREN}/{family.ella}/delete", {"confirm": "1"}, follow_redirects=False)
    assert erased.status_code == 303

    for name in NAMES:
        assert traces(db, name, family.ella) == set(), name
    # The other child keeps everything (so the search above does find what is there).
    assert {
        "children.first_name",
        "child_weekdays.child_id",
        "presence.child_id",
        "presence_changes.child_id",
        "guardian_links.child_id",
        "audit_log.child_id",
        "activities.participants",
        "pronunciations.written",
    } <= traces(db, "Ture", family.ture)
    db.expire_all()
    assert list(db.get_one(Activity, family.activity).participants) == [family.ture]
    # The log still says who did what and when; not about which child.
    assert ("delete", "child", None) in db.execute(
        select(AuditEntry.action, AuditEntry.subject, AuditEntry.child_id)
    ).all()


def test_a_pronunciation_another_child_shares_stays(pedagogue: Browser, family: Family, db: Session) -> None:
    ekorren = db.get_one(Child, family.ella).preschool_id
    add_child(db, db.get_one(Preschool, ekorren), "Ella", None, "cat")  # a second Ella
    db.commit()
    pedagogue.post(f"{CHILDREN}/{family.ella}/delete", {"confirm": "1"})
    assert "pronunciations.written" in traces(db, "Ella", family.ella)


# --- no third-party calls -----------------------------------------------------------------------------
# The hook sees every socket the process opens; it cannot be removed, so outside `contacts_recorded` it
# returns at once.

_recording: list[tuple[str, Any]] | None = None
_hooked = False


def _audit_hook(event: str, args: tuple[Any, ...]) -> None:
    recording = _recording
    if recording is None:
        return
    if event == "socket.connect":
        recording.append((event, args[1]))
    elif event == "socket.getaddrinfo":
        recording.append((event, args[0]))


@contextlib.contextmanager
def contacts_recorded() -> Iterator[list[tuple[str, Any]]]:
    global _recording, _hooked
    if not _hooked:
        sys.addaudithook(_audit_hook)
        _hooked = True
    _recording = []
    try:
        yield _recording
    finally:
        _recording = None


def loopback(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def outside(contacts: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The contacts with anything but this machine (a Unix socket, e.g. PostgreSQL's, is this machine)."""
    found = []
    for event, target in contacts:
        if event == "socket.connect" and isinstance(target, str | bytes):
            continue
        host = target[0] if event == "socket.connect" and isinstance(target, tuple) else target
        if not loopback(host):
            found.append((event, target))
    return found


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


STOCKHOLM_CITY = (59.3293, 18.0686)  # Ekorren, where SMHI is made to fail: MET Norway is asked
MENU_SLUG = "solrosens-forskola-helsingborg"
MENU_PATH = "Helsingborg/1234abcd"


def test_a_whole_day_contacts_no_host_but_this_one_and_sends_no_name(
    settings: Settings,
    engine: Engine,
    sessions: sessionmaker[Session],
    world: World,
    server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    local = replace(
        settings,
        smhi_base_url=server.url,
        metno_base_url=server.url,
        skolmaten_base_url=server.url,
        mashie_base_url=server.url,
        contact="drift@kommun.example",
    )
    password = "gröna äpplen i en korg 42"
    now = utcnow()
    with transaction(sessions) as session:
        demo = ensure_demo(session, now.astimezone(ZoneInfo("Europe/Stockholm")).date(), password=password)
        solrosen = session.get_one(Preschool, demo.preschool_id)
        ekorren = session.get_one(Preschool, world.ekorren)
        ekorren.latitude, ekorren.longitude = STOCKHOLM_CITY
        ekorren.modules = list(MODULES)
        set_source(session, solrosen.id, "skolmaten", MENU_SLUG)
        set_source(session, ekorren.id, "mashie", MENU_PATH)
        add_pronunciation(session, solrosen.id, "sv", "Maja", "Maaja")
        paired = accounts.pair_device(session, demo.kiosk_code)
        assert paired is not None
        kiosk = {"Authorization": f"Bearer {paired[1]}"}
        lat, lon = solrosen.latitude, solrosen.longitude
        assert lat is not None and lon is not None
    server.routes[urlsplit(smhi.point_url(server.url, lat, lon)).path] = Reply(
        200, fixture("smhi-snow1g-point-helsingborg.json"), {"Content-Type": "application/json"}
    )
    server.routes[urlsplit(metno.forecast_url(server.url, *STOCKHOLM_CITY)).path] = json_reply(
        json.loads(fixture("metno-locationforecast-compact-helsingborg.json"))
    )
    server.routes[urlsplit(skolmaten.week_url(server.url, MENU_SLUG)).path] = Reply(
        200, fixture("skolmaten-week-rss.xml"), {"Content-Type": "application/rss+xml; charset=utf-8"}
    )
    server.routes[urlsplit(mashie.menu_url(server.url, MENU_PATH)).path] = Reply(
        200, fixture("mashie-menu.html"), {"Content-Type": "text/html; charset=utf-8"}
    )
    app = create_app(local, engine)

    with contacts_recorded() as contacts:
        # The scheduled jobs' round: forecasts (SMHI, and MET Norway where SMHI fails), menus, retention,
        # and the morning's pre-rendered audio (made due by the time given).
        fetched = refresh_forecasts(engine, local)
        assert "SMHI" in fetched and "MET Norway" in fetched, fetched
        assert "failed" not in refresh_menus(engine, local)
        purge_personal_data(engine, local)
        with sessions() as session:
            opens = session.get_one(Preschool, demo.preschool_id).day_starts_at
        zone = ZoneInfo("Europe/Stockholm")
        morning = dt.datetime.combine(now.astimezone(zone).date(), opens, zone) - dt.timedelta(minutes=30)
        prerender_morning(engine, local, morning, per_round=1, seconds=2.0)

        with TestClient(app, base_url="http://testserver") as http:
            # The kiosk: everything it loads, every kind of question, tapped and asked in words.
            for path in ("/api/v1/kiosk", "/api/v1/today", "/api/v1/children", "/api/v1/answers?lang=sv"):
                assert http.get(path, headers=kiosk).status_code == 200, path
            children = http.get("/api/v1/children", headers=kiosk).json()
            ella = next(child["id"] for child in children if child["name"] == "Ella")
            questions: list[dict[str, Any]] = [{"intent": intent} for intent in INTENTS]
            questions += [
                {"intent": "pickup", "child": ella},
                {"text": "vem hämtar Ella?"},
                {"text": "vad blir det för mat idag?"},
                {"text": "vad ska jag ha på mig ute?"},
                {"text": "what is for lunch today?", "lang": "en"},
            ]
            audio = set()
            for question in questions:
                answer = http.post("/api/v1/ask", json=question, headers=kiosk)
                assert answer.status_code == 200, (question, answer.text)
                if answer.json()["audio"]:
                    audio.add(answer.json()["audio"])
            for url in sorted(audio)[:3]:
                assert http.get(url, headers=kiosk).status_code == 200
            http.post("/api/v1/lunch/rating", json={"rating": 4}, headers=kiosk)
            http.post("/api/v1/clothes/rating", json={"rating": "up"}, headers=kiosk)

            # The admin: the pages of the day, a guardian's link made and a child's data exported.
            staff = sign_in(http, DEMO_ADMIN_EMAIL, password)
            base = f"/admin/p/{DEMO_SLUG}"
            for page in (
                "/children",
                f"/children/{ella}",
                "/day",
                "/calendar",
                "/menu",
                "/schedule",
                "/weather",
            ):
                assert staff.get(base + page).status_code == 200, page
            for page in ("/voice", "/settings", "/devices", f"/children/{ella}/export"):
                assert staff.get(base + page).status_code == 200, page
            assert staff.get("/admin/audit").status_code == 200
            made = staff.post(f"{base}/children/{ella}/links", {"label": "Pappa Ali", "valid_days": "30"})
            token = re.search(r"/guardian/open\?t=([A-Za-z0-9_-]+)", made.text)
            assert token is not None

        # A guardian's visit, in a browser of their own.
        with TestClient(app, base_url="http://testserver") as phone:
            page = phone.get(f"/guardian/open?t={token.group(1)}")
            assert page.status_code == 200 and "Ella" in page.text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf is not None
            phone.post(
                "/guardian",
                data={
                    "csrf_token": csrf.group(1),
                    "day": "tomorrow",
                    "pickup_by": "mormor",
                    "leaves_at": "15:00",
                },
            )

    assert contacts, "the hook saw nothing: the test would prove nothing"
    assert outside(contacts) == []
    assert any(
        event == "socket.connect"
        and isinstance(target, tuple)
        and target[1] == int(server.url.rsplit(":", 1)[1])
        for event, target in contacts
    )
    # Every outside service was asked (by its stand-in), and no request named a person.
    asked = {urlsplit(seen.path).path for seen in server.seen}
    assert set(server.routes) <= asked
    with sessions() as session:
        people = set(session.scalars(select(Child.first_name)))
        people |= set(session.scalars(select(GuardianLink.label)))
        people |= set(session.scalars(select(User.name))) | set(session.scalars(select(User.email)))
        people |= {row for row in session.scalars(select(Presence.pickup_by)) if row}
    assert {"Ella", "Pappa Ali", "Demo Pedagog"} <= people
    for seen in server.seen:
        sent = unquote(seen.path) + "\n" + "\n".join(f"{key}: {value}" for key, value in seen.headers.items())
        for person in people:
            assert not re.search(rf"(?<!\w){re.escape(person)}(?!\w)", sent, re.IGNORECASE), (person, sent)
