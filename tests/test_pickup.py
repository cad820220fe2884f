"""Who picks me up, end to end: the store's view of a child's day, the kiosk API's boundaries (own
preschool, own group, today and tomorrow only), the retention job with a fixed clock, the demo through
`laiban ask`, and no child's name in any log line."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from laiban.config import Settings
from laiban.demo import ensure_demo
from laiban.jobs.retention import purge_personal_data
from laiban.store import accounts
from laiban.store.children import (
    Plan,
    add_child,
    child_days,
    create_guardian_link,
    mark,
    pickup_children,
    revoke_guardian_link,
    set_day,
    set_pickup,
    set_week,
)
from laiban.store.db import transaction
from laiban.store.preschools import preschool_by_slug
from laiban.store.tables import Child, Group, GuardianLink, Preschool, Presence, PresenceChange
from laiban.store.today import today_for

from .test_cli import clean_env, ok
from .world import World

STOCKHOLM = ZoneInfo("Europe/Stockholm")
THURSDAY = dt.date(2026, 11, 26)
WEEKDAYS = dict.fromkeys(range(5), Plan(dt.time(8, 0), dt.time(16, 15), "mamma"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), STOCKHOLM)


@pytest.fixture
def kids(sessions: sessionmaker[Session], world: World) -> dict[str, int]:
    """Ella and Noah at Ekorren (Noah in its group Svamp), Vera at Humlan, Mio at Myran (org B)."""
    with transaction(sessions) as session:
        ids = {}
        for name, preschool_id, in_group in (
            ("Ella", world.ekorren, False),
            ("Noah", world.ekorren, True),
            ("Vera", world.humlan, False),
            ("Mio", world.myran, False),
        ):
            preschool = session.get_one(Preschool, preschool_id)
            group = preschool.groups[0].id if in_group else None
            child = add_child(session, preschool, name, group, "cat")
            set_week(session, preschool, child, WEEKDAYS)
            ids[name] = child.id
        return ids


# --- the store's view of a day -------------------------------------------------------------------


def test_a_day_entry_replaces_the_week_where_it_says_something(db: Session, world: World) -> None:
    preschool = db.get_one(Preschool, world.ekorren)
    child = add_child(db, preschool, "Ella", None, "owl")
    set_week(db, preschool, child, WEEKDAYS)
    set_pickup(db, preschool, child, THURSDAY, dt.time(15, 30), "mormor", by="Mamma (vårdnadshavare)")
    days = child_days(db, preschool, [child], [THURSDAY, THURSDAY + dt.timedelta(days=1)], STOCKHOLM)[
        child.id
    ]
    thursday, friday = days[THURSDAY], days[THURSDAY + dt.timedelta(days=1)]
    assert (thursday.coming, thursday.arrives_at, thursday.leaves_at, thursday.pickup_by) == (
        True,
        dt.time(8, 0),
        dt.time(15, 30),
        "mormor",
    )
    assert thursday.usual_leaves_at == dt.time(16, 15)
    assert (friday.leaves_at, friday.pickup_by) == (dt.time(16, 15), "mamma")

    set_day(db, preschool, child, THURSDAY, absent=True, plan=Plan(), by="Anna")
    assert child_days(db, preschool, [child], [THURSDAY], STOCKHOLM)[child.id][THURSDAY].coming is False


def test_weekends_holidays_and_no_schedule(db: Session, world: World) -> None:
    preschool = db.get_one(Preschool, world.ekorren)
    known = add_child(db, preschool, "Ella", None, "owl")
    set_week(db, preschool, known, WEEKDAYS)
    unknown = add_child(db, preschool, "Noah", None, "dog")
    saturday, christmas_eve = dt.date(2026, 11, 28), dt.date(2026, 12, 24)  # Christmas Eve is a Thursday
    days = child_days(db, preschool, [known, unknown], [saturday, christmas_eve, THURSDAY], STOCKHOLM)
    assert days[known.id][saturday].coming is False
    assert days[known.id][christmas_eve].coming is False
    assert days[unknown.id][THURSDAY].coming is None  # nobody told Laiban: it must not guess


def test_marks_are_local_times_and_next_day_skips_the_weekend(db: Session, world: World) -> None:
    preschool = db.get_one(Preschool, world.ekorren)
    child = add_child(db, preschool, "Ella", None, "owl")
    set_week(db, preschool, child, WEEKDAYS)
    friday = dt.date(2026, 11, 27)
    mark(db, child, friday, "in", by="Anna", at=at(friday, 7, 58))
    mark(db, child, friday, "out", by="Anna", at=at(friday, 15, 2))
    (seen,) = pickup_children(db, preschool, None, at(friday, 16))
    assert (seen.today.checked_in_at, seen.today.checked_out_at) == (dt.time(7, 58), dt.time(15, 2))
    assert seen.tomorrow.coming is False  # Saturday
    assert seen.next_day == dt.date(2026, 11, 30)  # Monday


# --- the kiosk API -------------------------------------------------------------------------------


def test_a_kiosk_lists_only_its_own_preschools_children(
    client: TestClient, world: World, kids: dict[str, int]
) -> None:
    listed = client.get("/api/v1/children", headers=bearer(world.device_ekorren))
    assert listed.status_code == 200
    assert {child["name"] for child in listed.json()} == {"Ella", "Noah"}
    assert all(set(child) == {"id", "name", "avatar"} for child in listed.json())
    myran = client.get("/api/v1/children", headers=bearer(world.device_myran)).json()
    assert [child["name"] for child in myran] == ["Mio"]
    assert client.get("/api/v1/children").status_code == 401


def test_a_group_kiosk_sees_only_its_groups_children(
    client: TestClient, sessions: sessionmaker[Session], world: World, kids: dict[str, int]
) -> None:
    with transaction(sessions) as session:
        preschool = session.get_one(Preschool, world.ekorren)
        _device, code = accounts.create_device(
            session, preschool, "Svamps hall", group_id=preschool.groups[0].id
        )
        paired = accounts.pair_device(session, code)
        assert paired is not None
        token = paired[1]
    assert [c["name"] for c in client.get("/api/v1/children", headers=bearer(token)).json()] == ["Noah"]
    outside = client.post(
        "/api/v1/ask", json={"intent": "pickup", "child": kids["Ella"]}, headers=bearer(token)
    )
    assert outside.status_code == 404
    assert "Ella" not in outside.text


@pytest.mark.parametrize("other", ["Vera", "Mio"])
def test_a_child_of_another_preschool_is_not_found(
    client: TestClient, world: World, kids: dict[str, int], other: str
) -> None:
    response = client.post(
        "/api/v1/ask", json={"intent": "pickup", "child": kids[other]}, headers=bearer(world.device_ekorren)
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert other not in response.text


def test_who_picks_me_up_asks_who_is_asking_then_answers_about_that_child_only(
    client: TestClient, world: World, kids: dict[str, int]
) -> None:
    first = client.post("/api/v1/ask", json={"text": "vem hämtar mig?"}, headers=bearer(world.device_ekorren))
    assert first.status_code == 200
    assert (first.json()["intent"], first.json()["asks_for"]) == ("pickup", "child")
    tapped = client.post(
        "/api/v1/ask", json={"intent": "pickup", "child": kids["Noah"]}, headers=bearer(world.device_ekorren)
    )
    body = tapped.json()
    assert tapped.status_code == 200, tapped.text
    assert body["asks_for"] is None
    assert body["pictures"][0] == "avatar/cat"
    assert "Ella" not in json.dumps(body, ensure_ascii=False)
    assert "dig" in body["text"] or "du" in body["text"].lower()  # spoken to the child who tapped


def test_the_pickup_module_switched_off_tells_nothing(
    client: TestClient, sessions: sessionmaker[Session], world: World, kids: dict[str, int]
) -> None:
    with transaction(sessions) as session:
        preschool = session.get_one(Preschool, world.ekorren)
        preschool.modules = [m for m in preschool.modules if m != "pickup"]
    assert client.get("/api/v1/children", headers=bearer(world.device_ekorren)).json() == []
    answer = client.post(
        "/api/v1/ask", json={"text": "vem hämtar Ella?"}, headers=bearer(world.device_ekorren)
    ).json()
    assert answer["available"] is False
    assert "mamma" not in answer["text"]


@pytest.mark.parametrize("child", [0, -1, 2**31, "Ella"])
def test_a_bad_child_id_is_a_clear_422(client: TestClient, world: World, child: object) -> None:
    response = client.post(
        "/api/v1/ask", json={"intent": "pickup", "child": child}, headers=bearer(world.device_ekorren)
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_no_childs_name_reaches_the_log(
    client: TestClient, world: World, kids: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for body in (
        {"text": "vem hämtar Ella?"},
        {"text": "när går Noah hem"},
        {"intent": "pickup", "child": kids["Noah"]},
        {"intent": "pickup", "child": kids["Vera"]},
    ):
        client.post("/api/v1/ask", json=body, headers=bearer(world.device_ekorren))
    client.get("/api/v1/children", headers=bearer(world.device_ekorren))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/api/v1/ask" in logged  # the access log did run
    for name in ("Ella", "Noah", "Vera"):
        assert name not in logged


# --- retention -----------------------------------------------------------------------------------


def _day_rows(session: Session, preschool_id: int) -> dict[dt.date, int]:
    rows = session.execute(
        select(Presence.day, func.count()).where(Presence.preschool_id == preschool_id).group_by(Presence.day)
    ).all()
    return {day: n for day, n in rows}


def test_the_retention_job_deletes_yesterday_at_the_end_of_the_local_day(
    engine, sessions: sessionmaker[Session], settings: Settings, world: World, kids: dict[str, int]
) -> None:
    wednesday = THURSDAY - dt.timedelta(days=1)
    with transaction(sessions) as session:
        preschool = session.get_one(Preschool, world.ekorren)
        ella = session.get_one(Child, kids["Ella"])
        for day in (wednesday, THURSDAY, THURSDAY + dt.timedelta(days=1)):
            set_pickup(session, preschool, ella, day, dt.time(15, 0), "mormor", by="Anna")
    # 23:30 in Stockholm on Wednesday: Wednesday is not over yet.
    purge_personal_data(engine, settings, now=at(wednesday, 23, 30))
    with sessions() as session:
        assert wednesday in _day_rows(session, world.ekorren)
    # Ten minutes past midnight (23:10 UTC, still Wednesday in UTC): Wednesday is gone, the rest stays.
    line = purge_personal_data(engine, settings, now=at(THURSDAY, 0, 10).astimezone(dt.UTC))
    assert line.startswith("deleted 1 day entries")
    with sessions() as session:
        assert set(_day_rows(session, world.ekorren)) == {THURSDAY, THURSDAY + dt.timedelta(days=1)}
        changes = session.scalars(select(PresenceChange.day).where(PresenceChange.child_id == kids["Ella"]))
        assert wednesday not in set(changes)


def test_a_longer_retention_keeps_the_days_it_promises(
    engine, sessions: sessionmaker[Session], settings: Settings, world: World, kids: dict[str, int]
) -> None:
    with transaction(sessions) as session:
        preschool = session.get_one(Preschool, world.ekorren)
        preschool.presence_retention_days = 2
        ella = session.get_one(Child, kids["Ella"])
        for back in range(4):
            set_pickup(session, preschool, ella, THURSDAY - dt.timedelta(days=back), None, "pappa", by="Anna")
    purge_personal_data(engine, settings, now=at(THURSDAY, 12))
    with sessions() as session:
        assert sorted(_day_rows(session, world.ekorren)) == [
            THURSDAY - dt.timedelta(days=2),
            THURSDAY - dt.timedelta(days=1),
            THURSDAY,
        ]


def test_ended_guardian_links_are_deleted_after_a_month(
    engine, sessions: sessionmaker[Session], settings: Settings, world: World, kids: dict[str, int]
) -> None:
    now = at(THURSDAY, 12)
    with transaction(sessions) as session:
        ella = session.get_one(Child, kids["Ella"])
        _old, _ = create_guardian_link(session, ella, "Mamma", 30, None, now - dt.timedelta(days=90))
        revoked, _ = create_guardian_link(session, ella, "Pappa", 90, None, now - dt.timedelta(days=45))
        revoke_guardian_link(revoked, now - dt.timedelta(days=40))
        current, _ = create_guardian_link(session, ella, "Mormor", 90, None, now - dt.timedelta(days=5))
        keep = current.id
    purge_personal_data(engine, settings, now=now)
    with sessions() as session:
        assert session.scalars(select(GuardianLink.id)).all() == [keep]


# --- the demo, through the real command ------------------------------------------------------------


def test_the_demo_day_has_mormor_and_a_child_at_home(db: Session) -> None:
    ensure_demo(db, THURSDAY, password="ett långt visningslösenord")
    preschool = preschool_by_slug(db, "solrosen")
    assert preschool is not None
    today = today_for(db, preschool, at(THURSDAY, 10))
    by_name = {child.name: child for child in today.children}
    assert (by_name["Ella"].today.pickup_by, by_name["Ella"].today.leaves_at) == ("mormor", dt.time(15, 30))
    assert by_name["Omar"].today.coming is False
    assert by_name["Elias"].today.coming is None
    first_ids = {child.name: child.id for child in today.children}
    ensure_demo(db, THURSDAY, password="ett långt visningslösenord")  # refreshing keeps the children
    again = today_for(db, preschool, at(THURSDAY, 10))
    assert {child.name: child.id for child in again.children} == first_ids
    assert db.scalar(select(func.count()).select_from(Group).where(Group.preschool_id == preschool.id)) == 2


def test_laiban_ask_who_picks_me_up_on_the_demo(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "data")
    ok("demo", env=env)
    tuesday = "2030-01-08T10:00"  # a plain Tuesday: Ella's usual week
    asked = json.loads(ok("ask", "--at", tuesday, "--json", "vem hämtar mig?", env=env).stdout)
    assert (asked["intent"], asked["asks_for"]) == ("pickup", "child")
    ella = json.loads(ok("ask", "--at", tuesday, "--json", "vem hämtar Ella?", env=env).stdout)
    assert (ella["intent"], ella["slots"], ella["asks_for"]) == ("pickup", {"child": "Ella"}, None)
    assert ella["text"].startswith("Idag hämtar mamma Ella ungefär kvart över fyra.")
    assert "person/mamma" in ella["pictures"]
    english = json.loads(
        ok("ask", "--at", tuesday, "--lang", "en", "--json", "who picks up Ella?", env=env).stdout
    )
    assert english["intent"] == "pickup"
    assert "quarter past four" in english["text"]
