"""Pre-rendering the day's likely answers into the audio cache (`laiban prerender`, the morning job): the
real command and the real espeak voice, on both databases. After it, a kiosk's first questions are heard
from the cache; nothing about a child is ever spoken into it."""

from __future__ import annotations

import datetime as dt
import os
import pty
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from laiban import assistant
from laiban.config import Settings
from laiban.jobs import JOBS
from laiban.jobs.prerender import DayPlan, PrerenderError, Summary, prerender, prerender_morning, speak
from laiban.model.weather import Forecast, ForecastStep, Symbol
from laiban.speech.cache import AudioCache
from laiban.speech.tokens import Said, Tokens
from laiban.speech.tts import Spoken, Voice, voice_for
from laiban.store import weather as stored_weather
from laiban.store.calendar import add_activity, set_show_child_names
from laiban.store.children import Plan, add_child, set_week
from laiban.store.db import transaction
from laiban.store.tables import MenuItem, Preschool
from laiban.store.today import context_for, local_now, today_for

from .conftest import SECRET
from .test_cli import TIMEOUT, Run, assert_one_line_error, clean_env, command
from .world import World

STOCKHOLM = ZoneInfo("Europe/Stockholm")
DISH = "Fiskgratäng med potatis"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def run_laiban(settings: Settings, *args: str, **extra: str) -> Run:
    """The real `laiban` command on the test's database and data folder (stdout and stderr are pipes:
    not a terminal)."""
    env = clean_env(settings.data_dir, LAIBAN_DATABASE_URL=settings.database_url, **extra)
    result = subprocess.run(
        command(*args),
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
    )
    return Run(args, result.returncode, result.stdout, result.stderr)


def prerendered(settings: Settings, *args: str) -> Run:
    run = run_laiban(settings, "prerender", *args)
    assert run.returncode == 0, str(run)
    assert run.stderr == "", str(run)  # no progress bar when not on a terminal, no warning
    lines = run.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Pre-rendered "), str(run)
    return run


def audio_files(settings: Settings) -> set[str]:
    folder = settings.data_dir / "audio"
    return {path.name for path in folder.glob("*.wav")} if folder.is_dir() else set()


def cache_path(app_voice: Voice, url: str) -> Path:
    """Where the audio of an answer's URL is (or would be) in the cache: the sealed text, spoken as asked."""
    said: Said = Tokens(SECRET).open(url.rsplit("/", 1)[1])
    assert app_voice.cache is not None
    return app_voice.cache.path(app_voice.key(Spoken(said.text, said.lang, said.rate, said.pitch)))


@pytest.fixture
def ekorren_day(sessions: sessionmaker[Session], world: World) -> int:
    """Ekorren open around the clock (so that any moment of the test is in the day), in Swedish and
    English, with a forecast, today's lunch, and a child named in today's activity and picked up today."""
    now = dt.datetime.now(STOCKHOLM)
    with transaction(sessions) as session:
        preschool = session.get_one(Preschool, world.ekorren)
        preschool.day_starts_at, preschool.day_ends_at = dt.time(0, 0), dt.time(23, 59)
        preschool.languages = ["sv", "en"]
        preschool.latitude, preschool.longitude = 59.33, 18.07
        hour = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
        steps = tuple(
            ForecastStep(
                time=hour + dt.timedelta(hours=offset),
                temperature=4.0,
                feels_like=4.0,
                wind_speed=2.0,
                symbol=Symbol.CLOUDY,
                cloud_cover=100.0,
            )
            for offset in range(-6, 60)
        )
        row = stored_weather.forecast_row(session, 59.33, 18.07)
        stored_weather.save_forecast(row, Forecast("smhi", now.astimezone(dt.UTC), 59.33, 18.07, steps))
        for day in (now.date(), now.date() + dt.timedelta(days=1)):  # the test may pass midnight
            session.add(MenuItem(preschool_id=preschool.id, day=day, meal="lunch", text=DISH))
        ella = add_child(session, preschool, "Ella", None, "cat")
        set_week(session, preschool, ella, {day: Plan(None, None, "mormor") for day in range(7)})
        add_activity(
            session,
            preschool.id,
            day=now.date(),
            title="Skogen",
            future_text="Vi ska gå till skogen.",
            past_text="Vi gick till skogen.",
            participants=[ella.id],
        )
        set_show_child_names(session, preschool, True)
        return ella.id


