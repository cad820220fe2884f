"""The audit log page: org admins only, their own organisation's entries only (newest first, 100 a page),
filters by preschool and child id, entries in words, children by id and never by name, and reading the log
is not itself logged."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from laiban.store import audit
from laiban.store.children import Plan, add_child, set_week
from laiban.store.tables import AuditEntry, Preschool
from laiban.web.admin.audit import WHAT, what_in_words

from .conftest import Browser, SignIn
from .world import PASSWORD, World

PAGE = "/admin/audit"
WINTER = dt.datetime(2026, 1, 15, 9, 5, tzinfo=dt.UTC)  # 10:05 in Stockholm
SUMMER = dt.datetime(2026, 6, 15, 9, 5, tzinfo=dt.UTC)  # 11:05 in Stockholm


def table_rows(html: str) -> list[list[str]]:
    """The log table's rows as lists of cell texts (tags stripped)."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def entry_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(AuditEntry)) or 0


@pytest.fixture
def logged(db: Session, world: World) -> dict[str, int]:
    """A few entries at Ekorren and Humlan (organisation A) and Myran (B); child ids as created."""
    ekorren, humlan, myran = (db.get_one(Preschool, i) for i in (world.ekorren, world.humlan, world.myran))
    astrid = add_child(db, ekorren, "Astrid", None)
    hugo = add_child(db, humlan, "Hugo", None)
    maja = add_child(db, myran, "Maja", None)
    audit.record(db, ekorren, actor="Anna", action="read", subject="children", at=WINTER)
    audit.record(db, ekorren, actor="Anna", action="update", subject="day", child_id=astrid.id, at=SUMMER)
    audit.record(
        db, humlan, actor="Bertil", action="create", subject="guardian_link", child_id=hugo.id, at=SUMMER
    )
    audit.record(db, humlan, actor="Bertil", action="import", subject="bananas", at=WINTER)
    audit.record(db, myran, actor="Ceasar", action="delete", subject="child", child_id=maja.id, at=SUMMER)
    db.commit()
    return {"astrid": astrid.id, "hugo": hugo.id, "maja": maja.id}


@pytest.fixture
def chef(world: World, browser_for: SignIn) -> Browser:
    return browser_for(world.org_admin_a, PASSWORD)


def test_every_known_combination_has_words() -> None:
    assert what_in_words("read", "children") == "Läste barnlistan"
    assert what_in_words("read", "day") == "Läste dagsvyn"
    assert what_in_words("update", "day") == "Ändrade en dag"
    assert what_in_words("create", "guardian_link") == "Skapade en vårdnadshavarlänk"
    assert what_in_words("import", "bananas") == "import bananas"  # unknown: as stored
    assert {action for action, _ in WHAT} <= set(audit.ACTIONS)


def test_an_org_admin_sees_their_organisations_entries_newest_first(
    chef: Browser, db: Session, logged: dict[str, int]
) -> None:
    page = chef.get(PAGE)
    assert page.status_code == 200
    assert table_rows(page.text) == [  # at the same moment: the later entry first
        [
            "2026-06-15 11:05",
            "Bertil",
            "Skapade en vårdnadshavarlänk",
            "Förskolan Humlan",
            str(logged["hugo"]),
        ],
        ["2026-06-15 11:05", "Anna", "Ändrade en dag", "Förskolan Ekorren", str(logged["astrid"])],
        ["2026-01-15 10:05", "Bertil", "import bananas", "Förskolan Humlan", "–"],
        ["2026-01-15 10:05", "Anna", "Läste barnlistan", "Förskolan Ekorren", "–"],
    ]
    assert "Ceasar" not in page.text and "Myran" not in page.text
    assert f'href="/admin/p/ekorren/children/{logged["astrid"]}"' in page.text
    assert "Att läsa den här loggen loggas inte." in page.text
    assert "4 poster." in page.text


def test_each_organisation_sees_only_its_own(
    world: World, db: Session, logged: dict[str, int], browser_for: SignIn
) -> None:
    other = browser_for(world.org_admin_b, PASSWORD).get(PAGE)
    assert other.status_code == 200
    assert [row[1] for row in table_rows(other.text)] == ["Ceasar"]
    assert "Anna" not in other.text and "Bertil" not in other.text and "Ekorren" not in other.text


