"""Message catalogs: whole sentences, Swedish as the source language, one gettext catalog per language.

Skills mark their sentences with `N_("…")` (the msgid is the Swedish sentence, with `{named}`
placeholders) and return them as `Message`s; `render(answer, lang)` looks each sentence up in the
language's catalog (`locales/<lang>/LC_MESSAGES/laiban.po`) and fills in the parameters. A sentence is
never assembled from translated fragments.

Update the catalogs after changing sentences (see docs/i18n.md):
    pybabel extract -F babel.cfg -k N_ -k Np_:1,2 -o src/laiban/i18n/laiban.pot src/laiban
    pybabel update -i src/laiban/i18n/laiban.pot -d src/laiban/i18n/locales -D laiban
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.lists import format_list
from babel.messages.pofile import read_po

from laiban.i18n.clock import clock_words, rounded
from laiban.model.intent import (
    Answer,
    ClockTime,
    ClockWords,
    DateName,
    DayName,
    LanguageNames,
    Message,
    Nouns,
    Param,
    Texts,
)

LOCALES = Path(__file__).with_name("locales")
SOURCE_LANGUAGE = "sv"
# Pictographs and symbols are shown, never read aloud.
_NOT_SPOKEN = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")


def N_(message: str) -> str:
    """Marks a catalog sentence (msgid) for extraction; returns it unchanged."""
    return message


def Np_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a sentence with a plural form ("{n} grad" / "{n} grader") for extraction."""
    return singular, plural


@dataclass(frozen=True)
class Catalog:
    sentences: dict[str, str]  # msgid → translation
    plurals: dict[str, tuple[str, ...]]  # singular msgid → the plural forms of the translation
    plural_form: Callable[[int], int]  # which form a number takes

    def get(self, msgid: str) -> str | None:
        return self.sentences.get(msgid)

    def __contains__(self, msgid: str) -> bool:
        return msgid in self.sentences or msgid in self.plurals


@cache
def catalog(lang: str) -> Catalog:
    """A language's translations; Swedish is the source and needs none."""
    path = LOCALES / lang / "LC_MESSAGES" / "laiban.po"
    if not path.exists():
        raise LookupError(f"There is no message catalog for the language {lang!r}.")
    with path.open("rb") as handle:
        parsed = read_po(handle, locale=lang)
    sentences, plurals = {}, {}
    for message in parsed:
        if not message.id or not message.string:
            continue
        if isinstance(message.id, tuple):
            forms = tuple(str(form) for form in message.string)
            if all(forms):
                plurals[str(message.id[0])] = forms
        else:
            sentences[str(message.id)] = str(message.string)
    # The catalog's own gettext plural rule ("(n != 1)"), compiled by the standard library.
    return Catalog(sentences, plurals, gettext.c2py(parsed.plural_expr))


@cache  # the catalogs ship with the package; asked for on every answer
def languages_with_catalogs() -> tuple[str, ...]:
    return tuple(sorted(p.name for p in LOCALES.iterdir() if (p / "LC_MESSAGES" / "laiban.po").exists()))


def _sentence(message: Message, lang: str) -> str:
    if message.plural is not None:
        number = abs(int(message.params[message.count]))  # type: ignore[call-overload]
        if lang == SOURCE_LANGUAGE:
            return message.id if number == 1 else message.plural
        forms = catalog(lang).plurals.get(message.id)
        if forms is None:
            raise LookupError(f"The {lang!r} catalog has no translation of {message.id!r}.")
        return forms[min(catalog(lang).plural_form(number), len(forms) - 1)]
    sentence = message.id if lang == SOURCE_LANGUAGE else catalog(lang).get(message.id)
    if sentence is None:
        raise LookupError(f"The {lang!r} catalog has no translation of {message.id!r}.")
    return sentence


def word(msgid: str, lang: str) -> str:
    """One catalog word or phrase (a garment's name…) in the language."""
    return _sentence(Message(msgid), lang)


def translate(message: Message, lang: str) -> str:
    return _sentence(message, lang).format(
        **{name: _param(value, lang) for name, value in message.params.items()}
    )


def _param(value: Param, lang: str) -> str | int:
    locale = Locale.parse(lang)
    if isinstance(value, LanguageNames):
        return format_list([locale.languages.get(code, code) for code in value.codes], locale=locale)
    if isinstance(value, Nouns):
        return format_list([word(msgid, lang) for msgid in value.msgids], style=value.style, locale=locale)
    if isinstance(value, Texts):
        return format_list(list(value.texts), style=value.style, locale=locale)
    if isinstance(value, DateName):
        return format_skeleton("MMMMd", value.date, locale=locale)
    if isinstance(value, DayName):
        return format_date(value.date, "EEEE", locale=locale)
    if isinstance(value, ClockWords):
        return clock_words(value.time, lang) or format_time(rounded(value.time), "short", locale=locale)
    if isinstance(value, ClockTime):
        return format_time(value.time, "short", locale=locale)
    return value


@dataclass(frozen=True)
class Rendered:
    lang: str
    captions: tuple[str, ...]  # one per sentence, shown while it is spoken
    text: str
    speech: str
    speech_captions: tuple[str, ...] = ()  # each caption's spoken form


def spoken(text: str) -> str:
    """The spoken form of a shown sentence (the speech issue adds clock words and pronunciation)."""
    return " ".join(_NOT_SPOKEN.sub("", text).split())


def render(answer: Answer, lang: str) -> Rendered:
    captions = tuple(translate(message, lang) for message in answer.messages)
    text = " ".join(captions)
    return Rendered(
        lang=lang,
        captions=captions,
        text=text,
        speech=spoken(text),
        speech_captions=tuple(spoken(caption) for caption in captions),
    )
