"""Staff translations (issue #10): the glossary in the store (migration 0013, rules, tenant scope), answers
that use confirmed translations and frame the Swedish text without one, the admin page "Översättningar"
(save, errors, CSRF, roles, RTL), and machine suggestions from a stand-in LibreTranslate on a real local
socket that never receives a name. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Iterator
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from laiban import assistant
from laiban.config import Settings
from laiban.i18n import render
from laiban.model.intent import Answer, Context, Intent, Message, StaffTexts, Texts
from laiban.model.today import ActivityInfo, Today
from laiban.skills import activities, calendar, lunch
from laiban.store import menus
from laiban.store.calendar import add_activity, add_event
from laiban.store.db import _alembic_config
from laiban.store.tables import (
    AuditEntry,
    Child,
    ChildWeekday,
    GuardianLink,
    Preschool,
    StaffTranslation,
    utcnow,
)
from laiban.store.today import PreschoolDay, local_now
from laiban.store.translations import (
    MAX_TEXT_LENGTH,
    TranslationError,
    add_suggestion,
    delete_translations,
    glossary_of,
    save_row,
)
from laiban.web.app import create_app

from .conftest import Browser, SignIn, sign_in
from .localserver import LocalServer, Reply, Seen, json_reply
from .world import PASSWORD, World

PAGE = "/admin/p/ekorren/translations"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
MONDAY = dt.date(2026, 11, 23)
DISH = "fiskgratäng med potatis"


def _languages(db: Session, preschool_id: int, *languages: str) -> Preschool:
    preschool = db.get_one(Preschool, preschool_id)
    preschool.languages = list(languages)
    db.commit()
    return preschool


def _entries(db: Session) -> list[tuple[int, str, str, str, str, bool]]:
    db.expire_all()
    rows = db.scalars(select(StaffTranslation).order_by(StaffTranslation.id))
    return [(r.preschool_id, r.lang, r.source, r.text, r.origin, r.confirmed) for r in rows]


def _errors(call) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(TranslationError) as caught:
        call()
    return caught.value.errors


# --- the migration and the store ---------------------------------------------------------------------


def test_the_migration_adds_and_removes_the_table(engine: Engine) -> None:
    config = _alembic_config(engine)
    command.downgrade(config, "0012")
    with engine.connect() as connection:
        tables = connection.execute(text("SELECT * FROM preschools")).keys()  # the rest is still there
        assert "slug" in tables
    command.upgrade(config, "head")
    with engine.begin() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM staff_translations")).scalar() == 0


def test_staff_translations_are_saved_confirmed_changed_and_deleted(db: Session, world: World) -> None:
    _languages(db, world.ekorren, "sv", "en", "ar")
    changes = save_row(db, world.ekorren, " Fiskgratäng  med potatis ", {"en": "Fish gratin", "ar": ""})
    db.commit()
    assert [(c.lang, c.action) for c in changes] == [("en", "create")]
    assert _entries(db) == [(world.ekorren, "en", "Fiskgratäng med potatis", "Fish gratin", "staff", True)]
    # Looked up whatever the case and the spaces, as the answers do.
    assert glossary_of(db, world.ekorren) == {"en": {DISH: "Fish gratin"}}
    changes = save_row(db, world.ekorren, DISH, {"en": "Fish gratin with potatoes", "ar": "غراتان السمك"})
    db.commit()
    assert sorted((c.lang, c.action) for c in changes) == [("ar", "create"), ("en", "update")]
    assert len(_entries(db)) == 2  # the same text, not a second one
    changes = save_row(db, world.ekorren, DISH, {"en": "", "ar": "غراتان السمك"})
    db.commit()
    assert [(c.lang, c.action) for c in changes] == [("en", "delete")]
    assert glossary_of(db, world.ekorren) == {"ar": {DISH: "غراتان السمك"}}


def test_bad_translations_are_explained_and_nothing_is_stored(db: Session, world: World) -> None:
    _languages(db, world.ekorren, "sv", "en", "fa")
    too_long = "x" * (MAX_TEXT_LENGTH + 1)
    assert _errors(lambda: save_row(db, world.ekorren, DISH, {"en": "", "fa": ""})) == [
        "Skriv en översättning till minst ett språk."
    ]
    assert _errors(lambda: save_row(db, world.ekorren, DISH, {"en": "Fish", "fa": too_long})) == [
        f"Översättningen till فارسی får vara högst {MAX_TEXT_LENGTH} tecken lång."
    ]
    assert _errors(lambda: save_row(db, world.ekorren, "  ", {"en": "Fish"})) == [
        "Den svenska texten saknas."
    ]
    assert "styrtecken" in _errors(lambda: save_row(db, world.ekorren, DISH, {"en": "a\tb"}))[0]
    db.rollback()
    assert _entries(db) == []
    # A language the preschool does not have is left alone; Persian keeps its zero-width non-joiner.
    save_row(db, world.ekorren, DISH, {"tr": "Balık", "fa": "می\u200cخوریم"})
    db.commit()
    assert [(lang, text) for _, lang, _, text, _, _ in _entries(db)] == [("fa", "می\u200cخوریم")]


def test_a_machine_suggestion_waits_for_staff(db: Session, world: World) -> None:
    _languages(db, world.ekorren, "sv", "en", "ar")
    assert add_suggestion(db, world.ekorren, "en", DISH, "Fish gratin with potatoes") is not None
    assert add_suggestion(db, world.ekorren, "en", DISH, "Another") is None  # one entry per language
    assert add_suggestion(db, world.ekorren, "tr", DISH, "Balık") is None  # not the preschool's language
    db.commit()
    assert _entries(db) == [(world.ekorren, "en", DISH, "Fish gratin with potatoes", "machine", False)]
    assert glossary_of(db, world.ekorren) == {}  # unconfirmed: never in an answer
    # Saved as it stands without approving: still a suggestion.
    assert save_row(db, world.ekorren, DISH, {"en": "Fish gratin with potatoes", "ar": ""}) == []
    db.commit()
    assert glossary_of(db, world.ekorren) == {}
    save_row(db, world.ekorren, DISH, {"en": "Fish gratin with potatoes"}, confirm={"en"})
    db.commit()
    assert _entries(db) == [(world.ekorren, "en", DISH, "Fish gratin with potatoes", "machine", True)]
    assert glossary_of(db, world.ekorren) == {"en": {DISH: "Fish gratin with potatoes"}}
    # Staff's own words make it staff's; a suggestion never replaces them.
    save_row(db, world.ekorren, DISH, {"en": "Fish bake with potatoes"})
    assert add_suggestion(db, world.ekorren, "en", DISH, "Fish gratin") is None
    db.commit()
    assert _entries(db) == [(world.ekorren, "en", DISH, "Fish bake with potatoes", "staff", True)]


def test_a_preschool_cannot_read_or_change_another_preschools_translations(db: Session, world: World) -> None:
    _languages(db, world.ekorren, "sv", "en")
    _languages(db, world.humlan, "sv", "en")
    save_row(db, world.ekorren, DISH, {"en": "Fish gratin"})
    db.commit()
    assert glossary_of(db, world.humlan) == {}
    # Humlan's own row for the same text is Humlan's; emptying it or deleting touches nothing of Ekorren's.
    save_row(db, world.humlan, DISH, {"en": "Fish bake"})
    save_row(db, world.humlan, DISH, {"en": ""})
    assert delete_translations(db, world.humlan, DISH) == 0
    db.commit()
    assert glossary_of(db, world.ekorren) == {"en": {DISH: "Fish gratin"}}
    assert glossary_of(db, world.humlan) == {}
    assert delete_translations(db, world.ekorren, DISH) == 1
    db.commit()
    assert _entries(db) == []


def test_the_entries_go_with_the_preschool(db: Session, world: World) -> None:
    _languages(db, world.humlan, "sv", "en")
    save_row(db, world.humlan, DISH, {"en": "Fish gratin"})
    db.commit()
    db.delete(db.get_one(Preschool, world.humlan))
    db.commit()
    assert _entries(db) == []


# --- answers -----------------------------------------------------------------------------------------


def _today(**changes: object) -> Today:
    values: dict[str, object] = {
        "now": dt.datetime.combine(MONDAY, dt.time(9), STOCKHOLM),
        "preschool_name": "X",
        "modules": ("lunch", "calendar", "activities"),
        "languages": ("sv", "en", "ar"),
        "menu": {
            (MONDAY, "lunch"): (("Krämig fiskgratäng med dill, serveras med kokt potatis (MSC)", None),)
        },
        **changes,
    }
    return Today(**values)  # type: ignore[arg-type]


def _said(today: Today, intent: str, lang: str) -> str:
    reply = assistant.ask(lang=lang, today=today, context=Context(), intent=Intent(intent))
    return reply.rendered.text


def test_an_answer_uses_the_confirmed_translation_and_frames_the_swedish_text_without_one() -> None:
    plain = _today()
    assert _said(plain, "lunch", "en") == f"Today there is {DISH} for lunch."  # framed, never garbled
    assert _said(plain, "lunch", "ar") == f"اليوم في الغداء سنأكل: {DISH}."
    translated = _today(
        translations={"en": {DISH: "fish gratin with potatoes"}, "ar": {DISH: "غراتان السمك"}}
    )
    assert _said(translated, "lunch", "en") == "Today there is fish gratin with potatoes for lunch."
    assert _said(translated, "lunch", "ar") == "اليوم في الغداء سنأكل: غراتان السمك."
    assert _said(translated, "lunch", "sv") == f"Idag blir det {DISH} till lunch."  # Swedish as written
    # The spoken form is the shown one (the voice reads the translation too).
    reply = assistant.ask(lang="en", today=translated, context=Context(), intent=Intent("lunch"))
    assert reply.rendered.speech == "Today there is fish gratin with potatoes for lunch."


def test_events_closed_days_and_activities_are_staff_texts_names_are_not() -> None:
    today = _today(
        preschool_events={MONDAY: ((None, "Luciafirande"),)},
        activities=(
            ActivityInfo("Skogen", "Vi ska gå till skogen.", "Vi var i skogen.", participants=("Ella",)),
        ),
        show_child_names=True,
        translations={
            "en": {
                "luciafirande": "the Lucia celebration",
                "vi ska gå till skogen.": "We will go to the forest.",
            }
        },
    )
    assert _said(today, "calendar", "en") == "Today we have the Lucia celebration!"
    said = _said(today, "activities", "en")
    assert said.startswith("We will go to the forest.")
    assert "Ella" in said
    # A glossary entry that happens to match a name changes nothing: names are `Texts`, never translated.
    answer = Answer((Message("Med är {names}.", {"names": Texts(("Ella",))}),))
    assert "Ella" in render(answer, "en", {"ella": "Ellie"}).text
    answer = Answer((Message("Idag har vi {event}!", {"event": StaffTexts(("Ella",))}),))
    assert render(answer, "en", {"ella": "Ellie"}).text == "Today we have Ellie!"


def test_an_untranslated_staff_sentence_is_introduced_as_swedish() -> None:
    # A whole sentence by staff has no translated sentence around it: without a translation the child is
    # told it is Swedish, instead of hearing Swedish in an Arabic answer unannounced.
    activity = ActivityInfo("Skogen", "Vi ska gå till skogen.", "Vi var i skogen.")
    plain = _today(activities=(activity,))
    assert _said(plain, "activities", "sv") == "Vi ska gå till skogen."
    assert _said(plain, "activities", "en") == "In Swedish: Vi ska gå till skogen."
    assert _said(plain, "activities", "ar") == "بالسويدية: Vi ska gå till skogen."
    translated = _today(
        activities=(activity,), translations={"en": {"vi ska gå till skogen.": "We will go to the forest."}}
    )
    assert _said(translated, "activities", "en") == "We will go to the forest."


def test_the_skills_mark_staff_texts() -> None:
    today = _today(
        preschool_events={MONDAY: ((None, "Luciafirande"),)},
        closed_days={},
        activities=(ActivityInfo("Skogen", "Vi ska gå till skogen.", "Vi var i skogen."),),
    )
    for skill, intent in ((lunch, "lunch"), (calendar, "calendar"), (activities, "activities")):
        params = [p for m in skill.answer(Intent(intent), today).messages for p in m.params.values()]
        assert any(isinstance(p, StaffTexts) for p in params), intent


def test_todays_translations_come_from_the_store_confirmed_only(db: Session, world: World) -> None:
    preschool = _languages(db, world.ekorren, "sv", "en")
    now = local_now(preschool, dt.datetime.combine(MONDAY, dt.time(9)))
    menus.set_day(db, world.ekorren, MONDAY, "lunch", ["Fiskgratäng med potatis"])
    save_row(db, world.ekorren, DISH, {"en": "fish gratin with potatoes"})
    add_suggestion(db, world.ekorren, "en", "Pannkakor", "Pancakes")
    db.commit()
    today = PreschoolDay.build(db, preschool, now).today
    assert today.translations == {"en": {DISH: "fish gratin with potatoes"}}
    assert _said(today, "lunch", "en") == "Today there is fish gratin with potatoes for lunch."


def test_the_kiosk_hears_the_translation(world: World, client: TestClient, db: Session) -> None:
    preschool = _languages(db, world.ekorren, "sv", "en", "ar")
    add_event(db, world.ekorren, day=local_now(preschool).date(), title="Luciafirande")
    save_row(db, world.ekorren, "Luciafirande", {"en": "the Lucia party"})
    db.commit()
    headers = {"Authorization": f"Bearer {world.device_ekorren}"}
    english = client.post("/api/v1/ask", json={"intent": "calendar", "lang": "en"}, headers=headers).json()
    assert "Today we have the Lucia party!" in english["captions"]
    arabic = client.post("/api/v1/ask", json={"intent": "calendar", "lang": "ar"}, headers=headers).json()
    assert "عندنا اليوم: Luciafirande!" in arabic["captions"]  # no Arabic yet: the Swedish word, framed


# --- the admin page ----------------------------------------------------------------------------------


def _with_texts(db: Session, world: World) -> Preschool:
    preschool = _languages(db, world.ekorren, "sv", "en", "ar")
    day = local_now(preschool).date()
    menus.set_day(db, world.ekorren, day + dt.timedelta(days=1), "lunch", ["Fiskgratäng med potatis"])
    add_event(db, world.ekorren, day=day + dt.timedelta(days=3), title="Luciafirande")
    add_activity(db, world.ekorren, day=day, title="Skogen", future_text="Vi ska gå till skogen.")
    db.commit()
    return preschool


def test_the_page_lists_the_texts_in_use_with_a_field_per_language(
    world: World, browser_for: SignIn, db: Session
) -> None:
    _with_texts(db, world)
    save_row(db, world.ekorren, "Luciafirande", {"ar": "احتفال لوسيا"})
    db.commit()
    page = browser_for(world.pedagogue_ekorren, PASSWORD).get(PAGE)
    assert page.status_code == 200
    for shown in (DISH, "Luciafirande", "Skogen", "Vi ska gå till skogen."):
        assert shown in page.text
    assert 'name="text_en"' in page.text and 'name="text_ar"' in page.text
    assert 'name="text_sv"' not in page.text
    assert 'value="احتفال لوسيا" maxlength="300" lang="ar" dir="rtl"' in page.text
    assert 'lang="en" dir="ltr"' in page.text
    assert "<script>" not in page.text and "onclick" not in page.text  # strict CSP: no inline scripts
    assert "Föreslå översättningar" not in page.text  # machine translation is off by default
    dashboard = browser_for(world.admin_ekorren, PASSWORD).get("/admin").text
    assert 'href="/admin/p/ekorren/translations"' in dashboard


def test_staff_save_a_row_with_htmx_and_without(world: World, browser_for: SignIn, db: Session) -> None:
    _with_texts(db, world)
    pedagogue = browser_for(world.pedagogue_ekorren, PASSWORD)
    row = pedagogue.post(
        PAGE,
        {"source": DISH, "text_en": "Fish gratin with potatoes", "text_ar": ""},
        headers={"HX-Request": "true"},
    )
    assert row.status_code == 200
    assert 'class="card translation"' in row.text
    assert "Översättningarna är sparade." in row.text
    assert 'value="Fish gratin with potatoes"' in row.text
    plain = pedagogue.post(
        PAGE, {"source": "Luciafirande", "text_ar": "احتفال لوسيا"}, follow_redirects=False
    )
    assert plain.status_code == 303 and plain.headers["location"].startswith(f"{PAGE}?saved=saved#t-")
    assert glossary_of(db, world.ekorren) == {
        "en": {DISH: "Fish gratin with potatoes"},
        "ar": {"luciafirande": "احتفال لوسيا"},
    }
    audit = db.scalars(select(AuditEntry).where(AuditEntry.subject == "translation")).all()
    assert sorted(entry.action for entry in audit) == ["create", "create"]
    assert {entry.actor for entry in audit} == {"pedagog"}


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"source": DISH, "text_en": "", "text_ar": ""}, "Skriv en översättning till minst ett språk."),
        (
            {"source": DISH, "text_en": "y" * (MAX_TEXT_LENGTH + 1), "text_ar": "سمك"},
            f"Översättningen till english får vara högst {MAX_TEXT_LENGTH} tecken lång.",
        ),
    ],
)
def test_a_bad_row_is_explained_keeps_the_input_and_stores_nothing(
    world: World, browser_for: SignIn, db: Session, form: dict[str, str], message: str
) -> None:
    _with_texts(db, world)
    pedagogue = browser_for(world.pedagogue_ekorren, PASSWORD)
    for headers in ({"HX-Request": "true"}, {}):
        response = pedagogue.post(PAGE, form, headers=headers)
        assert response.status_code == 400
        assert message in response.text and "Inget sparades." in response.text
        if form["text_ar"]:
            assert 'value="سمك"' in response.text
    assert _entries(db) == []


def test_csrf_and_roles(world: World, browser_for: SignIn, client: TestClient, db: Session) -> None:
    _with_texts(db, world)
    admin = browser_for(world.admin_ekorren, PASSWORD)
    without = admin.client.post(PAGE, data={"source": DISH, "text_en": "Fish"})
    assert without.status_code == 403
    other_org = browser_for(world.org_admin_b, PASSWORD)
    assert other_org.get(PAGE).status_code == 404
    assert other_org.post(PAGE, {"source": DISH, "text_en": "Fish"}).status_code == 404
    anonymous = client.get(PAGE, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/admin/login")
    assert _entries(db) == []
    assert admin.post(PAGE, {"source": DISH, "text_en": "Fish"}, follow_redirects=False).status_code == 303


def test_texts_are_escaped_on_the_page(world: World, browser_for: SignIn, db: Session) -> None:
    _with_texts(db, world)
    save_row(db, world.ekorren, DISH, {"en": '<b>"fish"</b>'})
    db.commit()
    page = browser_for(world.pedagogue_ekorren, PASSWORD).get(PAGE).text
    assert "<b>" not in page and "&lt;b&gt;&#34;fish&#34;&lt;/b&gt;" in page


# --- machine suggestions -----------------------------------------------------------------------------


def _libretranslate(seen: Seen) -> Reply:
    asked = json.loads(seen.body)
    if asked["target"] == "ar":
        return json_reply({"error": "ar is not supported"}, status=400)
    return json_reply({"translatedText": f"[{asked['target']}] {asked['q']}"})


@pytest.fixture
def mt_app(settings: Settings, engine: Engine, server: LocalServer) -> FastAPI:
    server.routes["/translate"] = _libretranslate
    return create_app(replace(settings, translate_url=server.url + "/"), engine)


@pytest.fixture
def mt_browser(mt_app: FastAPI, world: World) -> Iterator[Browser]:
    with TestClient(mt_app, base_url="http://testserver") as test_client:
        yield sign_in(test_client, world.pedagogue_ekorren, PASSWORD)


def _with_names(db: Session, world: World) -> None:
    preschool = _with_texts(db, world)
    day = local_now(preschool).date()
    child = Child(preschool_id=world.ekorren, first_name="Ella", avatar="cat")
    db.add(child)
    db.flush()
    db.add(ChildWeekday(preschool_id=world.ekorren, child_id=child.id, weekday=0, pickup_by="morfar Olle"))
    db.add(
        GuardianLink(
            preschool_id=world.ekorren,
            child_id=child.id,
            label="Pappa Ali",
            token_hash="0" * 64,
            expires_at=utcnow() + dt.timedelta(days=30),
        )
    )
    add_event(db, world.ekorren, day=day + dt.timedelta(days=2), title="Ellas födelsedag")
    add_event(db, world.ekorren, day=day + dt.timedelta(days=4), title="OLLE kommer och spelar")
    add_activity(db, world.ekorren, day=day + dt.timedelta(days=1), title="Ali:s kalas")
    db.commit()


def test_suggestions_never_send_a_name_and_wait_for_staff(
    mt_browser: Browser, server: LocalServer, db: Session, world: World
) -> None:
    _with_names(db, world)
    page = mt_browser.get(PAGE)
    assert "Föreslå översättningar" in page.text
    assert page.text.count("innehåller ett namn – översätt själv") == 4  # "Ali:s kalas" twice
    response = mt_browser.post(f"{PAGE}/suggest")
    assert response.status_code == 200
    sent = [json.loads(seen.body) for seen in server.seen if seen.method == "POST"]
    assert sent and all(seen.path == "/translate" for seen in server.seen)
    texts = {item["q"] for item in sent}
    assert {DISH, "Luciafirande", "Skogen", "Vi ska gå till skogen."} <= texts
    for name in ("ella", "olle", "ali"):
        assert not any(name in item["q"].casefold() for item in sent), name
    assert all(item["source"] == "sv" and item["format"] == "text" for item in sent)
    assert "4 texter skickades inte: de innehåller ett namn" in response.text
    assert "kan inte översätta till العربية" in response.text
    # Stored as unconfirmed suggestions: on the page, not in the answers.
    db.expire_all()
    assert glossary_of(db, world.ekorren) == {}
    assert ("en", DISH, f"[en] {DISH}", "machine", False) in [e[1:] for e in _entries(db)]
    assert "Maskinens förslag – inte godkänt ännu" in response.text
    # Staff approve one: now the children hear it.
    mt_browser.post(PAGE, {"source": DISH, "text_en": f"[en] {DISH}", "text_ar": "", "confirm_en": "1"})
    assert glossary_of(db, world.ekorren) == {"en": {DISH: f"[en] {DISH}"}}


def test_a_translation_service_that_is_down_is_explained_and_nothing_is_lost(
    settings: Settings, engine: Engine, world: World, db: Session
) -> None:
    _with_texts(db, world)
    save_row(db, world.ekorren, DISH, {"en": "Fish gratin"})
    db.commit()
    with socket.socket() as free:  # a port where nothing listens
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    app = create_app(replace(settings, translate_url=f"http://127.0.0.1:{port}"), engine)
    with TestClient(app, base_url="http://testserver") as test_client:
        browser = sign_in(test_client, world.pedagogue_ekorren, PASSWORD)
        response = browser.post(f"{PAGE}/suggest")
    assert response.status_code == 200
    assert "Laiban kunde inte nå översättningstjänsten" in response.text
    assert _entries(db) == [(world.ekorren, "en", DISH, "Fish gratin", "staff", True)]


def test_a_failing_service_stops_and_keeps_what_came_before(
    mt_browser: Browser, server: LocalServer, db: Session, world: World
) -> None:
    _with_texts(db, world)
    answered: list[str] = []

    def flaky(seen: Seen) -> Reply:
        if answered:
            return Reply(503, b"overloaded")
        answered.append(json.loads(seen.body)["q"])
        return json_reply({"translatedText": "first"})

    server.routes["/translate"] = flaky
    response = mt_browser.post(f"{PAGE}/suggest")
    assert "Översättningstjänsten har problem just nu (svar 503)" in response.text
    assert db.scalar(select(func.count()).select_from(StaffTranslation)) == 1
