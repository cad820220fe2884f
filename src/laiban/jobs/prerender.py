"""Pre-rendering: the day's likely answers spoken into the audio cache before the first child asks, so
that the morning's questions are heard at once (`laiban prerender`, and the morning job `prerender`).

What is spoken, for every preschool and every language Laiban speaks there with a server voice:
- what a kiosk keeps offline (`assistant.offline_answers`, GET /api/v1/answers): each tapped picture's
  answer and "what time is it" every five minutes of the opening day;
- each tapped picture's answer at every one of those five-minute moments too (the answer at 06:00 is not
  the one at 09:40: the weather of the hour, lunch eaten or not, an activity done), except the schedule's
  ("in 23 minutes" changes every minute);
- the fixed sentences: "I don't know", "I didn't hear anything", who Laiban is, the greetings, the
  languages, "I haven't said anything yet" (at every full hour: "God morgon" turns into "Hej" at ten);
- for the preschool and for each group with its own schedule (what a group's kiosk hears).

The spoken text is made by the same code as an asked answer's (`assistant.ask`, `speech.spoken.Speaker`:
the preschool's pronunciation table, rate and pitch), so the cache key is the one the question looks up.
Nothing personal is spoken here: no pickup, and any answer `is_personal` marks against the whole
preschool's children (say, an activity naming its participants) is skipped: personal audio never reaches
the disk.

The morning job runs once per preschool per local day, from an hour before the preschool opens; the date
is kept in `preschools.audio_prerendered_on`. A round starts at most `PER_ROUND` preschools and starts no
sentence after `ROUND_SECONDS`: a preschool left unfinished is finished in the next round (what is already
cached costs a file read).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from laiban import assistant
from laiban.config import Settings
from laiban.model.intent import OUT_OF_SCOPE, Context, Intent
from laiban.model.today import Today
from laiban.speech.spoken import Speaker
from laiban.speech.tts import EspeakEngine, Spoken, TtsError, Voice, voice_for
from laiban.store.db import session_factory, transaction
from laiban.store.pronunciations import pronunciations_for
from laiban.store.tables import Preschool, utcnow
from laiban.store.today import PreschoolDay, context_for, local_now

log = logging.getLogger("laiban.jobs.prerender")

MORNING_LEAD = dt.timedelta(hours=1)  # the job starts this long before the preschool opens
PER_ROUND = 5  # preschools a round of the jobs starts at most
ROUND_SECONDS = 20.0  # a round starts no sentence after this long (the other jobs wait for it)

# Tapped answers not spoken at every five-minute moment: "time" is in the offline answers already, and
# "schedule" counts the minutes ("Det är om 23 minuter"), so only a question in that very minute would
# find it (its answer at the moment of pre-rendering is spoken, as the kiosk keeps it).
NOT_EVERY_STEP = frozenset({"time", "schedule"})

# The answers that do not depend on the topic data: asked as the kiosk would (a tap, or a recording
# without words for "I didn't hear anything").
FIXED_INTENTS = (
    Intent(OUT_OF_SCOPE),
    Intent("about"),
    Intent("language"),
    Intent("repeat"),  # "say it again" before anything was said
    Intent("greeting", {"greeting": "hello"}),
    Intent("greeting", {"greeting": "good_morning"}),
    Intent("greeting", {"greeting": "goodbye"}),
    Intent("greeting", {"greeting": "thanks"}),
)


class PrerenderError(Exception):
    """Nothing can be pre-rendered (the voice is off, no such preschool); one sentence for the operator."""


@dataclass
class Summary:
    """What a pre-rendering did."""

    preschools: list[str] = field(default_factory=list)  # slugs, in order
    languages: set[str] = field(default_factory=set)
    sentences: int = 0  # distinct audio files the day needs
    synthesised: int = 0
    cached: int = 0  # already in the cache
    personal: int = 0  # sentences about a child: not spoken
    failed: int = 0  # the voice could not say them
    audio_bytes: int = 0  # of the distinct audio files
    keys: set[str] = field(default_factory=set)  # the audio files' cache keys
    unfinished: list[str] = field(default_factory=list)  # slugs left for the next round
    seconds: float = 0.0

    def line(self, cache_bytes: int | None = None) -> str:
        languages = ", ".join(sorted(self.languages)) or "none"
        text = (
            f"{len(self.preschools)} {'preschool' if len(self.preschools) == 1 else 'preschools'}, "
            f"{len(self.languages)} {'language' if len(self.languages) == 1 else 'languages'} ({languages}): "
            f"{self.sentences} sentences, {self.synthesised} synthesised, {self.cached} already cached"
        )
        if self.personal:
            text += f", {self.personal} personal skipped"
        if self.failed:
            text += f", {self.failed} failed (see the log)"
        text += f" in {self.seconds:.1f} s"
        if cache_bytes is not None and self.audio_bytes > cache_bytes:
            text += (
                f"; they need {self.audio_bytes / 2**20:.0f} MB, more than the audio cache's "
                f"{cache_bytes / 2**20:.0f} MB (raise LAIBAN_AUDIO_CACHE_MB)"
            )
        return text


# --- what a preschool's day needs said ---------------------------------------------------------------


@dataclass(frozen=True)
class DayPlan:
    """One preschool's sentences for one day, read from the store and ready to speak."""

    preschool_id: int
    slug: str
    date: dt.date
    languages: tuple[str, ...]
    sentences: tuple[Spoken, ...]  # distinct (by cache key), most useful first
    personal: int  # distinct sentences about a child, not spoken


