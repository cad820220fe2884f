"""The kiosk in the children's languages, in Chromium against a real server: the demo preschool with
Swedish, English, Arabic and Somali switched on. Arabic turns the page right to left and is spoken by the
server's Arabic voice; Somali has no voice, so the kiosk shows captions and pictures and stays silent;
Swedish comes back left to right."""

from __future__ import annotations

import datetime as dt
import re
import time
from zoneinfo import ZoneInfo

import httpx
import pytest

from laiban.demo import DEMO_LUNCHES
from laiban.model.preschool import MODULES
from laiban.skills.dishes import dish
from laiban.speech.tts import DEFAULT_PITCH, DEFAULT_RATE, EspeakEngine, speakable_text
from laiban.store.db import make_engine, session_factory, transaction
from laiban.store.preschools import preschool_by_slug
from laiban.web.kiosk_words import kiosk_words

from .conftest import ALL_IMAGES_LOADED, DEMO_SLUG, Kiosk, KioskServer, OpenKiosk
from .test_kiosk import FAKE_SPEECH, PICTURES_SHOWN, RECORD_PLAYING, captions, wait_for_answer_change

pytestmark = pytest.mark.e2e

LANGUAGES = ["sv", "en", "ar", "so"]
ARABIC_LETTERS = re.compile("[\u0600-\u06ff]")
CHOICES = "() => [...document.querySelectorAll('#language-list .language-choice')].map((b) => b.dataset.lang)"
MODULE_LABELS = "() => [...document.querySelectorAll('#modules .module-button')].map((b) => b.ariaLabel)"
LANG_DIR = "[document.documentElement.lang, document.documentElement.dir]"


def set_languages(server: KioskServer, languages: list[str]) -> None:
    engine = make_engine(f"sqlite:///{server.data_dir / 'laiban.db'}")
    try:
        with transaction(session_factory(engine)) as session:
            preschool = preschool_by_slug(session, DEMO_SLUG)
            assert preschool is not None
            preschool.languages = languages
            rate, pitch = preschool.speech_rate, preschool.speech_pitch
    finally:
        engine.dispose()
    assert (rate, pitch) == (DEFAULT_RATE, DEFAULT_PITCH)  # what the test's own voice below uses


def switch_to(kiosk: Kiosk, lang: str) -> None:
    kiosk.page.locator("#language-button").click()
    kiosk.page.locator(f"#language-list [data-lang='{lang}']").click()
    kiosk.page.wait_for_function(f"() => document.documentElement.lang === '{lang}'")


def todays_dishes() -> list[str]:
    """The demo menu's lunch today as the children hear it (empty at the weekend: the preschool is closed)."""
    today = dt.datetime.now(ZoneInfo("Europe/Stockholm")).date()
    if today.weekday() > 4:
        return []
    week = DEMO_LUNCHES[today.weekday()]
    return [dish(text).simple for text in week]


