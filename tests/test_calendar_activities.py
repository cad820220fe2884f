"""The preschool's own calendar: events (once or yearly), closed days and activities — checked input,
the answers at fixed times (before, during and after an activity; names only when allowed), closed days in
the lunch and calendar answers, the admin page, tenant isolation and CSRF."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from fastapi import FastAPI
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from laiban.i18n import render
from laiban.model.intent import Intent
from laiban.model.today import ActivityInfo, Today
from laiban.skills import SKILLS, activities, calendar, lunch
from laiban.sources.holidays import special_days_between
from laiban.store import calendar as store
from laiban.store.db import _alembic_config
from laiban.store.tables import Activity, AuditEntry, CalendarEvent, Child, ClosedDay, Preschool
from laiban.store.today import today_for
from laiban.web.admin.calendar import router

from .conftest import Browser, SignIn
from .world import PASSWORD, World

STOCKHOLM = ZoneInfo("Europe/Stockholm")
THURSDAY = dt.date(2026, 11, 26)
FOREST = ActivityInfo(
    title="Skogen",
    future_text="Vi ska gå till skogen.",
    past_text="Vi gick till skogen.",
    starts_at=dt.time(9, 30),
    ends_at=dt.time(11, 0),
    picture="activity/forest",
    participants=("Alva", "Ture"),
)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), STOCKHOLM)


def today_at(moment: dt.datetime, **changes: object) -> Today:
    values: dict[str, object] = {
        "now": moment,
        "preschool_name": "X",
        "modules": ("activities", "calendar", "lunch"),
        "languages": ("sv", "en"),
        "activities": (FOREST,),
    }
    values.update(changes)
    return Today(**values)  # type: ignore[arg-type]


def say(skill, intent: Intent, today: Today, lang: str = "sv") -> str:  # type: ignore[no-untyped-def]
    return render(skill(intent, today), lang).text


# --- the activities answer -------------------------------------------------------------------------


def test_activities_are_told_before_during_and_after() -> None:
    ask = Intent("activities")
    assert say(activities.answer, ask, today_at(at(THURSDAY, 9, 0))) == "Vi ska gå till skogen."
    assert say(activities.answer, ask, today_at(at(THURSDAY, 9, 30))) == "Nu är det Skogen!"
    assert say(activities.answer, ask, today_at(at(THURSDAY, 10, 59))) == "Nu är det Skogen!"
    assert say(activities.answer, ask, today_at(at(THURSDAY, 11, 0))) == "Vi gick till skogen."
    # Staff's Swedish sentence, untranslated, is said as Swedish in another language (never garbled).
    english = say(activities.answer, ask, today_at(at(THURSDAY, 9, 0)), "en")
    assert english == "In Swedish: Vi ska gå till skogen."
    assert activities.answer(ask, today_at(at(THURSDAY, 9))).pictures == ("activity/forest",)


def test_activities_without_times_and_without_an_end() -> None:
    untimed = ActivityInfo("Måla", "Vi ska måla.", "Vi målade.")
    afternoon = ActivityInfo("Sång", "Vi ska sjunga.", "Vi sjöng.", starts_at=dt.time(14))
    both = (untimed, afternoon)
    ask = Intent("activities")
    assert say(activities.answer, ask, today_at(at(THURSDAY, 10), activities=both)) == (
        "Vi ska måla. Vi ska sjunga."
    )
    assert say(activities.answer, ask, today_at(at(THURSDAY, 14, 30), activities=both)) == (
        "Vi målade. Nu är det Sång!"
    )
    assert say(activities.answer, ask, today_at(at(THURSDAY, 15, 0), activities=both)) == (
        "Vi målade. Vi sjöng."
    )
    assert activities.answer(ask, today_at(at(THURSDAY, 10), activities=both)).pictures == (
        "activity/default",
    )


def test_names_are_said_only_when_the_preschool_allows_it() -> None:
    ask = Intent("activities")
    assert "Alva" not in say(activities.answer, ask, today_at(at(THURSDAY, 9)))
    allowed = {"show_child_names": True}
    assert say(activities.answer, ask, today_at(at(THURSDAY, 9), **allowed)) == (
        "Vi ska gå till skogen. Med är Alva och Ture."
    )
    assert say(activities.answer, ask, today_at(at(THURSDAY, 12), **allowed)) == (
        "Vi gick till skogen. Med var Alva och Ture."
    )
    assert say(activities.answer, ask, today_at(at(THURSDAY, 10), **allowed), "en") == (
        "It is Skogen now! Taking part: Alva and Ture."
    )
    alone = ActivityInfo("Skogen", "Vi ska gå till skogen.", "Vi gick till skogen.")
    assert say(activities.answer, ask, today_at(at(THURSDAY, 9), activities=(alone,), **allowed)) == (
        "Vi ska gå till skogen."
    )


def test_no_activity_and_other_days_are_honest() -> None:
    assert say(activities.answer, Intent("activities"), today_at(at(THURSDAY, 9), activities=())) == (
        "Idag har vi inget särskilt inplanerat. Fråga en pedagog vad ni ska hitta på!"
    )
    tomorrow = Intent("activities", {"day": "tomorrow"})
    assert say(activities.answer, tomorrow, today_at(at(THURSDAY, 9))) == (
        "Jag kan berätta om dagens aktiviteter."
    )
    assert say(activities.answer, tomorrow, today_at(at(THURSDAY, 9)), "en") == (
        "I can tell you about today's activities."
    )
    assert SKILLS["activities"] is activities.answer


# --- closed days and the preschool's events in other answers ---------------------------------------


def test_closed_days_in_the_lunch_and_calendar_answers() -> None:
    closed = {THURSDAY: "planeringsdag", THURSDAY + dt.timedelta(days=1): "planeringsdag"}
    menu = {(THURSDAY, "lunch"): (("Fiskgratäng", None),)}
    today = today_at(at(THURSDAY, 9), closed_days=closed, menu=menu)
    assert say(lunch.answer, Intent("lunch"), today) == "Förskolan är stängd den dagen."
    assert say(lunch.answer, Intent("lunch", {"day": "tomorrow"}), today, "en") == (
        "The preschool is closed that day."
    )
    assert say(lunch.answer, Intent("lunch", {"day": "saturday"}), today) == "Förskolan är stängd på lördag."
    assert say(calendar.answer, Intent("calendar"), today) == "Idag är förskolan stängd: planeringsdag."
    assert say(calendar.answer, Intent("calendar"), today, "en") == (
        "The preschool is closed today: planeringsdag."
    )
    open_day = today_at(at(THURSDAY - dt.timedelta(days=1), 9), closed_days=closed, menu=menu)
    assert (
        say(lunch.answer, Intent("lunch", {"day": "tomorrow"}), open_day) == "Förskolan är stängd den dagen."
    )
    assert say(lunch.answer, Intent("lunch", {"day": "yesterday"}), today).startswith("Jag vet inte")


def test_the_preschools_events_come_before_the_holiday() -> None:
    lucia = dt.date(2026, 12, 13)
    days = special_days_between(lucia - dt.timedelta(days=1), lucia + dt.timedelta(days=400))
    events = {lucia: ((dt.time(9), "luciafest"),)}
    today = today_at(at(lucia, 8), special_days=days, preschool_events=events)
    answer = calendar.answer(Intent("calendar"), today)
    assert render(answer, "sv").text == "Idag har vi luciafest! Idag är det lucia!"
    assert answer.pictures == ("calendar/event", "calendar/lucia")
    plain = today_at(
        at(THURSDAY, 8), special_days=days, preschool_events={THURSDAY: ((None, "föräldrafika"),)}
    )
    assert say(calendar.answer, Intent("calendar"), plain) == "Idag har vi föräldrafika!"
    assert say(calendar.answer, Intent("calendar"), plain, "en") == "Today we have föräldrafika!"
    # Without anything of the preschool's own, the answer is as before.
    assert say(calendar.answer, Intent("calendar"), today_at(at(THURSDAY, 8), special_days=days)).startswith(
        "Idag är det ingen speciell dag."
    )


# --- the store -------------------------------------------------------------------------------------


def _count(db: Session, table: type) -> int:
    return db.scalar(select(func.count()).select_from(table)) or 0


@pytest.fixture
def children(db: Session, world: World) -> dict[str, int]:
    rows = {
        "Alva": Child(preschool_id=world.ekorren, first_name="Alva"),
        "Ture": Child(preschool_id=world.ekorren, first_name="Ture"),
        "Gammal": Child(preschool_id=world.ekorren, first_name="Gammal", active=False),
        "Humla": Child(preschool_id=world.humlan, first_name="Humla"),
        "Myra": Child(preschool_id=world.myran, first_name="Myra"),
    }
    db.add_all(rows.values())
    db.commit()
    return {name: row.id for name, row in rows.items()}


def test_bad_input_is_refused_in_swedish_and_nothing_is_stored(db: Session, world: World) -> None:
    with pytest.raises(store.CalendarError) as caught:
        store.add_event(db, world.ekorren, day="13/12", title=" ", at="nio")
    assert caught.value.errors == [
        "”13/12” är inget datum som 2026-12-13.",
        "Ange en rubrik (högst 100 tecken).",
        "Tiden: ange en tid som 09:30.",
    ]
    with pytest.raises(store.CalendarError, match="högst 100"):
        store.add_event(db, world.ekorren, day="2026-12-13", title="x" * 101)
    with pytest.raises(store.CalendarError, match="Välj en bild"):
        store.add_event(db, world.ekorren, day="2026-12-13", title="Fest", picture="../etc/passwd")
    with pytest.raises(store.CalendarError) as caught:
        store.add_activity(
            db,
            world.ekorren,
            day="",
            title="Skogen",
            starts_at="11:00",
            ends_at="9:30",
            future_text="x" * 201,
        )
    assert caught.value.errors == [
        "Ange ett datum.",
        "Texten före får vara högst 200 tecken lång.",
        "Aktiviteten måste sluta efter att den börjar.",
    ]
    with pytest.raises(store.CalendarError, match="Ange varför förskolan är stängd"):
        store.add_closed_day(db, world.ekorren, day="2026-12-01", reason="")
    store.add_closed_day(db, world.ekorren, day="2026-12-01", reason="Planeringsdag")
    with pytest.raises(store.CalendarError, match="redan stängd 2026-12-01"):
        store.add_closed_day(db, world.ekorren, day="2026-12-01", reason="Igen")
    assert store.add_closed_day(db, world.humlan, day="2026-12-01", reason="Planeringsdag").id
    assert (_count(db, CalendarEvent), _count(db, Activity), _count(db, ClosedDay)) == (0, 0, 2)


def test_activity_texts_default_to_the_title_and_end_as_sentences(db: Session, world: World) -> None:
    row = store.add_activity(db, world.ekorren, day=THURSDAY, title="  Skogsutflykt ", starts_at="8.30")
    assert (row.title, row.future_text, row.past_text, row.starts_at) == (
        "Skogsutflykt",
        "Skogsutflykt.",
        "Skogsutflykt.",
        dt.time(8, 30),
    )
    row = store.add_activity(
        db, world.ekorren, day="2026-11-26", title="Skogen", future_text="Vi ska gå till skogen!"
    )
    assert (row.future_text, row.past_text) == ("Vi ska gå till skogen!", "Skogen.")


def test_yearly_events_repeat_on_their_day(db: Session, world: World) -> None:
    store.add_event(db, world.ekorren, day="2025-12-13", title="Luciafest", at="09:00", yearly=True)
    store.add_event(db, world.ekorren, day="2024-02-29", title="Skottdagsfest", yearly=True)
    store.add_event(db, world.ekorren, day="2026-12-20", title="Julavslutning")
    store.add_event(db, world.ekorren, day="2027-06-01", title="Sommarfest", yearly=True)
    store.add_event(db, world.humlan, day="2026-12-14", title="Humlans fest")
    found = store.calendar_events_between(db, world.ekorren, dt.date(2026, 1, 1), dt.date(2027, 12, 31))
    assert found == {
        dt.date(2026, 2, 28): [(None, "Skottdagsfest")],
        dt.date(2026, 12, 13): [(dt.time(9), "Luciafest")],
        dt.date(2026, 12, 20): [(None, "Julavslutning")],
        dt.date(2027, 2, 28): [(None, "Skottdagsfest")],
        dt.date(2027, 6, 1): [(None, "Sommarfest")],  # not in 2026: it was entered for 2027
        dt.date(2027, 12, 13): [(dt.time(9), "Luciafest")],
    }
    assert store.calendar_events_between(db, world.ekorren, dt.date(2028, 2, 29), dt.date(2028, 2, 29)) == {
        dt.date(2028, 2, 29): [(None, "Skottdagsfest")]
    }


def test_participants_must_be_active_children_of_the_same_preschool(
    db: Session, world: World, children: dict[str, int]
) -> None:
    for other in ("Humla", "Myra", "Gammal"):
        with pytest.raises(store.CalendarError) as caught:
            store.add_activity(
                db,
                world.ekorren,
                day=THURSDAY,
                title="Skogen",
                participants=[children["Alva"], children[other]],
            )
        assert caught.value.errors == ["Ett av de valda barnen finns inte (längre) på förskolan."]
    with pytest.raises(store.CalendarError, match="Välj barnen i listan"):
        store.add_activity(db, world.ekorren, day=THURSDAY, title="Skogen", participants=["Alva"])
    assert _count(db, Activity) == 0
    store.add_activity(
        db,
        world.ekorren,
        day=THURSDAY,
        title="Skogen",
        future_text="Vi ska gå till skogen",
        past_text="Vi gick till skogen",
        starts_at="09:30",
        ends_at="11:00",
        picture="activity/forest",
        participants=[str(children["Ture"]), str(children["Alva"])],
    )
    assert store.activities_on(db, world.ekorren, THURSDAY) == [
        ActivityInfo(
            "Skogen",
            "Vi ska gå till skogen.",
            "Vi gick till skogen.",
            dt.time(9, 30),
            dt.time(11),
            "activity/forest",
            ("Ture", "Alva"),
        )
    ]
    assert store.activities_on(db, world.humlan, THURSDAY) == []
    # A child who leaves the preschool is no longer named.
    alva = db.get_one(Child, children["Alva"])
    alva.active = False
    db.flush()
    assert store.activities_on(db, world.ekorren, THURSDAY)[0].participants == ("Ture",)


def test_today_carries_the_calendar_and_the_answers_use_it(
    db: Session, world: World, children: dict[str, int]
) -> None:
    store.add_closed_day(db, world.ekorren, day=THURSDAY + dt.timedelta(days=1), reason="planeringsdag")
    store.add_event(db, world.ekorren, day=THURSDAY, title="Föräldrafika", at="15:00")
    store.add_event(db, world.myran, day=THURSDAY, title="Myrans fest")
    store.add_activity(
        db,
        world.ekorren,
        day=THURSDAY,
        title="Skogen",
        future_text="Vi ska gå till skogen.",
        past_text="Vi gick till skogen.",
        participants=[children["Alva"]],
    )
    preschool = db.get_one(Preschool, world.ekorren)
    assert preschool.show_child_names is False
    store.set_show_child_names(db, preschool, True)
    db.commit()
    today = today_for(db, preschool, at(THURSDAY, 9))
    assert today.preschool_events == {THURSDAY: ((dt.time(15), "Föräldrafika"),)}
    assert today.closed_days == {THURSDAY + dt.timedelta(days=1): "planeringsdag"}
    assert today.show_child_names is True
    assert say(activities.answer, Intent("activities"), today) == "Vi ska gå till skogen. Med är Alva."
    assert say(calendar.answer, Intent("calendar"), today) == "Idag har vi Föräldrafika!"
    friday = today_for(db, preschool, at(THURSDAY + dt.timedelta(days=1), 9))
    assert say(calendar.answer, Intent("calendar"), friday) == "Idag är förskolan stängd: planeringsdag."
    assert say(lunch.answer, Intent("lunch"), friday) == "Förskolan är stängd den dagen."
    assert friday.activities == ()
    # Without the activities module, no child's name is even read.
    preschool.modules = ["calendar", "lunch"]
    db.commit()
    assert today_for(db, preschool, at(THURSDAY, 9)).activities == ()


def test_deleting_is_scoped_by_preschool(db: Session, world: World) -> None:
    event = store.add_event(db, world.ekorren, day=THURSDAY, title="Fest")
    closed = store.add_closed_day(db, world.ekorren, day=THURSDAY, reason="Planeringsdag")
    activity = store.add_activity(db, world.ekorren, day=THURSDAY, title="Skogen")
    assert not store.delete_event(db, world.myran, event.id)
    assert not store.delete_closed_day(db, world.myran, closed.id)
    assert not store.delete_activity(db, world.myran, activity.id)
    assert (_count(db, CalendarEvent), _count(db, ClosedDay), _count(db, Activity)) == (1, 1, 1)
    assert store.delete_event(db, world.ekorren, event.id)
    assert store.delete_closed_day(db, world.ekorren, closed.id)
    assert store.delete_activity(db, world.ekorren, activity.id)
    assert (_count(db, CalendarEvent), _count(db, ClosedDay), _count(db, Activity)) == (0, 0, 0)


def test_the_migration_keeps_existing_preschools_quiet_about_names(engine: Engine) -> None:
    config = _alembic_config(engine)
    command.downgrade(config, "0003")
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO organisations (id, name, created_at) VALUES (1, 'O', CURRENT_TIMESTAMP)")
        )
        connection.execute(
            text(
                "INSERT INTO preschools (id, organisation_id, slug, name, timezone, address, modules,"
                " languages, day_starts_at, day_ends_at, created_at) VALUES (1, 1, 'gamla', 'Gamla',"
                " 'Europe/Stockholm', '', '[]', '[\"sv\"]', '06:30:00', '17:30:00', CURRENT_TIMESTAMP)"
            )
        )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT show_child_names FROM preschools")).scalar() in (False, 0)


# --- the admin page --------------------------------------------------------------------------------


@pytest.fixture
def admin(app: FastAPI, browser_for: SignIn) -> Iterator[SignIn]:
    """browser_for, with the calendar page in the app (until app.py includes it)."""
    if not any(getattr(route, "path", "").startswith("/admin/p/{slug}/calendar") for route in app.routes):
        app.include_router(router)
    yield browser_for


def test_the_admin_calendar_page(admin: SignIn, world: World, db: Session, children: dict[str, int]) -> None:
    pedagogue: Browser = admin(world.pedagogue_ekorren, PASSWORD)
    page = pedagogue.get("/admin/p/ekorren/calendar")
    assert page.status_code == 200 and "Alva" in page.text and "Humla" not in page.text
    assert "Gammal" not in page.text
    read = db.scalars(select(AuditEntry.subject).where(AuditEntry.action == "read")).all()
    assert read == ["children"]  # the page shows the children's names: that read is logged
    soon = (dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=3)).isoformat()

    saved = pedagogue.post(
        "/admin/p/ekorren/calendar/events",
        {"day": soon, "at": "09:00", "title": "<b>Luciafest</b>", "picture": "calendar/lucia", "yearly": "1"},
    )
    assert saved.status_code == 200 and "Sparat." in saved.text
    assert "&lt;b&gt;Luciafest&lt;/b&gt;" in saved.text and "(varje år)" in saved.text
    assert (
        pedagogue.post(
            "/admin/p/ekorren/calendar/closed", {"day": soon, "reason": "Planeringsdag"}
        ).status_code
        == 200
    )
    added = pedagogue.post(
        "/admin/p/ekorren/calendar/activities",
        {
            "day": soon,
            "title": "Skogen",
            "future_text": "Vi ska gå till skogen.",
            "starts_at": "09:30",
            "ends_at": "11:00",
            "picture": "activity/forest",
            "participants": [str(children["Alva"]), str(children["Ture"])],
        },
    )
    assert added.status_code == 200 and "Alva, Ture" in added.text and "Efter: Skogen." in added.text

    bad = pedagogue.post(
        "/admin/p/ekorren/calendar/activities",
        {
            "day": soon,
            "title": "Bad",
            "starts_at": "12:00",
            "ends_at": "11:00",
            "participants": [str(children["Myra"])],
        },
    )
    assert bad.status_code == 400 and "Inget sparades." in bad.text
    assert "Aktiviteten måste sluta efter att den börjar." in bad.text
    assert "Ett av de valda barnen finns inte (längre) på förskolan." in bad.text
    assert 'value="Bad"' in bad.text  # what staff typed stays in the form
    twice = pedagogue.post("/admin/p/ekorren/calendar/closed", {"day": soon, "reason": "Igen"})
    assert twice.status_code == 400 and "redan stängd" in twice.text
    db.expire_all()
    assert (_count(db, CalendarEvent), _count(db, ClosedDay), _count(db, Activity)) == (1, 1, 1)

    names = pedagogue.post("/admin/p/ekorren/calendar/names", {"show_child_names": "1"})
    assert names.status_code == 200
    db.expire_all()
    assert db.get_one(Preschool, world.ekorren).show_child_names is True
    pedagogue.post("/admin/p/ekorren/calendar/names", {})
    db.expire_all()
    assert db.get_one(Preschool, world.ekorren).show_child_names is False

    event_id = db.scalars(select(CalendarEvent.id)).one()
    activity_id = db.scalars(select(Activity.id)).one()
    closed_id = db.scalars(select(ClosedDay.id)).one()
    for path in (f"events/{event_id}", f"closed/{closed_id}", f"activities/{activity_id}"):
        assert pedagogue.post(f"/admin/p/ekorren/calendar/{path}/delete").status_code == 200
    db.expire_all()
    assert (_count(db, CalendarEvent), _count(db, ClosedDay), _count(db, Activity)) == (0, 0, 0)


def test_the_admin_page_is_tenant_isolated_and_csrf_checked(admin: SignIn, world: World, db: Session) -> None:
    event = store.add_event(db, world.myran, day=THURSDAY, title="Myrans fest")
    humlan_event = store.add_event(db, world.humlan, day=THURSDAY, title="Humlans fest")
    db.commit()
    other_org = admin(world.org_admin_b, PASSWORD)
    assert other_org.get("/admin/p/ekorren/calendar").status_code == 404
    assert (
        other_org.post("/admin/p/ekorren/calendar/events", {"day": "2026-12-13", "title": "X"}).status_code
        == 404
    )
    pedagogue = admin(world.pedagogue_ekorren, PASSWORD)
    assert pedagogue.get("/admin/p/humlan/calendar").status_code == 403  # same org, no role there
    # Another preschool's row through one's own preschool: not found, and not deleted.
    assert pedagogue.post(f"/admin/p/ekorren/calendar/events/{event.id}/delete").status_code == 404
    assert pedagogue.post(f"/admin/p/ekorren/calendar/events/{humlan_event.id}/delete").status_code == 404
    assert "Myrans fest" not in pedagogue.get("/admin/p/ekorren/calendar").text
    forged = pedagogue.client.post(
        "/admin/p/ekorren/calendar/events", data={"day": "2026-12-13", "title": "Fest", "csrf_token": "nope"}
    )
    assert forged.status_code == 403
    no_token = pedagogue.client.post("/admin/p/ekorren/calendar/names", data={"show_child_names": "1"})
    assert no_token.status_code == 403
    db.expire_all()
    assert _count(db, CalendarEvent) == 2
    assert db.get_one(Preschool, world.ekorren).show_child_names is False