def languages_of(preschool: Preschool, voice: Voice) -> tuple[str, ...]:
    """The preschool's languages Laiban answers in and the server's voice speaks."""
    return tuple(lang for lang in assistant.speakable(tuple(preschool.languages)) if voice.can_speak(lang))


def _replies(today: Today, context: Context, lang: str) -> Iterator[assistant.Answered]:
    """Every answer of the day worth speaking ahead, most useful first (duplicates included)."""
    offline = assistant.offline_answers(today, context, lang)
    yield from offline.answers.values()
    yield from offline.time.values()
    plain = offline.today  # without children, as the kiosk's offline copy
    tapped = [name for name in assistant.tapped_intents(plain.modules) if name not in NOT_EVERY_STEP]
    moments = assistant.day_moments(plain)
    for moment in moments:
        at = replace(plain, now=moment)
        for name in tapped:
            reply = assistant.ask(lang=lang, today=at, context=context, intent=Intent(name))
            yield assistant.Answered(reply, at)
    hours = [moment for index, moment in enumerate(moments) if index == 0 or moment.minute == 0]
    for moment in hours or [plain.now]:
        at = replace(plain, now=moment)
        for intent in FIXED_INTENTS:
            yield assistant.Answered(assistant.ask(lang=lang, today=at, context=context, intent=intent), at)
        heard_nothing = assistant.ask(lang=lang, today=at, context=context, question="")
        yield assistant.Answered(heard_nothing, at)


def plan_day(session: Session, preschool: Preschool, voice: Voice, now: dt.datetime) -> DayPlan:
    """The sentences `preschool` needs said on the day of `now` (its local time): a few reads, then pure
    work (about 0.5 s per language)."""
    now = local_now(preschool, now)
    day = PreschoolDay.build(session, preschool, now)
    context = context_for(session, preschool)
    languages = languages_of(preschool, voice)
    speaker = Speaker(
        voice,
        table=lambda lang: pronunciations_for(session, preschool.id, lang),
        rate=preschool.speech_rate,
        pitch=preschool.speech_pitch,
    )
    # The preschool's Today, and each group's own where the group has its own schedule.
    groups = sorted({row.group_id for row in day.schedule if row.group_id is not None})
    variants = [day.today, *(day.for_group(group) for group in groups)]
    everyone = day.today  # all the preschool's children: a name of any of them makes an answer personal
    sentences: dict[str, Spoken] = {}
    personal: set[str] = set()
    for lang in languages:
        for today in variants:
            for answered in _replies(today, context, lang):
                reply = answered.reply
                spoken = speaker.spoken(
                    reply.intent.name,
                    reply.rendered.speech,
                    reply.rendered.lang,
                    replace(answered.today, children=everyone.children),
                )
                if spoken is None:
                    continue
                if spoken.personal:
                    personal.add(voice.key(spoken))
                    continue
                sentences.setdefault(voice.key(spoken), spoken)
    return DayPlan(
        preschool.id, preschool.slug, now.date(), languages, tuple(sentences.values()), len(personal)
    )


# --- speaking ----------------------------------------------------------------------------------------

Progress = Callable[[int, int, str], None]  # (done, total, what) after each sentence


def speak(
    plan: DayPlan,
    voice: Voice,
    summary: Summary,
    *,
    deadline: float | None = None,
    progress: Progress | None = None,
    label: str = "",
) -> bool:
    """Say `plan`'s sentences into the cache; False when `deadline` (time.monotonic) came first."""
    summary.preschools.append(plan.slug)
    summary.languages.update(plan.languages)
    summary.sentences += len(plan.sentences)
    summary.personal += plan.personal
    total = len(plan.sentences)
    for done, spoken in enumerate(plan.sentences, 1):
        if deadline is not None and time.monotonic() >= deadline:
            summary.sentences -= total - done + 1
            summary.unfinished.append(plan.slug)
            return False
        try:
            data, source = voice.audio(spoken)
        except TtsError as exc:
            summary.failed += 1
            log.warning("pre-rendering failed (%s, %d characters): %s", spoken.lang, len(spoken.text), exc)
        else:
            key = voice.key(spoken)
            if key not in summary.keys:
                summary.keys.add(key)
                summary.audio_bytes += len(data)
            if source == "hit":
                summary.cached += 1
            else:
                summary.synthesised += 1
        if progress is not None:
            progress(done, total, label or plan.slug)
    return True


