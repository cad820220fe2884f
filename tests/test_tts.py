"""Laiban's voice, end to end with the real engines on real audio: espeak-ng (in-process and the program),
Piper with a tiny fake voice (tests/fixtures/piper), the audio cache on a real disk (also a full and a
read-only one, in a private mount namespace), the sealed audio URLs, and the kiosk API that serves them.

espeak's output differs a little from call to call, so audio is compared by its duration, never its bytes.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import sys
import threading
import time
import wave
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from laiban.config import ConfigError, Settings
from laiban.model.preschool import LANGUAGES
from laiban.speech.cache import AudioCache, cache_key, cache_problem
from laiban.speech.spoken import Speaker
from laiban.speech.tokens import MAX_AGE, InvalidToken, Said, Tokens
from laiban.speech.tts import (
    ESPEAK_VOICES,
    NO_VOICE,
    EspeakEngine,
    PiperEngine,
    Spoken,
    TtsError,
    Voice,
    fix_wav_sizes,
    parse_piper_voices,
    speakable_text,
    wav_duration,
)
from laiban.store.children import Plan, add_child, set_week
from laiban.store.db import transaction
from laiban.store.pronunciations import add_pronunciation
from laiban.store.tables import Preschool
from laiban.web.app import create_app

from .conftest import SECRET
from .world import World

PIPER_FIXTURE = Path(__file__).with_name("fixtures") / "piper"
SENTENCE = "Idag blir det soligt och varmt, ta på dig kepsen."  # ten words


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wav_format(data: bytes) -> tuple[int, int, int]:
    with wave.open(io.BytesIO(data)) as audio:
        return audio.getframerate(), audio.getnchannels(), audio.getsampwidth()


@pytest.fixture(scope="module")
def espeak() -> EspeakEngine:
    return EspeakEngine()


class Counting(EspeakEngine):
    """The real espeak engine, counting its syntheses (and slow, to make requests overlap)."""

    def __init__(self, delay: float = 0.0):
        super().__init__()
        self.calls = 0
        self.delay = delay
        self._count_lock = threading.Lock()

    def synthesize(self, text: str, lang: str, rate: int = 140, pitch: int = 50) -> bytes:
        with self._count_lock:
            self.calls += 1
        time.sleep(self.delay)
        return super().synthesize(text, lang, rate, pitch)


# --- engines -------------------------------------------------------------------------------------------


def test_espeak_speaks_a_wav_that_is_longer_when_slower(espeak: EspeakEngine) -> None:
    assert espeak.backend == "library"  # the voice extra's wheel, in-process
    calm = espeak.synthesize(SENTENCE, "sv", rate=140)
    assert wav_format(calm) == (22050, 1, 2)
    # Ten words at 140 words per minute: about four seconds (espeak pauses at the comma).
    assert 2.5 < wav_duration(calm) < 7.0
    slow = espeak.synthesize(SENTENCE, "sv", rate=90)
    fast = espeak.synthesize(SENTENCE, "sv", rate=250)
    assert wav_duration(slow) > 1.3 * wav_duration(calm) > 1.3 * 1.3 * wav_duration(fast)
    # Pitch changes the sound, not the length.
    high = espeak.synthesize(SENTENCE, "sv", rate=140, pitch=90)
    assert abs(wav_duration(high) - wav_duration(calm)) < 0.5


def test_every_language_of_laiban_has_an_espeak_voice_but_somali(espeak: EspeakEngine) -> None:
    languages = set(LANGUAGES) | {"hr", "sr", "ku"}
    assert {lang for lang in languages if not espeak.has_voice(lang)} == {"so"} == set(NO_VOICE)
    for lang in sorted(set(ESPEAK_VOICES)):
        audio = espeak.synthesize("Hej, 1 2 3.", lang)
        assert wav_format(audio) == (22050, 1, 2), lang
        assert 0.5 < wav_duration(audio) < 6, lang
    with pytest.raises(TtsError, match="no voice"):
        espeak.synthesize("Hej", "so")


def test_the_espeak_program_is_the_fallback_with_real_wav_sizes(tmp_path: Path) -> None:
    program = shutil.which("espeak-ng")
    if program is None:
        pytest.skip("no espeak-ng program (apt install espeak-ng) for the fallback test")
    engine = EspeakEngine(prefer_program=True)
    assert engine.backend == "program"
    audio = engine.synthesize(SENTENCE, "sv", rate=140)
    assert wav_format(audio) == (22050, 1, 2)
    assert 2.5 < wav_duration(audio) < 7.0  # not the program's placeholder of 13 hours
    raw = subprocess.run([program, "-v", "sv", "--stdout", "Hej"], capture_output=True, check=True).stdout
    assert 0.2 < wav_duration(fix_wav_sizes(raw)) < 3
    assert not EspeakEngine(prefer_program=True).has_voice("so")


def test_without_any_espeak_the_engine_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng program to be found
    with pytest.raises(TtsError, match=r"laiban\[voice\]"):
        EspeakEngine(prefer_program=True)


def test_one_voice_for_many_threads(espeak: EspeakEngine) -> None:
    # libespeak-ng aborts the process when two threads synthesise at once; the engine takes turns.
    results: list[float] = []
    errors: list[BaseException] = []

    def speak(index: int) -> None:
        try:
            for _ in range(10):
                results.append(
                    wav_duration(espeak.synthesize(f"Nummer {index}.", ("sv", "en", "ar")[index % 3]))
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=speak, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and len(results) == 60 and min(results) > 0.3


def test_the_spoken_text_has_no_emoji_or_markup() -> None:
    assert (
        speakable_text("Hej 👋🏽 <b>Ella</b>! **Sol** ☀️ idag 👨‍👩‍👧 _nu_ 5 °C")
        == "Hej Ella! Sol idag nu 5 °C"
    )
    # Every script and its marks stay, and Persian's zero-width non-joiner.
    persian = "می\u200cخواهم غذا بخورم"
    assert speakable_text(persian) == persian
    assert speakable_text("مَرحَبًا   بِكُم") == "مَرحَبًا بِكُم"
    assert speakable_text("🌧️☔") == ""


# --- Piper ---------------------------------------------------------------------------------------------


def test_piper_speaks_with_the_operators_voice_and_espeak_for_the_other_languages(
    espeak: EspeakEngine,
) -> None:
    models = parse_piper_voices(str(PIPER_FIXTURE))
    assert models == {"sv": PIPER_FIXTURE / "sv_SE-laibantest-x_low.onnx"}
    engine = PiperEngine(models, fallback=espeak)
    audio = engine.synthesize("Idag blir det soligt.", "sv")
    assert wav_format(audio) == (22050, 1, 2)
    assert wav_duration(audio) > 0.2  # the fake voice: a tone as long as the phonemes
    assert engine.voices()["sv"].startswith("piper sv_SE-laibantest-x_low.onnx")
    assert engine.voices()["en"].startswith("fallback espeak-ng")
    assert wav_duration(engine.synthesize("Hello there.", "en")) > 0.5
    alone = PiperEngine(models)
    assert not alone.has_voice("en")
    with pytest.raises(TtsError, match="no Piper voice"):
        alone.synthesize("Hello", "en")


def test_piper_voices_are_checked_before_loading(tmp_path: Path) -> None:
    model = PIPER_FIXTURE / "sv_SE-laibantest-x_low.onnx"
    assert parse_piper_voices(f"sv={model}, en = {model}") == {"sv": model, "en": model}
    lonely = tmp_path / "en_GB-alan-low.onnx"
    lonely.write_bytes(model.read_bytes())
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "fi_FI-x-low.onnx").write_bytes(b"x")
    (broken / "fi_FI-x-low.onnx.json").write_text("{not json")
    cases = {
        "": "must name the Piper voices",
        str(tmp_path / "nowhere"): "is not a folder",
        f"sv={tmp_path / 'missing.onnx'}": "does not exist",
        f"sv={model}.json": "is not an .onnx file",
        f"sv={lonely}": "has no en_GB-alan-low.onnx.json beside it",
        f"sv={model},sv={model}": "two voices for 'sv'",
        "swedish=/x.onnx": "is not lang=/path/voice.onnx",
        str(broken): "is not a Piper voice configuration",
        str(tmp_path / "broken" / "fi_FI-x-low.onnx.json"): "is not a folder",
    }
    for raw, message in cases.items():
        with pytest.raises(ConfigError, match="LAIBAN_PIPER_VOICES") as error:
            parse_piper_voices(raw)
        assert message in str(error.value), raw


# --- the cache -----------------------------------------------------------------------------------------


def files_in(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir() if path.suffix == ".wav"} if folder.exists() else set()


def test_a_cached_answer_is_the_same_audio_without_synthesis(tmp_path: Path) -> None:
    engine = Counting()
    voice = Voice(engine, AudioCache(tmp_path / "audio", 10 * 1024 * 1024))
    spoken = Spoken(SENTENCE, "sv", 140, 50)
    first, source = voice.audio(spoken)
    again, source_again = voice.audio(spoken)
    assert (source, source_again, engine.calls) == ("miss", "hit", 1)
    assert again == first
    assert files_in(tmp_path / "audio") == {voice.key(spoken) + ".wav"}
    # Another rate, pitch, language or text is another audio.
    for other in (
        replace(spoken, rate=120),
        replace(spoken, pitch=60),
        replace(spoken, text="Hej."),
        replace(spoken, lang="en"),
    ):
        assert voice.audio(other)[1] == "miss"
    assert engine.calls == 5
    # The key names what makes the sound, never the audio.
    assert voice.key(spoken) == cache_key("espeak", engine.voices()["sv"], 140, 50, SENTENCE)


def test_the_cache_keeps_under_its_bound_and_evicts_the_least_recently_used(tmp_path: Path) -> None:
    folder = tmp_path / "audio"
    one = len(EspeakEngine().synthesize("Mening nummer ett.", "sv"))
    cache = AudioCache(folder, int(one * 4.5))  # room for about four answers
    voice = Voice(EspeakEngine(), cache)
    said = [
        Spoken(f"Mening nummer {word}.", "sv")
        for word in ("ett", "två", "tre", "fyra", "fem", "sex", "sju", "åtta")
    ]
    keys = [voice.key(spoken) + ".wav" for spoken in said]
    for index, spoken in enumerate(said):
        voice.audio(spoken)
        time.sleep(0.01)
        assert voice.audio(said[0])[1] == "hit", index  # the first is used all the time: it stays
        time.sleep(0.01)
        size = sum(path.stat().st_size for path in folder.iterdir())
        assert size <= cache.max_bytes
    kept = files_in(folder)
    assert keys[0] in kept and keys[-1] in kept
    assert keys[1] not in kept and keys[2] not in kept  # the oldest unused went first
    assert 2 <= len(kept) <= 4


def test_many_asking_at_once_for_the_same_answer_synthesise_it_once(tmp_path: Path) -> None:
    engine = Counting(delay=0.2)
    voice = Voice(engine, AudioCache(tmp_path / "audio", 10 * 1024 * 1024))
    start = threading.Barrier(8)
    got: list[tuple[float, str]] = []

    def ask() -> None:
        start.wait()
        data, source = voice.audio(Spoken(SENTENCE, "sv"))
        got.append((wav_duration(data), source))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert engine.calls == 1
    assert len(got) == 8 and len({duration for duration, _ in got}) == 1
    assert sorted(source for _, source in got) == ["hit"] * 7 + ["miss"]


def test_personal_audio_never_reaches_the_disk(tmp_path: Path) -> None:
    engine = Counting()
    voice = Voice(engine, AudioCache(tmp_path / "audio", 10 * 1024 * 1024))
    spoken = Spoken("Mormor hämtar Ella klockan tre.", "sv", personal=True)
    assert voice.audio(spoken)[1] == voice.audio(spoken)[1] == "personal"
    assert engine.calls == 2  # made in memory every time
    assert files_in(tmp_path / "audio") == set()


def test_a_half_written_file_is_not_served(tmp_path: Path) -> None:
    engine = Counting()
    voice = Voice(engine, AudioCache(tmp_path / "audio", 10 * 1024 * 1024))
    spoken = Spoken("Hej.", "sv")
    whole, _ = voice.audio(spoken)
    path = tmp_path / "audio" / f"{voice.key(spoken)}.wav"
    path.write_bytes(whole[: len(whole) // 2])  # as a crash could leave it without the atomic rename
    again, source = voice.audio(spoken)
    assert source == "miss" and wav_duration(again) == pytest.approx(wav_duration(whole), abs=0.1)
    assert path.stat().st_size == len(again)


# The full and the read-only disk are real: a 256 KB tmpfs, mounted in a private user and mount namespace
# (`unshare --user --map-root-user --mount`, no root needed where unprivileged user namespaces are allowed),
# filled up with a file; then remounted read-only. The mount vanishes with the namespace.
DISK_SCRIPT = r"""
import errno, json, os, sys, subprocess
from pathlib import Path
from laiban.speech.cache import AudioCache, cache_problem
from laiban.speech.tts import EspeakEngine, Spoken, Voice, wav_duration

