"""Lunch: staff's menu, fetched menus that never overwrite staff's days, CSV, the answers at fixed times,
ratings, the admin page, and `laiban fetch` + `laiban ask` end to end."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from laiban.config import Settings
from laiban.i18n import render
from laiban.jobs.menus import refresh_menus
from laiban.model.intent import Intent
from laiban.model.menu import MenuDay
from laiban.model.today import ClockEvent, Today
from laiban.skills import lunch
from laiban.store import menus
from laiban.store.tables import MealRating, MenuSource

from .conftest import Browser, SignIn
from .localserver import LocalServer, Reply
from .world import PASSWORD, World

FIXTURES = Path(__file__).with_name("fixtures")
STOCKHOLM = ZoneInfo("Europe/Stockholm")
MONDAY = dt.date(2026, 11, 23)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), STOCKHOLM)


MENU = {
    (MONDAY, "lunch"): (
        ("Hemlagade köttbullar med potatismos och lingonsylt", None),
        ("Vegetariska bullar med potatismos", None),
    ),
    (MONDAY + dt.timedelta(days=1), "lunch"): (
        ("Krämig fiskgratäng med dill, serveras med kokt potatis (MSC)", None),
    ),
    (MONDAY + dt.timedelta(days=2), "lunch"): (("Pasta Bolognese", "spagetti med köttfärssås"),),
}


def today_at(moment: dt.datetime, **changes: object) -> Today:
    values: dict[str, object] = {
        "now": moment,
        "preschool_name": "X",
        "modules": ("lunch",),
        "languages": ("sv", "en"),
        "menu": MENU,
        "events": (ClockEvent(dt.time(11, 15), "lunch", "Lunch"),),
    }
    values.update(changes)
    return Today(**values)  # type: ignore[arg-type]


def say(intent: Intent, today: Today, lang: str = "sv") -> str:
    return render(lunch.answer(intent, today), lang).text


# --- answers ---------------------------------------------------------------------------------------


def test_before_and_after_lunch() -> None:
    tuesday = MONDAY + dt.timedelta(days=1)
    assert (
        say(Intent("lunch"), today_at(at(tuesday, 10))) == "Idag blir det fiskgratäng med potatis till lunch."
    )
    assert say(Intent("lunch"), today_at(at(tuesday, 12))) == "Idag åt vi fiskgratäng med potatis till lunch."


def test_alternatives_are_offered_with_or() -> None:
    text = say(Intent("lunch"), today_at(at(MONDAY, 9)))
    assert " eller " in text and text.startswith("Idag blir det köttbullar")


def test_other_days_and_staffs_wording() -> None:
    monday = today_at(at(MONDAY, 9))
    assert say(Intent("lunch", {"day": "tomorrow"}), monday).startswith("Imorgon blir det fiskgratäng")
    assert say(Intent("lunch", {"day": "wednesday"}), monday) == (
        "På onsdag blir det spagetti med köttfärssås till lunch."
    )
    wednesday = today_at(at(MONDAY + dt.timedelta(days=2), 9))
    assert say(Intent("lunch", {"day": "last_monday"}), wednesday).startswith(
        "Den 23 november åt vi köttbullar"
    )
    assert say(Intent("lunch", {"day": "yesterday"}), wednesday).startswith("Igår åt vi fiskgratäng")


def test_closed_days_and_missing_menus_are_honest() -> None:
    friday = today_at(at(MONDAY + dt.timedelta(days=4), 9))
    assert say(Intent("lunch", {"day": "tomorrow"}), friday) == "Förskolan är stängd på lördag."
    assert (
        say(Intent("lunch"), friday)
        == "Jag vet inte vad det blir till lunch då. Köket kanske överraskar oss!"
    )
    assert say(Intent("lunch", {"meal": "breakfast"}), today_at(at(MONDAY, 7)), "en") == (
        "I don't know what there is for breakfast then. Maybe the kitchen will surprise us!"
    )


def test_yes_no_for_a_food() -> None:
    tuesday = today_at(at(MONDAY + dt.timedelta(days=1), 9))
    assert say(Intent("lunch", {"food": "fish"}, yes_no=True), tuesday).startswith(
        "Ja. Idag blir det fiskgratäng"
    )
    assert say(Intent("lunch", {"food": "pancakes"}, yes_no=True), tuesday).startswith("Nej.")


def test_pictures_follow_the_dishes() -> None:
    answer = lunch.answer(Intent("lunch"), today_at(at(MONDAY + dt.timedelta(days=1), 9)))
    assert answer.pictures == ("food/fish",)


# --- the store -------------------------------------------------------------------------------------


def test_staff_days_are_never_overwritten_by_fetched_menus(db: Session, world: World) -> None:
    menus.set_day(db, world.ekorren, MONDAY, "lunch", ["Soppa från pedagogerna"])
    fetched = [
        MenuDay(MONDAY, "lunch", ("Köttbullar",)),
        MenuDay(MONDAY + dt.timedelta(days=1), "lunch", ("Fisk",)),
    ]
    assert menus.store_fetched(db, world.ekorren, "skolmaten", fetched) == 1
    week = menus.menu_between(db, world.ekorren, MONDAY, MONDAY + dt.timedelta(days=6))
    assert [d.text for d in week[(MONDAY, "lunch")]] == ["Soppa från pedagogerna"]
    assert [d.text for d in week[(MONDAY + dt.timedelta(days=1), "lunch")]] == ["Fisk"]
    menus.store_fetched(
        db, world.ekorren, "skolmaten", [MenuDay(MONDAY + dt.timedelta(days=1), "lunch", ("Lax",))]
    )
    week = menus.menu_between(db, world.ekorren, MONDAY, MONDAY + dt.timedelta(days=6))
    assert [d.text for d in week[(MONDAY + dt.timedelta(days=1), "lunch")]] == [
        "Lax"
    ]  # a newer fetch replaces


def test_bad_staff_input_is_refused_clearly(db: Session, world: World) -> None:
    with pytest.raises(menus.MenuError, match="högst 300"):
        menus.set_day(db, world.ekorren, MONDAY, "lunch", ["x" * 301])
    with pytest.raises(menus.MenuError, match="Högst 10"):
        menus.set_day(db, world.ekorren, MONDAY, "lunch", [f"rätt {i}" for i in range(11)])
    with pytest.raises(menus.MenuError):
        menus.set_source(db, world.ekorren, "skolmaten", "")
    with pytest.raises(menus.MenuError):
        menus.set_source(db, world.ekorren, "skolmaten", "../admin")


def test_copy_last_week(db: Session, world: World) -> None:
    menus.set_day(db, world.ekorren, MONDAY, "lunch", ["Fisk", "Soppa"], ["fisk", None])
    assert menus.copy_week(db, world.ekorren, MONDAY, MONDAY + dt.timedelta(days=7)) == 1
    copied = menus.menu_between(
        db, world.ekorren, MONDAY + dt.timedelta(days=7), MONDAY + dt.timedelta(days=7)
    )
    assert [(d.text, d.simple_override) for d in copied[(MONDAY + dt.timedelta(days=7), "lunch")]] == [
        ("Fisk", "fisk"),
        ("Soppa", None),
    ]


def test_csv_round_trip_and_per_row_errors(db: Session, world: World) -> None:
    menus.set_day(db, world.ekorren, MONDAY, "lunch", ["Fisk, med potatis", 'Soppa "special"'])
    text = menus.export_csv(db, world.ekorren, MONDAY, MONDAY + dt.timedelta(days=6))
    found, errors = menus.parse_csv(text)
    assert errors == [] and found == {(MONDAY, "lunch"): ["Fisk, med potatis", 'Soppa "special"']}
    found, errors = menus.parse_csv(
        "datum,måltid,rätt\n2026-11-23,lunch,Fisk\nigår,lunch,Soppa\n2026-11-24,fika,Bulle\n"
    )
    assert errors == [
        "Rad 3: ”igår” är inget datum som 2026-11-23.",
        "Rad 4: måltiden ska vara lunch, frukost eller mellanmål.",
    ]


# --- the refresh job ---------------------------------------------------------------------------------


def test_the_job_imports_the_skolmaten_week(
    engine: Engine, settings: Settings, server: LocalServer, db: Session, world: World
) -> None:
    from dataclasses import replace

    server.routes["/api/4/rss/week/solrosens-forskola-helsingborg"] = Reply(
        200, (FIXTURES / "skolmaten-week-rss.xml").read_bytes(), {"Content-Type": "application/rss+xml"}
    )
    menus.set_source(db, world.ekorren, "skolmaten", "solrosens-forskola-helsingborg")
    menus.set_day(db, world.ekorren, MONDAY, "lunch", ["Pedagogernas soppa"])
    db.commit()
    sources = replace(settings, skolmaten_base_url=server.url)
    now = dt.datetime(2026, 11, 23, 6, tzinfo=dt.UTC)
    assert "4 day(s) from skolmaten.se" in refresh_menus(engine, sources, now)
    db.expire_all()
    week = menus.menu_between(db, world.ekorren, MONDAY, MONDAY + dt.timedelta(days=6))
    assert [d.text for d in week[(MONDAY, "lunch")]] == ["Pedagogernas soppa"]
    assert week[(MONDAY + dt.timedelta(days=1), "lunch")][0].text.startswith("Krämig fiskgratäng")
    assert refresh_menus(engine, sources, now + dt.timedelta(hours=1)) == "nothing due"
    server.routes["/api/4/rss/week/solrosens-forskola-helsingborg"] = Reply(500, b"down")
    assert "failed" in refresh_menus(engine, sources, now + dt.timedelta(hours=4))
    db.expire_all()
    source = db.get_one(MenuSource, world.ekorren)
    assert source.failures == 1
    assert (
        source.last_error
        == "skolmaten.se: Källan har problem just nu (svar 500). Laiban försöker igen senare."
    )
    assert (
        len(menus.menu_between(db, world.ekorren, MONDAY, MONDAY + dt.timedelta(days=6))) == 5
    )  # nothing lost


# --- the kiosk and the admin -----------------------------------------------------------------------


def test_kiosk_ratings(client: TestClient, world: World, db: Session) -> None:
    headers = {"Authorization": f"Bearer {world.device_ekorren}"}
    assert client.post("/api/v1/lunch/rating", json={"rating": 4}, headers=headers).status_code == 409
    today = dt.datetime.now(STOCKHOLM).date()
    menus.set_day(db, world.ekorren, today, "lunch", ["Fiskgratäng"])
    db.commit()
    assert client.post("/api/v1/lunch/rating", json={"rating": 4}, headers=headers).status_code == 204
    assert client.post("/api/v1/lunch/rating", json={"rating": 5}, headers=headers).status_code == 422
    rating = db.scalars(select(MealRating)).one()
    assert (rating.dish, rating.rating, rating.day) == ("Fiskgratäng", 4, today)


def test_the_admin_menu_page(world: World, browser_for: SignIn, db: Session) -> None:
    pedagogue: Browser = browser_for(world.pedagogue_ekorren, PASSWORD)
    week = f"?week={MONDAY.isoformat()}"
    assert pedagogue.get("/admin/p/ekorren/menu" + week).status_code == 200
    saved = pedagogue.post(
        "/admin/p/ekorren/menu" + week,
        {
            "2026-11-23_lunch": "Krämig fiskgratäng med dill (MSC)\nSoppa",
            "2026-11-24_lunch": "<script>x</script>",
        },
    )
    assert saved.status_code == 200 and "Sparat." in saved.text
    assert "fiskgratäng" in saved.text and "<script>x</script>" not in saved.text
    override = pedagogue.post(
        "/admin/p/ekorren/menu" + week,
        {
            "2026-11-23_lunch": "Krämig fiskgratäng med dill (MSC)\nSoppa",
            "was_2026-11-23_lunch": ["Krämig fiskgratäng med dill (MSC)", "Soppa"],
            "override_2026-11-23_lunch": ["fiskmos", ""],
        },
    )
    assert override.status_code == 200
    stored = menus.menu_between(db, world.ekorren, MONDAY, MONDAY)[(MONDAY, "lunch")]
    assert [(d.text, d.simple_override) for d in stored] == [
        ("Krämig fiskgratäng med dill (MSC)", "fiskmos"),
        ("Soppa", None),
    ]
    # Saving the week again without changes does not turn fetched days into staff's days.
    menus.store_fetched(
        db, world.ekorren, "skolmaten", [MenuDay(MONDAY + dt.timedelta(days=2), "lunch", ("Lax",))]
    )
    db.commit()
    pedagogue.post(
        "/admin/p/ekorren/menu" + week,
        {
            "2026-11-23_lunch": "Krämig fiskgratäng med dill (MSC)\nSoppa",
            "2026-11-25_lunch": "Lax",
            "was_2026-11-23_lunch": ["Krämig fiskgratäng med dill (MSC)", "Soppa"],
            "override_2026-11-23_lunch": ["fiskmos", ""],
            "was_2026-11-25_lunch": "Lax",
            "override_2026-11-25_lunch": "",
        },
    )
    db.expire_all()
    wednesday = menus.menu_between(
        db, world.ekorren, MONDAY + dt.timedelta(days=2), MONDAY + dt.timedelta(days=2)
    )
    assert [d.source for d in wednesday[(MONDAY + dt.timedelta(days=2), "lunch")]] == ["skolmaten"]
    too_long = pedagogue.post("/admin/p/ekorren/menu" + week, {"2026-11-25_lunch": "x" * 400})
    assert too_long.status_code == 400 and "högst 300" in too_long.text
    csv_text = pedagogue.get("/admin/p/ekorren/menu/menu.csv" + week).text
    assert "2026-11-23,lunch,Krämig fiskgratäng med dill (MSC)" in csv_text
    bad = pedagogue.client.post(
        "/admin/p/ekorren/menu/import" + week,
        data={"csrf_token": pedagogue.csrf},
        files={"file": ("m.csv", b"2026-11-30,lunch,Fisk\nnonsense\n", "text/csv")},
    )
    assert bad.status_code == 400 and "Inget importerades." in bad.text
    assert (
        menus.menu_between(db, world.ekorren, MONDAY + dt.timedelta(days=7), MONDAY + dt.timedelta(days=7))
        == {}
    )
    good = pedagogue.client.post(
        "/admin/p/ekorren/menu/import" + week,
        data={"csrf_token": pedagogue.csrf},
        files={"file": ("m.csv", b"2026-11-30,lunch,Fisk\n", "text/csv")},
    )
    assert good.status_code == 200 and "Sparat." in good.text
    menus.rate_meal(db, world.ekorren, MONDAY, "Fisk", 4)
    menus.rate_meal(db, world.ekorren, MONDAY + dt.timedelta(days=1), "Soppa", 4)
    db.commit()
    chart = pedagogue.get("/admin/p/ekorren/menu" + week).text
    assert '<meter min="0" max="2" value="2"></meter> 2' in chart
    assert browser_for(world.org_admin_b, PASSWORD).get("/admin/p/ekorren/menu").status_code == 404


# --- end to end ----------------------------------------------------------------------------------------


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "laiban.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_demo_lunch_end_to_end(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAIBAN_")} | {
        "LAIBAN_DATA_DIR": str(tmp_path)
    }
    assert run(env, "demo").returncode == 0
    today = dt.datetime.now(STOCKHOLM).date()
    tuesday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=8)  # next week's Tuesday
    at_ten = f"{tuesday.isoformat()}T10:00"
    now = json.loads(run(env, "ask", "--at", at_ten, "--json", "vad blir det för mat idag?").stdout)
    assert now["intent"] == "lunch" and now["available"]
    assert now["text"].startswith("Idag blir det spaghetti och köttfärssås") or "köttfärssås" in now["text"]
    assert "Spaghetti" not in now["text"]  # the child-friendly, lower-case form
    tomorrow = json.loads(run(env, "ask", "--at", at_ten, "--json", "vad blir det för mat imorgon?").stdout)
    assert tomorrow["text"].startswith("Imorgon blir det") and "potatis" in tomorrow["text"]
    saturday = f"{(tuesday + dt.timedelta(days=4)).isoformat()}T10:00"
    closed = json.loads(run(env, "ask", "--at", saturday, "--json", "vad blir det för mat idag?").stdout)
    assert closed["text"] == "Förskolan är stängd på lördag."
