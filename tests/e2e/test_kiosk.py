"""The kiosk as a child meets it, in Chromium against a real server with the demo preschool Solrosen.

Each test opens its own tablet (a fresh browser context, paired with a new code). The server runs with
LAIBAN_KIOSK_IDLE_SECONDS=3, so the kiosk goes home after 3 s untouched and sleeps after 15 s.
"""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest

from laiban.demo import DEMO_CHILDREN
from laiban.model.preschool import MODULES

from .conftest import ALL_IMAGES_LOADED, IDLE_SECONDS, Kiosk, OpenKiosk

pytestmark = pytest.mark.e2e

OTHER_CHILDREN = [name for name, *_ in DEMO_CHILDREN if name != "Ella"]

# Every picture in the answer has loaded: an <img> with a size, or an inline SVG drawn by the kiosk.
PICTURES_SHOWN = """
() => {
  const pictures = [...document.querySelectorAll('#pictures .picture, #pictures .module-button')];
  return pictures.length > 0 && pictures.every((button) => {
    const img = button.querySelector('img');
    if (img) return img.complete && img.naturalWidth > 0;
    return button.querySelector('svg') !== null;
  });
}
"""


def captions(kiosk: Kiosk) -> list[str]:
    return [text.strip() for text in kiosk.page.locator("#captions .caption").all_inner_texts()]


def tap_module(kiosk: Kiosk, module: str) -> None:
    page = kiosk.page
    if page.locator("body[data-screen='sleep']").count():
        page.locator("#sleep").click()
    if page.locator("body[data-screen='answer']").count():
        page.locator("#home-button").click()
    page.locator(f"#modules [data-module='{module}']").click()
    page.wait_for_selector("body[data-screen='answer']")
    page.wait_for_function("() => document.querySelectorAll('#captions .caption').length > 0")


def wait_for_answer_change(kiosk: Kiosk, before: list[str]) -> list[str]:
    kiosk.page.wait_for_function(
        "(before) => { const now = [...document.querySelectorAll('#captions .caption')]"
        ".map((c) => c.innerText.trim()); return now.length > 0 && now.join('|') !== before.join('|'); }",
        arg=before,
    )
    return captions(kiosk)


def assert_buttons_named_and_big(kiosk: Kiosk, selector: str) -> None:
    buttons = kiosk.page.locator(selector)
    assert buttons.count() > 0, selector
    for index in range(buttons.count()):
        button = buttons.nth(index)
        name = button.get_attribute("aria-label") or button.inner_text()
        assert name.strip(), f"{selector} #{index} has no accessible name"
        box = button.bounding_box()
        assert box is not None
        assert box["width"] >= 96 and box["height"] >= 96, f"{selector} #{index} is {box}"


def preschool_today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Europe/Stockholm")).date()


@pytest.mark.parametrize("viewport", ["tablet", "phone"])
def test_home_shows_one_picture_button_per_module(open_kiosk: OpenKiosk, viewport: str) -> None:
    kiosk = open_kiosk(viewport)
    page = kiosk.page
    shown = page.locator("#modules .module-button").evaluate_all("(all) => all.map((b) => b.dataset.module)")
    assert shown == list(MODULES)  # the demo has every module, in the preschool's order
    assert_buttons_named_and_big(kiosk, "#modules .module-button")
    assert page.locator("#modules [data-module='lunch']").get_attribute("aria-label") == "Mat"
    assert page.locator("#laiban .character").is_visible()
    assert page.locator("#talk-button").is_hidden()  # no speech-to-text configured
    assert page.evaluate("document.documentElement.lang") == "sv"
    # Everything fits: nothing sticks out of the screen, nothing needs scrolling on home.
    for index in range(len(MODULES)):
        box = page.locator("#modules .module-button").nth(index).bounding_box()
        viewport_size = page.viewport_size
        assert box["x"] >= 0 and box["y"] >= 0
        assert box["x"] + box["width"] <= viewport_size["width"] + 1
        assert box["y"] + box["height"] <= viewport_size["height"] + 1, (index, box, viewport_size)
    page.wait_for_function(ALL_IMAGES_LOADED)
    kiosk.screenshot("home")


