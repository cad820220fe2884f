"""The admin's children pages: the list by avdelning and adding a child, a child's details, weekly schedule,
guardians' links (shown once, only the hash stored), photos only when allowed, erasing a child; tenancy,
CSRF and the audit log (ids only, never a name)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from laiban.config import Settings
from laiban.store.children import (
    GUARDIAN_LINK_DAYS,
    Plan,
    add_child,
    create_guardian_link,
    set_week,
    week_of,
)
from laiban.store.tables import (
    AuditEntry,
    Base,
    Child,
    ChildWeekday,
    Group,
    GuardianLink,
    Preschool,
    Presence,
    PresenceChange,
    utcnow,
)
from laiban.web.admin.children import LINK_DAYS_LABELS

from .conftest import Browser, SignIn
from .world import PASSWORD, World

LIST = "/admin/p/ekorren/children"
LINK = re.compile(r"http://testserver/guardian/open\?t=([A-Za-z0-9_-]+)")


def count(db: Session, table: type) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(table)) or 0


def png() -> bytes:
    image = Image.new("RGB", (40, 30), "green")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def stored_pictures(settings: Settings) -> list[Path]:
    return sorted((settings.data_dir / "uploads").glob("*.png"))


@pytest.fixture
def svamp(db: Session, world: World) -> int:
    """Ekorren's one avdelning."""
    return db.scalars(select(Group.id).where(Group.preschool_id == world.ekorren)).one()


@pytest.fixture
def kids(db: Session, world: World, svamp: int) -> dict[str, int]:
    """Alva and Ture at Ekorren (Alva in Svamp), Humla at Humlan, Myra at Myran."""
    ekorren = db.get_one(Preschool, world.ekorren)
    rows = {
        "Alva": add_child(db, ekorren, "Alva", svamp, "fox"),
        "Ture": add_child(db, ekorren, "Ture", None, "owl"),
        "Humla": add_child(db, db.get_one(Preschool, world.humlan), "Humla", None, "bear"),
        "Myra": add_child(db, db.get_one(Preschool, world.myran), "Myra", None, "duck"),
    }
    db.commit()
    return {name: row.id for name, row in rows.items()}


@pytest.fixture
def pedagogue(world: World, browser_for: SignIn) -> Browser:
    return browser_for(world.pedagogue_ekorren, PASSWORD)


def child_url(child_id: int, rest: str = "") -> str:
    return f"{LIST}/{child_id}{rest}"


def test_every_link_validity_has_a_swedish_label() -> None:
    assert set(LINK_DAYS_LABELS) == set(GUARDIAN_LINK_DAYS)


# --- the list and adding ------------------------------------------------------------------------------


def test_add_a_child_and_see_it_listed(pedagogue: Browser, db: Session, world: World, svamp: int) -> None:
    empty = pedagogue.get(LIST)
    assert empty.status_code == 200 and "Här finns inga barn ännu" in empty.text
    assert "raderas automatiskt när dagen är slut" in empty.text  # retention_in_words(0)
    assert "Inga efternamn och inga" in empty.text and "personnummer" in empty.text
    assert 'href="/admin/p/ekorren/children/import">Importera scheman (CSV)</a>' in empty.text
    assert 'href="/admin/p/ekorren/day"' in empty.text
    assert '<option value="cat" selected>Katt</option>' in empty.text  # a picture no child has yet
    assert '<option value="squirrel">Ekorre</option>' in empty.text

    added = pedagogue.post(
        LIST, {"first_name": "  Alva  ", "group_id": str(svamp), "avatar": "fox"}, follow_redirects=False
    )
    assert added.status_code == 303 and added.headers["location"] == LIST + "?saved=1"
    pedagogue.post(LIST, {"first_name": "Ture", "group_id": "", "avatar": "owl"})
    child = db.scalars(select(Child).where(Child.first_name == "Alva")).one()
    assert (child.preschool_id, child.group_id, child.avatar, child.active) == (
        world.ekorren,
        svamp,
        "fox",
        True,
    )

    page = pedagogue.get(added.headers["location"])
    assert page.status_code == 200 and "Sparat." in page.text
    svamp_card, without = page.text.split("<h2>Svamp", 1)[1].split("<h2>Utan avdelning", 1)
    assert "Alva" in svamp_card and "Räv" in svamp_card and "Ture" not in svamp_card
    without = without.split("<h2>Lägg till ett barn", 1)[0]
    assert "<td>Ture</td>" in without and "Uggla" in without
    assert f'href="/admin/p/ekorren/children/{child.id}"' in page.text
    assert '<option value="cat" selected>Katt</option>' in page.text  # cat is still free
    # A child who has left is listed as such.
    child.active = False
    db.commit()
    assert "Nej, har slutat" in pedagogue.get(LIST).text


