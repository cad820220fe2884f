"""Languages per preschool: the admin shows each language's catalog, review status and voice and refuses
a language whose catalog is incomplete; `speakable` never offers such a language to the children, so a
half-translated catalog cannot fail an answer."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from laiban import assistant, i18n
from laiban.model.intent import Answer, Context, Intent, Message, StaffTexts
from laiban.model.preschool import LANGUAGES
from laiban.model.today import Today
from laiban.skills import lunch
from laiban.store.tables import Preschool
from laiban.web import kiosk_words

from .conftest import Browser, SignIn
from .world import PASSWORD, World

INCOMPLETE = "fi"  # the language whose catalog the fixture breaks
MISSING = lunch.WILL_TODAY  # …by leaving this sentence untranslated


def _clear_caches() -> None:
    for cached in (
        i18n.languages_with_catalogs,
        i18n.catalog_status,
        i18n.catalog,
        kiosk_words.kiosk_words,
        kiosk_words.weekday_letters,
    ):
        cached.cache_clear()


@pytest.fixture
def incomplete_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The real catalogs, copied to a temporary folder, with one sentence of INCOMPLETE's left out of its
    `.po` and its `.mo` (as a translator's half-done work would be)."""
    shutil.copy(i18n.LOCALES.parent / "laiban.pot", tmp_path / "laiban.pot")
    shutil.copytree(i18n.LOCALES, tmp_path / "locales")
    folder = tmp_path / "locales" / INCOMPLETE / "LC_MESSAGES"
    with (folder / "laiban.po").open("rb") as handle:
        catalog = read_po(handle, locale=INCOMPLETE)
    catalog[MISSING].string = ""
    with (folder / "laiban.po").open("wb") as handle:
        write_po(handle, catalog)
    with (folder / "laiban.mo").open("wb") as handle:
        write_mo(handle, catalog, use_fuzzy=True)
    monkeypatch.setattr(i18n, "LOCALES", tmp_path / "locales")
    _clear_caches()
    try:
        yield INCOMPLETE
    finally:
        monkeypatch.undo()
        _clear_caches()


def _today(languages: tuple[str, ...]) -> Today:
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm"))  # a Monday
    return Today(
        now=now,
        preschool_name="Förskolan Ekorren",
        modules=("lunch", "clock"),
        languages=languages,
        menu={(now.date(), "lunch"): (("Fiskpinnar med potatis", None),)},
    )


# --- speakable ------------------------------------------------------------------------------------------


def test_every_shipped_catalog_is_complete_so_every_language_is_speakable() -> None:
    assert assistant.speakable(tuple(LANGUAGES)) == tuple(LANGUAGES)


def test_a_half_translated_catalog_is_not_offered_and_cannot_fail_an_answer(incomplete_catalog: str) -> None:
    status = i18n.catalog_status(incomplete_catalog)
    assert status.translated == status.total - 1 and not status.complete
    assert incomplete_catalog in i18n.languages_with_catalogs()  # its .mo is there…
    # …and rendering the missing sentence in it would fail: exactly what `speakable` keeps from a child.
    with pytest.raises(LookupError):
        i18n.render(Answer((Message(MISSING, {"dishes": StaffTexts(("fisk",)), "meal": "lunch"}),)), "fi")

    assert assistant.speakable(("sv", "en", incomplete_catalog, "ar")) == ("sv", "en", "ar")
    with pytest.raises(LookupError, match="cannot speak"):  # refused before any skill runs
        assistant.ask(
            lang=incomplete_catalog, today=_today(("sv", "fi")), context=Context(), intent=Intent("lunch")
        )
    # The preschool's other languages answer as always, and the half-done one is not among those offered.
    reply = assistant.ask(
        lang="sv", today=_today(("sv", "en", "fi")), context=Context(), intent=Intent("lunch")
    )
    assert reply.rendered.text == "Idag blir det fiskpinnar med potatis till lunch."
    offered = assistant.ask(
        lang="sv", today=_today(("sv", "en", "fi")), context=Context(), intent=Intent("language")
    )
    assert "finska" not in offered.rendered.text and "engelska" in offered.rendered.text


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_kiosk_is_not_offered_a_half_translated_language(
    world: World, client: TestClient, db: Session, incomplete_catalog: str
) -> None:
    preschool = db.get_one(Preschool, world.ekorren)
    preschool.languages = ["sv", "en", incomplete_catalog]
    db.commit()
    body = client.get("/api/v1/kiosk", headers=_bearer(world.device_ekorren)).json()
    assert body["spoken_languages"] == ["sv", "en"]
    assert set(body["words"]) == {"sv", "en"}
    asked = client.post(
        "/api/v1/ask",
        json={"intent": "lunch", "lang": incomplete_catalog},
        headers=_bearer(world.device_ekorren),
    )
    assert asked.status_code == 422 and asked.json()["error"]["code"] == "invalid_request"


