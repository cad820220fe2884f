"""The staff's day view: a group's children today or tomorrow with their status, times and who picks them
up; marks (arrived, gone home, undo) and the quick edit of a day, in place with htmx or as plain forms;
errors with nothing saved; the audit entries; CSRF and tenancy."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from laiban.store.children import Plan, add_child, set_week
from laiban.store.tables import AuditEntry, Child, Group, Preschool, Presence, PresenceChange, User
from laiban.web.admin import day as day_module

from .conftest import Browser, SignIn
from .world import PASSWORD, World

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MONDAY = dt.date(2026, 11, 23)  # an ordinary open Monday
TUESDAY = MONDAY + dt.timedelta(days=1)
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=STOCKHOLM)
PAGE = "/admin/p/ekorren/day"
HTMX = {"HX-Request": "true"}


@dataclass(frozen=True)
class Kids:
    svamp: int  # the first group (by name), the default tab
    tall: int
    astrid: int  # Svamp; Mondays 08:00–16:00, picked up by mamma
    bo: int  # Svamp; no schedule at all: nobody told Laiban
    cecilia: int  # Svamp; Tuesdays only
    dan: int  # Tall; Mondays 09:00–15:00
    elsa: int  # no group; Mondays
    filip: int  # Svamp, but no longer at the preschool
    humlan_child: int  # another preschool of the same organisation


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """The day view's "now": an ordinary Monday morning."""
    monkeypatch.setattr(
        day_module, "local_now", lambda preschool, at=None: NOW.astimezone(ZoneInfo(preschool.timezone))
    )


@pytest.fixture
def kids(db: Session, world: World) -> Kids:
    ekorren = db.get_one(Preschool, world.ekorren)
    humlan = db.get_one(Preschool, world.humlan)
    tall = Group(preschool_id=ekorren.id, name="Tall")
    db.add(tall)
    db.flush()
    db.refresh(ekorren)
    svamp = next(group.id for group in ekorren.groups if group.name == "Svamp")

    def child(preschool: Preschool, name: str, group: int | None, week: dict[int, Plan]) -> int:
        row = add_child(db, preschool, name, group)
        if week:
            set_week(db, preschool, row, week)
        return row.id

    monday = {0: Plan(dt.time(8), dt.time(16), "mamma")}
    kids = Kids(
        svamp=svamp,
        tall=tall.id,
        astrid=child(ekorren, "Astrid", svamp, monday),
        bo=child(ekorren, "Bo", svamp, {}),
        cecilia=child(ekorren, "Cecilia", svamp, {1: Plan(dt.time(7, 30), dt.time(15), "pappa")}),
        dan=child(ekorren, "Dan", tall.id, {0: Plan(dt.time(9), dt.time(15), "farmor")}),
        elsa=child(ekorren, "Elsa", None, monday),
        filip=child(ekorren, "Filip", svamp, monday),
        humlan_child=child(humlan, "Hugo", None, monday),
    )
    db.get_one(Child, kids.filip).active = False
    db.commit()
    return kids


@pytest.fixture
def pedagogue(world: World, kids: Kids, browser_for: SignIn) -> Browser:
    return browser_for(world.pedagogue_ekorren, PASSWORD)


def row_of(html: str, child_id: int) -> str:
    """The one child's <tbody> in a page (or the whole answer of an htmx request)."""
    match = re.search(rf'<tbody id="child-{child_id}".*?</tbody>', html, re.S)
    assert match, f"no row for child {child_id}"
    return match.group(0)


def status_of(html: str, child_id: int) -> str:
    match = re.search(r'<span class="status">([^<]*)</span>', row_of(html, child_id))
    assert match
    return match.group(1)


def presence(db: Session, child_id: int, day: dt.date = MONDAY) -> Presence | None:
    db.expire_all()
    return db.scalar(select(Presence).where(Presence.child_id == child_id, Presence.day == day))


def changes(db: Session, child_id: int) -> list[tuple[dt.date, str, str]]:
    db.expire_all()
    rows = db.scalars(
        select(PresenceChange).where(PresenceChange.child_id == child_id).order_by(PresenceChange.id)
    )
    return [(row.day, row.by, row.what) for row in rows]


