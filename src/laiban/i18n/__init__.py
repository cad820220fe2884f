"""Message catalogs: whole sentences, Swedish as the source language, one gettext catalog per language.

Skills mark their sentences with `N_("…")` (the msgid is the Swedish sentence, with `{named}`
placeholders) and return them as `Message`s; `render(answer, lang)` looks each sentence up in the
language's compiled catalog (`locales/<lang>/LC_MESSAGES/laiban.mo`, made from `laiban.po` by
`scripts/catalogs`) and fills in the parameters. A sentence is never assembled from translated fragments.

An entry flagged `#, fuzzy` in a `.po` is a translation no native speaker has reviewed yet: it is
compiled and used all the same (a sensible sentence beats none), and `catalog_status` counts it, for
the admin. See docs/i18n.md.
"""

from __future__ import annotations

import gettext
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.lists import format_list
from babel.messages.catalog import Catalog as BabelCatalog
from babel.messages.mofile import read_mo
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
    StaffTexts,
    Texts,
    glossary_key,
)

LOCALES = Path(__file__).with_name("locales")
SOURCE_LANGUAGE = "sv"
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:_[A-Za-z0-9]{2,8})?")  # a catalog folder's name: "sv", "pt_BR"
# Pictographs and symbols are shown, never read aloud.
_NOT_SPOKEN = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")


def N_(message: str) -> str:
    """Marks a catalog sentence (msgid) for extraction; returns it unchanged."""
    return message


def Np_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a sentence with a plural form ("{n} grad" / "{n} grader") for extraction."""
    return singular, plural


def Nc_(context: str, message: str) -> tuple[str, str]:
    """Marks a short word that needs a context to be translated right ("Gott" as a lunch rating)."""
    return context, message


def _key(msgid: str, context: str | None) -> str:
    """The catalog key of a msgid with a context, as gettext stores it ("context\x04msgid")."""
    return msgid if context is None else f"{context}\x04{msgid}"


@dataclass(frozen=True)
class Catalog:
    sentences: dict[str, str]  # msgid (with its context: "context\x04msgid") → translation
    plurals: dict[str, tuple[str, ...]]  # singular msgid → the plural forms of the translation
    plural_form: Callable[[int], int]  # which form a number takes (the catalog's Plural-Forms header)

    def get(self, msgid: str, context: str | None = None) -> str | None:
        return self.sentences.get(_key(msgid, context))

    def __contains__(self, msgid: str) -> bool:
        return msgid in self.sentences or msgid in self.plurals


def catalog_path(lang: str, compiled: bool = True) -> Path:
    """Where a language's catalog is: the compiled `.mo` the server reads, or the translators' `.po`."""
    return LOCALES / lang / "LC_MESSAGES" / ("laiban.mo" if compiled else "laiban.po")


def _read_mo(lang: str) -> BabelCatalog:
    path = catalog_path(lang)
    if not _LANGUAGE_CODE.fullmatch(lang) or not path.exists():
        raise LookupError(f"There is no message catalog for the language {lang!r}.")
    with path.open("rb") as handle:
        return read_mo(handle)


@cache
def catalog(lang: str) -> Catalog:
    """A language's translations, from its compiled catalog; Swedish is the source and needs none."""
    compiled = _read_mo(lang)
    sentences, plurals = {}, {}
    for message in compiled:
        if not message.id or not message.string:
            continue
        if isinstance(message.id, tuple | list):
            forms = tuple(str(form) for form in message.string)
            if all(forms):
                plurals[_key(str(message.id[0]), message.context)] = forms
        else:
            sentences[_key(str(message.id), message.context)] = str(message.string)
    # The catalog's own gettext plural rule ("(n != 1)"), compiled by the standard library.
    return Catalog(sentences, plurals, gettext.c2py(compiled.plural_expr))


@cache  # the catalogs ship with the package; asked for on every answer
def languages_with_catalogs() -> tuple[str, ...]:
    """The languages with a compiled catalog (Swedish, the source, has none)."""
    return tuple(sorted(p.name for p in LOCALES.iterdir() if catalog_path(p.name).exists()))


@dataclass(frozen=True)
class CatalogStatus:
    """How far a language's catalog is: of the template's `total` entries, how many have a translation
    and how many of those a native speaker has reviewed (translated and not flagged `#, fuzzy`)."""

    lang: str
    total: int
    translated: int
    reviewed: int

    @property
    def complete(self) -> bool:
        return self.translated == self.total

    @property
    def unreviewed(self) -> int:
        """Translated, but still flagged fuzzy: machine-made or otherwise waiting for a native speaker."""
        return self.translated - self.reviewed


def _template_keys() -> set[tuple[object, str | None]]:
    with (LOCALES.parent / "laiban.pot").open("rb") as handle:
        template = read_po(handle)
    return {(message.id, message.context) for message in template if message.id}


