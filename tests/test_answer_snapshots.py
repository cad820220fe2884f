"""The main answers in every language, for one fixed demo day, kept in `tests/snapshots/answers-<lang>.md`
so that a change to a sentence, a catalog or a skill shows up in review as readable text.

The day: the demo preschool Solrosen (laiban.demo), its group Blåbär, Tuesday 3 March 2026 at 09:40,
with a fixed forecast; the demo's menu, schedule and children (Ella goes home earlier with her
grandmother that day). Every language with a catalog, and Swedish, has a file; a new catalog fails here
until its file exists. After an intended change, rewrite the files and read the diff:

    LAIBAN_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_answer_snapshots.py
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from laiban import assistant
from laiban.demo import DEMO_SLUG, ensure_demo
from laiban.i18n import languages_with_catalogs
from laiban.model.intent import Context, Intent
from laiban.model.preschool import LANGUAGES
from laiban.model.today import Today
from laiban.model.weather import Forecast, ForecastStep, Precipitation, Symbol
from laiban.store.children import children_of
from laiban.store.db import make_engine, session_factory, transaction
from laiban.store.preschools import preschool_by_slug
from laiban.store.today import local_now, today_for

SNAPSHOTS = Path(__file__).with_name("snapshots")
UPDATE = os.environ.get("LAIBAN_UPDATE_SNAPSHOTS") == "1"
SNAPSHOT_LANGUAGES = ("sv", *(lang for lang in languages_with_catalogs() if lang != "sv"))

ZONE = ZoneInfo("Europe/Stockholm")
DAY = dt.date(2026, 3, 3)  # a Tuesday, no holiday
AT = dt.time(9, 40)  # after breakfast and gathering, before outdoor time (10:00) and lunch (11:15)
GROUP = "Blåbär"


def forecast() -> Forecast:
    """4–7 °C and cloudy, a light breeze; rain from 13 to 15 (local time)."""
    steps = []
    for hour in range(5, 19):
        local = dt.datetime.combine(DAY, dt.time(hour), ZONE)
        rain = 13 <= hour <= 15
        steps.append(
            ForecastStep(
                time=local.astimezone(dt.UTC),
                temperature=4.0 + min(hour - 5, 6) * 0.5,
                feels_like=2.0 + min(hour - 5, 6) * 0.5,
                wind_speed=3.0,
                wind_gust=6.0,
                humidity=85.0,
                precipitation_mm=1.2 if rain else 0.0,
                precipitation=Precipitation.RAIN if rain else Precipitation.NONE,
                cloud_cover=90.0,
                symbol=Symbol.RAIN if rain else Symbol.CLOUDY,
            )
        )
    fetched = dt.datetime.combine(DAY, dt.time(9, 0), ZONE)
    return Forecast("smhi", fetched, 56.0464, 12.6945, tuple(steps))


@dataclass(frozen=True)
class Question:
    heading: str  # as the snapshot names it (in Swedish, the source language, for every file)
    intent: Intent
    asking: str | None = None  # the child who tapped their own picture


QUESTIONS = (
    Question("Hur blir vädret?", Intent("weather")),
    Question("Vad ska jag ha på mig?", Intent("clothes")),
    Question("Vad blir det för mat?", Intent("lunch")),
    Question("Vad är klockan?", Intent("time")),
    Question("Vilken dag är det?", Intent("date")),
    Question("Vad händer sen?", Intent("schedule")),
    Question("Vem hämtar mig? (Ella trycker på sin bild)", Intent("pickup"), asking="Ella"),
    Question("Vem hämtar Noah?", Intent("pickup", {"child": "Noah"})),
    Question("Vem är du?", Intent("about")),
)


@pytest.fixture(scope="module")
def demo_day(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> tuple[Today, dict[str, int]]:
    """The fixed day's Today at the Blåbär kiosk, and the demo children's ids by name."""
    path = tmp_path_factory.mktemp("snapshots") / "laiban.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        with transaction(session_factory(engine)) as session:
            ensure_demo(session, DAY, password="gul-tulpan-i-fönstret-7")
            preschool = preschool_by_slug(session, DEMO_SLUG)
            assert preschool is not None
            preschool.languages = list(LANGUAGES)
            session.flush()
            group = next(g.id for g in preschool.groups if g.name == GROUP)
            now = local_now(preschool, dt.datetime.combine(DAY, AT))
            today = replace(today_for(session, preschool, now, group), forecast=forecast())
            children = {child.first_name: child.id for child in children_of(session, preschool.id)}
    finally:
        engine.dispose()
    return today, children


def snapshot(lang: str, today: Today, children: dict[str, int]) -> str:
    name = LANGUAGES.get(lang, lang)
    lines = [
        f"# Laiban's answers in {name} ({lang})",
        "",
        f"The demo preschool Solrosen (group {GROUP}) on Tuesday {DAY.isoformat()} at {AT:%H:%M}: 4 °C and",
        "cloudy, rain in the afternoon. The heading is the question in Swedish; below it, the answer's",
        "captions as the kiosk shows them. Made by tests/test_answer_snapshots.py; rewrite with",
        "`LAIBAN_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_answer_snapshots.py`.",
    ]
    for question in QUESTIONS:
        asked = replace(today, asking_child=children[question.asking]) if question.asking else today
        reply = assistant.ask(lang=lang, today=asked, context=Context(), intent=question.intent)
        assert reply.rendered.lang == lang
        lines += ["", f"## {question.heading}", ""]
        lines += [f"- {caption}" for caption in reply.rendered.captions]
    return "\n".join(lines) + "\n"


def test_every_language_has_its_snapshot_and_no_other() -> None:
    files = {path.name for path in SNAPSHOTS.glob("answers-*.md")}
    wanted = {f"answers-{lang}.md" for lang in SNAPSHOT_LANGUAGES}
    assert files - wanted == set(), "snapshots of languages without a catalog: delete them"


@pytest.mark.parametrize("lang", SNAPSHOT_LANGUAGES)
def test_the_main_answers_match_the_snapshot(lang: str, demo_day: tuple[Today, dict[str, int]]) -> None:
    today, children = demo_day
    made = snapshot(lang, today, children)
    path = SNAPSHOTS / f"answers-{lang}.md"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != made:
            path.write_text(made, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(
            f"There is no snapshot of the answers in {lang!r} (tests/snapshots/{path.name}): make it with "
            "LAIBAN_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_answer_snapshots.py, read it, commit it."
        )
    stored = path.read_text(encoding="utf-8")
    if stored != made:
        diff = "".join(
            difflib.unified_diff(
                stored.splitlines(keepends=True),
                made.splitlines(keepends=True),
                fromfile=f"{path.name} (stored)",
                tofile=f"{path.name} (now)",
            )
        )
        pytest.fail(
            f"The answers in {lang!r} changed. If that is intended, rewrite the snapshot with "
            f"LAIBAN_UPDATE_SNAPSHOTS=1 and commit it:\n{diff}",
            pytrace=False,
        )