def test_switch_to_arabic_then_somali_then_back_to_swedish(open_kiosk: OpenKiosk) -> None:
    kiosk = open_kiosk(pair=False)
    server = kiosk.server
    set_languages(server, LANGUAGES)
    # The browser's own voices know Swedish and English only: Somali must not be read by one of them.
    kiosk.context.add_init_script(FAKE_SPEECH + RECORD_PLAYING)
    page = kiosk.page
    page.goto(f"{server.base_url}/kiosk/pair?code={server.pairing_code()}")
    page.wait_for_selector("html[data-ready='true']")
    page.wait_for_selector("body[data-screen='home']")
    assert page.evaluate(LANG_DIR) == ["sv", "ltr"]

    # The language button offers exactly the preschool's languages, Swedish first.
    page.locator("#language-button").click()
    assert page.evaluate(CHOICES) == LANGUAGES
    page.locator("#language-list [data-lang='sv']").click()

    # Arabic: right to left, the home screen's words in Arabic.
    switch_to(kiosk, "ar")
    assert page.evaluate(LANG_DIR) == ["ar", "rtl"]
    arabic = kiosk_words("ar")
    assert page.evaluate(MODULE_LABELS) == [arabic[f"module.{module}"] for module in MODULES]
    assert page.locator("#language-button").get_attribute("aria-label") == arabic["language"]
    # Mirrored: the first module (weather) is now at the right, the language button at the left.
    weather = page.locator("#modules [data-module='weather']").bounding_box()
    lunch = page.locator("#modules [data-module='lunch']").bounding_box()
    assert weather["x"] > lunch["x"]
    page.wait_for_function(ALL_IMAGES_LOADED)
    kiosk.screenshot("languages-home-ar")

    # Lunch in Arabic: an Arabic sentence around the kitchen's Swedish dish name, spoken by the Arabic voice.
    with page.expect_response("**/api/v1/ask") as asked:
        page.locator("#modules [data-module='lunch']").click()
    reply = asked.value.json()
    page.wait_for_selector("body[data-screen='answer']")
    shown = captions(kiosk)
    assert reply["lang"] == "ar" and shown == reply["captions"]
    assert all(ARABIC_LETTERS.search(caption) for caption in shown), shown
    dishes = todays_dishes()
    if dishes:  # the Swedish dish name, framed by the Arabic sentence
        framing = [caption for caption in shown if any(name in caption for name in dishes)]
        assert framing, (shown, dishes)
        rest = framing[0]
        for name in dishes:
            rest = rest.replace(name, "")
        assert ARABIC_LETTERS.search(rest), framing
    assert reply["audio"], "the server speaks Arabic"
    page.wait_for_function("() => window.__played.length === 1")
    assert page.evaluate("window.__played[0]").startswith("blob:")  # fetched with the device token
    token = page.evaluate("localStorage.getItem('laiban.deviceToken')")
    heard = httpx.get(server.base_url + reply["audio"], headers={"Authorization": f"Bearer {token}"})
    assert heard.status_code == 200 and heard.headers["content-type"] == "audio/wav"
    arabic_voice = EspeakEngine().synthesize(
        speakable_text(reply["speech"]), "ar", DEFAULT_RATE, DEFAULT_PITCH
    )
    assert heard.content == arabic_voice  # the very WAV of the Arabic voice saying the answer
    assert page.evaluate("window.__spoken") == []  # the browser's voices stayed silent
    page.wait_for_function(PICTURES_SHOWN)
    kiosk.screenshot("languages-lunch-ar")

    # Somali: there is no voice. The answer comes as captions and pictures, and nothing pretends to speak.
    with page.expect_response("**/api/v1/ask") as asked:
        switch_to(kiosk, "so")  # on an answer, the same question is asked again in the new language
    reply = asked.value.json()
    somali = wait_for_answer_change(kiosk, shown)
    assert page.evaluate(LANG_DIR) == ["so", "ltr"]
    assert reply["lang"] == "so" and somali == reply["captions"] and all(somali)
    assert not any(ARABIC_LETTERS.search(caption) for caption in somali)
    assert reply["audio"] is None  # no audio to request
    page.wait_for_function(PICTURES_SHOWN)
    time.sleep(0.5)  # time enough for any sound to start
    assert page.evaluate("window.__played.length") == 1  # still only the Arabic answer's
    assert page.evaluate("window.__spoken") == []  # no Swedish or English voice reads Somali
    assert page.locator("#captions .caption.speaking").count() == 0
    kiosk.screenshot("languages-lunch-so")

    # Back to Swedish: left to right, Swedish words and sentences.
    switch_to(kiosk, "sv")
    swedish = wait_for_answer_change(kiosk, somali)
    assert page.evaluate(LANG_DIR) == ["sv", "ltr"]
    assert swedish[0].startswith(("Idag", "Förskolan")), swedish
    page.locator("#home-button").click()
    page.wait_for_selector("body[data-screen='home']")
    assert page.evaluate(MODULE_LABELS) == [kiosk_words("sv")[f"module.{module}"] for module in MODULES]