def test_only_org_admins(world: World, db: Session, logged: dict[str, int], browser_for: SignIn) -> None:
    for email in (world.pedagogue_ekorren, world.admin_ekorren):
        page = browser_for(email, PASSWORD).get(PAGE)
        assert page.status_code == 403 and "Anna" not in page.text


def test_filters(chef: Browser, world: World, logged: dict[str, int]) -> None:
    humlan = chef.get(f"{PAGE}?preschool={world.humlan}")
    assert [row[1] for row in table_rows(humlan.text)] == ["Bertil", "Bertil"]
    assert f'<option value="{world.humlan}" selected>' in humlan.text
    assert f'<option value="{world.myran}"' not in humlan.text  # another organisation's preschool
    child = chef.get(f"{PAGE}?child={logged['astrid']}")
    assert [row[2] for row in table_rows(child.text)] == ["Ändrade en dag"]
    assert f'value="{logged["astrid"]}"' in child.text
    both = chef.get(f"{PAGE}?preschool={world.humlan}&child={logged['astrid']}")
    assert table_rows(both.text) == [] and "Inga poster." in both.text
    theirs = chef.get(f"{PAGE}?preschool={world.myran}")  # another organisation's id: nothing of theirs
    assert theirs.status_code == 200 and table_rows(theirs.text) == [] and "Ceasar" not in theirs.text
    assert chef.get(f"{PAGE}?child={logged['maja']}").text.count("Ceasar") == 0
    for bad in ("preschool=ekorren", "child=-1", "page=0", "page=x", "child=99999999999"):
        refused = chef.get(f"{PAGE}?{bad}")
        assert refused.status_code == 400 and "ska vara ett heltal" in refused.text


def test_paging(chef: Browser, db: Session, world: World) -> None:
    ekorren = db.get_one(Preschool, world.ekorren)
    start = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
    for i in range(105):
        audit.record(
            db, ekorren, actor=f"Person {i}", action="read", subject="day", at=start + dt.timedelta(minutes=i)
        )
    db.commit()
    first = chef.get(PAGE)
    rows = table_rows(first.text)
    assert len(rows) == 100 and rows[0][1] == "Person 104" and rows[-1][1] == "Person 5"
    assert "sida 1 av 2" in first.text and 'href="?page=2"' in first.text and "Nyare" not in first.text
    second = chef.get(f"{PAGE}?page=2")
    assert [row[1] for row in table_rows(second.text)] == [f"Person {i}" for i in range(4, -1, -1)]
    assert 'href="?page=1"' in second.text and "Äldre" not in second.text
    filtered = chef.get(f"{PAGE}?preschool={world.ekorren}")
    assert f'href="?page=2&amp;preschool={world.ekorren}"' in filtered.text  # the filter stays
    assert table_rows(chef.get(f"{PAGE}?page=3").text) == []


def test_reading_the_log_is_not_logged(chef: Browser, db: Session, logged: dict[str, int]) -> None:
    before = entry_count(db)
    chef.get(PAGE)
    chef.get(f"{PAGE}?child={logged['astrid']}")
    assert entry_count(db) == before


def test_no_childrens_names_from_the_day_view(world: World, db: Session, browser_for: SignIn) -> None:
    ekorren = db.get_one(Preschool, world.ekorren)
    astrid = add_child(db, ekorren, "Astrid", None)
    set_week(db, ekorren, astrid, {day: Plan(dt.time(8), dt.time(16), "mamma") for day in range(5)})
    db.commit()
    pedagogue = browser_for(world.pedagogue_ekorren, PASSWORD)
    assert "Astrid" in pedagogue.get("/admin/p/ekorren/day?group=all").text
    assert (
        pedagogue.post(
            f"/admin/p/ekorren/day/{astrid.id}?date=tomorrow&group=all",
            {"leaves": "14:00", "pickup_by": "Morfar Ragnar"},
        ).status_code
        == 200
    )
    page = browser_for(world.org_admin_a, PASSWORD).get(PAGE)
    rows = table_rows(page.text)
    assert [row[1:] for row in rows] == [
        ["pedagog", "Läste dagsvyn", "Förskolan Ekorren", "–"],  # after the redirect
        ["pedagog", "Ändrade en dag", "Förskolan Ekorren", str(astrid.id)],
        ["pedagog", "Läste dagsvyn", "Förskolan Ekorren", "–"],
    ]
    assert "Astrid" not in page.text and "Ragnar" not in page.text and "mamma" not in page.text
