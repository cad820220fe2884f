"""The question path: a question (or a tapped picture) → intent → skill → rendered answer.

reply = ask(question="va e klockan", lang="sv", context=..., today=...)
reply.as_json()  # the object `laiban ask --json` prints and `POST /api/v1/ask` returns
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from laiban import understanding
from laiban.i18n import SOURCE_LANGUAGE, Rendered, languages_with_catalogs, render
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
    """The languages Laiban can answer in: Swedish and those with a message catalog."""
    return tuple(lang for lang in languages if lang == SOURCE_LANGUAGE or lang in languages_with_catalogs())


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
    return Reply(question, intent, result, render(result, result.language or lang))
