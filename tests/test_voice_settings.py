"""The preschool's voice: speaking rate and pitch, the pronunciation table (store, `apply`, migration 0010)
and the admin page "Röst och uttal", on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
import time
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from laiban.config import Settings
from laiban.speech.cache import AudioCache
from laiban.speech.pronounce import apply
from laiban.speech.tokens import Said, Tokens
from laiban.speech.tts import Voice, wav_bytes, wav_duration
from laiban.store.db import _alembic_config
from laiban.store.pronunciations import (
    MAX_ENTRIES,
    VoiceError,
    add_pronunciation,
    delete_pronunciation,
    entries_of,
    pronunciations_for,
    set_speech,
    update_pronunciation,
)
from laiban.store.tables import Base, Preschool, Pronunciation

from .conftest import Browser, SignIn
from .world import PASSWORD, World

PAGE = "/admin/p/ekorren/voice"


def _count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Pronunciation)) or 0


def _speak(db: Session, preschool_id: int, *languages: str) -> Preschool:
    preschool = db.get_one(Preschool, preschool_id)
    preschool.languages = list(languages)
    db.commit()
    return preschool


def _errors(call) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(VoiceError) as caught:
        call()
    return caught.value.errors


# --- the migration ---------------------------------------------------------------------------------


def test_the_migration_gives_existing_preschools_the_usual_voice(engine: Engine) -> None:
    config = _alembic_config(engine)
    command.downgrade(config, "0009")
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
    with engine.begin() as connection:
        assert connection.execute(text("SELECT speech_rate, speech_pitch FROM preschools")).one() == (140, 50)
        connection.execute(
            text(
                "INSERT INTO pronunciations (preschool_id, lang, written, spoken, created_at)"
                " VALUES (1, 'sv', 'Ekorren', 'Ekorrn', CURRENT_TIMESTAMP)"
            )
        )
    # And back: the table and the columns go, the preschool stays.
    command.downgrade(config, "0009")
    with engine.connect() as connection:
        columns = list(connection.execute(text("SELECT * FROM preschools")).keys())
        assert "speech_rate" not in columns and "speech_pitch" not in columns
        assert connection.execute(text("SELECT slug FROM preschools")).scalar() == "gamla"
    command.upgrade(config, "head")


def test_the_tables_match_the_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_a_new_preschool_gets_the_usual_voice(db: Session, world: World) -> None:
    preschool = db.get_one(Preschool, world.ekorren)
    assert (preschool.speech_rate, preschool.speech_pitch) == (140, 50)


def test_the_database_refuses_the_same_word_twice_and_deletes_with_the_preschool(
    db: Session, world: World
) -> None:
    add_pronunciation(db, world.ekorren, "sv", "Ekorren", "Ekorrn")
    db.commit()
    db.add(Pronunciation(preschool_id=world.ekorren, lang="sv", written="Ekorren", spoken="x"))
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()
    db.delete(db.get_one(Preschool, world.ekorren))
    db.commit()
    assert _count(db) == 0


# --- rate and pitch --------------------------------------------------------------------------------


def test_rate_and_pitch_are_saved(db: Session, world: World) -> None:
    preschool = db.get_one(Preschool, world.ekorren)
    set_speech(db, preschool, rate="120", pitch=" 35 ")
    db.commit()
    db.expire_all()
    assert (db.get_one(Preschool, world.ekorren).speech_rate, preschool.speech_pitch) == (120, 35)
    set_speech(db, preschool, rate=80, pitch=0)
    set_speech(db, preschool, rate=250, pitch=100)
    assert (preschool.speech_rate, preschool.speech_pitch) == (250, 100)


@pytest.mark.parametrize(
    ("rate", "pitch", "expected"),
    [
        ("79", "50", ["Talhastigheten ska vara ett heltal från 80 till 250."]),
        ("251", "50", ["Talhastigheten ska vara ett heltal från 80 till 250."]),
        ("", "50", ["Talhastigheten ska vara ett heltal från 80 till 250."]),
        ("snabb", "50", ["Talhastigheten ska vara ett heltal från 80 till 250."]),
        ("140.5", "50", ["Talhastigheten ska vara ett heltal från 80 till 250."]),
        ("١٤٠", "50", ["Talhastigheten ska vara ett heltal från 80 till 250."]),  # Arabic-Indic digits
        ("9" * 40, "50", ["Talhastigheten ska vara ett heltal från 80 till 250."]),
        ("140", "-1", ["Tonläget ska vara ett heltal från 0 till 100."]),
        ("140", "101", ["Tonläget ska vara ett heltal från 0 till 100."]),
        (
            "0",
            "hög",
            [
                "Talhastigheten ska vara ett heltal från 80 till 250.",
                "Tonläget ska vara ett heltal från 0 till 100.",
            ],
        ),
    ],
)
def test_bad_rate_or_pitch_changes_nothing(
    db: Session, world: World, rate: str, pitch: str, expected: list[str]
) -> None:
    preschool = db.get_one(Preschool, world.ekorren)
    assert _errors(lambda: set_speech(db, preschool, rate=rate, pitch=pitch)) == expected
    assert (preschool.speech_rate, preschool.speech_pitch) == (140, 50)


# --- the pronunciation table -----------------------------------------------------------------------


def test_the_table_of_a_language_longest_word_first(db: Session, world: World) -> None:
    _speak(db, world.ekorren, "sv", "en")
    add_pronunciation(db, world.ekorren, "sv", "Ekor", "Ekur")
    add_pronunciation(db, world.ekorren, "sv", "  Lilla   Ekorren ", " Lilla  Ekorrn ")
    add_pronunciation(db, world.ekorren, "sv", "Ekorren", "Ekorrn")
    add_pronunciation(db, world.ekorren, "en", "Laiban", "Lie-bahn")
    db.commit()
    assert pronunciations_for(db, world.ekorren, "sv") == (
        ("Lilla Ekorren", "Lilla Ekorrn"),  # spaces tidied
        ("Ekorren", "Ekorrn"),
        ("Ekor", "Ekur"),
    )
    assert pronunciations_for(db, world.ekorren, "en") == (("Laiban", "Lie-bahn"),)
    assert pronunciations_for(db, world.ekorren, "ar") == ()
    table = pronunciations_for(db, world.ekorren, "sv")
    assert apply("Hej från Lilla Ekorren och Ekorren!", table) == "Hej från Lilla Ekorrn och Ekorrn!"


@pytest.mark.parametrize(
    ("lang", "written", "spoken", "expected"),
    [
        ("sv", "", "Ekorrn", ["Skriv ordet."]),
        ("sv", "   ", "Ekorrn", ["Skriv ordet."]),
        ("sv", "Ekorren", "", ["Skriv uttalet."]),
        ("sv", "", " ", ["Skriv ordet.", "Skriv uttalet."]),
        ("sv", "x" * 101, "Ekorrn", ["Ordet får vara högst 100 tecken lång."]),
        ("sv", "Ekorren", "x" * 201, ["Uttalet får vara högst 200 tecken lång."]),
        (
            "sv",
            "Ek\norren",
            "Ekorrn",
            ["Ordet får inte innehålla tabbar, radbrytningar eller andra styrtecken."],
        ),
        (
            "sv",
            "Ekorren",
            "Ek\torrn",
            ["Uttalet får inte innehålla tabbar, radbrytningar eller andra styrtecken."],
        ),
        (
            "sv",
            "Ekorren\x00",
            "Ekorrn",
            ["Ordet får inte innehålla tabbar, radbrytningar eller andra styrtecken."],
        ),
        (
            "sv",
            "Ekorren",
            "Ekorrn\x1b[2J",
            ["Uttalet får inte innehålla tabbar, radbrytningar eller andra styrtecken."],
        ),
        (
            "sv",
            "Ekorren\ud800",
            "Ekorrn",
            ["Ordet får inte innehålla tabbar, radbrytningar eller andra styrtecken."],
        ),
        (
            "en",
            "Laiban",
            "Lie-bahn",
            ["Förskolan har inte språket English. Lägg till det under Inställningar först."],
        ),
        ("xx", "Laiban", "Lie-bahn", ["Välj ett av förskolans språk."]),
        ("", "Laiban", "Lie-bahn", ["Välj ett av förskolans språk."]),
    ],
)
def test_every_bad_entry_is_explained_and_nothing_is_stored(
    db: Session, world: World, lang: str, written: str, spoken: str, expected: list[str]
) -> None:
    assert _errors(lambda: add_pronunciation(db, world.ekorren, lang, written, spoken)) == expected
    assert _count(db) == 0


def test_persian_may_use_the_zero_width_non_joiner(db: Session, world: World) -> None:
    _speak(db, world.ekorren, "sv", "fa")
    row = add_pronunciation(db, world.ekorren, "fa", "می\u200cخواهم", "میخواهم")
    assert row.written == "می\u200cخواهم"


def test_the_same_word_twice_is_refused_whatever_its_case(db: Session, world: World) -> None:
    _speak(db, world.ekorren, "sv", "en")
    add_pronunciation(db, world.ekorren, "sv", "Åsa", "Oosa")
    assert _errors(lambda: add_pronunciation(db, world.ekorren, "sv", "ÅSA", "Osa")) == [
        "”ÅSA” finns redan i listan. Ändra raden som finns i stället."
    ]
    # The same word in another language, or at another preschool, is another entry.
    add_pronunciation(db, world.ekorren, "en", "Åsa", "Oh-sa")
    add_pronunciation(db, world.humlan, "sv", "Åsa", "Osa")
    assert _count(db) == 3


def test_a_language_holds_at_most_so_many_words(db: Session, world: World) -> None:
    _speak(db, world.ekorren, "sv", "en")
    db.add_all(
        Pronunciation(preschool_id=world.ekorren, lang="sv", written=f"ord{i}", spoken="x")
        for i in range(MAX_ENTRIES)
    )
    db.flush()
    assert _errors(lambda: add_pronunciation(db, world.ekorren, "sv", "ett till", "x")) == [
        f"Listan får ha högst {MAX_ENTRIES} ord per språk. Ta bort något ord först."
    ]
    add_pronunciation(db, world.ekorren, "en", "one more", "x")  # another language has its own list
    assert _count(db) == MAX_ENTRIES + 1


def test_changing_and_deleting_an_entry(db: Session, world: World) -> None:
    ekorren = add_pronunciation(db, world.ekorren, "sv", "Ekorren", "Ekorrn")
    other = add_pronunciation(db, world.ekorren, "sv", "Laiban", "Lajban")
    changed = update_pronunciation(db, world.ekorren, ekorren.id, "EKORREN", "Ekorrnn")  # its own case
    assert changed is not None and (changed.written, changed.spoken) == ("EKORREN", "Ekorrnn")
    assert _errors(lambda: update_pronunciation(db, world.ekorren, other.id, "ekorren", "x")) == [
        "”ekorren” finns redan i listan. Ändra raden som finns i stället."
    ]
    assert _errors(lambda: update_pronunciation(db, world.ekorren, other.id, "", "x" * 201)) == [
        "Skriv ordet.",
        "Uttalet får vara högst 200 tecken lång.",
    ]
    db.commit()
    db.expire_all()
    assert pronunciations_for(db, world.ekorren, "sv") == (("EKORREN", "Ekorrnn"), ("Laiban", "Lajban"))
    deleted = delete_pronunciation(db, world.ekorren, other.id)
    assert deleted is not None and deleted.lang == "sv"
    assert delete_pronunciation(db, world.ekorren, other.id) is None
    assert update_pronunciation(db, world.ekorren, 999_999, "x", "y") is None
    assert pronunciations_for(db, world.ekorren, "sv") == (("EKORREN", "Ekorrnn"),)


def test_a_preschool_cannot_read_or_touch_another_preschools_words(db: Session, world: World) -> None:
    row = add_pronunciation(db, world.ekorren, "sv", "Ekorren", "Ekorrn")
    db.commit()
    assert pronunciations_for(db, world.myran, "sv") == ()
    assert entries_of(db, world.myran) == {}
    assert update_pronunciation(db, world.myran, row.id, "Hackad", "Hackad") is None
    assert update_pronunciation(db, world.humlan, row.id, "Hackad", "Hackad") is None  # same organisation
    assert delete_pronunciation(db, world.myran, row.id) is None
    db.commit()
    db.expire_all()
    assert pronunciations_for(db, world.ekorren, "sv") == (("Ekorren", "Ekorrn"),)


# --- apply -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "table", "expected"),
    [
        ("Välkommen till Ekorren!", [("Ekorren", "Ekorrn")], "Välkommen till Ekorrn!"),
        # Whole words only, with Swedish letters at the edges
        ("Åsa och Åsas bok", [("Åsa", "Oosa")], "Oosa och Åsas bok"),
        ("Åsa och Åsas bok", [("Åsa", "Oosa"), ("Åsas", "Oosas")], "Oosa och Oosas bok"),
        ("Maja-Lisa, Lisa och Lisaå", [("Lisa", "Liisa")], "Maja-Liisa, Liisa och Lisaå"),
        ("Ekorren2 och _Ekorren", [("Ekorren", "x")], "Ekorren2 och _Ekorren"),
        # Case-insensitive, also for å, ä, ö
        ("ÖRJAN, örjan och Örjan.", [("örjan", "Örrjan")], "Örrjan, Örrjan och Örrjan."),
        ("ÄNGEN", [("ängen", "ängn")], "ängn"),
        # Punctuation and the rest of the text are kept exactly
        ("«Ekorren»? (Ekorren) Ekorren…\n  Ekorren", [("Ekorren", "E")], "«E»? (E) E…\n  E"),
        # Several entries; the longest wins where they overlap
        ("Ekorren och Ekor", [("Ekor", "Ekur"), ("Ekorren", "Ekorrn")], "Ekorrn och Ekur"),
        ("Anna-Karins och Anna-Karin", [("Anna", "Ana"), ("Anna-Karin", "AK")], "Ana-Karins och AK"),
        ("Lilla   Ekorren och Ekorren", [("Ekorren", "E"), ("Lilla Ekorren", "LE")], "LE och E"),
        # A spoken form is not replaced in turn
        ("a b", [("a", "b"), ("b", "c")], "b c"),
        ("Ekor", [("Ekor", "Ekorren"), ("Ekorren", "x")], "Ekorren"),
        # The written form is literal text, never a pattern
        ("a+b och aab", [("a+b", "a plus b")], "a plus b och aab"),
        ("(x och x", [("(x", "parentes x")], "parentes x och x"),
        ("Klockan 3.30 eller 3330", [("3.30", "halv fyra")], "Klockan halv fyra eller 3330"),
        ("[a-z] och b", [("[a-z]", "bokstäver")], "bokstäver och b"),
        ("c:\\temp och .*", [("c:\\temp", "mappen"), (".*", "allt")], "mappen och allt"),
        ("x|y och x", [("x|y", "x eller y")], "x eller y och x"),
        # The spoken form is literal too (no group references)
        ("Ekorren", [("Ekorren", r"\1 \g<0> $1")], r"\1 \g<0> $1"),
        # Other scripts: combining marks belong to their word
        ("محمدٌ و محمد", [("محمد", "موحمد")], "محمدٌ و موحمد"),
        ("A\u030asa", [("A", "X")], "A\u030asa"),
        ("Привет, Киев!", [("киев", "Кыйив")], "Привет, Кыйив!"),
        # Nothing to do
        ("Ekorren", [], "Ekorren"),
        ("", [("Ekorren", "x")], ""),
        ("Ekorren", [("  ", "x")], "Ekorren"),
    ],
)
def test_apply(text: str, table: list[tuple[str, str]], expected: str) -> None:
    assert apply(text, table) == expected
    assert apply(text, tuple(table)) == expected


def test_apply_gives_the_same_answer_again_from_its_cache() -> None:
    table = (("Ekorren", "Ekorrn"),)
    assert apply("Ekorren", table) == apply("Ekorren", table) == "Ekorrn"
    assert apply("Ekorren", (("Ekorren", "Ekorrrn"),)) == "Ekorrrn"  # another table, another answer


# --- the admin page --------------------------------------------------------------------------------


def _entry(db: Session, preschool_id: int, written: str) -> Pronunciation | None:
    db.expire_all()
    return db.scalar(
        select(Pronunciation).where(
            Pronunciation.preschool_id == preschool_id, Pronunciation.written == written
        )
    )


def _voice(db: Session, preschool_id: int) -> tuple[int, int]:
    db.expire_all()
    preschool = db.get_one(Preschool, preschool_id)
    return preschool.speech_rate, preschool.speech_pitch


def test_an_admin_sets_the_voice(world: World, browser_for: SignIn, db: Session) -> None:
    admin = browser_for(world.admin_ekorren, PASSWORD)
    page = admin.get(PAGE)
    assert page.status_code == 200
    assert "Röst och uttal på Förskolan Ekorren" in page.text
    assert 'value="140" selected' in page.text and "Lugn (120 ord i minuten)" in page.text
    assert "Spara rösten" in page.text
    saved = admin.post(f"{PAGE}/speech", {"rate": "120", "pitch": "40"}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"{PAGE}?saved=speech"
    assert _voice(db, world.ekorren) == (120, 40)
    page = admin.get(saved.headers["location"])
    assert "Rösten är sparad." in page.text
    assert 'value="120" selected' in page.text and 'name="pitch" value="40"' in page.text


def test_a_rate_set_elsewhere_is_shown_as_the_current_choice(
    world: World, browser_for: SignIn, db: Session
) -> None:
    preschool = db.get_one(Preschool, world.ekorren)
    preschool.speech_rate = 155
    db.commit()
    page = browser_for(world.admin_ekorren, PASSWORD).get(PAGE)
    assert 'value="155" selected' in page.text and "Nuvarande (155 ord i minuten)" in page.text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"rate": "999", "pitch": "50"}, "Talhastigheten ska vara ett heltal från 80 till 250."),
        ({"pitch": "50"}, "Talhastigheten ska vara ett heltal från 80 till 250."),
        ({"rate": "140", "pitch": "hög"}, "Tonläget ska vara ett heltal från 0 till 100."),
        ({"rate": "140", "pitch": "-3"}, "Tonläget ska vara ett heltal från 0 till 100."),
    ],
)
def test_a_bad_voice_is_explained_keeps_the_input_and_changes_nothing(
    world: World, browser_for: SignIn, db: Session, form: dict[str, str], message: str
) -> None:
    response = browser_for(world.admin_ekorren, PASSWORD).post(f"{PAGE}/speech", form)
    assert response.status_code == 400
    assert message in response.text and "Inget sparades." in response.text
    assert f'name="pitch" value="{form["pitch"]}"' in response.text
    assert _voice(db, world.ekorren) == (140, 50)


def test_staff_add_change_and_delete_words(world: World, browser_for: SignIn, db: Session) -> None:
    _speak(db, world.ekorren, "sv", "ar")
    admin = browser_for(world.admin_ekorren, PASSWORD)
    page = admin.get(PAGE)
    assert 'id="uttal-sv"' in page.text and 'id="uttal-ar"' in page.text and "العربية" in page.text

    added = admin.post(
        f"{PAGE}/pronunciations",
        {"lang": "sv", "written": "Ekorren", "spoken": "Ekorrn"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert added.headers["location"] == f"{PAGE}?saved=added&lang=sv#uttal-sv"
    assert "Ordet är tillagt." in admin.get(added.headers["location"]).text
    row = _entry(db, world.ekorren, "Ekorren")
    assert row is not None and row.spoken == "Ekorrn" and row.lang == "sv"

    changed = admin.post(f"{PAGE}/pronunciations/{row.id}", {"written": "Ekorren", "spoken": "Ekårrn"})
    assert changed.status_code == 200 and "Ändringen är sparad." in changed.text
    assert 'value="Ekårrn"' in changed.text
    assert pronunciations_for(db, world.ekorren, "sv") == (("Ekorren", "Ekårrn"),)

    deleted = admin.post(f"{PAGE}/pronunciations/{row.id}/delete")
    assert deleted.status_code == 200 and "Ordet är borttaget." in deleted.text
    assert _count(db) == 0
    assert admin.post(f"{PAGE}/pronunciations/{row.id}/delete").status_code == 404


def test_a_pedagogue_edits_words_but_not_the_voice(world: World, browser_for: SignIn, db: Session) -> None:
    pedagogue = browser_for(world.pedagogue_ekorren, PASSWORD)
    page = pedagogue.get(PAGE)
    assert page.status_code == 200
    assert "Bara förskolans administratörer kan ändra rösten." in page.text
    assert "<fieldset disabled>" in page.text and "Spara rösten" not in page.text
    assert pedagogue.post(f"{PAGE}/speech", {"rate": "170", "pitch": "50"}).status_code == 403
    assert _voice(db, world.ekorren) == (140, 50)
    added = pedagogue.post(f"{PAGE}/pronunciations", {"lang": "sv", "written": "Alva", "spoken": "Allva"})
    assert added.status_code == 200 and "Ordet är tillagt." in added.text
    row = _entry(db, world.ekorren, "Alva")
    assert row is not None
    assert (
        pedagogue.post(f"{PAGE}/pronunciations/{row.id}", {"written": "Alva", "spoken": "Alvva"}).status_code
        == 200
    )
    assert pedagogue.post(f"{PAGE}/pronunciations/{row.id}/delete").status_code == 200
    assert _count(db) == 0


def test_the_dashboard_links_to_the_page(world: World, browser_for: SignIn) -> None:
    for email in (world.admin_ekorren, world.pedagogue_ekorren):
        assert 'href="/admin/p/ekorren/voice"' in browser_for(email, PASSWORD).get("/admin").text


def test_other_preschools_staff_get_nothing(world: World, browser_for: SignIn, db: Session) -> None:
    row = add_pronunciation(db, world.ekorren, "sv", "Ekorren", "Ekorrn")
    db.commit()
    other_org = browser_for(world.org_admin_b, PASSWORD)  # admin of Myran, another organisation
    assert other_org.get(PAGE).status_code == 404
    assert other_org.post(f"{PAGE}/speech", {"rate": "250", "pitch": "100"}).status_code == 404
    assert (
        other_org.post(f"{PAGE}/pronunciations", {"lang": "sv", "written": "x", "spoken": "y"}).status_code
        == 404
    )
    # Through their own preschool's address, with Ekorren's entry id
    myran = "/admin/p/myran/voice"
    assert other_org.get(myran).status_code == 200 and 'value="Ekorrn"' not in other_org.get(myran).text
    assert (
        other_org.post(f"{myran}/pronunciations/{row.id}", {"written": "Hack", "spoken": "Hack"}).status_code
        == 404
    )
    assert other_org.post(f"{myran}/pronunciations/{row.id}/delete").status_code == 404
    # Same organisation, no role at Humlan
    pedagogue = browser_for(world.pedagogue_ekorren, PASSWORD)
    assert pedagogue.get("/admin/p/humlan/voice").status_code == 403
    assert (
        pedagogue.post(
            "/admin/p/humlan/voice/pronunciations", {"lang": "sv", "written": "x", "spoken": "y"}
        ).status_code
        == 403
    )
    assert pronunciations_for(db, world.ekorren, "sv") == (("Ekorren", "Ekorrn"),)
    assert _voice(db, world.ekorren) == (140, 50)
    assert _count(db) == 1


def test_anonymous_visitors_are_sent_to_sign_in(world: World, client: TestClient, db: Session) -> None:
    response = client.get(PAGE, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/admin/login"
    row = add_pronunciation(db, world.ekorren, "sv", "Ekorren", "Ekorrn")
    db.commit()
    for url, form in [
        (f"{PAGE}/speech", {"rate": "250", "pitch": "100"}),
        (f"{PAGE}/pronunciations", {"lang": "sv", "written": "x", "spoken": "y"}),
        (f"{PAGE}/pronunciations/{row.id}", {"written": "x", "spoken": "y"}),
        (f"{PAGE}/pronunciations/{row.id}/delete", {}),
        (f"{PAGE}/try", {"lang": "sv", "prova": "Hej Alva"}),
    ]:
        assert client.post(url, data=form, follow_redirects=False).status_code in (303, 403)
    assert _voice(db, world.ekorren) == (140, 50)
    assert pronunciations_for(db, world.ekorren, "sv") == (("Ekorren", "Ekorrn"),)


def test_a_post_without_the_csrf_token_changes_nothing(
    world: World, browser_for: SignIn, db: Session
) -> None:
    admin = browser_for(world.admin_ekorren, PASSWORD)
    row = add_pronunciation(db, world.ekorren, "sv", "Ekorren", "Ekorrn")
    db.commit()
    for url, form in [
        (f"{PAGE}/speech", {"rate": "250", "pitch": "100"}),
        (f"{PAGE}/pronunciations", {"lang": "sv", "written": "x", "spoken": "y"}),
        (f"{PAGE}/pronunciations/{row.id}", {"written": "x", "spoken": "y"}),
        (f"{PAGE}/pronunciations/{row.id}/delete", {}),
        (f"{PAGE}/try", {"lang": "sv", "prova": "Hej Alva"}),
    ]:
        assert admin.client.post(url, data=form).status_code == 403
        assert admin.client.post(url, data={**form, "csrf_token": "x" * 64}).status_code == 403
    assert _voice(db, world.ekorren) == (140, 50)
    assert pronunciations_for(db, world.ekorren, "sv") == (("Ekorren", "Ekorrn"),)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"lang": "sv", "written": "", "spoken": "Ekorrn"}, "Skriv ordet."),
        ({"lang": "sv", "written": "Ekorren", "spoken": ""}, "Skriv uttalet."),
        (
            {"lang": "sv", "written": "Ekorren", "spoken": "x" * 201},
            "Uttalet får vara högst 200 tecken lång.",
        ),
        ({"lang": "sv", "written": "x" * 101, "spoken": "Ekorrn"}, "Ordet får vara högst 100 tecken lång."),
        ({"lang": "sv", "written": "LAIBAN", "spoken": "Ekorrn"}, "”LAIBAN” finns redan i listan."),
        ({"lang": "sv", "written": "Ekor\nren", "spoken": "Ekorrn"}, "styrtecken"),
        ({"lang": "en", "written": "Ekorren", "spoken": "Ekorrn"}, "Förskolan har inte språket English."),
        ({"written": "Ekorren", "spoken": "Ekorrn"}, "Välj ett av förskolans språk."),
    ],
)
def test_a_bad_word_is_explained_keeps_the_input_and_stores_nothing(
    world: World, browser_for: SignIn, db: Session, form: dict[str, str], message: str
) -> None:
    add_pronunciation(db, world.ekorren, "sv", "Laiban", "Lajban")
    db.commit()
    response = browser_for(world.pedagogue_ekorren, PASSWORD).post(f"{PAGE}/pronunciations", form)
    assert response.status_code == 400
    assert message in response.text and "Inget sparades." in response.text
    if form.get("lang") == "sv":
        typed = (
            form["written"] if len(form["written"]) <= 100 and "\n" not in form["written"] else form["spoken"]
        )
        assert f'value="{typed}"' in response.text
    assert _count(db) == 1


def test_a_bad_change_keeps_the_typed_row_and_changes_nothing(
    world: World, browser_for: SignIn, db: Session
) -> None:
    add_pronunciation(db, world.ekorren, "sv", "Laiban", "Lajban")
    row = add_pronunciation(db, world.ekorren, "sv", "Ekorren", "Ekorrn")
    db.commit()
    response = browser_for(world.admin_ekorren, PASSWORD).post(
        f"{PAGE}/pronunciations/{row.id}", {"written": "laiban", "spoken": "Nytt uttal"}
    )
    assert response.status_code == 400
    assert "”laiban” finns redan i listan." in response.text
    assert 'value="laiban"' in response.text and 'value="Nytt uttal"' in response.text
    assert pronunciations_for(db, world.ekorren, "sv") == (("Ekorren", "Ekorrn"), ("Laiban", "Lajban"))


def test_words_are_escaped_on_the_page(world: World, browser_for: SignIn, db: Session) -> None:
    add_pronunciation(db, world.ekorren, "sv", '<script>alert(1)</script>"', "<b>fet</b>")
    db.commit()
    page = browser_for(world.pedagogue_ekorren, PASSWORD).get(PAGE)
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;" in page.text
    assert "<b>fet</b>" not in page.text


def test_a_missing_entry_is_404_not_a_crash(world: World, browser_for: SignIn) -> None:
    admin: Browser = browser_for(world.admin_ekorren, PASSWORD)
    assert admin.post(f"{PAGE}/pronunciations/999999", {"written": "x", "spoken": "y"}).status_code == 404
    assert admin.post(f"{PAGE}/pronunciations/99999999999/delete").status_code == 422


# --- "Lyssna" and the audio cache's warning (with the server's voice) ------------------------------


class RecordingEngine:
    """A voice that remembers what it was asked to say."""

    name = "recording"

    def __init__(self) -> None:
        self.said: list[tuple[str, str, int, int]] = []

    def voices(self) -> dict[str, str]:
        return {"sv": "sv-test", "en": "en-test"}

    def has_voice(self, lang: str) -> bool:
        return lang in self.voices()

    def synthesize(self, text: str, lang: str, rate: int = 140, pitch: int = 50) -> bytes:
        self.said.append((text, lang, rate, pitch))
        return wav_bytes(b"\x00\x00" * 160, 16000)


@pytest.fixture
def recording(app: FastAPI, settings: Settings) -> RecordingEngine:
    engine = RecordingEngine()
    app.state.voice = Voice(engine, AudioCache(settings.data_dir / "audio", 1024 * 1024))
    return engine


def test_lyssna_says_the_sample_with_the_saved_voice_and_words(
    world: World, browser_for: SignIn, db: Session, recording: RecordingEngine
) -> None:
    _speak(db, world.ekorren, "sv", "en", "so")
    preschool = db.get_one(Preschool, world.ekorren)
    preschool.speech_rate, preschool.speech_pitch = 120, 40
    add_pronunciation(db, world.ekorren, "sv", "Ekorren", "Ekorrn")
    db.commit()
    pedagogue = browser_for(world.pedagogue_ekorren, PASSWORD)
    page = pedagogue.get(PAGE)
    assert f'src="{PAGE}/preview?lang=sv"' in page.text
    assert 'name="prova" value="Hej! Jag heter Laiban. Välkommen till Förskolan Ekorren."' in page.text
    assert page.text.count('name="prova"') == 2  # Swedish and English; no voice speaks Somali here

    audio = pedagogue.get(f"{PAGE}/preview?lang=sv")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content[:4] == b"RIFF" and audio.headers["cache-control"] == "no-store"
    assert recording.said[-1] == ("Hej! Jag heter Laiban. Välkommen till Förskolan Ekorrn.", "sv", 120, 40)


def _urls(page: str) -> list[str]:
    """Every URL of a page: its links, sources and form actions (formaction too), unescaped."""
    return [
        html.unescape(value)
        for value in re.findall(r'\b(?:href|src|action|formaction)="([^"]*)"', page, re.IGNORECASE)
    ]


def _audio_src(page: str) -> str:
    """The src of the page's one autoplaying audio (what staff typed)."""
    found = re.findall(r'<audio controls autoplay src="([^"]*)"', page)
    assert len(found) == 1, found
    return html.unescape(found[0])


