"""The day schedule: the store's all-or-nothing replace with Swedish errors per row, and the admin page
(every day and weekdays, a weekday's own schedule replacing the every-day one in `Today`, clearing it,
copying, CSRF and tenancy)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from laiban.demo import DEMO_SCHEDULE
from laiban.model.today import ClockEvent
from laiban.skills.clock import EVENT_NAMES
from laiban.store.schedule import KINDS, ScheduleError, copy_to_weekday, events_of, replace_events
from laiban.store.tables import Group, Preschool, ScheduleEvent
from laiban.store.today import today_for
from laiban.web.admin.schedule import KIND_LABELS, router

from .conftest import Browser, SignIn
from .world import PASSWORD, World

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MONDAY = dt.date(2026, 11, 23)
PAGE = "/admin/p/ekorren/schedule"
EVERY_DAY = tuple(ClockEvent(dt.time.fromisoformat(at), kind, title) for at, kind, title in DEMO_SCHEDULE)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), STOCKHOLM)


def stored(db: Session, preschool_id: int) -> dict[int | None, list[tuple[str, str, str]]]:
    db.expire_all()
    return {
        day: [(f"{e.at:%H:%M}", e.kind, e.title) for e in events]
        for day, events in events_of(db, preschool_id).items()
    }


def events_on(db: Session, preschool_id: int, moment: dt.datetime) -> tuple[ClockEvent, ...]:
    db.expire_all()
    return today_for(db, db.get_one(Preschool, preschool_id), moment).events


def rows(*typed: tuple[str, str, str]) -> dict[str, list[str]]:
    """Form fields for typed rows, plus the page's three blank rows."""
    filled = [*typed, ("", "", ""), ("", "", ""), ("", "", "")]
    return {
        "time": [r[0] for r in filled],
        "kind": [r[1] for r in filled],
        "title": [r[2] for r in filled],
    }


@pytest.fixture
def schedule_app(app: FastAPI) -> FastAPI:
    """The app with the schedule pages (whether or not app.py registers them yet)."""
    if not any(getattr(route, "path", "").startswith(router.prefix) for route in app.routes):
        app.include_router(router)
    return app


@pytest.fixture
def demo(db: Session, world: World) -> None:
    """Ekorren gets the demo's every-day schedule."""
    replace_events(db, world.ekorren, None, list(DEMO_SCHEDULE))
    db.commit()


@pytest.fixture
def pedagogue(schedule_app: FastAPI, world: World, demo: None, browser_for: SignIn) -> Browser:
    return browser_for(world.pedagogue_ekorren, PASSWORD)


# --- the store ---------------------------------------------------------------------------------------


def test_the_kinds_are_the_clocks_and_other() -> None:
    assert (*EVENT_NAMES, "other") == KINDS
    assert tuple(KIND_LABELS) == KINDS


def test_replace_checks_every_row_first_and_names_it(db: Session, world: World) -> None:
    with pytest.raises(ScheduleError) as caught:
        replace_events(
            db,
            world.ekorren,
            0,
            [
                ("08:00", "breakfast", "Frukost"),
                ("", "", ""),  # skipped, but still counted: row numbers are the form's
                ("8.00", "gathering", "Samling"),
                ("25:99", "lunch", "Lunch"),
                ("18:00", "party", ""),
                ("10:00", "other", "x" * 101),
            ],
        )
    assert caught.value.errors == [
        "Rad 3: klockan 08:00 finns redan på rad 1. Två händelser kan inte börja samtidigt.",
        "Rad 4: ”25:99” är inget klockslag. Skriv till exempel 08:30.",
        "Rad 5: skriv vad som händer.",
        "Rad 5: välj vad det är i listan (till exempel Lunch eller Annat).",
        "Rad 5: 18:00 är utanför förskolans öppettider 06:30–17:30.",
        "Rad 6: texten får vara högst 100 tecken lång.",
    ]
    assert stored(db, world.ekorren) == {}


def test_replace_is_per_weekday_and_preschool_level_only(db: Session, world: World) -> None:
    group = db.scalars(select(Group.id).where(Group.preschool_id == world.ekorren)).one()
    db.add(
        ScheduleEvent(preschool_id=world.ekorren, group_id=group, at=dt.time(9), kind="other", title="Svamp")
    )
    replace_events(db, world.humlan, None, [("09:00", "gathering", "Samling")])
    assert replace_events(db, world.ekorren, None, [("9:15", "gathering", "  Samling   i ringen ")]) == 1
    assert (
        replace_events(db, world.ekorren, 0, [("17:30", "pickup", "Hämtning"), ("06:30", "other", "Öppnar")])
        == 2
    )
    assert stored(db, world.ekorren) == {
        None: [("09:15", "gathering", "Samling i ringen")],
        0: [("06:30", "other", "Öppnar"), ("17:30", "pickup", "Hämtning")],
    }
    replace_events(db, world.ekorren, 0, [])
    assert stored(db, world.ekorren) == {None: [("09:15", "gathering", "Samling i ringen")]}
    assert stored(db, world.humlan) == {None: [("09:00", "gathering", "Samling")]}
    assert db.scalar(select(ScheduleEvent.title).where(ScheduleEvent.group_id == group)) == "Svamp"