def test_after_prerender_the_first_questions_are_heard_from_the_cache(
    client: TestClient, settings: Settings, world: World, ekorren_day: int
) -> None:
    assert audio_files(settings) == set()
    run = prerendered(settings)
    summary = run.stdout
    assert "Pre-rendered 3 preschools, 2 languages (en, sv): " in summary, summary
    assert re.fullmatch(
        r"Pre-rendered 3 preschools, 2 languages \(en, sv\): (\d+) sentences, (\d+) synthesised, "
        r"(\d+) already cached, [1-9]\d* personal skipped in \d+\.\d s\.\n",  # the activity names Ella
        summary,
    ), summary
    made = audio_files(settings)
    assert len(made) > 100

    app_voice: Voice = client.app.state.voice
    for lang, intent in (("sv", "weather"), ("sv", "lunch"), ("sv", "time"), ("en", "lunch"), ("en", "time")):
        answer = client.post(
            "/api/v1/ask", json={"intent": intent, "lang": lang}, headers=bearer(world.device_ekorren)
        ).json()
        assert answer["available"], answer
        if intent == "lunch":
            assert "fiskgratäng" in answer["text"].lower(), answer
        if intent == "weather":
            assert "4" in answer["text"], answer  # the stored forecast, not "I cannot see the weather"
        assert cache_path(app_voice, answer["audio"]).is_file(), (lang, intent, answer["speech"])
        heard = client.get(answer["audio"], headers=bearer(world.device_ekorren))
        assert heard.status_code == 200
        assert heard.headers["x-laiban-audio"] == "hit", (lang, intent, answer["speech"])
    assert audio_files(settings) == made  # nothing was synthesised for the questions
    assert app_voice.cache is not None and app_voice.cache.misses == 0

    # What a kiosk keeps offline is in the cache too (nothing personal in it: see below).
    kept = client.get("/api/v1/answers?lang=sv", headers=bearer(world.device_ekorren)).json()
    for answer in [*kept["answers"].values(), *kept["time"].values()]:
        said = Tokens(SECRET).open(answer["audio"].rsplit("/", 1)[1])
        assert said.personal or cache_path(app_voice, answer["audio"]).is_file(), answer["speech"]

    # Nothing about a child was spoken into the cache: not the activity that names Ella, not her pickup.
    activity = client.post(
        "/api/v1/ask", json={"intent": "activities"}, headers=bearer(world.device_ekorren)
    ).json()
    pickup = client.post(
        "/api/v1/ask", json={"intent": "pickup", "child": ekorren_day}, headers=bearer(world.device_ekorren)
    ).json()
    assert "Ella" in activity["text"] and "mormor" in pickup["text"]
    for answer in (activity, pickup):
        assert not cache_path(app_voice, answer["audio"]).exists(), answer["speech"]
        heard = client.get(answer["audio"], headers=bearer(world.device_ekorren))
        assert heard.headers["x-laiban-audio"] == "personal"
    assert audio_files(settings) == made

    again = prerendered(settings, "--preschool", "ekorren")
    assert "Pre-rendered 1 preschool, 2 languages (en, sv): " in again.stdout
    assert ", 0 synthesised, " in again.stdout, again.stdout
    assert audio_files(settings) == made


def test_one_preschool_only(client: TestClient, settings: Settings, world: World, ekorren_day: int) -> None:
    run = prerendered(settings, "--preschool", "humlan")
    assert "Pre-rendered 1 preschool, 1 language (sv): " in run.stdout
    assert audio_files(settings)
    lunch = client.post("/api/v1/ask", json={"intent": "lunch"}, headers=bearer(world.device_ekorren)).json()
    assert "fiskgratäng" in lunch["text"]  # Ekorren's own answer: Humlan has no menu
    assert not cache_path(client.app.state.voice, lunch["audio"]).exists()
    heard = client.get(lunch["audio"], headers=bearer(world.device_ekorren))
    assert heard.headers["x-laiban-audio"] == "miss"