def _tokens(app: FastAPI) -> Tokens:
    return Tokens(app.state.settings.secret_key)


def test_staff_hear_what_they_typed_and_it_is_never_cached(
    world: World, browser_for: SignIn, db: Session, recording: RecordingEngine, settings: Settings
) -> None:
    add_pronunciation(db, world.ekorren, "sv", "Alva", "Allva")
    db.commit()
    pedagogue = browser_for(world.pedagogue_ekorren, PASSWORD)
    page = pedagogue.post(f"{PAGE}/try", {"lang": "sv", "prova": " Hej Alva 🐿️ "}, follow_redirects=False)
    assert page.status_code == 200  # the page itself: a redirect would put the text in a URL
    assert page.headers["cache-control"] == "no-store"
    assert 'name="prova" value="Hej Alva 🐿️"' in page.text
    assert f'action="{PAGE}/try#uttal-sv"' in page.text and 'method="post"' in page.text
    assert "Inget sparades." not in page.text
    src = _audio_src(page.text)
    assert src.startswith(f"{PAGE}/preview?lang=sv&t=")
    assert set(parse_qs(urlsplit(src).query)) == {"lang", "t"}
    audio = pedagogue.get(src)
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.headers["cache-control"] == "no-store"
    assert recording.said[-1] == ("Hej Allva", "sv", 140, 50)
    audio_folder = settings.data_dir / "audio"
    assert not audio_folder.exists() or not any(audio_folder.glob("*.wav"))  # a child's name stays off disk


