"""Dishes as children hear them: the kitchen's menu text made short and concrete, with a picture.

"Krämig fiskgratäng med dill, serveras med kokt potatis (MSC)" → "fiskgratäng med potatis", food/fish.

The rules are data: `<lang>.yaml` beside this module lists the words to rewrite, drop and keep, and
the foods with their stems in order of precedence. The code only walks the text:

1. brackets go with their content ("(MSC)", "[G, L]"); an unclosed bracket takes the rest with it;
2. the words are lower-cased and `rewrite` applies ("serveras med" → "med", "m." → "med");
   short ALL-CAPS words in mixed-case text are labels and go;
3. only the first sentence counts, a label before a colon goes ("Dagens soppa: …"), and a `cut_text`
   word ends the text ("innehåller …");
4. `connectors` ("med", "och", "eller") and `separators` (",", "/") split the text into parts: the main
   dish first, then the sides;
5. in each part, `drop` words (marketing, cooking, labels, units) and numbers go, a `cut_part` word
   ends the part ("från Sverige"), and a part made only of `details` goes ("med dill");
6. the main dish stays with at most `max_sides` sides, `minor` sides (sauces, bread) only when there is
   room, in the kitchen's order, said as a list: "X med Y och Z";
7. if nothing is left, the kitchen's first words without brackets are said, else the word for food.

The picture is that of the first food (in the data's order) found in the main dish, else in the sides,
else a plain plate. Menu text is plain text: sources remove markup before it gets here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from laiban.model.menu import Dish

DATA = Path(__file__).parent
FALLBACK_PICTURE = "food/plate"
OPENING, CLOSING = "([{", ")]}"
TOKEN = re.compile(r"[^\W\d_][\w'’-]*|\d+(?:[.,]\d+)*[\w%]*|\S")
SENTENCE_ENDS = frozenset(".!?")
# Connector roles, strongest first: a side joined by several (the rest dropped) is said with the strongest.
ROLES = ("with", "or", "and", "sep")

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Food:
    key: str
    picture: str
    stems: re.Pattern[str]
    exceptions: re.Pattern[str] | None

    def found_in(self, text: str) -> bool:
        if self.exceptions is not None:
            text = self.exceptions.sub(" ", text)
        return self.stems.search(text) is not None


@dataclass(frozen=True)
class Rules:
    lang: str
    fallback: str
    max_sides: int
    max_part_words: int
    caps_label_max: int
    connectors: Mapping[str, str]  # word -> role
    words: Mapping[str, str]  # role -> word
    separators: frozenset[str]
    rewrite: Mapping[Phrase, Phrase]
    longest_rewrite: int
    cut_text: re.Pattern[str]
    cut_part: re.Pattern[str]
    drop: re.Pattern[str]
    details: re.Pattern[str]
    minor: re.Pattern[str]
    foods: tuple[Food, ...]


@dataclass(frozen=True)
class Part:
    role: str  # how it joins what comes before: a connector role, or "sep"
    words: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.words)


def simplify(text: str, lang: str = "sv") -> str:
    """The dish as a child hears it: main dish and a side or two, lower case, never empty.

    When the rules leave nothing, the kitchen's first words (without brackets) are said, and when
    there are none, the language's word for food ("mat")."""
    rules = load_rules(lang)
    said = _say(_kept(_parts(text, rules), rules), rules)
    return said or " ".join(_words(_strip_brackets(text))[: rules.max_part_words]) or rules.fallback


def picture_for(text: str, lang: str = "sv") -> str:
    """The picture key of the dish's main food ("food/fish"), or "food/plate"."""
    rules = load_rules(lang)
    parts = _parts(text, rules) or [Part("sep", tuple(_words(text)))]
    for part in parts:
        for food in rules.foods:
            if food.found_in(part.text):
                return food.picture
    return FALLBACK_PICTURE


def dish(text: str, lang: str = "sv") -> Dish:
    return Dish(text=text, simple=simplify(text, lang), picture=picture_for(text, lang))