def test_bad_input_is_refused_and_nothing_is_stored(
    pedagogue: Browser, db: Session, world: World, svamp: int
) -> None:
    humlan_group = Group(preschool_id=world.humlan, name="Bi")
    db.add(humlan_group)
    db.commit()
    cases = [
        ({"first_name": "   "}, "Skriv barnets förnamn."),
        ({"first_name": "A" * 41}, "Förnamnet får vara högst 40 tecken."),
        ({"first_name": "<script>alert(1)</script>"}, "Förnamnet får bara innehålla bokstäver"),
        ({"first_name": "Alva2"}, "Förnamnet får bara innehålla bokstäver"),
        ({"group_id": str(humlan_group.id)}, "Välj en avdelning i listan."),
        ({"group_id": "999999"}, "Välj en avdelning i listan."),
        ({"group_id": "svamp"}, "Välj en avdelning i listan."),
        ({"avatar": "unicorn"}, "Välj en bild i listan."),
        ({"avatar": "upload/" + "a" * 64}, "Välj en bild i listan."),
    ]
    for change, message in cases:
        form = {"first_name": "Alva", "group_id": str(svamp), "avatar": "fox", **change}
        refused = pedagogue.post(LIST, form)
        assert refused.status_code == 400, change
        assert "Inget sparades." in refused.text and message in refused.text, change
        assert "<script>alert" not in refused.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pedagogue.post(LIST, cases[2][0]).text  # kept, escaped
    assert count(db, Child) == 0


# --- one child ---------------------------------------------------------------------------------------