def test_what_staff_typed_is_in_no_url_of_the_page(
    world: World, browser_for: SignIn, db: Session, recording: RecordingEngine, app: FastAPI
) -> None:
    _speak(db, world.ekorren, "sv", "en")
    typed = "Mormor hämtar Ellinor Åberg"
    admin = browser_for(world.admin_ekorren, PASSWORD)
    for lang in ("sv", "en"):
        page = admin.post(f"{PAGE}/try", {"lang": lang, "prova": typed})
        assert page.status_code == 200
        assert f'name="prova" value="{typed}"' in page.text  # in the field, where staff typed it
        urls = _urls(page.text)
        assert any("/preview?" in url and "t=" in url for url in urls)
        for url in urls:
            for word in ("Ellinor", "Åberg", "Mormor", quote("Åberg"), quote_plus(typed), "text="):
                assert word.lower() not in url.lower(), url
        said = _tokens(app).open(parse_qs(urlsplit(_audio_src(page.text)).query)["t"][0])
        assert (said.text, said.lang, said.personal, said.preschool_id) == (typed, lang, True, world.ekorren)
        assert (said.rate, said.pitch, said.engine) == (140, 50, "recording")
        assert abs(said.issued - time.time()) < 60
    # The other language's field shows its sample, and only the tried language has the audio.
    assert 'name="prova" value="Hej! Jag heter Laiban. Välkommen till Förskolan Ekorren."' in page.text