def mentions(text: str, food: str, lang: str = "sv") -> bool:
    """Whether the menu text (brackets included) mentions a food slot value, inside compounds too."""
    for known in load_rules(lang).foods:
        if known.key == food:
            return known.found_in(" ".join(_words(text)))
    raise LookupError(f"Laiban has no dish data for the food {food!r} in the language {lang!r}.")


def foods(lang: str = "sv") -> tuple[str, ...]:
    """The food keys known in a language, in order of precedence."""
    return tuple(food.key for food in load_rules(lang).foods)


# The walk through the text.


def _strip_brackets(text: str) -> str:
    """Text outside brackets, in one pass; an unclosed bracket drops the rest."""
    out: list[str] = []
    depth = 0
    for char in text:
        if char in OPENING:
            depth += 1
        elif char in CLOSING:
            depth = max(depth - 1, 0)
            out.append(" ")
        elif depth == 0:
            out.append(char)
    return "".join(out)


def _words(text: str) -> list[str]:
    return [t for t in TOKEN.findall(unicodedata.normalize("NFKC", text).lower()) if t[0].isalpha()]


def _tokens(text: str, rules: Rules) -> list[str]:
    raw = TOKEN.findall(unicodedata.normalize("NFKC", _strip_brackets(text)))
    mixed = any(c.islower() for c in text)
    tokens = [
        t.lower().rstrip("'’") or t
        for t in raw
        if not (mixed and t.isupper() and t.isalpha() and len(t) <= rules.caps_label_max)
    ]
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for length in range(min(rules.longest_rewrite, len(tokens) - i), 0, -1):
            replacement = rules.rewrite.get(tuple(tokens[i : i + length]))
            if replacement is not None:
                out.extend(replacement)
                i += length
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def _first_sentence(tokens: list[str], rules: Rules) -> list[str]:
    sentence: list[str] = []
    for token in tokens:
        if token in SENTENCE_ENDS:
            if any(t[0].isalpha() for t in sentence):
                break
            sentence = []
        elif rules.cut_text.fullmatch(token):
            break
        else:
            sentence.append(token)
    if ":" in sentence:  # "Dagens soppa: tomatsoppa" → "tomatsoppa"
        last = len(sentence) - 1 - sentence[::-1].index(":")
        after = sentence[last + 1 :]
        sentence = after if any(t[0].isalpha() for t in after) else sentence[:last]
    return sentence


def _parts(text: str, rules: Rules) -> list[Part]:
    """The dish's parts with something left to say, in order; the first is the main dish."""
    raw: list[tuple[str, list[str]]] = [("sep", [])]
    for token in _first_sentence(_tokens(text, rules), rules):
        role = rules.connectors.get(token)
        current = raw[-1][1]
        if role and not (current and current[-1].endswith("-")):  # "fisk- och skaldjursgryta"
            raw.append((role, []))
        elif token in rules.separators:
            raw.append(("sep", []))
        elif token[0].isalpha():
            current.append(token)
    parts: list[Part] = []
    pending = len(ROLES) - 1
    for role, words in raw:
        pending = min(pending, ROLES.index(role))
        kept: list[str] = []
        for word in words:
            if rules.cut_part.fullmatch(word):
                break
            if not rules.drop.fullmatch(word):
                kept.append(word)
        if kept and not all(rules.details.fullmatch(w) for w in kept):
            parts.append(Part(ROLES[pending], tuple(kept[: rules.max_part_words])))
            pending = len(ROLES) - 1
    return parts