def check_voice(voice: Voice, settings: Settings) -> None:
    """Raises PrerenderError when there is nothing to pre-render into or with."""
    if settings.tts_engine == "off":
        raise PrerenderError(
            "The server's voice is off (LAIBAN_TTS_ENGINE=off): there is nothing to pre-render."
        )
    if voice.engine is None:
        raise PrerenderError("The server has no voice (see the log for why): there is nothing to pre-render.")
    if voice.cache is None:
        raise PrerenderError(
            "The audio cache is off (LAIBAN_AUDIO_CACHE_MB=0): there is nowhere to keep pre-rendered answers."
        )


def prerender(
    engine: Engine,
    settings: Settings,
    *,
    slug: str | None = None,
    voice: Voice | None = None,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> Summary:
    """`laiban prerender [--preschool SLUG]`: every preschool (or one), today in its own timezone.
    Raises PrerenderError (the voice is off, no such preschool)."""
    started = time.perf_counter()
    if voice is None:
        if settings.tts_engine == "espeak":  # its own sentence, instead of voice_for's warning in the log
            try:
                EspeakEngine()
            except TtsError as exc:
                raise PrerenderError(f"There is nothing to pre-render without a voice. {exc}") from exc
        voice = voice_for(settings)
    check_voice(voice, settings)
    now = now or utcnow()
    sessions = session_factory(engine)
    with sessions() as session:
        query = select(Preschool.id, Preschool.slug).order_by(Preschool.id)
        if slug is not None:
            query = query.where(Preschool.slug == slug)
        preschools = session.execute(query).all()
    if slug is not None and not preschools:
        raise PrerenderError(f"There is no preschool with the short name {slug!r}.")
    summary = Summary()
    for index, (preschool_id, name) in enumerate(preschools, 1):
        label = f"{name} ({index}/{len(preschools)})" if len(preschools) > 1 else name
        if progress is not None:
            progress(0, 0, label)  # reading and rendering its answers
        with sessions() as session:
            preschool = session.get(Preschool, preschool_id)
            if preschool is None:  # deleted meanwhile
                continue
            plan = plan_day(session, preschool, voice, now)
        speak(plan, voice, summary, progress=progress, label=label)  # no database connection held meanwhile
    summary.seconds = time.perf_counter() - started
    return summary


# --- the morning job ---------------------------------------------------------------------------------


def is_due(preschool: Preschool, now: dt.datetime) -> bool:
    """Not yet done today (the preschool's date), and at most an hour before it opens."""
    local = now.astimezone(ZoneInfo(preschool.timezone))
    opens = dt.datetime.combine(local.date(), preschool.day_starts_at, local.tzinfo)
    return preschool.audio_prerendered_on != local.date() and local >= opens - MORNING_LEAD


_voices: dict[tuple[object, ...], Voice] = {}
_voices_lock = threading.Lock()


def _voice(settings: Settings) -> Voice:
    """The job's voice, made once per process and settings (Piper loads its models once)."""
    key = (settings.tts_engine, settings.piper_voices, str(settings.data_dir), settings.audio_cache_mb)
    with _voices_lock:
        voice = _voices.get(key)
        if voice is None:
            voice = _voices[key] = voice_for(settings)
        return voice


def prerender_morning(
    engine: Engine,
    settings: Settings,
    now: dt.datetime | None = None,
    *,
    voice: Voice | None = None,
    per_round: int = PER_ROUND,
    seconds: float = ROUND_SECONDS,
) -> str:
    """One round of the morning job: the preschools that are due, at most `per_round` of them and no new
    sentence after `seconds`; each finished one is marked done for its local date."""
    if settings.tts_engine == "off":
        return "skipped: the server's voice is off"
    if settings.audio_cache_mb <= 0:
        return "skipped: the audio cache is off"
    now = now or utcnow()
    sessions = session_factory(engine)
    with sessions() as session:
        rows = session.scalars(select(Preschool).order_by(Preschool.id))
        due = [row.id for row in rows if is_due(row, now)]
    if not due:
        return "nothing due"
    voice = voice or _voice(settings)
    try:
        check_voice(voice, settings)
    except PrerenderError:
        return "skipped: the server has no voice"
    started = time.perf_counter()
    deadline = time.monotonic() + seconds
    summary = Summary()
    settled = 0  # done, deleted or no longer due
    for preschool_id in due[:per_round]:
        if time.monotonic() >= deadline:
            break
        with sessions() as session:
            preschool = session.get(Preschool, preschool_id)
            if preschool is None or not is_due(preschool, now):  # deleted, or done elsewhere meanwhile
                settled += 1
                continue
            plan = plan_day(session, preschool, voice, now)
        if speak(plan, voice, summary, deadline=deadline):
            with transaction(sessions) as session:
                done = update(Preschool).where(Preschool.id == preschool_id)
                session.execute(done.values(audio_prerendered_on=plan.date))
            settled += 1
    summary.seconds = time.perf_counter() - started
    waiting = len(due) - settled
    line = summary.line(voice.cache.max_bytes if voice.cache is not None else None)
    if not summary.preschools:
        line = "no time left in this round"
    if summary.unfinished:
        line += f"; unfinished: {', '.join(summary.unfinished)}"
    if waiting:
        line += f"; {waiting} {'preschool waits' if waiting == 1 else 'preschools wait'} for the next round"
    return line