def test_the_preview_takes_no_plain_text(
    world: World, browser_for: SignIn, recording: RecordingEngine
) -> None:
    pedagogue = browser_for(world.pedagogue_ekorren, PASSWORD)
    audio = pedagogue.get(f"{PAGE}/preview", params={"lang": "sv", "text": "Hej Alva"})
    assert audio.status_code == 200  # `text` means nothing: the sample
    assert recording.said == [("Hej! Jag heter Laiban. Välkommen till Förskolan Ekorren.", "sv", 140, 50)]


def test_a_token_is_good_only_for_its_preschool_and_language(
    world: World, browser_for: SignIn, db: Session, recording: RecordingEngine, app: FastAPI
) -> None:
    _speak(db, world.ekorren, "sv", "en")
    _speak(db, world.humlan, "sv", "en")
    chef = browser_for(world.org_admin_a, PASSWORD)  # may see both Ekorren and Humlan
    humlan = chef.post("/admin/p/humlan/voice/try", {"lang": "sv", "prova": "Hej Alva"})
    assert humlan.status_code == 200
    token = parse_qs(urlsplit(_audio_src(humlan.text)).query)["t"][0]
    assert chef.get("/admin/p/humlan/voice/preview", params={"lang": "sv", "t": token}).status_code == 200
    assert recording.said == [("Hej Alva", "sv", 140, 50)]
    # Humlan's token at Ekorren's address, or for another language: nothing
    assert chef.get(f"{PAGE}/preview", params={"lang": "sv", "t": token}).status_code == 404
    assert chef.get("/admin/p/humlan/voice/preview", params={"lang": "en", "t": token}).status_code == 404
    # Forged, changed, empty, of another key, expired, of another engine: nothing
    tokens = _tokens(app)
    now = int(time.time())
    said = Said("Hej Alva", "sv", 140, 50, "recording", True, world.ekorren, now)
    assert chef.get(f"{PAGE}/preview", params={"lang": "sv", "t": tokens.seal(said)}).status_code == 200
    changed = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    other_key = Tokens("another-secret-key-that-is-long-enough-98765").seal(said)
    expired = tokens.seal(Said("Hej Alva", "sv", 140, 50, "recording", True, world.ekorren, now - 27 * 3600))
    other_engine = tokens.seal(Said("Hej Alva", "sv", 140, 50, "espeak", True, world.ekorren, now))
    for bad in (changed, "", "x" * 5000, "not a token", other_key, expired, other_engine):
        assert chef.get(f"{PAGE}/preview", params={"lang": "sv", "t": bad}).status_code == 404, bad
    # Staff of another organisation get nothing with a good token either
    myran = browser_for(world.org_admin_b, PASSWORD)
    good = tokens.seal(said)
    assert myran.get(f"{PAGE}/preview", params={"lang": "sv", "t": good}).status_code == 404
    assert len(recording.said) == 2