def test_edit_the_details(pedagogue: Browser, db: Session, kids: dict[str, int], svamp: int) -> None:
    page = pedagogue.get(child_url(kids["Alva"]))
    assert page.status_code == 200
    assert '<option value="fox" selected>Räv</option>' in page.text
    assert f'<option value="{svamp}" selected>Svamp</option>' in page.text
    assert 'name="active" value="1" checked' in page.text
    assert 'name="photo"' not in page.text and "multipart" not in page.text  # photos are off

    saved = pedagogue.post(
        child_url(kids["Alva"]),
        {"first_name": "Alva-Li", "group_id": "", "avatar": "owl"},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == child_url(kids["Alva"], "?saved=1")
    db.expire_all()
    alva = db.get_one(Child, kids["Alva"])
    assert (alva.first_name, alva.group_id, alva.avatar, alva.active) == ("Alva-Li", None, "owl", False)
    shown = pedagogue.get(saved.headers["location"])
    assert "Sparat." in shown.text and "Bild: Uggla" in shown.text and "Har slutat" in shown.text

    bad = pedagogue.post(
        child_url(kids["Alva"]),
        {"first_name": "Alva 2", "group_id": str(svamp), "avatar": "cat", "active": "1"},
    )
    assert bad.status_code == 400 and "Förnamnet får bara innehålla bokstäver" in bad.text
    assert 'value="Alva 2"' in bad.text and '<option value="cat" selected>Katt</option>' in bad.text
    assert "Inget sparades." in bad.text
    db.expire_all()
    alva = db.get_one(Child, kids["Alva"])
    assert (alva.first_name, alva.group_id, alva.avatar, alva.active) == ("Alva-Li", None, "owl", False)


def week_form(**rows: tuple[str, str, str]) -> dict[str, str]:
    """Form fields for Monday … Friday ("mon" … "fri"); days not given are empty."""
    form = {}
    for day, name in enumerate(("mon", "tue", "wed", "thu", "fri")):
        arrives, leaves, pickup_by = rows.get(name, ("", "", ""))
        form |= {f"arrives_{day}": arrives, f"leaves_{day}": leaves, f"pickup_by_{day}": pickup_by}
    return form


def test_the_weekly_schedule(pedagogue: Browser, db: Session, kids: dict[str, int]) -> None:
    url = child_url(kids["Alva"], "/week")
    page = pedagogue.get(child_url(kids["Alva"]))
    assert page.text.count('type="time"') == 10 and '<datalist id="relations">' in page.text
    for relation in ("mamma", "pappa", "mormor", "morfar", "farmor", "farfar"):
        assert f'<option value="{relation}">' in page.text

    saved = pedagogue.post(
        url,
        week_form(
            mon=("08:00", "15:30", "mamma"),
            tue=("0815", "16.00", ""),
            thu=("", "", " pappa "),
        ),
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == child_url(kids["Alva"], "?saved=1")
    expected = {
        0: Plan(dt.time(8), dt.time(15, 30), "mamma"),
        1: Plan(dt.time(8, 15), dt.time(16), ""),
        3: Plan(None, None, "pappa"),
    }
    db.expire_all()
    assert week_of(db, kids["Alva"]) == expected
    assert week_of(db, kids["Ture"]) == {}
    shown = pedagogue.get(saved.headers["location"]).text
    assert 'name="arrives_0" value="08:00"' in shown and 'name="leaves_1" value="16:00"' in shown
    assert 'name="pickup_by_3" value="pappa"' in shown and 'name="arrives_2" value=""' in shown

    # One bad row: nothing is saved, every bad row is named, what was typed stays.
    bad = pedagogue.post(
        url, week_form(mon=("07:00", "14:00", "mormor"), wed=("08:00", "", ""), fri=("25:00", "", ""))
    )
    assert bad.status_code == 400 and "Inget sparades." in bad.text
    assert "Fredag: ”25:00” är inget klockslag; skriv till exempel 15:30." in bad.text
    assert 'name="arrives_0" value="07:00"' in bad.text and 'name="pickup_by_0" value="mormor"' in bad.text
    late = pedagogue.post(url, week_form(mon=("08:00", "18:00", ""), tue=("05:00", "", "")))
    assert late.status_code == 400
    assert "Måndag: Förskolan är öppen 06:30–17:30; välj en tid då." in late.text
    assert "Tisdag: Förskolan är öppen 06:30–17:30; välj en tid då." in late.text
    backwards = pedagogue.post(url, week_form(wed=("15:00", "09:00", "")))
    assert (
        backwards.status_code == 400
        and "Onsdag: Hämtningen måste vara senare än lämningen." in backwards.text
    )
    long_name = pedagogue.post(url, week_form(wed=("", "", "x" * 61)))
    assert long_name.status_code == 400 and "Vem som hämtar får vara högst 60 tecken." in long_name.text
    db.expire_all()
    assert week_of(db, kids["Alva"]) == expected

    # All rows empty: the child has no usual days.
    assert pedagogue.post(url, week_form(), follow_redirects=False).status_code == 303
    assert week_of(db, kids["Alva"]) == {}


def everything_stored(db: Session) -> str:
    """Every value of every row of every table, as one text."""
    db.expire_all()
    with db.bind.connect() as connection:  # type: ignore[union-attr]
        return "\n".join(
            repr(tuple(row))
            for table in Base.metadata.sorted_tables
            for row in connection.execute(table.select())
        )


def test_a_guardians_link_is_shown_once_and_only_its_hash_is_stored(
    pedagogue: Browser, db: Session, kids: dict[str, int]
) -> None:
    before = utcnow()
    created = pedagogue.post(child_url(kids["Alva"], "/links"), {"label": " Mamma ", "valid_days": "90"})
    assert created.status_code == 200 and "Länken visas bara nu." in created.text
    assert "/guardian/open?t=" in created.text
    found = LINK.findall(created.text)
    assert len(found) == 1
    token = found[0]
    assert len(token) >= 40
    link = db.scalars(select(GuardianLink)).one()
    assert (link.child_id, link.label) == (kids["Alva"], "Mamma")
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert before + dt.timedelta(days=90) <= link.expires_at <= utcnow() + dt.timedelta(days=90)
    assert token not in everything_stored(db)

    again = pedagogue.get(child_url(kids["Alva"]))
    assert "/guardian/open?t=" not in again.text and token not in again.text
    assert "Mamma" in again.text and "Gäller" in again.text and "Aldrig" in again.text
    assert f"/links/{link.id}/revoke" in again.text

    for form, message in (
        ({"label": "  ", "valid_days": "30"}, "Skriv vem länken är till"),
        ({"label": "Pappa", "valid_days": "7"}, "Välj hur länge länken ska gälla."),
        ({"label": "Pappa", "valid_days": "lång"}, "Välj hur länge länken ska gälla."),
        ({"label": "P" * 101, "valid_days": "30"}, "högst 100 tecken"),
    ):
        refused = pedagogue.post(child_url(kids["Alva"], "/links"), form)
        assert refused.status_code == 400 and message in refused.text, form
        assert "/guardian/open?t=" not in refused.text
    assert count(db, GuardianLink) == 1


def test_revoking_a_link(pedagogue: Browser, db: Session, kids: dict[str, int]) -> None:
    alva, ture = db.get_one(Child, kids["Alva"]), db.get_one(Child, kids["Ture"])
    link, _ = create_guardian_link(db, alva, "Pappa", 30, None, utcnow())
    old, _ = create_guardian_link(db, alva, "Morfar", 30, None, utcnow() - dt.timedelta(days=31))
    tures, _ = create_guardian_link(db, ture, "Farmor", 30, None, utcnow())
    db.commit()
    page = pedagogue.get(child_url(kids["Alva"]))
    assert "Har gått ut" in page.text and f"/links/{old.id}/revoke" not in page.text
    # Another child's link through this child: not found, and not revoked.
    assert pedagogue.post(child_url(kids["Alva"], f"/links/{tures.id}/revoke")).status_code == 404
    assert pedagogue.post(child_url(kids["Alva"], "/links/999999/revoke")).status_code == 404
    revoked = pedagogue.post(child_url(kids["Alva"], f"/links/{link.id}/revoke"), follow_redirects=False)
    assert revoked.status_code == 303 and revoked.headers["location"] == child_url(kids["Alva"], "?saved=1")
    db.expire_all()
    assert db.get_one(GuardianLink, link.id).revoked_at is not None
    assert db.get_one(GuardianLink, tures.id).revoked_at is None
    shown = pedagogue.get(child_url(kids["Alva"])).text
    assert "Återkallad" in shown and f"/links/{link.id}/revoke" not in shown


def test_deleting_a_child_erases_everything(
    pedagogue: Browser, db: Session, world: World, kids: dict[str, int]
) -> None:
    ekorren = db.get_one(Preschool, world.ekorren)
    for name in ("Alva", "Ture"):
        child = db.get_one(Child, kids[name])
        set_week(db, ekorren, child, {0: Plan(dt.time(8), dt.time(16), "mamma")})
        create_guardian_link(db, child, "Mamma", 30, None, utcnow())
        db.add(
            Presence(preschool_id=world.ekorren, child_id=child.id, day=dt.date(2026, 11, 23), absent=True)
        )
        db.add(
            PresenceChange(
                preschool_id=world.ekorren,
                child_id=child.id,
                day=dt.date(2026, 11, 23),
                at=utcnow(),
                by="x",
                what="Kommer inte",
            )
        )
    db.commit()
    url = child_url(kids["Alva"], "/delete")
    unconfirmed = pedagogue.post(url, {})
    assert unconfirmed.status_code == 400 and "Kryssa i rutan" in unconfirmed.text
    assert count(db, Child) == 4

    erased = pedagogue.post(url, {"confirm": "1"}, follow_redirects=False)
    assert erased.status_code == 303 and erased.headers["location"] == LIST + "?deleted=1"
    db.expire_all()
    assert db.get(Child, kids["Alva"]) is None
    for table in (ChildWeekday, GuardianLink, Presence, PresenceChange):
        assert set(db.scalars(select(table.child_id))) == {kids["Ture"]}, table
    assert pedagogue.get(child_url(kids["Alva"])).status_code == 404
    listed = pedagogue.get(erased.headers["location"])
    assert "Barnet och allt om barnet är raderat." in listed.text
    assert "<td>Alva</td>" not in listed.text and "<td>Ture</td>" in listed.text


# --- who may -----------------------------------------------------------------------------------------


def test_tenant_isolation(
    pedagogue: Browser, browser_for: SignIn, db: Session, world: World, kids: dict[str, int]
) -> None:
    humla, myra = kids["Humla"], kids["Myra"]
    listed = pedagogue.get(LIST)
    assert "<td>Alva</td>" in listed.text and "Humla" not in listed.text and "Myra" not in listed.text
    assert pedagogue.get("/admin/p/humlan/children").status_code == 403  # same org, no role there
    assert pedagogue.get(f"/admin/p/humlan/children/{humla}").status_code == 403
    for child_id in (humla, myra, 999999):
        page = pedagogue.get(child_url(child_id))
        assert page.status_code == 404 and "Humla" not in page.text and "Myra" not in page.text
        for rest, form in (
            ("", {"first_name": "Hacker", "avatar": "cat"}),
            ("/week", week_form(mon=("08:00", "16:00", ""))),
            ("/links", {"label": "Mamma", "valid_days": "30"}),
            ("/delete", {"confirm": "1"}),
        ):
            assert pedagogue.post(child_url(child_id, rest), form).status_code == 404, (child_id, rest)
    other_org = browser_for(world.org_admin_b, PASSWORD)
    assert other_org.get(LIST).status_code == 404
    assert other_org.get(child_url(kids["Alva"])).status_code == 404
    assert other_org.post(LIST, {"first_name": "Ny", "avatar": "cat"}).status_code == 404
    assert other_org.post(child_url(kids["Alva"], "/delete"), {"confirm": "1"}).status_code == 404
    # Their own preschool's child through another preschool's address: not found either.
    assert other_org.get(f"/admin/p/ekorren/children/{myra}").status_code == 404
    assert other_org.get(f"/admin/p/myran/children/{myra}").status_code == 200
    db.expire_all()
    assert count(db, Child) == 4 and count(db, ChildWeekday) == 0 and count(db, GuardianLink) == 0
    assert db.get_one(Child, humla).first_name == "Humla"
    # An admin of the preschool may do the same as a pedagogue.
    admin = browser_for(world.admin_ekorren, PASSWORD)
    assert (
        admin.post(LIST, {"first_name": "Sigge", "avatar": "cat"}, follow_redirects=False).status_code == 303
    )


def test_every_form_needs_the_csrf_token(pedagogue: Browser, db: Session, kids: dict[str, int]) -> None:
    alva = db.get_one(Child, kids["Alva"])
    link, _ = create_guardian_link(db, alva, "Mamma", 30, None, utcnow())
    db.commit()
    for url, form in (
        (LIST, {"first_name": "Ny", "avatar": "cat"}),
        (child_url(alva.id), {"first_name": "Ny", "avatar": "cat"}),
        (child_url(alva.id, "/week"), week_form(mon=("08:00", "16:00", ""))),
        (child_url(alva.id, "/links"), {"label": "Pappa", "valid_days": "30"}),
        (child_url(alva.id, f"/links/{link.id}/revoke"), {}),
        (child_url(alva.id, "/delete"), {"confirm": "1"}),
    ):
        assert pedagogue.client.post(url, data=form).status_code == 403, url
        assert pedagogue.client.post(url, data={**form, "csrf_token": "nope"}).status_code == 403, url
    db.expire_all()
    assert count(db, Child) == 4 and count(db, ChildWeekday) == 0 and count(db, GuardianLink) == 1
    assert db.get_one(Child, alva.id).first_name == "Alva"
    assert db.get_one(GuardianLink, link.id).revoked_at is None


def test_reads_and_writes_are_audited_without_names(
    pedagogue: Browser, db: Session, world: World, svamp: int
) -> None:
    def audited() -> list[tuple[str, str, int | None]]:
        db.expire_all()
        rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        return [(row.action, row.subject, row.child_id) for row in rows]

    pedagogue.get(LIST)
    assert audited() == [("read", "children", None)]
    pedagogue.post(LIST, {"first_name": "Alvaline", "group_id": str(svamp), "avatar": "fox"})
    child_id = db.scalars(select(Child.id)).one()
    assert pedagogue.get(child_url(child_id)).status_code == 200
    pedagogue.post(child_url(child_id), {"first_name": "Alvaline", "avatar": "cat", "active": "1"})
    pedagogue.post(child_url(child_id, "/week"), week_form(mon=("08:00", "16:00", "mamma")))
    pedagogue.post(child_url(child_id, "/links"), {"label": "Mamma", "valid_days": "30"})
    link_id = db.scalars(select(GuardianLink.id)).one()
    pedagogue.post(child_url(child_id, f"/links/{link_id}/revoke"), follow_redirects=False)
    before = [
        ("read", "children", None),
        ("create", "child", child_id),
        ("read", "children", None),  # the list again, after the redirect
        ("read", "child", child_id),
        ("update", "child", child_id),
        ("read", "child", child_id),
        ("update", "week", child_id),
        ("read", "child", child_id),
        ("create", "guardian_link", child_id),
        ("read", "child", child_id),  # the page showing the new link
        ("update", "guardian_link", child_id),
    ]
    assert audited() == before
    pedagogue.post(child_url(child_id, "/delete"), {"confirm": "1"}, follow_redirects=False)
    # Erasing the child takes their id out of the log: who did what and when stays.
    erased = [(action, subject, None) for action, subject, _ in before]
    assert audited() == [*erased, ("delete", "child", None)]
    entries = db.scalars(select(AuditEntry)).all()
    assert {(e.actor, e.user_id, e.preschool_id, e.organisation_id) for e in entries} == {
        ("pedagog", entries[0].user_id, world.ekorren, world.org_a)
    }
    assert entries[0].user_id is not None
    assert "Alvaline" not in everything_stored(db)  # erased, and never written to the log
    # A refused change writes nothing but the page read.
    pedagogue.post(LIST, {"first_name": "", "avatar": "cat"})
    assert audited()[-1] == ("read", "children", None) and len(audited()) == 13
    # Nothing is logged for a page that is not shown.
    pedagogue.get("/admin/p/humlan/children")
    assert len(audited()) == 13


# --- photos ------------------------------------------------------------------------------------------


def test_a_photo_only_when_the_preschool_allows_photos(
    pedagogue: Browser, db: Session, world: World, kids: dict[str, int], settings: Settings
) -> None:
    url = child_url(kids["Alva"])
    details = {"first_name": "Alva", "avatar": "fox", "active": "1"}
    photo = ("alva.png", png(), "image/png")
    refused = pedagogue.post(url, details, files={"photo": photo})
    assert refused.status_code == 400 and "Förskolan använder inte foton av barnen" in refused.text
    db.expire_all()
    assert db.get_one(Child, kids["Alva"]).avatar == "fox" and stored_pictures(settings) == []

    db.get_one(Preschool, world.ekorren).child_photos = True
    db.commit()
    page = pedagogue.get(url)
    assert 'enctype="multipart/form-data"' in page.text and 'name="photo"' in page.text
    not_a_picture = pedagogue.post(url, details, files={"photo": ("alva.png", b"<?php ?>", "image/png")})
    assert not_a_picture.status_code == 400 and "Filen är ingen bild" in not_a_picture.text
    forged = pedagogue.post(url, {**details, "avatar": "upload/" + "b" * 64})
    assert forged.status_code == 400 and "Välj en bild i listan." in forged.text
    both = pedagogue.post(url, {**details, "first_name": ""}, files={"photo": ("x.png", b"x", "image/png")})
    assert both.status_code == 400 and "Skriv barnets förnamn." in both.text and "ingen bild" in both.text
    bad_name = pedagogue.post(url, {**details, "first_name": ""}, files={"photo": photo})
    assert bad_name.status_code == 400 and "Skriv barnets förnamn." in bad_name.text
    assert stored_pictures(settings) == []  # a good photo with a bad name: neither is stored

    saved = pedagogue.post(url, details, files={"photo": photo}, follow_redirects=False)
    assert saved.status_code == 303
    db.expire_all()
    avatar = db.get_one(Child, kids["Alva"]).avatar
    assert avatar.startswith("upload/") and len(avatar) == 71
    sha = avatar.removeprefix("upload/")
    assert stored_pictures(settings) == [settings.data_dir / "uploads" / f"{sha}.png"]
    shown = pedagogue.get(url).text
    assert (
        f'<img src="/uploads/{sha}.png"' in shown
        and f'<option value="{avatar}" selected>Eget foto</option>' in shown
    )
    assert pedagogue.get(f"/uploads/{sha}.png").status_code == 200
    assert f'<img src="/uploads/{sha}.png"' in pedagogue.get(LIST).text
    # Saving again without a new file keeps the photo.
    assert pedagogue.post(url, {**details, "avatar": avatar}, follow_redirects=False).status_code == 303
    db.expire_all()
    assert db.get_one(Child, kids["Alva"]).avatar == avatar and len(stored_pictures(settings)) == 1
    # An animal instead: the photo is deleted from the server.
    assert pedagogue.post(url, {**details, "avatar": "frog"}, follow_redirects=False).status_code == 303
    db.expire_all()
    assert db.get_one(Child, kids["Alva"]).avatar == "frog" and stored_pictures(settings) == []
    # Erasing the child erases their photo too.
    pedagogue.post(url, details, files={"photo": photo})
    assert len(stored_pictures(settings)) == 1
    pedagogue.post(child_url(kids["Alva"], "/delete"), {"confirm": "1"})
    assert stored_pictures(settings) == []


def test_a_photo_is_not_shown_once_photos_are_turned_off(
    pedagogue: Browser, db: Session, world: World, kids: dict[str, int]
) -> None:
    key = "upload/" + "c" * 64
    db.get_one(Child, kids["Alva"]).avatar = key
    db.commit()
    page = pedagogue.get(child_url(kids["Alva"]))
    assert page.status_code == 200 and "/uploads/" not in page.text and key not in page.text
    assert "Förskolan använder inte längre foton" in page.text
    assert "/uploads/" not in pedagogue.get(LIST).text