@cache
def catalog_status(lang: str) -> CatalogStatus:
    """Completeness and review status of `lang`'s catalog (read from its `.po`), for the admin."""
    wanted = _template_keys()
    total = len(wanted)
    if lang == SOURCE_LANGUAGE:
        return CatalogStatus(lang, total, total, total)
    path = catalog_path(lang, compiled=False)
    if not _LANGUAGE_CODE.fullmatch(lang) or not path.exists():
        return CatalogStatus(lang, total, 0, 0)
    with path.open("rb") as handle:
        parsed = read_po(handle, locale=lang)
    translated = reviewed = 0
    for message in parsed:
        if (message.id, message.context) not in wanted:
            continue
        forms = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if all(forms):
            translated += 1
            reviewed += not message.fuzzy
    return CatalogStatus(lang, total, translated, reviewed)


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


def word(msgid: str, lang: str, context: str | None = None) -> str:
    """One catalog word or phrase (a garment's name, a kiosk button's name…) in the language."""
    if context is None:
        return _sentence(Message(msgid), lang)
    found = msgid if lang == SOURCE_LANGUAGE else catalog(lang).get(msgid, context)
    if found is None:
        raise LookupError(f"The {lang!r} catalog has no translation of {msgid!r} ({context}).")
    return found


class Forms(str):
    """A word CLDR gives in more than one form. `{weekday}` is the form used inside a date (Finnish
    "maanantaina"); a translation may ask for another with a format spec: `{weekday:standalone}`
    ("maanantai")."""

    forms: dict[str, str]

    def __new__(cls, default: str, **forms: str) -> Forms:
        made = super().__new__(cls, default)
        made.forms = forms
        return made

    def __format__(self, spec: str) -> str:
        if not spec:
            return str(self)
        if spec not in self.forms:
            raise ValueError(f"{str(self)!r} has no form {spec!r}; it has {sorted(self.forms)}.")
        return self.forms[spec]


FORMS = frozenset({"standalone"})  # the format specs a translation may give a placeholder


class _Formatter(string.Formatter):
    def format_field(self, value: object, format_spec: str) -> str:
        # A form a value does not have ("{day:standalone}" where the day is a holiday's name) is its one form.
        if format_spec in FORMS and not isinstance(value, Forms):
            format_spec = ""
        return super().format_field(value, format_spec)


_FORMATTER = _Formatter()


Glossary = Mapping[str, str]  # a preschool's staff translations in one language: glossary_key(sv) → text


def _lacks_translation(message: Message, glossary: Glossary | None) -> bool:
    """Whether a staff text of the message has no translation in the glossary."""
    known = glossary or {}
    return any(
        isinstance(value, StaffTexts) and any(glossary_key(text) not in known for text in value.texts)
        for value in message.params.values()
    )


def translate(message: Message, lang: str, glossary: Glossary | None = None) -> str:
    """The message in `lang`; staff texts (`StaffTexts`) in the glossary's translation where it has one."""
    if message.untranslated and lang != SOURCE_LANGUAGE and _lacks_translation(message, glossary):
        message = Message(message.untranslated, message.params)
    return _FORMATTER.format(
        _sentence(message, lang),
        **{name: _param(value, lang, glossary) for name, value in message.params.items()},
    )


def _param(value: Param, lang: str, glossary: Glossary | None = None) -> str | int:
    locale = Locale.parse(lang)
    if isinstance(value, StaffTexts) and glossary and lang != SOURCE_LANGUAGE:
        said = [glossary.get(glossary_key(text), text) for text in value.texts]
        return format_list(said, style=value.style, locale=locale)
    if isinstance(value, LanguageNames):
        return format_list([locale.languages.get(code, code) for code in value.codes], locale=locale)
    if isinstance(value, Nouns):
        return format_list([word(msgid, lang) for msgid in value.msgids], style=value.style, locale=locale)
    if isinstance(value, Texts):
        return format_list(list(value.texts), style=value.style, locale=locale)
    if isinstance(value, DateName):
        return format_skeleton("MMMMd", value.date, locale=locale)
    if isinstance(value, DayName):
        return Forms(
            format_date(value.date, "EEEE", locale=locale),
            standalone=format_date(value.date, "cccc", locale=locale),
        )
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


def render(answer: Answer, lang: str, glossary: Glossary | None = None) -> Rendered:
    """The answer in `lang`. `glossary`: the preschool's confirmed staff translations for `lang` (dish
    names, events, activities…); a staff text without one is said in Swedish inside the translated
    sentence."""
    captions = tuple(translate(message, lang, glossary) for message in answer.messages)
    text = " ".join(captions)
    return Rendered(
        lang=lang,
        captions=captions,
        text=text,
        speech=spoken(text),
        speech_captions=tuple(spoken(caption) for caption in captions),
    )