def audit_rows(db: Session) -> list[tuple[str, str, str, int | None, int | None]]:
    db.expire_all()
    rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id))
    return [(row.actor, row.action, row.subject, row.child_id, row.preschool_id) for row in rows]


def edit(browser: Browser, child_id: int, query: str = "date=today", **fields: str) -> httpx.Response:
    headers = fields.pop("headers", None)
    return browser.post(
        f"{PAGE}/{child_id}?{query}",
        {"arrives": "", "leaves": "", "pickup_by": "", "action": "save", **fields},
        headers=headers,
        follow_redirects=False,
    )


def mark(browser: Browser, child_id: int, what: str, **kwargs: object) -> httpx.Response:
    return browser.post(f"{PAGE}/{child_id}/mark", {"what": what}, follow_redirects=False, **kwargs)


# --- the page ----------------------------------------------------------------------------------------


def test_the_page_lists_the_first_groups_children_with_their_status(pedagogue: Browser, kids: Kids) -> None:
    page = pedagogue.get(PAGE)
    assert page.status_code == 200
    assert "måndag 23 november" in page.text
    assert status_of(page.text, kids.astrid) == "Väntas"
    assert status_of(page.text, kids.bo) == "Okänt"
    assert status_of(page.text, kids.cecilia) == "Kommer inte"  # she comes on Tuesdays
    astrid = row_of(page.text, kids.astrid)
    assert ">08:00<" in astrid and ">16:00" in astrid and ">mamma" in astrid and "Katt" in astrid
    assert 'class="changed"' not in astrid
    for other in ("Dan", "Elsa", "Filip", "Hugo"):  # another group, no group, inactive, another preschool
        assert other not in page.text
    assert (
        f'href="?date=today&group={kids.tall}"' in page.text and 'href="?date=today&group=all"' in page.text
    )
    assert "Har kommit" in astrid  # today: the marks
    assert "raderas automatiskt när dagen är slut" in page.text  # the retention, in words
    assert 'id="relations"' in page.text and '<option value="mormor">' in page.text
    assert "Inga ändringar ännu." in page.text


def test_the_other_tabs(pedagogue: Browser, kids: Kids) -> None:
    tall = pedagogue.get(f"{PAGE}?group={kids.tall}")
    assert "Dan" in tall.text and "Astrid" not in tall.text
    assert status_of(tall.text, kids.dan) == "Väntas"
    everyone = pedagogue.get(f"{PAGE}?group=all")
    for name in ("Astrid", "Bo", "Cecilia", "Dan", "Elsa"):
        assert name in everyone.text
    assert "Filip" not in everyone.text and "Hugo" not in everyone.text
    assert "Svamp" in row_of(everyone.text, kids.astrid) and "Tall" in row_of(everyone.text, kids.dan)
    assert pedagogue.get(f"{PAGE}?group=999999").status_code == 404
    assert pedagogue.get(f"{PAGE}?group=tall").status_code == 404


def test_a_preschool_without_groups_shows_all_its_children(
    world: World, kids: Kids, browser_for: SignIn
) -> None:
    chef = browser_for(world.org_admin_a, PASSWORD)
    page = chef.get("/admin/p/humlan/day")
    assert page.status_code == 200 and "Hugo" in page.text and "Astrid" not in page.text
    assert 'aria-label="Avdelning"' not in page.text  # no tabs when "Alla" is all there is