def _kept(parts: list[Part], rules: Rules) -> list[Part]:
    """The main dish and at most `max_sides` sides (minor ones last), in order, each joined by the
    strongest connector of the parts it stands for."""
    if not parts:
        return []
    main, seen, sides = parts[0], {parts[0].text}, []
    for index, part in enumerate(parts[1:], start=1):
        if part.text not in seen:
            seen.add(part.text)
            sides.append(index)
    major = [i for i in sides if not rules.minor.fullmatch(parts[i].words[-1])]
    minor = [i for i in sides if i not in major]
    chosen = sorted((major + minor)[: rules.max_sides])
    kept, previous = [main], 0
    for index in chosen:
        role = min((ROLES.index(p.role) for p in parts[previous + 1 : index + 1]), default=len(ROLES) - 1)
        kept.append(Part(ROLES[role], parts[index].words))
        previous = index
    return kept


def _say(parts: list[Part], rules: Rules) -> str:
    """ "X med Y och Z", "X, Y och Z", "X och Y med Z"."""
    if not parts:
        return ""
    out = parts[0].text
    for index, part in enumerate(parts[1:], start=1):
        role = part.role
        if role in ("and", "sep"):
            following = parts[index + 1].role if index + 1 < len(parts) else "with"
            if following in ("and", "sep"):
                out += ", " + part.text
                continue
            role = "and"
        out += f" {rules.words[role]} {part.text}"
    return out


# The data.


def _load_yaml(path: Path) -> object:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _word_patterns(patterns: Iterable[object]) -> re.Pattern[str]:
    """Whole-word patterns with `*` for any letters, as one regular expression (use fullmatch)."""
    alternatives = [
        r"[\w'’-]*".join(re.escape(piece) for piece in str(p).lower().split("*")) for p in patterns
    ]
    return re.compile("|".join(alternatives) or r"(?!)")


def _stem_patterns(stems: Iterable[object]) -> re.Pattern[str]:
    """Stems found inside words; `^` ties one to the start of a word, `$` to its end."""
    alternatives = []
    for stem in stems:
        text = str(stem).lower()
        start, end = text.startswith("^"), text.endswith("$")
        core = re.escape(text.removeprefix("^").removesuffix("$"))
        alternatives.append((r"(?<!\w)" if start else "") + core + (r"(?!\w)" if end else ""))
    return re.compile("|".join(alternatives) or r"(?!)")


def _phrase(text: object) -> Phrase:
    return tuple(t.lower() for t in TOKEN.findall(str(text or "")))


@cache
def load_rules(lang: str) -> Rules:
    path = DATA / f"{lang}.yaml"
    if not path.exists():
        raise LookupError(f"Laiban has no dish data for the language {lang!r}.")
    data = _load_yaml(path)
    assert isinstance(data, dict), f"{path} must be a mapping"
    connectors = {str(role): str(word).lower() for role, word in data["connectors"].items()}
    assert set(connectors) == {"with", "and", "or"}, f"{path}: connectors need with, and, or"
    rewrite = {_phrase(spoken): _phrase(said) for spoken, said in (data.get("rewrite") or {}).items()}
    drop = [word for words in (data.get("drop") or {}).values() for word in words or ()]
    foods = []
    for key, food in (data.get("foods") or {}).items():
        exceptions = food.get("except") or ()
        foods.append(
            Food(
                key=str(key),
                picture=str(food.get("picture") or FALLBACK_PICTURE),
                stems=_stem_patterns(food["stems"]),
                exceptions=_stem_patterns(exceptions) if exceptions else None,
            )
        )
    return Rules(
        lang=lang,
        fallback=str(data["fallback"]),
        max_sides=int(data.get("max_sides", 2)),
        max_part_words=int(data.get("max_part_words", 5)),
        caps_label_max=int(data.get("caps_label_max", 4)),
        connectors={word: role for role, word in connectors.items()},
        words=connectors,
        separators=frozenset(str(s) for s in data.get("separators") or ()),
        rewrite=rewrite,
        longest_rewrite=max((len(p) for p in rewrite), default=0),
        cut_text=_word_patterns(data.get("cut_text") or ()),
        cut_part=_word_patterns(data.get("cut_part") or ()),
        drop=_word_patterns(drop),
        details=_word_patterns(data.get("details") or ()),
        minor=_word_patterns(data.get("minor") or ()),
        foods=tuple(foods),
    )
