"""Text → Intent: normalise, find slots, classify, and gate on confidence.

    recognize("va e de för väder imorn", "sv") → Intent("weather", {"day": "tomorrow"}, 0.8, False)

Steps, each with its data in `sentences/<lang>/`:
1. normalise: lower-case, drop punctuation, spoken forms and mishearings → standard words
   (`normalize.yaml` replacements), drop fillers and politeness ("eh", "snälla", "kan du säga");
2. slots: the longest known slot words (`slots.yaml`), the preschool's own event titles and roster
   names (from the context; names matched tolerantly) are read out and replaced by `§slot` tokens, so
   that "behöver jag mössa" and "behöver jag vantar" look alike to the classifier;
3. classify against the training sentences (`<intent>.yaml`, placeholders are `§slot` tokens) and
   answer `out_of_scope` below the confidence threshold: a wrong answer is worse than none.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from laiban.model.intent import OUT_OF_SCOPE, SLOTS_OF, Context, Intent
from laiban.understanding.classifier import Model
from laiban.understanding.language import (
    ASSISTANT_NAMES,
    PLACEHOLDER,
    SLOT_MARK,
    LanguageData,
    PhraseTable,
    available_languages,
    load_language,
    tokenize,
)

# Below this similarity the best intent is not trusted (tuned on the development sets; see bench/).
THRESHOLD = 0.38
# A question is a sentence: only its first MAX_CHARACTERS characters are read (POST /ask refuses longer
# text, `laiban ask` reads lines of any length) and at most MAX_WORDS words of them after normalisation
# (NFKC makes up to eighteen characters of one), so that any text is recognised in bounded time.
MAX_CHARACTERS = 500
MAX_WORDS = 100

__all__ = ["Context", "Intent", "Recognizer", "available_languages", "recognize", "recognizer_for"]


EMPTY_CONTEXT = Context()


@dataclass(frozen=True)
class Reading:
    """A sentence as the recogniser sees it."""

    words: tuple[str, ...]  # normalised words, slot words replaced by §slot tokens
    slots: Mapping[str, str]
    yes_no: bool
    called_by_name: bool  # the sentence was only the assistant's name (and fillers)


def _edit_distance_at_most_one(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    shorter, longer = sorted((a, b), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


class Spelling:
    """Corrects a word Laiban has never seen to the one known word a single letter away ("väret" →
    "vädret", "tomorow" → "tomorrow"), as speech recognition and children's pronunciation produce.
    Uses an index of single-letter deletions, so a look-up costs a few dictionary probes."""

    MIN_LENGTH = 2  # single letters are left alone

    def __init__(self, known: Counter[str] | None = None):
        self.known = known or Counter()
        self.longest = max(map(len, self.known), default=0)
        self._by_deletion: dict[str, set[str]] = {}
        for word in self.known:
            if len(word) >= self.MIN_LENGTH - 1:
                for key in {word, *_deletions(word)}:
                    self._by_deletion.setdefault(key, set()).add(word)

    def __contains__(self, word: str) -> bool:
        return word in self.known

    def correct(self, word: str) -> str:
        if word in self.known or word.startswith(SLOT_MARK):
            return word
        if not self.MIN_LENGTH <= len(word) <= self.longest + 1:  # no known word is one letter away
            return word
        candidates: set[str] = set()
        for key in {word, *_deletions(word)}:
            candidates |= self._by_deletion.get(key, set())
        close = [c for c in candidates if _edit_distance_at_most_one(word, c)]
        if not close:
            return word
        return max(close, key=lambda c: (self.known[c], c))  # the commonest; ties alphabetically


def _deletions(word: str) -> list[str]:
    return [word[:i] + word[i + 1 :] for i in range(len(word))]


class Recognizer:
    """One language's recogniser: its data and its model, built once."""

    def __init__(self, data: LanguageData):
        self.data = data
        self._event_tables: dict[tuple[tuple[str, str], ...], PhraseTable] = {}
        self.spelling = Spelling()  # empty while the training sentences themselves are read
        examples = []
        known: Counter[str] = Counter(word for phrase in data.slot_words.phrases() for word in phrase)
        for intent, sentences in data.templates.items():
            seen: set[tuple[str, ...]] = set()
            for sentence in sentences:
                reading = self.read(sentence, EMPTY_CONTEXT, template=True)
                known.update(w for w in reading.words if not w.startswith(SLOT_MARK))
                if reading.words and reading.words not in seen:
                    seen.add(reading.words)
                    examples.append((reading.words, intent))
        self.model = Model(examples)
        self.examples = examples
        self.spelling = Spelling(known)

    # --- reading --------------------------------------------------------------------------------

    def _context_events(self, context: Context) -> PhraseTable:
        """The preschool's event titles as slot words (built once per set of titles)."""
        table = self._event_tables.get(context.events)
        if table is None:
            if len(self._event_tables) > 1000:  # bounded: one entry per preschool schedule
                self._event_tables.clear()
            table = PhraseTable(
                (tuple(self.data.replace(tokenize(title))), ("event", kind)) for title, kind in context.events
            )
            self._event_tables[context.events] = table
        return table

    def read(self, text: str, context: Context, *, template: bool = False) -> Reading:
        if template:  # "{day}" placeholders become §day tokens before tokenising destroys the braces
            text = PLACEHOLDER.sub(lambda m: f" zzslot{m.group(1)} ", text)
        raw = self.data.replace(tokenize(text[:MAX_CHARACTERS])[:MAX_WORDS])
        words: list[str] = []
        i = 0
        while i < len(raw):
            length, _ = self.data.fillers.match(raw, i)
            if length:
                i += length
            elif raw[i] in ASSISTANT_NAMES:
                i += 1
            else:
                if not words or words[-1] != raw[i]:  # "vad vad blir det" → "vad blir det"
                    words.append(raw[i])
                i += 1
        called_by_name = not words and any(w in ASSISTANT_NAMES for w in raw)
        if template:
            words = [SLOT_MARK + w[6:] if w.startswith("zzslot") else w for w in words]
        names = {name.casefold(): name for name in context.names}
        # Names first: a child's name is not a misspelt word ("elle" is Ella, not "eller").
        words = [w if self._name(w, names) else self.spelling.correct(w) for w in words]
        abstract, slots = self._slots(words, context, names)
        return Reading(tuple(abstract), slots, self._is_yes_no(words), called_by_name)

    def _slots(
        self, words: list[str], context: Context, names: dict[str, str]
    ) -> tuple[list[str], dict[str, str]]:
        events = self._context_events(context) if context.events else None
        out: list[str] = []
        slots: dict[str, str] = {}
        i = 0
        while i < len(words):
            if words[i].startswith(SLOT_MARK):
                out.append(words[i])
                i += 1
                continue
            length, values = self.data.slot_words.match(words, i)
            if events is not None:
                event_length, event_values = events.match(words, i)
                if event_length > length:
                    length, values = event_length, event_values
                elif event_length == length and length:
                    values = [*values, *event_values]
            if not length and names:
                name = self._name(words[i], names)
                if name:
                    length, values = 1, [("child", name)]
            if not length:
                out.append(words[i])
                i += 1
                continue
            kinds = []
            for slot, value in values:  # type: ignore[misc]
                slots.setdefault(slot, value)
                if slot not in kinds:
                    kinds.append(slot)
            out.append(SLOT_MARK + "+".join(sorted(kinds)))
            i += length
        return out, slots

    def _name(self, word: str, names: dict[str, str]) -> str | None:
        """The roster name this word is: exact, or one letter off ("elle" → Ella, "noa" → Noah) for
        names of four letters or more, when the word is not an ordinary word and only one name fits."""
        if word in names:
            return names[word]
        if len(word) < 3 or word in self.spelling:
            return None
        close = [
            name for key, name in names.items() if len(key) >= 4 and _edit_distance_at_most_one(word, key)
        ]
        return close[0] if len(close) == 1 else None

    def _is_yes_no(self, words: Sequence[str]) -> bool:
        content = [w for w in words if not w.startswith(SLOT_MARK)]
        if not content or any(w in self.data.question_words for w in content):
            return False
        return content[0] in self.data.yes_no_starts

    # --- recognising ----------------------------------------------------------------------------

    def recognize(self, text: str, context: Context = EMPTY_CONTEXT) -> Intent:
        reading = self.read(text, context)
        if reading.called_by_name:
            return Intent("greeting", {}, 1.0, False)
        if not reading.words:
            return Intent(OUT_OF_SCOPE, {}, 1.0, False)
        scores = self.model.scores(reading.words)
        best = max(scores, key=lambda name: scores[name])
        confidence = round(min(max(scores[best], 0.0), 1.0), 3)
        if best == OUT_OF_SCOPE or confidence < THRESHOLD:
            return Intent(OUT_OF_SCOPE, {}, confidence, False)
        slots = {k: v for k, v in reading.slots.items() if k in SLOTS_OF[best]}
        return Intent(best, slots, confidence, reading.yes_no)


_lock = threading.Lock()
_recognizers: dict[str, Recognizer] = {}


def recognizer_for(lang: str) -> Recognizer:
    """The language's recogniser, built on first use (thread-safe; about a quarter of a second)."""
    with _lock:
        if lang not in _recognizers:
            _recognizers[lang] = Recognizer(load_language(lang))
        return _recognizers[lang]


def recognize(text: str, lang: str, context: Context = EMPTY_CONTEXT) -> Intent:
    return recognizer_for(lang).recognize(text, context)