@pytest.mark.parametrize("viewport", ["tablet", "phone"])
def test_every_module_answers_with_captions_and_pictures(open_kiosk: OpenKiosk, viewport: str) -> None:
    kiosk = open_kiosk(viewport)
    page = kiosk.page
    for module in MODULES:
        tap_module(kiosk, module)
        assert all(captions(kiosk)), module
        page.wait_for_function(PICTURES_SHOWN)
        if module == "pickup":
            page.wait_for_selector("#children .child")
        page.wait_for_function(ALL_IMAGES_LOADED)
        assert page.locator("#home-button").is_visible()
        assert_buttons_named_and_big(kiosk, "#home-button")
        kiosk.screenshot(f"answer-{module}")

        if module == "weather":  # "what to wear" is offered next
            page.locator("#actions [data-intent='clothes']").click()
            page.wait_for_selector("#answer[data-intent='clothes']")
            assert all(captions(kiosk))
            page.wait_for_function(PICTURES_SHOWN)
            kiosk.screenshot("answer-clothes")
        if module == "clock":  # "what happens next" and "what day is it" are offered next
            assert_buttons_named_and_big(kiosk, "#actions .follow-up")
            assert page.locator("#pictures svg.drawn-clock").count() == 1
            page.locator("#actions [data-intent='schedule']").click()
            page.wait_for_selector("#answer[data-intent='schedule']")
            assert all(captions(kiosk))
            page.wait_for_function(PICTURES_SHOWN)
            kiosk.screenshot("answer-schedule")
            page.locator("#actions [data-intent='date']").click()
            page.wait_for_selector("#answer[data-intent='date']")
            assert all(captions(kiosk))
            assert page.locator("#pictures svg.drawn-week").count() == 1
            kiosk.screenshot("answer-date")
        if module == "lunch" and page.locator("#actions .rate").count():
            assert page.locator("#actions .rate").count() == 4
            assert_buttons_named_and_big(kiosk, "#actions .rate")
            page.locator("#actions .rate[data-rating='4']").click()
            page.wait_for_selector("#captions .caption.thanks")
            assert page.locator("#actions .rate").count() == 0

        page.locator("#home-button").click()
        page.wait_for_selector("body[data-screen='home']")
        assert page.locator("#captions .caption").count() == 0  # nothing of the answer stays behind


def test_i_did_not_understand_shows_the_picture_buttons_again(open_kiosk: OpenKiosk) -> None:
    kiosk = open_kiosk()
    page = kiosk.page
    page.locator("#laiban").click()  # Laiban presents himself
    page.wait_for_selector("body[data-screen='answer']")
    assert all(captions(kiosk))
    # The answer's module pictures are module buttons: a tap asks that module.
    page.locator("#pictures [data-module='lunch']").click()
    page.wait_for_selector("#answer[data-intent='lunch']")


def test_pickup_asks_who_i_am_and_tells_only_my_answer(open_kiosk: OpenKiosk) -> None:
    kiosk = open_kiosk()
    page = kiosk.page
    tap_module(kiosk, "pickup")
    grid = page.locator("#children .child")
    grid.first.wait_for()
    names = [name.strip() for name in page.locator("#children .child-name").all_inner_texts()]
    assert "Ella" in names
    assert set(names) <= {name for name, group, *_ in DEMO_CHILDREN if group == "Blåbär"}  # the kiosk's group
    assert_buttons_named_and_big(kiosk, "#children .child")
    kiosk.screenshot("answer-pickup-who")

    before = captions(kiosk)
    page.locator("#children .child[aria-label='Ella']").click()
    said = " ".join(wait_for_answer_change(kiosk, before))
    assert page.locator("#children").is_hidden()
    assert said.strip()
    for other in OTHER_CHILDREN:
        assert other not in said, said
    if preschool_today().weekday() < 5:
        # The demo's change for today: Ella's grandmother (mormor) picks her up at 15:30.
        assert "mormor" in said.lower(), said
    kiosk.screenshot("answer-pickup-ella")

    page.locator("#home-button").click()
    page.wait_for_selector("body[data-screen='home']")
    assert "mormor" not in page.locator("body").inner_text().lower()


def test_language_switch_changes_the_answer_and_the_direction(open_kiosk: OpenKiosk) -> None:
    kiosk = open_kiosk()
    page = kiosk.page
    tap_module(kiosk, "calendar")
    swedish = captions(kiosk)

    page.locator("#language-button").click()
    choices = page.locator("#language-list .language-choice").evaluate_all(
        "(all) => all.map((b) => b.dataset.lang)"
    )
    assert choices[0] == "sv" and "en" in choices, choices
    assert_buttons_named_and_big(kiosk, "#language-list .language-choice")
    kiosk.screenshot("languages")
    page.locator("#language-list [data-lang='en']").click()
    english = wait_for_answer_change(kiosk, swedish)
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["en", "ltr"]
    assert page.locator("#home-button").get_attribute("aria-label") == "Home"
    kiosk.screenshot("answer-calendar-en")

    if "ar" in choices:
        page.locator("#language-button").click()
        page.locator("#language-list [data-lang='ar']").click()
        wait_for_answer_change(kiosk, english)
        assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
        kiosk.screenshot("answer-calendar-ar")

    page.locator("#language-button").click()
    page.locator("#language-list [data-lang='sv']").click()
    page.wait_for_function("() => document.documentElement.lang === 'sv'")
    page.wait_for_function(
        "(swedish) => [...document.querySelectorAll('#captions .caption')].map((c) => c.innerText.trim())"
        ".join('|') === swedish.join('|')",
        arg=swedish,
    )
    assert page.evaluate("document.documentElement.dir") == "ltr"


