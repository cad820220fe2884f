"""Message catalogs: whole sentences, Swedish as the source language, one gettext catalog per language.

Skills mark their sentences with `N_("…")` (the msgid is the Swedish sentence, with `{named}`
placeholders) and return them as `Message`s; `render(answer, lang)` looks each sentence up in the
language's catalog (`locales/<lang>/LC_MESSAGES/laiban.po`) and fills in the parameters. A sentence is
never assembled from translated fragments.

Update the catalogs after changing sentences (see docs/i18n.md):
    pybabel extract -F babel.cfg -k N_ -o src/laiban/i18n/laiban.pot src/laiban
    pybabel update -i src/laiban/i18n/laiban.pot -d src/laiban/i18n/locales -D laiban
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale
from babel.lists import format_list
from babel.messages.pofile import read_po

from laiban.model.intent import Answer, LanguageNames, Message

LOCALES = Path(__file__).with_name("locales")
SOURCE_LANGUAGE = "sv"
# Pictographs and symbols are shown, never read aloud.
_NOT_SPOKEN = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")


def N_(message: str) -> str:
    """Marks a catalog sentence (msgid) for extraction; returns it unchanged."""
    return message


@cache
def catalog(lang: str) -> dict[str, str]:
    """msgid → translation for a language; Swedish is the source and needs no translation."""
    path = LOCALES / lang / "LC_MESSAGES" / "laiban.po"
    if not path.exists():
        raise LookupError(f"There is no message catalog for the language {lang!r}.")
    with path.open("rb") as handle:
        parsed = read_po(handle, locale=lang)
    return {str(m.id): str(m.string) for m in parsed if m.id and m.string}


def languages_with_catalogs() -> tuple[str, ...]:
    return tuple(sorted(p.name for p in LOCALES.iterdir() if (p / "LC_MESSAGES" / "laiban.po").exists()))


def translate(message: Message, lang: str) -> str:
    sentence = message.id if lang == SOURCE_LANGUAGE else catalog(lang).get(message.id)
    if sentence is None:
        raise LookupError(f"The {lang!r} catalog has no translation of {message.id!r}.")
    return sentence.format(**{name: _param(value, lang) for name, value in message.params.items()})


def _param(value: str | int | LanguageNames, lang: str) -> str | int:
    if isinstance(value, LanguageNames):
        locale = Locale.parse(lang)
        names = [locale.languages.get(code, code) for code in value.codes]
        return format_list(names, locale=locale)
    return value


@dataclass(frozen=True)
class Rendered:
    lang: str
    captions: tuple[str, ...]  # one per sentence, shown while it is spoken
    text: str
    speech: str


def spoken(text: str) -> str:
    """The spoken form of a shown sentence (the speech issue adds clock words and pronunciation)."""
    return " ".join(_NOT_SPOKEN.sub("", text).split())


def render(answer: Answer, lang: str) -> Rendered:
    captions = tuple(translate(message, lang) for message in answer.messages)
    text = " ".join(captions)
    return Rendered(lang=lang, captions=captions, text=text, speech=spoken(text))
