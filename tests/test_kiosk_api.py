"""What the kiosk page needs from the server: its settings and version, today's answers for offline use
(without any child's data), spoken captions, and the service worker's scope."""

from __future__ import annotations

import datetime as dt
import json
import threading
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from laiban import __version__
from laiban.store.children import Plan, add_child, set_week
from laiban.store.db import transaction
from laiban.store.tables import Preschool
from laiban.store.today import TodayCache

from .world import World


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_kiosk_gets_its_languages_settings_and_version(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    with transaction(sessions) as session:
        session.get_one(Preschool, world.ekorren).languages = ["sv", "en", "ar", "so"]
    body = client.get("/api/v1/kiosk", headers=bearer(world.device_ekorren)).json()
    assert body["spoken_languages"] == ["sv", "en", "ar", "so"]  # each has a complete catalog
    assert body["language_names"] == {"sv": "Svenska", "en": "English", "ar": "العربية", "so": "Soomaali"}
    assert body["rtl_languages"] == ["ar"]
    # The kiosk's own words from the catalogs, for each language it speaks (kept offline with this response).
    assert set(body["words"]) == set(body["weekday_letters"]) == {"sv", "en", "ar", "so"}
    assert (body["words"]["sv"]["home"], body["words"]["en"]["home"]) == ("Hem", "Home")
    assert body["words"]["en"]["rating.3"] == "Tasty"  # "Gott" in the lunch rating's context
    assert set(body["words"]["en"]) == set(body["words"]["sv"])
    assert body["weekday_letters"]["sv"] == ["M", "T", "O", "T", "F", "L", "S"]
    assert body["weekday_letters"]["en"] == ["M", "T", "W", "T", "F", "S", "S"]
    assert body["idle_seconds"] == 60
    assert body["speech"] == {"tts": True, "stt": False}  # espeak-ng speaks; no Whisper model is set
    assert body["version"].startswith(__version__ + "+")
    again = client.get("/api/v1/kiosk", headers=bearer(world.device_ekorren)).json()
    assert again["version"] == body["version"]


def test_todays_answers_for_offline_use_hold_no_childs_data(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    with transaction(sessions) as session:
        preschool = session.get_one(Preschool, world.ekorren)
        ella = add_child(session, preschool, "Ella", None, "cat")
        set_week(session, preschool, ella, {day: Plan(None, None, "mormor") for day in range(7)})
    response = client.get("/api/v1/answers?lang=sv", headers=bearer(world.device_ekorren))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["answers"]) == {
        "weather",
        "clothes",
        "lunch",
        "time",
        "schedule",
        "date",
        "calendar",
        "activities",
    }
    slots = list(body["time"])
    assert (slots[0], slots[-1], len(slots)) == ("06:30", "17:30", 133)  # every 5 minutes of the day
    assert body["time"]["10:00"]["text"].startswith("Klockan är tio.")
    for answer in [*body["answers"].values(), *body["time"].values()]:
        assert len(answer["speech_captions"]) == len(answer["captions"]) > 0
    text = json.dumps(body, ensure_ascii=False)
    assert "Ella" not in text and "mormor" not in text


def test_answers_follow_the_enabled_modules_and_languages(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    with transaction(sessions) as session:
        preschool = session.get_one(Preschool, world.ekorren)
        preschool.modules, preschool.languages = ["lunch"], ["sv", "en"]
    body = client.get("/api/v1/answers?lang=en", headers=bearer(world.device_ekorren)).json()
    assert (set(body["answers"]), body["time"], body["lang"]) == ({"lunch"}, {}, "en")
    for lang in ("ar", "xx", "<script>"):
        refused = client.get(f"/api/v1/answers?lang={lang}", headers=bearer(world.device_ekorren))
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "invalid_request"
    assert client.get("/api/v1/answers").status_code == 401


def test_the_service_worker_may_control_the_kiosk(client: TestClient) -> None:
    response = client.get("/kiosk/sw.js")
    assert response.status_code == 200
    assert response.headers["service-worker-allowed"] == "/kiosk"
    assert response.headers["content-type"].startswith("text/javascript")
    assert "no-cache" in response.headers["cache-control"]


def test_today_is_built_once_per_preschool_for_a_few_seconds(db: Session, world: World) -> None:
    clock = [100.0]
    cache = TodayCache(ttl=5.0, clock=lambda: clock[0])
    preschool = db.get_one(Preschool, world.ekorren)
    group = preschool.groups[0].id
    morning = dt.datetime(2026, 11, 26, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
    first, _ = cache.get(db, preschool, morning)
    preschool.name = "Förskolan Ekorren Nya"
    db.flush()
    clock[0] += 4.9
    later, _ = cache.get(db, preschool, morning + dt.timedelta(seconds=4))
    assert later.preschool_name == first.preschool_name == "Förskolan Ekorren"  # kept…
    assert later.now == morning + dt.timedelta(seconds=4)  # …but each question has its own now
    assert cache.get(db, preschool, morning, group)[0].preschool_name == "Förskolan Ekorren"  # one build
    clock[0] += 0.2
    assert cache.get(db, preschool, morning, group)[0].preschool_name == "Förskolan Ekorren Nya"  # rebuilt…
    assert cache.get(db, preschool, morning)[0].preschool_name == "Förskolan Ekorren Nya"  # …for all groups
    preschool.name = "Förskolan Ekorren Tre"
    db.flush()
    tomorrow = morning + dt.timedelta(days=1)
    assert cache.get(db, preschool, tomorrow)[0].preschool_name == "Förskolan Ekorren Tre"  # a new day


def test_while_one_request_rebuilds_today_the_others_answer_from_the_previous_one(
    engine: Engine, sessions: sessionmaker[Session], world: World
) -> None:
    clock = [100.0]
    cache = TodayCache(ttl=5.0, clock=lambda: clock[0])
    morning = dt.datetime(2026, 11, 26, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
    with sessions() as session:
        cache.get(session, session.get_one(Preschool, world.ekorren), morning)
    with transaction(sessions) as session:
        session.get_one(Preschool, world.ekorren).name = "Förskolan Ekorren Nya"
    clock[0] += 6  # expired
    armed, building, go_on = threading.Event(), threading.Event(), threading.Event()

    def hold_the_builder(*_: object) -> None:  # the rebuild's first read waits for the test
        if threading.current_thread().name == "builder" and armed.is_set() and not building.is_set():
            building.set()
            go_on.wait(30)

    rebuilt: list[str] = []

    def rebuild() -> None:
        with sessions() as session:
            preschool = session.get_one(Preschool, world.ekorren)
            armed.set()
            today, _ = cache.get(session, preschool, morning)
            rebuilt.append(today.preschool_name)

    event.listen(engine, "before_cursor_execute", hold_the_builder)
    try:
        builder = threading.Thread(target=rebuild, name="builder")
        builder.start()
        assert building.wait(30)
        with sessions() as session:
            preschool = session.get_one(Preschool, world.ekorren)
            meanwhile, _ = cache.get(session, preschool, morning + dt.timedelta(seconds=1))
        go_on.set()
        builder.join(30)
    finally:
        go_on.set()
        event.remove(engine, "before_cursor_execute", hold_the_builder)
    assert meanwhile.preschool_name == "Förskolan Ekorren"  # did not wait for the rebuild
    assert meanwhile.now == morning + dt.timedelta(seconds=1)
    assert rebuilt == ["Förskolan Ekorren Nya"]
    with sessions() as session:
        after, _ = cache.get(session, session.get_one(Preschool, world.ekorren), morning)
    assert after.preschool_name == "Förskolan Ekorren Nya"
