"""Message catalogs: every sentence the skills can say exists whole in every language."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

import laiban
from laiban.i18n import catalog, languages_with_catalogs, render, spoken, translate
from laiban.model.intent import Answer, LanguageNames, Message

SOURCE = Path(laiban.__file__).parent


def marked_sentences() -> set[str]:
    """Every marked msgid; for plural sentences the singular (the catalog's key)."""
    found = extract_from_dir(
        str(SOURCE), method_map=[("**.py", "python")], keywords={"N_": None, "Np_": (1, 2)}
    )
    return {message[0] if isinstance(message, tuple) else message for _, _, message, _, _ in found}


def test_the_template_lists_every_marked_sentence() -> None:
    template = (SOURCE / "i18n" / "laiban.pot").read_text(encoding="utf-8")
    missing = [m for m in marked_sentences() if f'msgid "{m}"' not in template]
    assert missing == [], "run pybabel extract/update (docs/i18n.md)"


@pytest.mark.parametrize("lang", languages_with_catalogs())
def test_every_catalog_translates_every_sentence_with_the_same_placeholders(lang: str) -> None:
    import string

    translations = catalog(lang)
    for sentence in marked_sentences():
        assert sentence in translations, f"{lang} lacks {sentence!r}"
        fields = {f for _, f, _, _ in string.Formatter().parse(sentence) if f}
        for translated in translations.plurals.get(sentence) or (translations.get(sentence),):
            assert {f for _, f, _, _ in string.Formatter().parse(translated) if f} == fields


def test_language_names_are_written_in_the_answers_language() -> None:
    message = Message("Jag kan prata {languages}.", {"languages": LanguageNames(("sv", "en", "ar"))})
    assert translate(message, "sv") == "Jag kan prata svenska, engelska och arabiska."
    assert translate(message, "en") == "I can speak Swedish, English, and Arabic."


def test_a_missing_catalog_or_sentence_is_an_error_not_swedish_in_disguise() -> None:
    with pytest.raises(LookupError):
        translate(Message("Det vet jag inte."), "xx")
    with pytest.raises(LookupError):
        translate(Message("En mening som inte finns."), "en")


def test_rendering_keeps_one_caption_per_sentence_and_speaks_no_symbols() -> None:
    answer = Answer((Message("Det vet jag inte."), Message("Fråga en pedagog!")))
    rendered = render(answer, "en")
    assert rendered.captions == ("I don't know that.", "Ask a teacher!")
    assert rendered.text == "I don't know that. Ask a teacher!"
    assert spoken("Sol ☀️ och regn 🌧️") == "Sol och regn"