def test_tomorrow(pedagogue: Browser, db: Session, kids: Kids) -> None:
    page = pedagogue.get(f"{PAGE}?date=tomorrow")
    assert page.status_code == 200 and "tisdag 24 november" in page.text
    assert status_of(page.text, kids.cecilia) == "Väntas"
    assert status_of(page.text, kids.astrid) == "Kommer inte"  # Mondays only
    assert "Har kommit" not in page.text  # nobody is marked tomorrow
    assert "Ändringar för imorgon" in page.text
    saved = edit(
        pedagogue, kids.cecilia, "date=tomorrow", arrives="08:00", leaves="14:00", pickup_by="mormor"
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{PAGE}?date=tomorrow&group={kids.svamp}#child-{kids.cecilia}"
    assert presence(db, kids.cecilia, MONDAY) is None
    entry = presence(db, kids.cecilia, TUESDAY)
    assert entry is not None and entry.leaves_at == dt.time(14) and entry.pickup_by == "mormor"
    page = pedagogue.get(f"{PAGE}?date=tomorrow")
    assert "ändrat, annars 15:00" in row_of(page.text, kids.cecilia)
    assert "Lämnas 08:00, hämtas 14:00 av mormor" in page.text.split("Ändringar för imorgon")[1]
    assert "Lämnas 08:00" not in pedagogue.get(PAGE).text.split("Dagens ändringar")[1]


@pytest.mark.parametrize("date", ["yesterday", "2026-11-23", "TODAY"])
def test_only_today_and_tomorrow(pedagogue: Browser, db: Session, kids: Kids, date: str) -> None:
    page = pedagogue.get(f"{PAGE}?date={date}")
    assert page.status_code == 400
    assert "Dagsvyn visar bara idag eller imorgon" in page.text
    refused = edit(pedagogue, kids.astrid, f"date={date}", absent="1")
    assert refused.status_code == 400 and "Dagsvyn visar bara idag eller imorgon" in refused.text
    assert changes(db, kids.astrid) == []


# --- changing a day ----------------------------------------------------------------------------------


def test_a_quick_edit_saves_the_day_and_who_changed_it(pedagogue: Browser, db: Session, kids: Kids) -> None:
    saved = edit(pedagogue, kids.astrid, arrives="8.15", leaves="14:00", pickup_by=" mormor ")
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{PAGE}?date=today&group={kids.svamp}#child-{kids.astrid}"
    entry = presence(db, kids.astrid)
    assert entry is not None and not entry.absent
    assert (entry.arrives_at, entry.leaves_at, entry.pickup_by) == (dt.time(8, 15), dt.time(14), "mormor")
    assert changes(db, kids.astrid) == [(MONDAY, "pedagog", "Lämnas 08:15, hämtas 14:00 av mormor")]
    page = pedagogue.get(PAGE)
    row = row_of(page.text, kids.astrid)
    assert "ändrat, annars 16:00" in row and "ändrat, annars mamma" in row
    assert "10:00 pedagog: Lämnas 08:15, hämtas 14:00 av mormor" in row
    assert 'value="14:00"' in row and 'value="mormor"' in row and "Som vanligt" in row
    assert "Som vanligt" not in row_of(page.text, kids.bo)  # nothing of its own to clear
    log = page.text.split("Dagens ändringar")[1]
    assert "10:00" in log and "Astrid" in log and "(pedagog)" in log


def test_htmx_gets_only_the_row(pedagogue: Browser, db: Session, kids: Kids) -> None:
    answer = edit(pedagogue, kids.astrid, leaves="15:00", pickup_by="pappa", headers=HTMX)
    assert answer.status_code == 200
    assert answer.text.strip().startswith(f'<tbody id="child-{kids.astrid}"')
    assert answer.text.strip().endswith("</tbody>")
    assert "<html" not in answer.text and "Bo" not in answer.text and "Dagens ändringar" not in answer.text
    assert "ändrat, annars 16:00" in answer.text and 'hx-target="#child-' in answer.text
    marked = mark(pedagogue, kids.astrid, "in", headers=HTMX)
    assert marked.status_code == 200 and "<html" not in marked.text
    assert status_of(marked.text, kids.astrid) == "Här"
    assert [what for _, _, what in changes(db, kids.astrid)] == ["Hämtas 15:00 av pappa", "Har kommit"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"arrives": "25:00"}, "”25:00” är inget klockslag; skriv till exempel 15:30."),
        ({"leaves": "kvart i fyra"}, "”kvart i fy” är inget klockslag"),
        ({"leaves": "18:00"}, "Förskolan är öppen 06:30–17:30; välj en tid då."),
        ({"arrives": "15:00", "leaves": "14:00"}, "Hämtningen måste vara senare än lämningen."),
        ({"pickup_by": "<b>mormor</b>"}, "Vem som hämtar får inte innehålla tecknen"),
        ({"pickup_by": "m" * 61}, "Vem som hämtar får vara högst 60 tecken."),
    ],
)
def test_a_bad_change_is_refused_and_nothing_saved(
    pedagogue: Browser, db: Session, kids: Kids, fields: dict[str, str], message: str
) -> None:
    plain = edit(pedagogue, kids.astrid, **fields)
    assert plain.status_code == 400
    assert "<html" in plain.text and message in plain.text and "Inget sparades." in plain.text
    assert "open" in row_of(plain.text, kids.astrid).split("<details")[1][:10]  # the form stays open
    typed = next(iter(fields.values()))
    if "<" not in typed:
        assert f'value="{typed}"' in row_of(plain.text, kids.astrid)  # as typed
    htmx = edit(pedagogue, kids.astrid, headers=HTMX, **fields)
    assert htmx.status_code == 400 and "<html" not in htmx.text and message in htmx.text
    assert presence(db, kids.astrid) is None and changes(db, kids.astrid) == []
    assert not [row for row in audit_rows(db) if row[1] == "update"]


