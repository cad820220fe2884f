"""What the voice says for an answer, the same wherever it is asked from: the kiosk's audio URL
(laiban.web.api.speech) and the morning's pre-rendering (laiban.jobs.prerender) must make the very same
`Spoken`, so that the cache key of a pre-rendered answer is the key the first child's question looks up.

    speaker = Speaker(voice, rate=140, pitch=50, table=lambda lang: pronunciations_for(db, id, lang))
    speaker.spoken("lunch", reply.rendered.speech, "sv", today)  # Spoken(text, lang, 140, 50, personal)
"""

from __future__ import annotations

import re
from collections.abc import Callable

from laiban.model.today import Today
from laiban.speech.pronounce import Table, apply
from laiban.speech.tts import DEFAULT_PITCH, DEFAULT_RATE, MAX_TEXT, Spoken, Voice, speakable_text


def is_personal(intent: str, today: Today, text: str) -> bool:
    """Whether an answer is about a child: a pickup, a child who said who they are, or any name of the
    kiosk's children (or an activity's participants) in what is said."""
    if intent == "pickup" or today.asking_child is not None:
        return True
    names = {child.name for child in today.children}
    names.update(name for activity in today.activities for name in activity.participants)
    names = {name.strip() for name in names if name.strip()}
    if not names:
        return False
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    pattern = rf"(?<!\w)(?:{alternatives})(?!\w)"
    return re.search(pattern, text, re.IGNORECASE) is not None


class Speaker:
    """How one preschool's answers are spoken: its voice (None: off), speaking rate and pitch, and its
    pronunciation table per language (`table(lang)`, read once per language)."""

    def __init__(
        self,
        voice: Voice | None,
        *,
        table: Callable[[str], Table],
        rate: int = DEFAULT_RATE,
        pitch: int = DEFAULT_PITCH,
    ):
        self.voice = voice
        self.rate = int(rate)
        self.pitch = int(pitch)
        self._read = table
        self._tables: dict[str, Table] = {}

    def _table(self, lang: str) -> Table:
        if lang not in self._tables:
            self._tables[lang] = self._read(lang)
        return self._tables[lang]

    def text(self, speech: str, lang: str) -> str:
        """The answer's spoken form as the voice reads it: the preschool's pronunciation fixes applied,
        emoji and markup gone."""
        return speakable_text(apply(speech, self._table(lang)))

    def spoken(self, intent: str, speech: str, lang: str, today: Today) -> Spoken | None:
        """What the voice says for an answer (`speech`: its spoken form), or None: no server voice, no
        voice for the language, nothing to say or too long (the kiosk then uses the captions and the
        browser's voice). `today` decides whether it is personal (see is_personal)."""
        voice = self.voice
        if voice is None or voice.name is None or not voice.can_speak(lang):
            return None
        text = self.text(speech, lang)
        if not text or len(text) > MAX_TEXT:
            return None
        # Judged on the answer as written too: a pronunciation entry may respell a child's name.
        personal = is_personal(intent, today, speech) or is_personal(intent, today, text)
        return Spoken(text, lang, self.rate, self.pitch, personal=personal)
