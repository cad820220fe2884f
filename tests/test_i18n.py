"""Message catalogs: every sentence the skills and the kiosk can say exists whole in every language, every
catalog compiles (and its committed .mo is the compiled .po), placeholders and plural forms match."""

from __future__ import annotations

import datetime as dt
import io
import re
import string
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog as BabelCatalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

import laiban
from laiban import i18n
from laiban.i18n import (
    FORMS,
    SOURCE_LANGUAGE,
    catalog,
    catalog_path,
    catalog_status,
    languages_with_catalogs,
    render,
    spoken,
    translate,
    word,
)
from laiban.model.intent import (
    Answer,
    ClockTime,
    DateName,
    DayName,
    LanguageNames,
    Message,
)
from laiban.model.preschool import LANGUAGES
from laiban.web.kiosk_words import WORDS, kiosk_words, source, weekday_letters

SOURCE = Path(laiban.__file__).parent
TEMPLATE = SOURCE / "i18n" / "laiban.pot"
KEYWORDS = {"N_": None, "Np_": (1, 2), "Nc_": ((1, "c"), 2)}
LANGS = languages_with_catalogs()
TRANSLATED = [lang for lang in LANGS if lang != SOURCE_LANGUAGE]

Key = tuple[str, str | None]  # (msgid — the singular of a plural sentence —, context)


def marked() -> dict[Key, tuple[str, ...]]:
    """Every marked sentence: (msgid, context) → its Swedish forms (one, or singular and plural)."""
    found = extract_from_dir(str(SOURCE), method_map=[("**.py", "python")], keywords=KEYWORDS)
    sentences = {}
    for _, _, message, _, context in found:
        forms = tuple(message) if isinstance(message, tuple) else (message,)
        sentences[(forms[0], context)] = forms
    return sentences