def test_absent_and_back_to_as_usual(pedagogue: Browser, db: Session, kids: Kids) -> None:
    absent = edit(pedagogue, kids.astrid, absent="1", arrives="08:00", leaves="16:00", pickup_by="mamma")
    assert absent.status_code == 303
    entry = presence(db, kids.astrid)
    assert entry is not None and entry.absent
    page = pedagogue.get(PAGE)
    assert status_of(page.text, kids.astrid) == "Kommer inte"
    assert "checked" in row_of(page.text, kids.astrid)
    usual = edit(
        pedagogue, kids.astrid, action="usual", arrives="not a time"
    )  # the typed times do not matter
    assert usual.status_code == 303
    entry = presence(db, kids.astrid)
    assert entry is not None and not entry.absent and entry.leaves_at is None and entry.pickup_by == ""
    page = pedagogue.get(PAGE)
    assert status_of(page.text, kids.astrid) == "Väntas"
    assert "Som vanligt" not in row_of(page.text, kids.astrid).split("</summary>")[1]
    assert [what for _, _, what in changes(db, kids.astrid)] == ["Kommer inte", "Som vanligt"]


def test_marking_arrived_gone_home_and_undo(pedagogue: Browser, db: Session, kids: Kids) -> None:
    arrived = mark(pedagogue, kids.astrid, "in")
    assert arrived.status_code == 303
    assert arrived.headers["location"] == f"{PAGE}?date=today&group={kids.svamp}#child-{kids.astrid}"
    entry = presence(db, kids.astrid)
    assert entry is not None and entry.checked_in_at == NOW and entry.checked_out_at is None
    page = pedagogue.get(PAGE)
    assert status_of(page.text, kids.astrid) == "Här" and "sedan 10:00" in row_of(page.text, kids.astrid)
    assert 'value="out"' in row_of(page.text, kids.astrid) and 'value="in"' not in row_of(
        page.text, kids.astrid
    )
    mark(pedagogue, kids.astrid, "out")
    page = pedagogue.get(PAGE)
    assert status_of(page.text, kids.astrid) == "Har gått hem"
    assert 'value="undo"' in row_of(page.text, kids.astrid) and 'value="out"' not in row_of(
        page.text, kids.astrid
    )
    mark(pedagogue, kids.astrid, "undo")
    entry = presence(db, kids.astrid)
    assert entry is not None and entry.checked_in_at is None and entry.checked_out_at is None
    assert status_of(pedagogue.get(PAGE).text, kids.astrid) == "Väntas"
    # A child not expected today can still arrive.
    mark(pedagogue, kids.cecilia, "in")
    assert status_of(pedagogue.get(PAGE).text, kids.cecilia) == "Här"
    assert [what for _, _, what in changes(db, kids.astrid)] == [
        "Har kommit",
        "Har gått hem",
        "Markering ångrad",
    ]
    assert {by for _, by, _ in changes(db, kids.astrid)} == {"pedagog"}