def test_inactivity_goes_home_then_to_sleep(open_kiosk: OpenKiosk) -> None:
    kiosk = open_kiosk()
    page = kiosk.page
    # Silent (no server voice, no browser voice here): the idle time starts when Laiban has finished.
    kiosk.context.route("**/api/v1/speech/**", lambda route: route.abort())
    tap_module(kiosk, "lunch")
    started = time.monotonic()
    page.wait_for_selector("body[data-screen='home']", timeout=(IDLE_SECONDS + 5) * 1000)
    assert time.monotonic() - started >= IDLE_SECONDS - 1
    assert page.locator("#captions .caption").count() == 0
    page.wait_for_selector("body[data-screen='sleep']", timeout=IDLE_SECONDS * 6 * 1000)
    kiosk.screenshot("sleep")
    page.locator("#sleep").click()
    page.wait_for_selector("body[data-screen='home']")
    assert page.locator("#modules .module-button").first.is_visible()


def test_offline_the_day_s_answers_still_answer(open_kiosk: OpenKiosk) -> None:
    kiosk = open_kiosk()
    page = kiosk.page
    # The kiosk keeps today's answers and their pictures, and the service worker controls the page.
    page.wait_for_function("() => document.documentElement.dataset.kept === 'true'", timeout=30_000)
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    page.wait_for_function(
        "async () => Boolean(await caches.match('/api/v1/kiosk'))"
        " && Boolean(await caches.match('/api/v1/today'))"
    )
    tap_module(kiosk, "lunch")
    online_lunch = captions(kiosk)
    page.locator("#home-button").click()

    kiosk.context.set_offline(True)
    tap_module(kiosk, "lunch")
    assert page.locator("#answer").get_attribute("data-source") == "offline"
    assert captions(kiosk) == online_lunch
    page.wait_for_function(PICTURES_SHOWN)
    page.wait_for_function(ALL_IMAGES_LOADED)
    page.wait_for_selector("#offline:not([hidden])")
    kiosk.screenshot("offline-lunch")

    tap_module(kiosk, "clock")
    assert page.locator("#answer").get_attribute("data-source") == "offline"
    assert all(captions(kiosk))
    assert page.locator("#pictures svg.drawn-clock").count() == 1
    kiosk.screenshot("offline-clock")

    # Personal answers are never kept: offline, pickup says honestly that it cannot answer now.
    tap_module(kiosk, "pickup")
    assert page.locator("#children .child").count() == 0
    assert page.locator("#pictures .module-button").count() == len(MODULES)

    # Even a reload works offline: the service worker has the page and the kiosk's settings.
    page.reload()
    page.wait_for_selector("body[data-screen='home']")
    tap_module(kiosk, "lunch")
    assert captions(kiosk) == online_lunch

    kiosk.context.set_offline(False)
    page.wait_for_selector("#offline", state="hidden", timeout=20_000)


def test_a_revoked_or_missing_token_asks_staff_to_pair_again(open_kiosk: OpenKiosk) -> None:
    kiosk = open_kiosk(pair=False)
    page = kiosk.page
    page.goto(f"{kiosk.server.base_url}/kiosk")
    page.wait_for_selector("body[data-screen='pairing']")
    page.evaluate("localStorage.setItem('laiban.deviceToken', 'not-a-real-token')")
    page.reload()
    page.wait_for_selector("body[data-screen='pairing']")
    assert page.locator("#pairing h1").is_visible()
    assert page.locator("#pairing a.pair-link").get_attribute("href") == "/kiosk/pair"
    assert page.evaluate("localStorage.getItem('laiban.deviceToken')") is None
    assert page.locator("#modules .module-button").count() == 0
    kiosk.screenshot("pairing-needed")


