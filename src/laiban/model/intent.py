"""What a child asked (Intent) and what Laiban answers (Answer), independent of language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# Stable intent names: used by the API, the kiosk, statistics and tests. Order = the kiosk's topics first.
TOPIC_INTENTS = (
    "weather",
    "clothes",
    "lunch",
    "pickup",
    "time",
    "schedule",
    "date",
    "calendar",
    "activities",
)
CONVERSATION_INTENTS = ("about", "greeting", "repeat", "language")
OUT_OF_SCOPE = "out_of_scope"
INTENTS = (*TOPIC_INTENTS, *CONVERSATION_INTENTS, OUT_OF_SCOPE)
# A question without words (a recording in which the recogniser heard nothing): never recognised or tapped.
NOT_HEARD = "not_heard"

# The slots an intent can carry; anything else the recogniser found in the sentence is dropped.
SLOTS_OF: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "weather": frozenset({"day", "condition"}),
        "clothes": frozenset({"day", "garment", "condition"}),
        "lunch": frozenset({"day", "meal", "food"}),
        "pickup": frozenset({"day", "child"}),
        "time": frozenset(),
        "schedule": frozenset({"day", "event"}),
        "date": frozenset({"day"}),
        "calendar": frozenset({"day", "holiday"}),
        "activities": frozenset({"day"}),
        "about": frozenset(),
        "greeting": frozenset({"greeting"}),
        "repeat": frozenset(),
        "language": frozenset({"language"}),
        OUT_OF_SCOPE: frozenset(),
    }
)


@dataclass(frozen=True)
class Intent:
    """The recogniser's reading of one question. `confidence` is in [0, 1]."""

    name: str
    slots: Mapping[str, str] = field(default_factory=dict)
    confidence: float = 1.0
    yes_no: bool = False

    def __post_init__(self) -> None:
        if self.name not in INTENTS and self.name != NOT_HEARD:
            raise ValueError(f"unknown intent {self.name!r}")


@dataclass(frozen=True)
class Context:
    """What the preschool knows that helps understanding: its children's first names and the titles of
    its clock events (title → event kind, e.g. "Fruktstund" → "fruit")."""

    names: tuple[str, ...] = ()
    events: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LanguageNames:
    """A parameter naming languages (ISO codes), written out in the language the answer is rendered in:
    one language ("engelska", "English") or a list ("svenska, engelska och arabiska")."""

    codes: tuple[str, ...]


@dataclass(frozen=True)
class Nouns:
    """A parameter listing catalog words (msgids, e.g. garment names), each translated and joined the
    language's way ("regnjacka, regnbyxor och stövlar"; with style "or": "… eller …")."""

    msgids: tuple[str, ...]
    style: str = "standard"


@dataclass(frozen=True)
class Texts:
    """A parameter listing texts said as written, never translated (children's and persons' names),
    joined the answer language's way ("or" style: "Ella eller Omar")."""

    texts: tuple[str, ...]
    style: str = "standard"


@dataclass(frozen=True)
class StaffTexts(Texts):
    """A parameter listing texts the preschool's staff or kitchen wrote in Swedish (dish names, events,
    activities, closed days' reasons): each said in the preschool's confirmed translation for the answer's
    language where staff saved one (`i18n.render`'s glossary), else in Swedish as written, framed by the
    translated sentence. Joined the answer language's way ("fisk eller soppa")."""


def glossary_key(text: str) -> str:
    """How a staff text is looked up in a preschool's glossary: spaces tidied, case ignored."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class DateName:
    """A parameter naming a date the answer language's way ("20 november", "November 20")."""

    date: dt.date


@dataclass(frozen=True)
class DayName:
    """A parameter naming a date's weekday in the answer's language ("fredag", "Friday")."""

    date: dt.date


@dataclass(frozen=True)
class ClockTime:
    """A parameter showing a clock time the answer language's way ("10:00", "10:00 AM")."""

    time: dt.time


@dataclass(frozen=True)
class ClockWords:
    """A parameter telling a clock time as children hear it ("fem i halv tre", "twenty-five past two");
    digits the language's way where it has no clock words yet."""

    time: dt.time


Param = str | int | ClockWords | LanguageNames | Nouns | Texts | StaffTexts | DayName | DateName | ClockTime


@dataclass(frozen=True)
class Message:
    """One whole sentence from the message catalog: its Swedish source text (the msgid) and parameters.

    With `plural` (the Swedish plural sentence) the form is chosen by the number in `params[count]`, by
    the rules of the answer's language ("1 grad", "5 grader"). With `untranslated`, that sentence is said
    instead in another language when a staff text of the message has no translation there (a whole
    Swedish sentence by staff is then introduced as Swedish, not dropped into the answer unannounced)."""

    id: str
    params: Mapping[str, Param] = field(default_factory=dict)
    plural: str | None = None
    count: str = "n"
    untranslated: str | None = None


@dataclass(frozen=True)
class Answer:
    """What a skill answers: sentences (each shown as a caption and spoken), pictures, and whether the
    topic is available at all. `language` set means: from now on, speak this language."""

    messages: tuple[Message, ...]
    pictures: tuple[str, ...] = ()
    available: bool = True
    language: str | None = None
    asks_for: str | None = None  # "child": Laiban needs to know who is asking (the kiosk shows the avatars)
