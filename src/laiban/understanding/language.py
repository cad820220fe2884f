"""A language's understanding data: normalisation rules, slot words and training sentences.

Everything comes from `sentences/<lang>/*.yaml`; adding a language means adding such a folder.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from laiban.model.intent import INTENTS

SENTENCES = Path(__file__).with_name("sentences")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
SLOT_MARK = "§"  # tokens that stand for a slot ("§day"); never produced from user text
# What people may call the assistant; said alone it is a call for attention (a greeting).
ASSISTANT_NAMES = frozenset({"laiban", "lajban", "leiban", "lejban", "laibahn", "liban", "laban"})

Phrase = tuple[str, ...]


def tokenize(text: str) -> list[str]:
    """Lower-case words without punctuation; apostrophes vanish inside words ("what's" → "whats")."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"['’´`]", "", text)
    text = re.sub(r"[^\w]+|_", " ", text)
    text = re.sub(r"(\D)\1{2,}", r"\1", text)  # stretched sounds: "hellooo" → "hello", "neeej" → "nej"
    return text.split()


class PhraseTable:
    """Longest-match lookup of multi-word phrases in a token list."""

    def __init__(self, entries: Iterable[tuple[Phrase, object]]):
        self._entries: dict[Phrase, list[object]] = defaultdict(list)
        for phrase, value in entries:
            if phrase and value not in self._entries[phrase]:
                self._entries[phrase].append(value)
        self.longest = max((len(p) for p in self._entries), default=0)

    def match(self, tokens: Sequence[str], start: int) -> tuple[int, list[object]]:
        """(length, values) of the longest phrase starting at `start`, or (0, [])."""
        for length in range(min(self.longest, len(tokens) - start), 0, -1):
            values = self._entries.get(tuple(tokens[start : start + length]))
            if values:
                return length, values
        return 0, []

    def __contains__(self, phrase: Phrase) -> bool:
        return phrase in self._entries

    def phrases(self) -> Iterable[Phrase]:
        return self._entries.keys()

    def values(self) -> Iterable[object]:
        for values in self._entries.values():
            yield from values


@dataclass(frozen=True)
class LanguageData:
    lang: str
    fillers: PhraseTable
    replacements: PhraseTable
    yes_no_starts: frozenset[str]
    question_words: frozenset[str]
    slot_words: PhraseTable  # phrase -> [(slot, value)]
    templates: Mapping[str, tuple[str, ...]]  # intent -> training sentences with {placeholders}

    def replace(self, tokens: list[str]) -> list[str]:
        """Spoken forms and mishearings → standard spelling (whole words and phrases)."""
        out: list[str] = []
        i = 0
        while i < len(tokens):
            length, values = self.replacements.match(tokens, i)
            if length:
                out.extend(values[0])  # type: ignore[arg-type]
                i += length
            else:
                out.append(tokens[i])
                i += 1
        return out


def _load_yaml(path: Path) -> object:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def available_languages() -> tuple[str, ...]:
    return tuple(sorted(p.name for p in SENTENCES.iterdir() if (p / "normalize.yaml").exists()))


# Slots whose values are also the preschool's own words (its event titles, its children's names).
OPEN_SLOTS = frozenset({"event", "child"})


@cache
def closed_slot_values() -> Mapping[str, frozenset[str]]:
    """Each other slot's canonical values (the keys of every language's slots.yaml): recognition only
    ever gives these, so a tapped intent may carry nothing else."""
    found: dict[str, set[str]] = defaultdict(set)
    for lang in available_languages():
        for slot, value in load_language(lang).slot_words.values():  # type: ignore[misc]
            if slot not in OPEN_SLOTS:
                found[slot].add(value)
    return {slot: frozenset(values) for slot, values in found.items()}


@cache
def load_language(lang: str) -> LanguageData:
    folder = SENTENCES / lang
    if not (folder / "normalize.yaml").exists():
        raise LookupError(f"Laiban has no understanding data for the language {lang!r}.")
    rules = _load_yaml(folder / "normalize.yaml") or {}
    assert isinstance(rules, dict), f"{folder / 'normalize.yaml'} must be a mapping"
    replacements = PhraseTable(
        (tuple(tokenize(str(spoken))), tuple(tokenize(str(standard))))
        for spoken, standard in (rules.get("replacements") or {}).items()
    )
    data = LanguageData(
        lang=lang,
        fillers=PhraseTable((tuple(tokenize(str(f))), True) for f in rules.get("fillers") or ()),
        replacements=replacements,
        yes_no_starts=frozenset(w for word in rules.get("yes_no_starts") or () for w in tokenize(str(word))),
        question_words=frozenset(
            w for word in rules.get("question_words") or () for w in tokenize(str(word))
        ),
        slot_words=PhraseTable(()),
        templates={},
    )
    slot_file = _load_yaml(folder / "slots.yaml") or {}
    assert isinstance(slot_file, dict), f"{folder / 'slots.yaml'} must be a mapping"
    slot_entries = []
    for slot, values in slot_file.items():
        for value, surfaces in (values or {}).items():
            for surface in surfaces or ():
                # Slot words are matched after normalisation, so they are normalised the same way.
                phrase = tuple(data.replace(tokenize(str(surface))))
                slot_entries.append((phrase, (str(slot), str(value))))
    templates: dict[str, tuple[str, ...]] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.stem in ("normalize", "slots"):
            continue
        content = _load_yaml(path)
        assert isinstance(content, dict) and content.get("intent") in INTENTS, f"{path}: unknown intent"
        templates[str(content["intent"])] = tuple(str(s) for s in content.get("sentences") or ())
    return LanguageData(
        lang=lang,
        fillers=data.fillers,
        replacements=data.replacements,
        yes_no_starts=data.yes_no_starts,
        question_words=data.question_words,
        slot_words=PhraseTable(slot_entries),
        templates=templates,
    )