def test_unknown_preschool_and_no_voice_are_clear_errors(settings: Settings, world: World) -> None:
    with ThreadPoolExecutor(3) as pool:  # each start costs about a second of imports
        unknown = pool.submit(run_laiban, settings, "prerender", "--preschool", "nope")
        off = pool.submit(run_laiban, settings, "prerender", LAIBAN_TTS_ENGINE="off")
        no_cache = pool.submit(run_laiban, settings, "prerender", LAIBAN_AUDIO_CACHE_MB="0")
        assert_one_line_error(unknown.result(), "'nope'", code=1)
        assert_one_line_error(off.result(), "LAIBAN_TTS_ENGINE=off", code=1)
        assert_one_line_error(no_cache.result(), "LAIBAN_AUDIO_CACHE_MB=0", code=1)
    assert audio_files(settings) == set()


def test_a_progress_bar_on_a_terminal(settings: Settings, world: World) -> None:
    main, terminal = pty.openpty()
    env = clean_env(settings.data_dir, LAIBAN_DATABASE_URL=settings.database_url)
    process = subprocess.Popen(
        command("prerender", "--preschool", "humlan"),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    shown = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # EIO: the command closed the terminal
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    stdout, _ = process.communicate(timeout=TIMEOUT)
    reader.join(timeout=10)
    os.close(main)
    assert process.returncode == 0
    bar = shown.decode()
    assert "\r[" in bar and "humlan: reading the day" in bar, bar
    total = re.search(r"\] (\d+)/\1 humlan", bar)  # drawn up to the last sentence
    assert total, bar
    assert bar.endswith("\r"), bar  # and wiped before the summary
    summary = stdout.decode()
    assert summary.startswith(f"Pre-rendered 1 preschool, 1 language (sv): {total.group(1)} sentences")


def test_without_espeak_installed_prerender_says_what_to_install(
    settings: Settings, world: World, tmp_path: Path
) -> None:
    # A Python without the espeakng-loader wheel and with no espeak-ng program on the PATH.
    env = clean_env(settings.data_dir, LAIBAN_DATABASE_URL=settings.database_url, PATH=str(tmp_path))
    script = (
        "import sys; sys.modules['espeakng_loader'] = None; from laiban.cli import main; "
        "sys.exit(main(['prerender']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    run = Run(("prerender",), result.returncode, result.stdout, result.stderr)
    assert_one_line_error(run, "nothing to pre-render", "espeak-ng", code=1)


def test_a_voice_without_an_engine_is_refused(engine: Engine, settings: Settings, world: World) -> None:
    silent = Voice(None, AudioCache(settings.data_dir / "audio", 10 * 2**20))
    with pytest.raises(PrerenderError, match="no voice"):
        prerender(engine, settings, voice=silent)


# --- the morning job -----------------------------------------------------------------------------------


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), STOCKHOLM)


MONDAY = dt.date(2026, 11, 23)


def prerendered_on(sessions: sessionmaker[Session]) -> dict[str, dt.date | None]:
    with sessions() as session:
        return dict(session.execute(select(Preschool.slug, Preschool.audio_prerendered_on)).all())