def test_trying_too_much_text_is_explained_and_keeps_it(
    world: World, browser_for: SignIn, recording: RecordingEngine
) -> None:
    pedagogue = browser_for(world.pedagogue_ekorren, PASSWORD)
    typed = "Hej Alva " + "x" * 200
    page = pedagogue.post(f"{PAGE}/try", {"lang": "sv", "prova": typed})
    assert page.status_code == 400
    assert "Skriv högst 200 tecken." in page.text and f'value="{typed}"' in page.text
    assert "<audio controls autoplay" not in page.text and "Inget sparades." not in page.text
    assert "Hej Alva" not in "".join(_urls(page.text))
    nothing = pedagogue.post(f"{PAGE}/try", {"lang": "sv", "prova": "🐿️"})
    assert nothing.status_code == 400 and "Skriv något som Laiban kan säga." in nothing.text
    assert recording.said == []


def test_lyssna_refuses_what_it_cannot_say(
    world: World, browser_for: SignIn, db: Session, recording: RecordingEngine, client: TestClient
) -> None:
    _speak(db, world.ekorren, "sv", "so")
    pedagogue = browser_for(world.pedagogue_ekorren, PASSWORD)
    assert pedagogue.get(f"{PAGE}/preview?lang=so").status_code == 404  # no voice for Somali
    assert pedagogue.get(f"{PAGE}/preview?lang=en").status_code == 404  # not the preschool's language
    assert pedagogue.post(f"{PAGE}/try", {"lang": "so", "prova": "Hej"}).status_code == 404
    assert pedagogue.post(f"{PAGE}/try", {"lang": "en", "prova": "Hej"}).status_code == 404
    assert pedagogue.get("/admin/p/humlan/voice/preview?lang=sv").status_code == 403
    assert pedagogue.post("/admin/p/humlan/voice/try", {"lang": "sv", "prova": "Hej"}).status_code == 403
    other_org = browser_for(world.org_admin_b, PASSWORD)
    assert other_org.get(f"{PAGE}/preview?lang=sv").status_code == 404
    assert other_org.post(f"{PAGE}/try", {"lang": "sv", "prova": "Hej"}).status_code == 404
    anonymous = client.get(f"{PAGE}/preview?lang=sv", follow_redirects=False)
    assert anonymous.status_code == 303
    assert recording.said == []