def test_a_bad_mark_is_refused(pedagogue: Browser, db: Session, kids: Kids) -> None:
    refused = mark(pedagogue, kids.astrid, "sleep")
    assert refused.status_code == 400 and "Okänd markering." in refused.text
    assert mark(pedagogue, kids.astrid, "sleep", headers=HTMX).status_code == 400
    tomorrow = pedagogue.post(f"{PAGE}/{kids.astrid}/mark?date=tomorrow", {"what": "in"})
    assert tomorrow.status_code == 400 and "bara markeras" in tomorrow.text
    assert presence(db, kids.astrid) is None and presence(db, kids.astrid, TUESDAY) is None
    assert changes(db, kids.astrid) == []


# --- the audit log -----------------------------------------------------------------------------------


def test_reads_and_writes_are_audited(pedagogue: Browser, db: Session, world: World, kids: Kids) -> None:
    assert audit_rows(db) == []
    pedagogue.get(PAGE)
    user = db.scalars(select(User).where(User.email == world.pedagogue_ekorren)).one()
    assert audit_rows(db) == [("pedagog", "read", "day", None, world.ekorren)]
    assert db.scalar(select(AuditEntry.user_id)) == user.id
    edit(pedagogue, kids.astrid, absent="1")
    mark(pedagogue, kids.bo, "in", headers=HTMX)
    edit(pedagogue, kids.astrid, action="usual", headers=HTMX)
    assert audit_rows(db)[1:] == [
        ("pedagog", "update", "day", kids.astrid, world.ekorren),
        ("pedagog", "update", "day", kids.bo, world.ekorren),
        ("pedagog", "update", "day", kids.astrid, world.ekorren),
    ]


# --- who may --------------------------------------------------------------------------------------------


def test_tenancy(world: World, db: Session, kids: Kids, browser_for: SignIn) -> None:
    pedagogue = browser_for(world.pedagogue_ekorren, PASSWORD)
    other_org = browser_for(world.org_admin_b, PASSWORD)
    assert other_org.get(PAGE).status_code == 404
    assert edit(other_org, kids.astrid, absent="1").status_code == 404
    assert mark(other_org, kids.astrid, "in").status_code == 404
    assert pedagogue.get("/admin/p/humlan/day").status_code == 403  # same organisation, no role there
    assert edit(pedagogue, kids.humlan_child, absent="1").status_code == 404  # a child of another preschool
    assert mark(pedagogue, kids.humlan_child, "in").status_code == 404
    assert pedagogue.post(f"/admin/p/humlan/day/{kids.humlan_child}/mark", {"what": "in"}).status_code == 403
    assert edit(pedagogue, kids.filip, absent="1").status_code == 404  # no longer at the preschool
    assert pedagogue.get(f"{PAGE}/{kids.astrid}").status_code == 405
    admin = browser_for(world.admin_ekorren, PASSWORD)
    assert admin.get(PAGE).status_code == 200  # every role at the preschool
    assert db.scalar(select(func.count()).select_from(Presence)) == 0
    assert db.scalar(select(func.count()).select_from(PresenceChange)) == 0


def test_signed_out_goes_to_the_login(app: FastAPI, kids: Kids) -> None:
    with TestClient(app) as anonymous:
        answer = anonymous.get(PAGE, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/login"


def test_csrf_is_required(pedagogue: Browser, db: Session, kids: Kids) -> None:
    client = pedagogue.client
    assert client.post(f"{PAGE}/{kids.astrid}/mark", data={"what": "in"}).status_code == 403
    assert client.post(f"{PAGE}/{kids.astrid}?date=today", data={"absent": "1"}).status_code == 403
    wrong = {"what": "in", "csrf_token": "0" * 64}
    assert client.post(f"{PAGE}/{kids.astrid}/mark", data=wrong, headers=HTMX).status_code == 403
    assert presence(db, kids.astrid) is None and changes(db, kids.astrid) == []
    # htmx sends the token as a header instead of a form field.
    assert (
        client.post(
            f"{PAGE}/{kids.astrid}/mark",
            data={"what": "in"},
            headers={**HTMX, "X-CSRF-Token": pedagogue.csrf},
        ).status_code
        == 200
    )
