"""Pronunciation fixes: words the voice says wrong replaced by a spelling that sounds right, before the
text is synthesised. Pure; the table comes from `laiban.store.pronunciations.pronunciations_for`.

    >>> apply("Välkommen till Ekorren!", (("Ekorren", "Ekorrn"),))
    'Välkommen till Ekorrn!'

Rules:
- Whole words only: a written form is replaced where it is not glued to other letters, digits or
  combining marks (Unicode-aware, so "Åsa" is not replaced inside "Åsas" unless "Åsas" is listed).
- Case is ignored when matching ("EKORREN", "ekorren"); the spoken form is put in as it was written.
- The written form is literal text, never a pattern ("a+b", "(x" match only themselves); spaces inside it
  match any run of spaces.
- One pass, left to right; at any place the longest written form wins ("Ekorren" over "Ekor"), and
  replaced text is not looked at again (a spoken form is never replaced in turn).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache, lru_cache

Table = Sequence[tuple[str, str]]  # (written, spoken) pairs


@cache
def _marks() -> str:
    """A character class body of the combining marks (Mn, Mc, Me) of the Basic Multilingual Plane:
    `\\w` leaves them out, yet they belong to the word they follow (Arabic vowel signs, a decomposed Å).
    Built once, when first needed (~20 ms)."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x10000):
        if unicodedata.category(chr(code)).startswith("M"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(
        re.escape(chr(first)) + ("" if first == last else "-" + re.escape(chr(last)))
        for first, last in ranges
    )


@lru_cache(maxsize=256)
def _compiled(table: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str], tuple[str, ...]] | None:
    """One pattern for the whole table, an alternative (and a group) per entry, longest first; and the
    spoken form of each group. None when there is nothing to replace."""
    entries = sorted(
        ((" ".join(written.split()), spoken) for written, spoken in table if written.strip()),
        key=lambda entry: -len(entry[0]),
    )
    if not entries:
        return None
    alternatives = (r"\s+".join(re.escape(part) for part in written.split(" ")) for written, _ in entries)
    word = rf"[\w{_marks()}]"  # a letter, digit, underscore or combining mark
    pattern = rf"(?<!{word})(?:" + "|".join(f"({alt})" for alt in alternatives) + rf")(?!{word})"
    return re.compile(pattern, re.IGNORECASE), tuple(spoken for _, spoken in entries)


def apply(text: str, table: Table) -> str:
    """`text` with every listed word replaced by its spoken form; the rest is kept exactly."""
    if not text or not table:
        return text
    compiled = _compiled(tuple((str(written), str(spoken)) for written, spoken in table))
    if compiled is None:
        return text
    pattern, spoken = compiled
    return pattern.sub(lambda match: spoken[(match.lastindex or 1) - 1], text)