# A stand-in for the browser's speech synthesis (headless Chromium has no voices): a Swedish and an
# English voice; each utterance "speaks" for 1.5 s. Installed before the page's own scripts run.
FAKE_SPEECH = """
(() => {
  window.__spoken = [];
  class Utterance extends EventTarget {
    constructor(text) { super(); this.text = text; }
  }
  const voices = [
    { lang: "sv-SE", name: "Alva", localService: true, default: true },
    { lang: "en-GB", name: "Daniel", localService: true, default: false },
  ];
  const synth = new EventTarget();
  let timer = 0;
  synth.getVoices = () => voices;
  synth.speak = (utterance) => {
    window.__spoken.push({ text: utterance.text, lang: utterance.lang, rate: utterance.rate });
    timer = setTimeout(() => utterance.dispatchEvent(new Event("end")), 1500);
  };
  synth.cancel = () => clearTimeout(timer);
  window.SpeechSynthesisUtterance = Utterance;
  Object.defineProperty(window, "speechSynthesis", { value: synth, configurable: true });
})();
"""

# Records what the page's media elements are asked to play (headless Chromium plays into a silent sink).
RECORD_PLAYING = """
(() => {
  window.__played = [];
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () {
    window.__played.push(this.src);
    return play.call(this);
  };
})();
"""

ALL_CAPTIONS_SPEAKING = """
() => [...document.querySelectorAll('#captions .caption')].every((c) => c.classList.contains('speaking'))
"""

SPEAKING_INDEX = """
() => [...document.querySelectorAll('#captions .caption')].findIndex((c) => c.classList.contains('speaking'))
"""


def test_answers_are_spoken_caption_by_caption_with_the_caption_highlighted(open_kiosk: OpenKiosk) -> None:
    kiosk = open_kiosk(pair=False)
    kiosk.context.add_init_script(FAKE_SPEECH)
    # The server's voice cannot be reached: the browser's voice speaks instead, caption by caption.
    kiosk.context.route("**/api/v1/speech/**", lambda route: route.abort())
    page = kiosk.page
    page.goto(f"{kiosk.server.base_url}/kiosk/pair?code={kiosk.server.pairing_code()}")
    page.wait_for_selector("html[data-ready='true']")
    tap_module(kiosk, "calendar")  # the demo's calendar answer has three captions
    shown = captions(kiosk)
    assert len(shown) >= 2, shown
    page.wait_for_function(f"() => ({SPEAKING_INDEX})() === 0")
    assert page.locator("#captions .caption").first.get_attribute("aria-current") == "true"
    page.wait_for_function(f"() => ({SPEAKING_INDEX})() === 1")
    # While Laiban speaks, the idle time does not run out (3 s here; three captions take 4.5 s).
    page.wait_for_function(f"() => ({SPEAKING_INDEX})() === -1", timeout=15_000)
    assert page.locator("body[data-screen='answer']").count() == 1
    spoken = page.evaluate("window.__spoken")
    assert [item["text"] for item in spoken] == shown  # the spoken forms equal the captions here
    assert {item["lang"] for item in spoken} == {"sv-SE"}
    assert all(0.8 <= item["rate"] <= 1.0 for item in spoken)

    # A tap on one caption says just that one again.
    page.locator("#captions .caption").nth(1).click()
    page.wait_for_function(f"() => ({SPEAKING_INDEX})() === 1")
    assert page.evaluate("window.__spoken.at(-1).text") == shown[1]
    page.wait_for_function(f"() => ({SPEAKING_INDEX})() === -1")

    # In English the English voice speaks.
    page.locator("#language-button").click()
    page.locator("#language-list [data-lang='en']").click()
    wait_for_answer_change(kiosk, shown)
    page.wait_for_function("() => window.__spoken.at(-1).lang === 'en-GB'")
    # Home cancels speech at once.
    page.locator("#home-button").click()
    assert page.evaluate(f"({SPEAKING_INDEX})()") == -1


def test_the_servers_voice_says_the_whole_answer(open_kiosk: OpenKiosk) -> None:
    kiosk = open_kiosk(pair=False)
    kiosk.context.add_init_script(FAKE_SPEECH + RECORD_PLAYING)
    page = kiosk.page
    fetched: list[tuple[int, str | None]] = []
    page.on(
        "response",
        lambda response: (
            "/api/v1/speech/" in response.url
            and fetched.append((response.status, response.headers.get("content-type")))
        ),
    )
    page.goto(f"{kiosk.server.base_url}/kiosk/pair?code={kiosk.server.pairing_code()}")
    page.wait_for_selector("html[data-ready='true']")
    tap_module(kiosk, "calendar")
    page.wait_for_function("() => window.__played.length > 0")
    assert page.evaluate("window.__played[0]").startswith("blob:")  # fetched with the device token
    assert fetched[0] == (200, "audio/wav")
    page.wait_for_function(ALL_CAPTIONS_SPEAKING)  # one audio for the whole answer
    page.wait_for_function(f"() => ({SPEAKING_INDEX})() === -1", timeout=20_000)  # played to the end
    assert page.evaluate("window.__spoken") == []  # the browser's voice stayed silent
    assert page.locator("body[data-screen='answer']").count() == 1