def test_copy_to_a_weekday(db: Session, world: World) -> None:
    replace_events(db, world.ekorren, None, list(DEMO_SCHEDULE))
    replace_events(db, world.ekorren, 2, [("10:00", "other", "Bad")])
    assert copy_to_weekday(db, world.ekorren, None, 2) == len(DEMO_SCHEDULE)
    assert stored(db, world.ekorren)[2] == stored(db, world.ekorren)[None]
    assert copy_to_weekday(db, world.ekorren, 4, 2) == 0  # an empty day: Wednesday follows every day again
    assert 2 not in stored(db, world.ekorren)


# --- the admin page ----------------------------------------------------------------------------------


def test_the_page_shows_the_every_day_schedule(pedagogue: Browser) -> None:
    page = pedagogue.get(PAGE)
    assert page.status_code == 200
    for text in ("Alla dagar", "Måndag", "Tisdag", "Onsdag", "Torsdag", "Fredag", "06:30–17:30"):
        assert text in page.text
    assert "ersätter schemat för alla dagar" in page.text
    assert 'value="09:30"' in page.text and 'value="Fruktstund"' in page.text
    assert '<option value="fruit" selected>Fruktstund</option>' in page.text
    assert page.text.count('name="time"') == len(DEMO_SCHEDULE) + 3
    monday = pedagogue.get(PAGE + "?day=0")
    assert monday.status_code == 200 and "Måndag följer schemat för alla dagar" in monday.text
    assert monday.text.count('name="time" value=""') == 3
    assert "Ta bort dagens egna schema" not in monday.text
    assert pedagogue.get(PAGE + "?day=6").status_code == 400