def test_the_morning_job_runs_once_a_day_an_hour_before_each_preschool_opens(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    with transaction(sessions) as session:
        session.get_one(Preschool, world.humlan).day_starts_at = dt.time(7, 0)  # the others open at 06:30
    job = JOBS["prerender"]
    assert list(JOBS)[-1] == "prerender"  # after the forecasts and menus of the morning

    assert job(engine, settings, local(MONDAY, 5, 29)) == "nothing due"
    assert audio_files(settings) == set()
    first = job(engine, settings, local(MONDAY, 5, 30))
    assert first.startswith("2 preschools, 1 language (sv): "), first
    assert "waits" not in first
    assert prerendered_on(sessions) == {"ekorren": MONDAY, "humlan": None, "myran": MONDAY}
    made = audio_files(settings)
    assert made
    assert job(engine, settings, local(MONDAY, 5, 45)) == "nothing due"
    humlan = job(engine, settings, local(MONDAY, 6, 0))  # 07:00 opening, minus an hour
    assert humlan.startswith("1 preschool, 1 language (sv): "), humlan
    assert prerendered_on(sessions) == {"ekorren": MONDAY, "humlan": MONDAY, "myran": MONDAY}
    for later in (local(MONDAY, 6, 1), local(MONDAY, 12), local(MONDAY, 23, 59)):
        assert job(engine, settings, later) == "nothing due"
    assert audio_files(settings) > made  # Humlan's own answers (its name, its opening hour)

    tuesday = MONDAY + dt.timedelta(days=1)
    assert job(engine, settings, local(tuesday, 0, 1)) == "nothing due"  # a new date, but too early
    next_day = job(engine, settings, local(tuesday, 6, 0))
    assert next_day.startswith("3 preschools, 1 language (sv): "), next_day
    assert prerendered_on(sessions) == {"ekorren": tuesday, "humlan": tuesday, "myran": tuesday}
    assert job(engine, settings, local(tuesday, 6, 1)) == "nothing due"


def test_the_morning_job_does_bounded_work_per_round(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    at = local(MONDAY, 8)
    assert prerender_morning(engine, settings, at, seconds=0).endswith("3 preschools wait for the next round")
    assert set(prerendered_on(sessions).values()) == {None}
    first = prerender_morning(engine, settings, at, per_round=2)
    assert first.startswith("2 preschools, ") and first.endswith("; 1 preschool waits for the next round")
    second = prerender_morning(engine, settings, at, per_round=2)
    assert second.startswith("1 preschool, ") and "wait" not in second
    assert prerender_morning(engine, settings, at, per_round=2) == "nothing due"
    assert set(prerendered_on(sessions).values()) == {MONDAY}


def test_a_preschool_left_unfinished_by_the_round_is_not_marked_done(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    voice = voice_for(settings)
    spoken = Spoken("Klockan är åtta.", "sv")
    plan = DayPlan(world.ekorren, "ekorren", MONDAY, ("sv",), (spoken,), personal=0)
    summary = Summary()
    assert not speak(plan, voice, summary, deadline=time.monotonic())
    assert (summary.unfinished, summary.sentences, summary.synthesised) == (["ekorren"], 0, 0)
    assert speak(plan, voice, summary, deadline=time.monotonic() + 60)
    assert (summary.sentences, summary.synthesised) == (1, 1)


def test_the_morning_job_skips_when_the_voice_is_off(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    at = local(MONDAY, 8)
    off = replace(settings, tts_engine="off")
    assert JOBS["prerender"](engine, off, at) == "skipped: the server's voice is off"
    no_cache = replace(settings, audio_cache_mb=0)
    assert JOBS["prerender"](engine, no_cache, at) == "skipped: the audio cache is off"
    assert set(prerendered_on(sessions).values()) == {None}
    assert audio_files(settings) == set()


def test_the_offline_answers_are_the_endpoints(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    """GET /api/v1/answers and the pre-rendering share `assistant.offline_answers`."""
    kept = client.get("/api/v1/answers?lang=sv", headers=bearer(world.device_ekorren)).json()
    with sessions() as session:
        preschool = session.get_one(Preschool, world.ekorren)
        today = today_for(session, preschool, local_now(preschool))
        offline = assistant.offline_answers(today, context_for(session, preschool), "sv")
    assert list(offline.time) == list(kept["time"])
    assert list(offline.answers) == list(kept["answers"])
    assert offline.answers["lunch"].reply.rendered.text == kept["answers"]["lunch"]["text"]
    assert offline.time["10:00"].reply.rendered.speech == kept["time"]["10:00"]["speech"]
