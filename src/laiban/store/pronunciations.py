"""A preschool's voice in the store: how fast and how high Laiban speaks (`set_speech`), and its
pronunciation table, one per language: words the voice says wrong, each with a way of writing it that
sounds right ("Ekorren" → "Ekorrn"). The voice applies the table to every spoken text
(`laiban.speech.pronounce.apply(text, pronunciations_for(...))`).

Every function is scoped by the preschool: an id of another preschool's entry is "no such entry". Input
that cannot be saved raises `VoiceError`, with one Swedish sentence per problem, and stores nothing.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from laiban.model.preschool import LANGUAGES
from laiban.store.tables import Preschool, Pronunciation

# Words per minute. Children need a calm, slightly slow voice; the page offers these by name.
DEFAULT_RATE = 140
MIN_RATE, MAX_RATE = 80, 250
RATES: dict[int, str] = {120: "Lugn", 140: "Normal", 170: "Snabbare"}
# 0 (deepest) … 100 (highest); 50 is the voice's own pitch.
DEFAULT_PITCH = 50
MIN_PITCH, MAX_PITCH = 0, 100

MAX_WRITTEN_LENGTH = 100  # Pronunciation.written
MAX_SPOKEN_LENGTH = 200  # Pronunciation.spoken
MAX_ENTRIES = 200  # per language and preschool


class VoiceError(ValueError):
    """Voice input that cannot be saved; `errors` holds one Swedish sentence per problem."""

    def __init__(self, errors: list[str]):
        super().__init__(" ".join(errors))
        self.errors = errors


# --- speaking rate and pitch -----------------------------------------------------------------------


def _whole_number(value: str | int, label: str, low: int, high: int, errors: list[str]) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        number: int | None = value
    else:
        raw = str(value).strip()
        number = int(raw) if raw.isascii() and raw.lstrip("-").isdigit() and len(raw) <= 6 else None
    if number is None or not low <= number <= high:
        errors.append(f"{label} ska vara ett heltal från {low} till {high}.")
        return None
    return number


def set_speech(session: Session, preschool: Preschool, *, rate: str | int, pitch: str | int) -> None:
    """Set the preschool's speaking rate (words per minute) and pitch (0–100), both or neither."""
    errors: list[str] = []
    checked_rate = _whole_number(rate, "Talhastigheten", MIN_RATE, MAX_RATE, errors)
    checked_pitch = _whole_number(pitch, "Tonläget", MIN_PITCH, MAX_PITCH, errors)
    if errors or checked_rate is None or checked_pitch is None:
        raise VoiceError(errors)
    preschool.speech_rate = checked_rate
    preschool.speech_pitch = checked_pitch
    session.flush()


# --- the pronunciation table -----------------------------------------------------------------------


def pronunciations_for(session: Session, preschool_id: int, lang: str) -> tuple[tuple[str, str], ...]:
    """The preschool's table for one language as (written, spoken) pairs, longest written first (so that
    "Ekorren" is tried before "Ekor"); hashable, for `laiban.speech.pronounce.apply`."""
    rows = session.execute(
        select(Pronunciation.written, Pronunciation.spoken).where(
            Pronunciation.preschool_id == preschool_id, Pronunciation.lang == lang
        )
    ).all()
    return tuple(
        (written, spoken)
        for written, spoken in sorted(rows, key=lambda row: (-len(row[0]), row[0].casefold()))
    )


def entries_of(session: Session, preschool_id: int) -> dict[str, list[Pronunciation]]:
    """lang → the preschool's entries, in alphabetical order of the written word (for the admin page)."""
    rows = session.scalars(select(Pronunciation).where(Pronunciation.preschool_id == preschool_id))
    found: dict[str, list[Pronunciation]] = {}
    for row in sorted(rows, key=lambda row: (row.written.casefold(), row.id)):
        found.setdefault(row.lang, []).append(row)
    return found


def _has_control_characters(text: str) -> bool:
    # Format characters (Cf) stay allowed: Persian writes with the zero-width non-joiner.
    return any(unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn") for char in text)


def _text(value: str, label: str, limit: int, errors: list[str]) -> str:
    """Staff's text with its spaces tidied (tabs and line breaks are control characters: refused)."""
    if _has_control_characters(value):
        errors.append(f"{label} får inte innehålla tabbar, radbrytningar eller andra styrtecken.")
        return ""
    text = " ".join(value.split())
    if not text:
        errors.append(f"Skriv {label.lower()}.")
    elif len(text) > limit:
        errors.append(f"{label} får vara högst {limit} tecken lång.")
    return text


def _checked(
    session: Session,
    preschool: Preschool,
    lang: str,
    written: str,
    spoken: str,
    *,
    replacing: int | None = None,
) -> tuple[str, str]:
    errors: list[str] = []
    if lang not in preschool.languages:
        name = LANGUAGES.get(lang)
        errors.append(
            f"Förskolan har inte språket {name}. Lägg till det under Inställningar först."
            if name
            else "Välj ett av förskolans språk."
        )
    checked_written = _text(written, "Ordet", MAX_WRITTEN_LENGTH, errors)
    checked_spoken = _text(spoken, "Uttalet", MAX_SPOKEN_LENGTH, errors)
    if not errors:
        others = session.execute(
            select(Pronunciation.id, Pronunciation.written).where(
                Pronunciation.preschool_id == preschool.id, Pronunciation.lang == lang
            )
        ).all()
        others = [(row_id, text) for row_id, text in others if row_id != replacing]
        if any(text.casefold() == checked_written.casefold() for _, text in others):
            errors.append(f"”{checked_written}” finns redan i listan. Ändra raden som finns i stället.")
        elif replacing is None and len(others) >= MAX_ENTRIES:
            errors.append(f"Listan får ha högst {MAX_ENTRIES} ord per språk. Ta bort något ord först.")
    if errors:
        raise VoiceError(errors)
    return checked_written, checked_spoken


def _preschool_locked(session: Session, preschool_id: int) -> Preschool:
    """The preschool, its row locked (on PostgreSQL) so that two staff adding the same word at once take
    turns instead of both passing the duplicate check."""
    preschool = session.scalars(select(Preschool).where(Preschool.id == preschool_id).with_for_update()).one()
    return preschool


def add_pronunciation(
    session: Session, preschool_id: int, lang: str, written: str, spoken: str
) -> Pronunciation:
    """A new entry in the preschool's table for `lang`. Raises VoiceError."""
    preschool = _preschool_locked(session, preschool_id)
    checked_written, checked_spoken = _checked(session, preschool, lang, written, spoken)
    row = Pronunciation(preschool_id=preschool.id, lang=lang, written=checked_written, spoken=checked_spoken)
    session.add(row)
    session.flush()
    return row


def update_pronunciation(
    session: Session, preschool_id: int, pronunciation_id: int, written: str, spoken: str
) -> Pronunciation | None:
    """The entry with new text, or None when the preschool has no such entry (another preschool's id
    included). Raises VoiceError."""
    row = session.get(Pronunciation, pronunciation_id)
    if row is None or row.preschool_id != preschool_id:
        return None
    preschool = _preschool_locked(session, preschool_id)
    row.written, row.spoken = _checked(session, preschool, row.lang, written, spoken, replacing=row.id)
    session.flush()
    return row


def delete_pronunciation(session: Session, preschool_id: int, pronunciation_id: int) -> Pronunciation | None:
    """The deleted entry, or None when the preschool has no such entry (another preschool's id included)."""
    row = session.get(Pronunciation, pronunciation_id)
    if row is None or row.preschool_id != preschool_id:
        return None
    session.delete(row)
    session.flush()
    return row