# --- the admin ------------------------------------------------------------------------------------------

SETTINGS = {
    "name": "Förskolan Ekorren",
    "timezone": "Europe/Stockholm",
    "day_starts_at": "07:00",
    "day_ends_at": "17:00",
    "modules": ["lunch", "clock"],
    "groups": "Svamp",
}


def _row(page: str, lang: str) -> str:
    start = page.index(f'<li class="language" data-lang="{lang}">')
    return page[start : page.index("</li>", start)]


def test_the_settings_show_each_languages_completeness_review_and_voice(
    world: World, browser_for: SignIn
) -> None:
    browser: Browser = browser_for(world.admin_ekorren, PASSWORD)
    page = browser.get("/admin/p/ekorren/settings").text
    total = i18n.catalog_status("sv").total
    for lang, name in LANGUAGES.items():
        row = _row(page, lang)
        assert f'<span lang="{lang}" dir="{"rtl" if lang in ("ar", "fa") else "ltr"}">{name}</span>' in row
        assert f"{total} av {total} meningar" in row, row
    assert "källspråket" in _row(page, "sv")
    assert "ej granskad av modersmålstalare" in _row(page, "ar")  # machine-made, nobody has reviewed it
    assert "röst: espeak" in _row(page, "ar")
    assert "ingen röst – barnen ser texten och bilderna" in _row(page, "so")
    assert "disabled" in _row(page, "sv") and "checked" in _row(page, "sv")
    assert "disabled" not in _row(page, "so")


def test_a_language_can_be_enabled_and_an_incomplete_one_cannot(
    world: World, browser_for: SignIn, db: Session, incomplete_catalog: str
) -> None:
    browser: Browser = browser_for(world.admin_ekorren, PASSWORD)
    page = browser.get("/admin/p/ekorren/settings").text
    row = _row(page, incomplete_catalog)
    total = i18n.catalog_status("sv").total
    assert f"{total - 1} av {total} meningar – kan inte slås på än" in row
    assert "disabled" in row  # the checkbox cannot be ticked…

    # …and a form that sends it all the same is refused with a Swedish sentence; nothing is lost.
    response = browser.post(
        "/admin/p/ekorren/settings",
        {**SETTINGS, "name": "Nytt namn", "languages": ["ar", incomplete_catalog]},
    )
    assert response.status_code == 400
    assert "Ett språk kan slås på först när alla dess meningar är översatta" in response.text
    assert f"Suomi ({total - 1} av {total} meningar)" in response.text
    assert 'value="Nytt namn"' in response.text
    assert 'value="ar" aria-describedby="language-ar" checked' in response.text  # the ticks stay
    db.expire_all()
    preschool = db.get_one(Preschool, world.ekorren)
    assert (preschool.name, preschool.languages) == ("Förskolan Ekorren", ["sv"])

    response = browser.post("/admin/p/ekorren/settings", {**SETTINGS, "languages": ["so", "ar", "en"]})
    assert response.status_code == 200 and "Sparat." in response.text
    db.expire_all()
    assert db.get_one(Preschool, world.ekorren).languages == ["sv", "en", "ar", "so"]

    # A language switched on before its catalog became incomplete does not block saving the rest (the
    # kiosk does not offer it meanwhile: see speakable).
    preschool = db.get_one(Preschool, world.ekorren)
    preschool.languages = ["sv", incomplete_catalog]
    db.commit()
    response = browser.post("/admin/p/ekorren/settings", {**SETTINGS, "languages": [incomplete_catalog]})
    assert response.status_code == 200 and "Sparat." in response.text
    row = _row(response.text, incomplete_catalog)
    assert "barnen får inte språket förrän alla är översatta" in row and "disabled" not in row


def test_only_a_preschool_admin_changes_the_languages(world: World, browser_for: SignIn, db: Session) -> None:
    browser: Browser = browser_for(world.pedagogue_ekorren, PASSWORD)
    page = browser.get("/admin/p/ekorren/settings").text
    assert "ej granskad av modersmålstalare" in page  # a pedagogue sees the status…
    response = browser.post("/admin/p/ekorren/settings", {**SETTINGS, "languages": ["ar"]})
    assert response.status_code == 403  # …but changing the settings stays the admins' job
    assert db.get_one(Preschool, world.ekorren).languages == ["sv"]
