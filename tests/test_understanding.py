"""Understanding: normalisation, slots, yes/no, roster names, out of scope — Swedish and English.

The development sets in bench/ measure accuracy; these tests pin down behaviour that must never break.
"""

import pytest

from laiban.model.intent import INTENTS, Context
from laiban.understanding import Recognizer, available_languages, recognize, recognizer_for
from laiban.understanding.language import load_language, tokenize

ROSTER = Context(
    names=("Ella", "Noah", "Leo", "Alice", "Omar"),
    events=(("Fruktstund", "fruit"), ("Vila", "rest"), ("Utevistelse", "outdoor"), ("Gympa", "gym")),
)


def test_swedish_and_english_are_understood() -> None:
    assert {"sv", "en"} <= set(available_languages())


def test_every_language_has_sentences_for_every_intent() -> None:
    for lang in available_languages():
        data = load_language(lang)
        assert set(data.templates) == set(INTENTS), lang
        for intent, sentences in data.templates.items():
            assert len(sentences) >= 40, f"{lang}/{intent}: only {len(sentences)} sentences"


def test_no_sentence_is_taught_as_two_intents() -> None:
    for lang in available_languages():
        seen: dict[tuple[str, ...], str] = {}
        for words, intent in recognizer_for(lang).examples:
            assert seen.setdefault(words, intent) == intent, (
                f"{lang}: {' '.join(words)!r} is {seen[words]} and {intent}"
            )


def test_building_is_deterministic() -> None:
    first = Recognizer(load_language("sv"))
    second = Recognizer(load_language("sv"))
    for text in ("va e klockan", "blir det fisk imorn", "hmm", "vem hämtar mig"):
        assert first.recognize(text, ROSTER) == second.recognize(text, ROSTER)


class TestNormalisation:
    def test_case_punctuation_and_apostrophes(self) -> None:
        assert tokenize("Vad ÄR klockan?!") == ["vad", "är", "klockan"]
        assert tokenize("What's the time, Laiban...") == ["whats", "the", "time", "laiban"]

    @pytest.mark.parametrize(
        ("spoken", "standard"),
        [
            ("va e klockan", "vad är klockan"),
            ("eh laiban hur e vädret", "hur är vädret"),
            ("vem hämtar mej", "vem hämtar mig"),
            ("vad vad blir de för mat", "vad blir det för mat"),
        ],
    )
    def test_swedish_spoken_forms(self, spoken: str, standard: str) -> None:
        recognizer = recognizer_for("sv")
        assert recognizer.read(spoken, Context()).words == recognizer.read(standard, Context()).words

    def test_english_spoken_forms(self) -> None:
        recognizer = recognizer_for("en")
        assert (
            recognizer.read("um whats the weather", Context()).words
            == recognizer.read("what is the weather", Context()).words
        )


@pytest.mark.parametrize(
    ("text", "intent", "slots", "yes_no"),
    [
        ("va e klockan", "time", {}, False),
        ("vad blir de för mat idag", "lunch", {"day": "today"}, False),
        ("va e de för väder imorn", "weather", {"day": "tomorrow"}, False),
        ("regnar det", "weather", {"condition": "rain"}, True),
        ("behöver jag mössa", "clothes", {"garment": "beanie"}, True),
        ("blir det fisk", "lunch", {"food": "fish"}, True),
        ("vem hämtar mej", "pickup", {}, False),
        ("vem hämtar elle idag", "pickup", {"child": "Ella", "day": "today"}, False),
        ("när är det fruktstund", "schedule", {"event": "fruit"}, False),
        ("när har vi gympa", "schedule", {"event": "gym"}, False),
        ("vad är det för dag idag", "date", {"day": "today"}, False),
        ("hur många dagar är det kvar till jul", "calendar", {"holiday": "christmas"}, False),
        ("vad ska vi göra idag", "activities", {"day": "today"}, False),
        ("vem är du", "about", {}, False),
        ("hej laiban", "greeting", {}, False),
        ("laiban", "greeting", {}, False),
        ("säg det igen", "repeat", {}, False),
        ("kan du prata engelska", "language", {"language": "en"}, True),
    ],
)
def test_swedish_questions(text: str, intent: str, slots: dict[str, str], yes_no: bool) -> None:
    got = recognize(text, "sv", ROSTER)
    assert (got.name, {k: v for k, v in got.slots.items() if k != "greeting"}, got.yes_no) == (
        intent,
        slots,
        yes_no,
    )
    assert 0 < got.confidence <= 1


@pytest.mark.parametrize(
    ("text", "intent", "slots", "yes_no"),
    [
        ("what time is it", "time", {}, False),
        ("whats for lunch tomorrow", "lunch", {"day": "tomorrow", "meal": "lunch"}, False),
        ("is it raining", "weather", {"condition": "rain"}, True),
        ("do i need my wellies", "clothes", {"garment": "rain_boots"}, True),
        ("who is picking me up", "pickup", {}, False),
        ("who picks up noah", "pickup", {"child": "Noah"}, False),
        ("when is nap time", "schedule", {"event": "rest"}, False),
        ("what day is it", "date", {}, False),
        ("how many days until christmas", "calendar", {"holiday": "christmas"}, False),
        ("what are we doing today", "activities", {"day": "today"}, False),
        ("who are you", "about", {}, False),
        ("say that again", "repeat", {}, False),
        ("speak swedish", "language", {"language": "sv"}, False),
    ],
)
def test_english_questions(text: str, intent: str, slots: dict[str, str], yes_no: bool) -> None:
    got = recognize(text, "en", ROSTER)
    assert (got.name, dict(got.slots), got.yes_no) == (intent, slots, yes_no)


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("sv", "tänd lampan i köket"),
        ("sv", "spela musik"),
        ("sv", "sätt en timer på fem minuter"),
        ("sv", "hur stor är en elefant"),
        ("sv", "pruttkorv bajskorv"),
        ("sv", "Ella"),
        ("sv", "ella noah"),
        ("sv", ""),
        ("sv", "?!…"),
        ("sv", "eh öh"),
        ("en", "turn on the lights"),
        ("en", "play some music"),
        ("en", "why is the sky blue"),
        ("en", "Noah"),
        ("en", "asdf qwerty"),
    ],
)
def test_everything_else_is_out_of_scope(lang: str, text: str) -> None:
    assert recognize(text, lang, ROSTER).name == "out_of_scope"


class TestNames:
    def test_names_match_tolerantly(self) -> None:
        for spoken in ("Ella", "ella", "ELLA", "elle"):
            assert recognize(f"vem hämtar {spoken}", "sv", ROSTER).slots.get("child") == "Ella"

    def test_short_names_only_match_exactly(self) -> None:
        assert recognize("vem hämtar leo", "sv", ROSTER).slots.get("child") == "Leo"
        assert recognize("vem hämtar lea", "sv", ROSTER).slots.get("child") is None

    def test_ordinary_words_are_not_taken_for_names(self) -> None:
        # "alla" is one letter from "Ella", but it is a word Laiban knows.
        assert "child" not in recognize("hämtar alla idag", "sv", ROSTER).slots

    def test_without_a_roster_there_are_no_names(self) -> None:
        assert "child" not in recognize("vem hämtar ella", "sv").slots


def test_anything_unicode_gives_an_intent() -> None:
    for text in ("\x00\x1f", "🙂🙂", "a" * 2000, "ماذا سنأكل", "  \n\t "):
        assert recognize(text, "sv", ROSTER).name in INTENTS


def test_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(LookupError, match="no understanding data"):
        recognize("hej", "xx")