def test_trying_without_the_csrf_token_is_refused(
    world: World, browser_for: SignIn, recording: RecordingEngine
) -> None:
    pedagogue = browser_for(world.pedagogue_ekorren, PASSWORD)
    refused = pedagogue.client.post(f"{PAGE}/try", data={"lang": "sv", "prova": "Hej Alva"})
    assert refused.status_code == 403 and "Hej Alva" not in refused.text
    assert recording.said == []


def test_without_a_server_voice_there_is_nothing_to_hear(
    world: World, browser_for: SignIn, app: FastAPI, settings: Settings
) -> None:
    app.state.voice = Voice(None)
    (settings.data_dir / "audio").write_text("not a folder")  # would be a problem, if there were a voice
    admin = browser_for(world.admin_ekorren, PASSWORD)
    page = admin.get(PAGE)
    assert "<audio" not in page.text and 'name="prova"' not in page.text
    assert "Problem med ljudet" not in page.text
    assert admin.get(f"{PAGE}/preview?lang=sv").status_code == 404
    assert admin.post(f"{PAGE}/try", {"lang": "sv", "prova": "Hej"}).status_code == 404


def test_a_broken_audio_cache_is_shown_as_a_warning(
    world: World, browser_for: SignIn, recording: RecordingEngine, settings: Settings
) -> None:
    admin = browser_for(world.admin_ekorren, PASSWORD)
    assert "Problem med ljudet" not in admin.get(PAGE).text
    (settings.data_dir / "audio").write_text("not a folder")
    page = admin.get(PAGE)
    assert "Problem med ljudet" in page.text and "Ljudcachen i" in page.text


def test_the_real_voice_speaks_the_sample(world: World, browser_for: SignIn, app: FastAPI) -> None:
    voice = app.state.voice
    if voice is None or voice.engine is None or not voice.can_speak("sv"):
        pytest.skip("no server voice here (the voice extra is not installed)")
    audio = browser_for(world.admin_ekorren, PASSWORD).get(f"{PAGE}/preview?lang=sv")
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
    assert wav_duration(audio.content) > 1.0