def test_a_weekdays_own_schedule_replaces_the_every_day_one(
    pedagogue: Browser, db: Session, world: World
) -> None:
    saved = pedagogue.post(
        PAGE + "?day=0",
        rows(("10:30", "other", "Skogsutflykt"), ("08:15", "breakfast", "Frukost")),
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == PAGE + "?day=0&saved=1"
    page = pedagogue.get(saved.headers["location"])
    assert (
        "Sparat." in page.text and "(eget schema)" in page.text and "Ta bort dagens egna schema" in page.text
    )
    assert stored(db, world.ekorren)[0] == [
        ("08:15", "breakfast", "Frukost"),
        ("10:30", "other", "Skogsutflykt"),
    ]
    assert events_on(db, world.ekorren, at(MONDAY, 10)) == (
        ClockEvent(dt.time(8, 15), "breakfast", "Frukost"),
        ClockEvent(dt.time(10, 30), "other", "Skogsutflykt"),
    )
    assert events_on(db, world.ekorren, at(MONDAY + dt.timedelta(days=1), 10)) == EVERY_DAY
    # Editing every day leaves Monday's own schedule alone.
    every_day = pedagogue.post(PAGE + "?day=all", rows(("09:00", "gathering", "Samling")))
    assert every_day.status_code == 200 and "Sparat." in every_day.text
    assert events_on(db, world.ekorren, at(MONDAY + dt.timedelta(days=1), 10)) == (
        ClockEvent(dt.time(9), "gathering", "Samling"),
    )
    assert len(events_on(db, world.ekorren, at(MONDAY, 10))) == 2


def test_clearing_a_weekday_follows_every_day_again(pedagogue: Browser, db: Session, world: World) -> None:
    pedagogue.post(PAGE + "?day=4", rows(("15:00", "other", "Fredagsmys")))
    assert events_on(db, world.ekorren, at(MONDAY + dt.timedelta(days=4), 10)) == (
        ClockEvent(dt.time(15), "other", "Fredagsmys"),
    )
    cleared = pedagogue.post(PAGE + "/clear?day=4", follow_redirects=False)
    assert cleared.status_code == 303 and cleared.headers["location"] == PAGE + "?day=4&saved=1"
    assert 4 not in stored(db, world.ekorren)
    assert events_on(db, world.ekorren, at(MONDAY + dt.timedelta(days=4), 10)) == EVERY_DAY
    assert pedagogue.post(PAGE + "/clear?day=all").status_code == 400
    assert None in stored(db, world.ekorren)


def test_copying_every_day_to_a_weekday(pedagogue: Browser, db: Session, world: World) -> None:
    copied = pedagogue.post(PAGE + "/copy?day=2", {"from": "all"})
    assert copied.status_code == 200 and "Sparat." in copied.text
    assert stored(db, world.ekorren)[2] == stored(db, world.ekorren)[None]
    assert pedagogue.post(PAGE + "/copy?day=2", {"from": "2"}).status_code == 400


@pytest.mark.parametrize(
    ("typed", "message", "kept"),
    [
        (
            ("25:99", "lunch", "Lunch"),
            "Rad 2: ”25:99” är inget klockslag. Skriv till exempel 08:30.",
            "25:99",
        ),
        (
            ("08:00", "other", "Sagostund"),
            "Rad 2: klockan 08:00 finns redan på rad 1. Två händelser kan inte börja samtidigt.",
            "Sagostund",
        ),
        (("12:00", "other", "x" * 101), "Rad 2: texten får vara högst 100 tecken lång.", "x" * 101),
        (("12:00", "party", "Disco"), "Rad 2: välj vad det är i listan", "Disco"),
        (("12:00", "", "Disco"), "Rad 2: välj vad det är i listan", "Disco"),
        (
            ("18:30", "pickup", "Sen hämtning"),
            "Rad 2: 18:30 är utanför förskolans öppettider 06:30–17:30.",
            "18:30",
        ),
        (("06:00", "other", "Tidig"), "Rad 2: 06:00 är utanför förskolans öppettider", "06:00"),
        (("12:00", "lunch", "   "), "Rad 2: skriv vad som händer.", "12:00"),
        (("", "lunch", "Lunch"), "Rad 2: ange ett klockslag", "Lunch"),
    ],
)
def test_bad_rows_are_refused_with_nothing_stored(
    pedagogue: Browser, db: Session, world: World, typed: tuple[str, str, str], message: str, kept: str
) -> None:
    before = stored(db, world.ekorren)
    for day in ("0", "all"):
        refused = pedagogue.post(PAGE + f"?day={day}", rows(("08:00", "breakfast", "Frukost"), typed))
        assert refused.status_code == 400
        assert message in refused.text and "Inget sparades." in refused.text
        assert "Sparat." not in refused.text
        assert f'value="{kept}"' in refused.text and 'value="Frukost"' in refused.text  # as typed
        assert stored(db, world.ekorren) == before


def test_titles_are_shown_escaped(pedagogue: Browser) -> None:
    pedagogue.post(PAGE + "?day=1", rows(("10:00", "other", '<script>alert("x")</script>')))
    page = pedagogue.get(PAGE + "?day=1")
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(&#34;x&#34;)" in page.text


def test_csrf_and_tenancy(
    pedagogue: Browser, schedule_app: FastAPI, db: Session, world: World, browser_for: SignIn
) -> None:
    before = stored(db, world.ekorren)
    forged = pedagogue.client.post(PAGE + "?day=0", data=rows(("10:00", "other", "Bus")))
    assert forged.status_code == 403
    assert pedagogue.client.post(PAGE + "/clear?day=0").status_code == 403
    wrong = pedagogue.client.post(
        PAGE + "?day=0", data={"csrf_token": "x" * 64, **rows(("10:00", "other", "Bus"))}
    )
    assert wrong.status_code == 403
    other: Browser = browser_for(world.org_admin_b, PASSWORD)
    assert other.get(PAGE).status_code == 404
    assert other.post(PAGE + "?day=0", rows(("10:00", "other", "Bus"))).status_code == 404
    assert other.post(PAGE + "/clear?day=0").status_code == 404
    assert other.post(PAGE + "/copy?day=0", {"from": "all"}).status_code == 404
    assert pedagogue.get("/admin/p/humlan/schedule").status_code == 403  # same organisation, no role
    assert stored(db, world.ekorren) == before


def test_a_groups_own_schedule_reaches_its_kiosks(client, world, browser_for, db) -> None:  # type: ignore[no-untyped-def]
    """A group (avdelning) may have its own schedule; kiosks of that group use it, others the preschool's."""
    from laiban.store import accounts
    from laiban.store.tables import Group, Preschool, ScheduleEvent
    from tests.world import PASSWORD

    group = db.scalars(select(Group).where(Group.preschool_id == world.ekorren)).one()
    db.add(ScheduleEvent(preschool_id=world.ekorren, at=dt.time(11, 15), kind="lunch", title="Lunch"))
    db.commit()
    admin = browser_for(world.admin_ekorren, PASSWORD)
    saved = admin.post(
        f"/admin/p/ekorren/schedule?day=all&group={group.id}",
        {"time": ["11:45"], "kind": ["lunch"], "title": ["Lunch på Svamp"]},
    )
    assert saved.status_code == 200 and "Sparat" in saved.text
    assert admin.get("/admin/p/ekorren/schedule?day=all&group=999999").status_code == 404
    created = admin.post("/admin/p/ekorren/devices", {"name": "Svamps hall", "group": str(group.id)})
    code = created.text.split('<p class="code">')[1].split("<")[0]
    token = client.post("/api/v1/devices/pair", json={"code": code}).json()["token"]

    def events(device_token: str) -> list[str]:
        body = client.get("/api/v1/today", headers={"Authorization": f"Bearer {device_token}"}).json()
        return [f"{e['at'][:5]} {e['title']}" for e in body["events"]]

    assert events(token) == ["11:45 Lunch på Svamp"]
    assert events(world.device_ekorren) == ["11:15 Lunch"]
    other_group = db.get_one(Preschool, world.humlan)
    with pytest.raises(accounts.AccountError):
        accounts.create_device(db, other_group, "Fel", group.id)  # a group of another preschool