disk = Path(sys.argv[1])
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], check=True)

class Counting(EspeakEngine):
    calls = 0
    def synthesize(self, *args, **kwargs):
        Counting.calls += 1
        return super().synthesize(*args, **kwargs)

voice = Voice(Counting(), AudioCache(disk / "audio", 10 * 1024 * 1024))
other_worker = AudioCache(disk / "audio", 10 * 1024 * 1024)
out = {}
(disk / "audio").mkdir()
filler = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)  # the disk full, to the last byte
try:
    while True:
        os.write(filler, b"\0" * 512)
except OSError as exc:
    out["filler_errno"] = errno.errorcode[exc.errno]
os.close(filler)
spoken = Spoken("Idag blir det soligt och varmt.", "sv")
data, source = voice.audio(spoken)
out["full"] = {"duration": wav_duration(data), "source": source, "calls": Counting.calls}
out["full_problem"] = cache_problem(disk)
out["markers"] = sorted(p.name for p in (disk / "audio").iterdir())
again, source = voice.audio(spoken)
out["full_again"] = {"same": again == data, "source": source, "calls": Counting.calls}
out["other_worker_sees"] = other_worker.get(voice.key(spoken)) is not None
os.unlink(disk / "filler")  # room again: the next write succeeds and the mark goes
data, source = voice.audio(Spoken("Nu finns det plats igen.", "sv"))
files = len(list((disk / "audio").iterdir()))
out["freed"] = {"source": source, "problem": cache_problem(disk), "files": files}
subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
data, source = voice.audio(Spoken("Skrivskyddat nu.", "sv"))
out["read_only"] = {"duration": wav_duration(data), "source": source, "problem": cache_problem(disk)}
subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
voice.audio(Spoken("Skrivbart igen.", "sv"))
out["writable_again"] = cache_problem(disk)
print(json.dumps(out))
"""


def test_a_full_or_read_only_disk_costs_no_answer(tmp_path: Path) -> None:
    unshare = shutil.which("unshare")
    disk = tmp_path / "disk"
    disk.mkdir()
    probe = [unshare or "unshare", "--user", "--map-root-user", "--mount", "true"]
    if unshare is None or subprocess.run(probe, capture_output=True).returncode != 0:
        pytest.skip("no user and mount namespaces here (unshare) to mount a small disk")
    result = subprocess.run(
        [unshare, "--user", "--map-root-user", "--mount", sys.executable, "-c", DISK_SCRIPT, str(disk)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["filler_errno"] == "ENOSPC"
    # The child hears the answer; the disk refused the file; the mark tells every worker and the admin.
    assert out["full"]["source"] == "miss" and out["full"]["duration"] > 1.5
    assert out["markers"] == [".problem-ENOSPC"]
    assert "disken är full" in out["full_problem"]
    # Asked again: from memory, not synthesised again.
    assert out["full_again"] == {"same": True, "source": "hit", "calls": 1}
    assert out["other_worker_sees"] is False  # another process has it only in its own memory
    assert out["freed"] == {"source": "miss", "problem": None, "files": 1}
    assert out["read_only"]["source"] == "miss" and out["read_only"]["duration"] > 0.5
    assert "skrivskyddat" in out["read_only"]["problem"]
    assert out["writable_again"] is None


def test_an_unusable_cache_folder_is_reported(tmp_path: Path) -> None:
    assert cache_problem(tmp_path) is None  # no folder yet: it is made on the first write
    (tmp_path / "audio").write_text("a file where the folder should be")
    voice = Voice(EspeakEngine(), AudioCache(tmp_path / "audio", 1024 * 1024))
    data, source = voice.audio(Spoken("Hej.", "sv"))
    assert source == "miss" and wav_duration(data) > 0.2
    assert "det finns en fil där mappen ska vara" in (cache_problem(tmp_path) or "")


# --- tokens --------------------------------------------------------------------------------------------

SAID = Said(
    text="Mormor hämtar Ella klockan tre.",
    lang="sv",
    rate=140,
    pitch=50,
    engine="espeak",
    personal=True,
    preschool_id=7,
    issued=int(time.time()),
)


def test_a_token_hides_what_it_says_and_opens_only_with_the_key() -> None:
    tokens = Tokens(SECRET)
    token = tokens.seal(SAID)
    assert tokens.open(token) == SAID
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for visible in ("Ella", "Mormor", "espeak"):
        assert visible.lower() not in token.lower()
        assert visible.encode() not in sealed
    # The same words, the same URL (the kiosk keeps audio by URL); other words, another one.
    assert tokens.seal(SAID) == token
    assert tokens.seal(replace(SAID, text="Pappa hämtar Ella.")) != token
    assert Tokens("another-secret-key-that-is-long-enough-98765").seal(SAID) != token


def test_a_changed_expired_or_foreign_token_does_not_open() -> None:
    tokens = Tokens(SECRET)
    token = tokens.seal(SAID)
    middle = len(token) // 2
    changed = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    for bad in (changed, token[:-2], token + "AA", "", "x" * 5000, "!!!", "AQ"):
        with pytest.raises(InvalidToken):
            tokens.open(bad)
    with pytest.raises(InvalidToken):
        Tokens("another-secret-key-that-is-long-enough-98765").open(token)
    with pytest.raises(InvalidToken):
        tokens.open(token, now=SAID.issued + MAX_AGE + 1)
    assert tokens.open(token, now=SAID.issued + MAX_AGE - 1) == SAID
    with pytest.raises(InvalidToken):
        tokens.open(tokens.seal(replace(SAID, issued=SAID.issued + 3600)))  # from the future


# --- the kiosk API -------------------------------------------------------------------------------------


def audio_files(settings: Settings) -> set[str]:
    return files_in(settings.data_dir / "audio")


def test_an_answer_comes_with_audio_the_kiosk_can_play(client: TestClient, world: World) -> None:
    kiosk = client.get("/api/v1/kiosk", headers=bearer(world.device_ekorren)).json()
    assert kiosk["speech"]["tts"] is True
    answer = client.post(
        "/api/v1/ask", json={"intent": "weather"}, headers=bearer(world.device_ekorren)
    ).json()
    url = answer["audio"]
    assert url.startswith("/api/v1/speech/")
    words = [word.strip(".,!?") for word in answer["speech"].split() if len(word) > 3]
    assert not any(word.lower() in url.lower() for word in words)  # nothing of the text in the URL
    response = client.get(url, headers=bearer(world.device_ekorren))
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["cache-control"] == "private, max-age=86400"
    assert wav_format(response.content) == (22050, 1, 2)
    assert wav_duration(response.content) > 1.0
    assert response.headers["x-laiban-audio"] == "miss"
    again = client.get(url, headers=bearer(world.device_ekorren))
    assert again.headers["x-laiban-audio"] == "hit" and again.content == response.content
    etag = response.headers["etag"]
    unchanged = client.get(url, headers={**bearer(world.device_ekorren), "If-None-Match": etag})
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    head = client.head(url, headers=bearer(world.device_ekorren))
    assert (head.status_code, head.headers["content-length"], head.content) == (
        200,
        str(len(response.content)),
        b"",
    )


def test_audio_needs_the_kiosks_own_device_token(client: TestClient, world: World) -> None:
    url = client.post("/api/v1/ask", json={"intent": "date"}, headers=bearer(world.device_ekorren)).json()[
        "audio"
    ]
    assert client.get(url).status_code == 401
    assert client.get(url, headers=bearer("not-a-device")).status_code == 401
    other_preschool = client.get(url, headers=bearer(world.device_myran))
    assert other_preschool.status_code == 404
    assert other_preschool.json()["error"]["code"] == "not_found"
    token = url.rsplit("/", 1)[1]
    forged = url[: -len(token)] + token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert client.get(forged, headers=bearer(world.device_ekorren)).status_code == 404
    assert client.get("/api/v1/speech/" + "A" * 5000, headers=bearer(world.device_ekorren)).status_code == 404


def test_too_much_text_to_speak_is_a_clear_error(client: TestClient, world: World) -> None:
    said = replace(SAID, text="Hej och välkommen! " * 40, personal=False, preschool_id=world.ekorren)
    url = "/api/v1/speech/" + Tokens(SECRET).seal(said)
    response = client.get(url, headers=bearer(world.device_ekorren))
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "too_large",
        "message": "Laiban speaks at most 600 characters at once.",
    }
    expired = replace(
        SAID, personal=False, preschool_id=world.ekorren, issued=int(time.time()) - MAX_AGE - 60
    )
    assert (
        client.get(
            "/api/v1/speech/" + Tokens(SECRET).seal(expired), headers=bearer(world.device_ekorren)
        ).status_code
        == 404
    )


def test_a_childs_pickup_is_spoken_but_never_cached(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    with transaction(sessions) as session:
        preschool = session.get_one(Preschool, world.ekorren)
        child = add_child(session, preschool, "Ella", None, "cat")
        set_week(session, preschool, child, {day: Plan(None, None, "mormor") for day in range(7)})
        ella = child.id
    before = audio_files(settings)
    answer = client.post(
        "/api/v1/ask", json={"intent": "pickup", "child": ella}, headers=bearer(world.device_ekorren)
    ).json()
    assert "Ella" in answer["text"] or "mormor" in answer["text"]
    assert "Ella" not in answer["audio"] and "mormor" not in answer["audio"]
    for _ in range(2):
        response = client.get(answer["audio"], headers=bearer(world.device_ekorren))
        assert response.status_code == 200 and wav_duration(response.content) > 0.5
        assert response.headers["cache-control"] == "private, no-store"
        assert response.headers["x-laiban-audio"] == "personal"
    assert audio_files(settings) == before
    # A question that names a child is personal too, though not a pickup question.
    named = client.post(
        "/api/v1/ask", json={"text": "vem hämtar Ella?"}, headers=bearer(world.device_ekorren)
    )
    heard = client.get(named.json()["audio"], headers=bearer(world.device_ekorren))
    assert heard.headers["x-laiban-audio"] == "personal"
    assert audio_files(settings) == before


def test_the_offline_answers_carry_the_same_audio_urls_as_the_asked_ones(
    client: TestClient, world: World
) -> None:
    kept = client.get("/api/v1/answers?lang=sv", headers=bearer(world.device_ekorren)).json()
    assert all(answer["audio"] for answer in [*kept["answers"].values(), *kept["time"].values()])
    asked = client.post("/api/v1/ask", json={"intent": "lunch"}, headers=bearer(world.device_ekorren)).json()
    assert kept["answers"]["lunch"]["audio"] == asked["audio"]
    english = client.get("/api/v1/answers?lang=en", headers=bearer(world.device_ekorren))
    assert english.status_code in (200, 422)  # English only where the preschool has it


def test_the_preschools_pronunciations_rate_and_pitch_are_used(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    with transaction(sessions) as session:
        add_pronunciation(session, world.ekorren, "sv", "Klockan", "Klåckan")
    answer = client.post("/api/v1/ask", json={"intent": "time"}, headers=bearer(world.device_ekorren)).json()
    said = Tokens(SECRET).open(answer["audio"].rsplit("/", 1)[1])
    assert answer["speech"].startswith("Klockan") and said.text.startswith("Klåckan")
    assert (said.rate, said.pitch, said.engine, said.personal) == (140, 50, "espeak", False)
    normal = client.get(answer["audio"], headers=bearer(world.device_ekorren)).content
    with transaction(sessions) as session:
        preschool = session.get_one(Preschool, world.ekorren)
        preschool.speech_rate, preschool.speech_pitch = 90, 30
    slow = client.post("/api/v1/ask", json={"intent": "time"}, headers=bearer(world.device_ekorren)).json()
    assert slow["audio"] != answer["audio"]
    slower = client.get(slow["audio"], headers=bearer(world.device_ekorren)).content
    assert wav_duration(slower) > 1.2 * wav_duration(normal)


def test_without_a_voice_answers_have_no_audio(settings: Settings, engine: Engine, world: World) -> None:
    app = create_app(replace(settings, tts_engine="off"), engine)
    with TestClient(app) as client:
        kiosk = client.get("/api/v1/kiosk", headers=bearer(world.device_ekorren)).json()
        assert kiosk["speech"]["tts"] is False
        answer = client.post(
            "/api/v1/ask", json={"intent": "date"}, headers=bearer(world.device_ekorren)
        ).json()
        assert answer["audio"] is None
    # A sealed URL from before is not played by a server that does not speak.
    said = replace(SAID, personal=False, preschool_id=world.ekorren)
    with TestClient(app) as client:
        url = "/api/v1/speech/" + Tokens(SECRET).seal(said)
        assert client.get(url, headers=bearer(world.device_ekorren)).status_code == 404


def test_the_server_speaks_with_piper(settings: Settings, engine: Engine, world: World) -> None:
    app = create_app(replace(settings, tts_engine="piper", piper_voices=str(PIPER_FIXTURE)), engine)
    with TestClient(app) as client:
        answer = client.post(
            "/api/v1/ask", json={"intent": "date"}, headers=bearer(world.device_ekorren)
        ).json()
        assert Tokens(SECRET).open(answer["audio"].rsplit("/", 1)[1]).engine == "piper"
        response = client.get(answer["audio"], headers=bearer(world.device_ekorren))
        assert response.status_code == 200
        assert wav_format(response.content) == (22050, 1, 2) and wav_duration(response.content) > 0.2
    with pytest.raises(ConfigError, match="LAIBAN_PIPER_VOICES"):
        create_app(
            replace(settings, tts_engine="piper", piper_voices=str(settings.data_dir / "none")), engine
        )


def test_the_voice_settings_are_read_and_checked() -> None:
    base = {"LAIBAN_DATA_DIR": "/tmp/laiban-test-settings"}
    loaded = Settings.load(
        {
            **base,
            "LAIBAN_TTS_ENGINE": "Piper",
            "LAIBAN_PIPER_VOICES": " /srv/voices ",
            "LAIBAN_AUDIO_CACHE_MB": "0",
        }
    )
    assert (loaded.tts_engine, loaded.piper_voices, loaded.audio_cache_mb) == ("piper", "/srv/voices", 0)
    defaults = Settings.load(base)
    assert (defaults.tts_engine, defaults.audio_cache_mb) == ("espeak", 200)
    for name, value in (
        ("LAIBAN_TTS_ENGINE", "festival"),
        ("LAIBAN_AUDIO_CACHE_MB", "-1"),
        ("LAIBAN_AUDIO_CACHE_MB", "lots"),
    ):
        with pytest.raises(ConfigError, match=name):
            Settings.load({**base, name: value})


def test_a_name_respelled_by_the_pronunciation_table_still_makes_an_answer_personal() -> None:
    # Staff respell children's names for the voice ("Ella" → "Ela"); the respelling must not hide the name.
    from .test_pickup_skill import today_at

    voice = Voice(EspeakEngine())
    speaker = Speaker(voice, table=lambda lang: (("Ella", "Ela"),))
    respelled = speaker.spoken("calendar", "Idag fyller Ella år!", "sv", today_at())
    assert respelled is not None and respelled.text == "Idag fyller Ela år!"
    assert respelled.personal  # never written to the disk cache
    about_nobody = speaker.spoken("calendar", "Idag är det fredag.", "sv", today_at())
    assert about_nobody is not None and not about_nobody.personal