def fields(text: str) -> set[str]:
    """The named placeholders of a sentence: `{name}` and `{name:spec}` are both `name`."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def specs(text: str) -> set[str]:
    return {spec for _, name, spec, _ in string.Formatter().parse(text) if name is not None and spec}


def read_catalog(lang: str) -> BabelCatalog:
    with catalog_path(lang, compiled=False).open("rb") as handle:
        return read_po(handle, locale=lang)


def translations(parsed: BabelCatalog) -> dict[Key, tuple[str, ...]]:
    found = {}
    for message in parsed:
        if message.id:
            key = message.id[0] if isinstance(message.id, tuple | list) else message.id
            found[(str(key), message.context)] = tuple(
                message.string if isinstance(message.string, tuple | list) else (message.string,)
            )
    return found


# The template and the catalogs.


def test_the_template_lists_every_marked_sentence() -> None:
    with TEMPLATE.open("rb") as handle:
        template = translations(read_po(handle))
    missing = [key for key in marked() if key not in template]
    assert missing == [], "run scripts/catalogs (docs/i18n.md)"


def test_placeholders_are_parsed_with_or_without_a_format_spec() -> None:
    assert fields("På {weekday} och {weekday:standalone}, {n} {name:>3}") == {"weekday", "n", "name"}
    assert specs("{weekday:standalone} {n}") == {"standalone"}


def test_source_sentences_name_their_placeholders() -> None:
    for forms in marked().values():
        for form in forms:
            assert "" not in fields(form), f"{form!r}: name every placeholder ({{name}}, not {{}})"
            assert not specs(form), f"{form!r}: the Swedish sentence uses no format spec"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_catalog_translates_every_sentence_with_the_same_placeholders(lang: str) -> None:
    compiled = catalog(lang)
    for (msgid, context), forms in marked().items():
        if len(forms) == 2:
            translated = compiled.plurals.get(msgid)
        else:
            found = compiled.get(msgid, context)
            translated = None if found is None else (found,)
        assert translated, f"{lang} lacks {msgid!r}" + (f" ({context})" if context else "")
        wanted = fields(forms[0]) | fields(forms[-1])
        for form in translated:  # the singular and every plural form
            # A plural form may leave out the number ("one degree"), never add or rename a placeholder.
            allowed = wanted if len(forms) == 1 else wanted | {"n"}
            assert fields(form) <= allowed and (len(forms) == 2 or fields(form) == wanted), (
                f"{lang}: {form!r} has the placeholders {sorted(fields(form))}, {msgid!r} {sorted(wanted)}"
            )
            assert specs(form) <= FORMS, f"{lang}: {form!r} asks for a form Laiban does not know"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_catalog_compiles_without_errors(lang: str) -> None:
    parsed = read_catalog(lang)
    problems = [(message.id, [str(error) for error in errors]) for message, errors in parsed.check()]
    assert problems == []
    write_mo(io.BytesIO(), parsed, use_fuzzy=True)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_compiled_catalog_is_the_po_compiled_with_its_unreviewed_entries(lang: str) -> None:
    """The .mo that ships is the .po as it is now, fuzzy (unreviewed) entries included."""
    fresh = io.BytesIO()
    write_mo(fresh, read_catalog(lang), use_fuzzy=True)
    fresh.seek(0)
    with catalog_path(lang).open("rb") as handle:
        shipped = read_mo(handle)
    expected = read_mo(fresh)
    assert translations(shipped) == translations(expected), f"run scripts/catalogs ({lang})"
    assert shipped.plural_expr == expected.plural_expr


@pytest.mark.parametrize("lang", TRANSLATED)
def test_plural_forms_follow_the_languages_rules(lang: str) -> None:
    """The header's Plural-Forms is CLDR's for the language, and each plural sentence has that many forms."""
    parsed = read_catalog(lang)
    rules = get_plural(lang)
    assert parsed.num_plurals == rules.num_plurals, f"{lang}: Plural-Forms should say {rules.plural_forms}"
    ours, theirs = catalog(lang).plural_form, i18n.gettext.c2py(rules.plural_expr)
    assert [ours(n) for n in range(1001)] == [theirs(n) for n in range(1001)]
    for message in parsed:
        if message.id and isinstance(message.id, tuple | list) and any(message.string):
            assert len(message.string) == rules.num_plurals, (lang, message.id[0])


@pytest.mark.parametrize(
    ("lang", "forms"), [("ar", 6), ("pl", 3), ("uk", 3), ("bs", 3), ("fi", 2), ("tr", 2), ("fa", 2)]
)
def test_babel_knows_how_many_plural_forms_each_language_has(lang: str, forms: int) -> None:
    assert get_plural(lang).num_plurals == forms


def test_every_language_has_babels_plural_rules_and_locale_data() -> None:
    for lang in LANGUAGES:
        assert Locale.parse(lang).language == lang
        assert get_plural(lang).num_plurals >= 1


# Review status.


def test_the_status_of_the_source_and_a_complete_reviewed_catalog() -> None:
    total = len(marked())
    assert catalog_status("sv") == i18n.CatalogStatus("sv", total, total, total)
    english = catalog_status("en")
    assert (english.total, english.complete) == (total, True)
    assert catalog_status("xx") == i18n.CatalogStatus("xx", total, 0, 0)
    assert catalog_status("../en").translated == 0


def test_an_unreviewed_entry_counts_as_translated_not_reviewed_and_is_still_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "laiban.pot").write_text(
        'msgid ""\nmsgstr ""\n\nmsgid "Hej!"\nmsgstr ""\n\nmsgid "Tack!"\nmsgstr ""\n\n'
        'msgid "Hej då!"\nmsgstr ""\n',
        encoding="utf-8",
    )
    folder = tmp_path / "locales" / "xx" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = (
        'msgid ""\nmsgstr ""\n"Language: xx\\n"\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
        'msgid "Hej!"\nmsgstr "Hi!"\n\n#, fuzzy\nmsgid "Tack!"\nmsgstr "Thanks!"\n\n'
        'msgid "Hej då!"\nmsgstr ""\n'
    )
    (folder / "laiban.po").write_text(po, encoding="utf-8")
    with (folder / "laiban.mo").open("wb") as handle:
        write_mo(handle, read_po(io.StringIO(po)), use_fuzzy=True)
    monkeypatch.setattr(i18n, "LOCALES", tmp_path / "locales")
    for cached in (i18n.catalog_status, i18n.catalog):
        cached.cache_clear()
    try:
        status = catalog_status("xx")
        assert (status.total, status.translated, status.reviewed, status.unreviewed) == (3, 2, 1, 1)
        assert not status.complete
        assert word("Tack!", "xx") == "Thanks!"  # unreviewed, but a sentence all the same
    finally:
        for cached in (i18n.catalog_status, i18n.catalog):
            cached.cache_clear()


# The kiosk's own words.

PROPER_NOUNS = {"laiban"}  # the same in every language


def test_the_kiosk_script_knows_exactly_the_catalogs_swedish_words() -> None:
    script = (SOURCE / "web" / "static" / "kiosk" / "i18n.js").read_text(encoding="utf-8")
    block = script[script.index("const SWEDISH = {") : script.index("};")]
    pairs = re.findall(r'^\s+"?([\w.]+)"?: "(.*)",$', block, flags=re.MULTILINE)
    assert dict(pairs) == {key: source(key) for key in WORDS}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_kiosk_s_words_are_all_translated_with_no_swedish_or_english_left(lang: str) -> None:
    words = kiosk_words(lang)
    assert set(words) == set(WORDS)
    others = [kiosk_words(other) for other in ("sv", "en") if other != lang and other in (*LANGS, "sv")]
    for key, text in words.items():
        assert text.strip(), (lang, key)
        if key in PROPER_NOUNS:
            continue
        for other in others:
            assert text != other[key], f"{lang}: the kiosk's {key!r} is still {text!r}"


def test_the_week_strip_letters_come_from_cldr() -> None:
    assert weekday_letters("sv") == ("M", "T", "O", "T", "F", "L", "S")
    assert weekday_letters("en") == ("M", "T", "W", "T", "F", "S", "S")
    for lang in LANGUAGES:
        assert len(weekday_letters(lang)) == 7 and all(weekday_letters(lang)), lang


# Locale data: dates, weekdays, times and lists the language's way.

MONDAY = dt.date(2026, 3, 2)


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_dates_times_and_lists_in_every_language(lang: str) -> None:
    param = i18n._param
    assert str(param(DayName(MONDAY), lang)).strip()
    assert str(param(DateName(MONDAY), lang)).strip()
    assert Locale.parse(lang).languages["sv"] in str(param(LanguageNames(("sv", "en")), lang))
    # Latin digits everywhere (Babel's default numbering system; the digits children learn in school).
    time = param(ClockTime(dt.time(14, 5)), lang)
    assert re.search(r"\b(14|2)[:.]05\b", str(time)), (lang, time)
    assert "2" in str(param(DateName(MONDAY), lang))


def test_a_translation_can_ask_for_the_standalone_weekday() -> None:
    monday = i18n._param(DayName(MONDAY), "fi")
    assert (f"{monday}", f"{monday:standalone}") == ("maanantaina", "maanantai")
    assert "{weekday:standalone}".format(weekday=i18n._param(DayName(MONDAY), "sv")) == "måndag"
    with pytest.raises(ValueError, match="no form"):
        format(monday, "genitive")
    # On a placeholder that is not a weekday the spec changes nothing (a child never meets a crash).
    assert i18n._FORMATTER.format("{day:standalone} {n:standalone}", day="midsommar", n=3) == "midsommar 3"


# Rendering.


def test_language_names_are_written_in_the_answers_language() -> None:
    message = Message("Jag kan prata {languages}.", {"languages": LanguageNames(("sv", "en", "ar"))})
    assert translate(message, "sv") == "Jag kan prata svenska, engelska och arabiska."
    assert translate(message, "en") == "I can speak Swedish, English, and Arabic."


def test_a_missing_catalog_or_sentence_is_an_error_not_swedish_in_disguise() -> None:
    with pytest.raises(LookupError):
        translate(Message("Det vet jag inte."), "xx")
    with pytest.raises(LookupError):
        translate(Message("En mening som inte finns."), "en")
    with pytest.raises(LookupError):
        word("Gott", "en", context="no such context")


def test_a_word_with_a_context_is_its_own_entry() -> None:
    assert word("Gott", "en", context="lunch rating") == "Tasty"
    assert word("Gott", "sv", context="lunch rating") == "Gott"


def test_rendering_keeps_one_caption_per_sentence_and_speaks_no_symbols() -> None:
    answer = Answer((Message("Det vet jag inte."), Message("Fråga en pedagog!")))
    rendered = render(answer, "en")
    assert rendered.captions == ("I don't know that.", "Ask a teacher!")
    assert rendered.text == "I don't know that. Ask a teacher!"
    assert spoken("Sol ☀️ och regn 🌧️") == "Sol och regn"
