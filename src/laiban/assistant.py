"""The question path: a question (or a tapped picture) → intent → skill → rendered answer.

reply = ask(question="va e klockan", lang="sv", context=..., today=...)
reply.as_json()  # the object `laiban ask --json` prints and `POST /api/v1/ask` returns

offline_answers(today, context, "sv")  # the day's answers a kiosk keeps (GET /api/v1/answers)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from laiban import understanding
from laiban.i18n import SOURCE_LANGUAGE, Rendered, catalog_status, languages_with_catalogs, render
from laiban.model.intent import NOT_HEARD, OUT_OF_SCOPE, Answer, Context, Intent
from laiban.model.today import Today
from laiban.skills import SKILLS, conversation

# Which preschool module an intent belongs to; a switched-off module's questions are not answered.
MODULE_OF_INTENT = {
    "weather": "weather",
    "clothes": "weather",
    "lunch": "lunch",
    "pickup": "pickup",
    "time": "clock",
    "schedule": "clock",
    "date": "clock",
    "calendar": "calendar",
    "activities": "activities",
}


@dataclass(frozen=True)
class Reply:
    question: str | None
    intent: Intent
    answer: Answer
    rendered: Rendered

    def as_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "lang": self.rendered.lang,
            "intent": self.intent.name,
            "slots": dict(self.intent.slots),
            "confidence": self.intent.confidence,
            "yes_no": self.intent.yes_no,
            "text": self.rendered.text,
            "speech": self.rendered.speech,
            "captions": list(self.rendered.captions),
            "speech_captions": list(self.rendered.speech_captions),
            "pictures": list(self.answer.pictures),
            "available": self.answer.available,
            "asks_for": self.answer.asks_for,
        }


def speakable(languages: tuple[str, ...]) -> tuple[str, ...]:
    """The languages Laiban can answer in: Swedish and those with a complete message catalog (a sentence
    missing from a half-translated catalog would fail an answer, so such a language is not offered)."""
    return tuple(
        lang
        for lang in languages
        if lang == SOURCE_LANGUAGE or (lang in languages_with_catalogs() and catalog_status(lang).complete)
    )


def answer(intent: Intent, today: Today, previous: Intent | None = None) -> Answer:
    """The skill's answer; "say it again" answers the previous question anew."""
    if intent.name == "repeat":
        if previous is None or previous.name == "repeat":
            return conversation.nothing_to_repeat(today)
        intent = previous
    module = MODULE_OF_INTENT.get(intent.name)
    if module is not None and module not in today.modules:
        return conversation.unavailable(intent, today)
    return SKILLS.get(intent.name, conversation.unavailable)(intent, today)


def _named_after_who(
    intent: Intent, question: str, lang: str, context: Context, previous: Intent | None
) -> Intent:
    """After "Vem är du?" (a pickup question about nobody in particular), a child who answers with their
    name ("Ella", "jag heter Ella") is told about that child, for the day asked about before."""
    if (
        intent.name != OUT_OF_SCOPE
        or previous is None
        or previous.name != "pickup"
        or "child" in previous.slots
    ):
        return intent
    name = understanding.recognizer_for(lang).read(question, context).slots.get("child")
    if name is None:
        return intent
    day = {"day": previous.slots["day"]} if "day" in previous.slots else {}
    return Intent("pickup", {"child": name, **day}, previous.confidence)


def ask(
    *,
    lang: str,
    today: Today,
    context: Context,
    question: str | None = None,
    intent: Intent | None = None,
    previous: Intent | None = None,
) -> Reply:
    """Answer a question in words, or a tapped intent; exactly one of the two is given."""
    if (question is None) == (intent is None):
        raise ValueError("ask needs either a question or an intent")
    if lang not in speakable((lang,)):
        raise LookupError(f"Laiban cannot speak {lang!r} yet.")
    today = replace(today, languages=speakable(today.languages))
    if question is not None and not question.strip():
        intent = Intent(NOT_HEARD)  # nothing was said (POST /listen heard no words): "I didn't hear"
    elif question is not None:
        intent = understanding.recognize(question, lang, context)
        intent = _named_after_who(intent, question, lang, context, previous)
    assert intent is not None
    result = answer(intent, today, previous)
    said_in = result.language or lang
    return Reply(question, intent, result, render(result, said_in, today.translations.get(said_in)))


# --- the day's answers, ahead of the questions -------------------------------------------------------

# The pictures a kiosk can tap without words (the first intent of each module: the kiosk's buttons).
TAP_INTENTS = ("weather", "clothes", "lunch", "time", "schedule", "date", "calendar", "activities")
TIME_STEP = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Answered:
    """A reply and the moment it answers (what the audio URL and the personal-data check look at)."""

    reply: Reply
    today: Today


@dataclass(frozen=True)
class OfflineAnswers:
    """Today's answers to the tapped pictures, for a kiosk that loses its network during the day: no
    child's data in them (the copy stays on the tablet all day), and never a pickup."""

    today: Today  # the moment asked, without children
    answers: dict[str, Answered]  # tapped intent → the answer now
    time: dict[str, Answered]  # "HH:MM" → "what time is it", every five minutes of the opening day


def tapped_intents(modules: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The tap intents of the enabled modules, in the kiosk's order."""
    return tuple(name for name in TAP_INTENTS if MODULE_OF_INTENT[name] in modules)


def day_moments(today: Today) -> list[dt.datetime]:
    """Every five minutes of today's opening hours (from the opening, rounded down to five minutes)."""
    now = today.now
    moment = now.replace(
        hour=today.day_starts_at.hour, minute=today.day_starts_at.minute, second=0, microsecond=0
    )
    moment -= dt.timedelta(minutes=moment.minute % 5)
    closes = now.replace(
        hour=today.day_ends_at.hour, minute=today.day_ends_at.minute, second=0, microsecond=0
    )
    moments = []
    while moment <= closes:
        moments.append(moment)
        moment += TIME_STEP
    return moments


def offline_answers(today: Today, context: Context, lang: str) -> OfflineAnswers:
    """The answers `GET /api/v1/answers` gives a kiosk: each tapped picture's answer now, and "what time
    is it" every five minutes of the day (when the clock module is on). Raises LookupError like `ask`."""
    today = replace(today, children=())

    def at(intent: str, moment: Today) -> Answered:
        return Answered(ask(lang=lang, today=moment, context=context, intent=Intent(intent)), moment)

    enabled = tapped_intents(today.modules)
    times: dict[str, Answered] = {}
    if "time" in enabled:
        for moment in day_moments(today):
            times[f"{moment:%H:%M}"] = at("time", replace(today, now=moment))
    return OfflineAnswers(today, {name: at(name, today) for name in enabled}, times)
