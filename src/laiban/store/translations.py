"""A preschool's own translations of the Swedish texts its answers use: dish names, calendar events,
closed days' reasons, activities and schedule titles ("Fiskgratäng med potatis" → en "Fish gratin with
potatoes"), one per language.

Staff write them on the admin page "Översättningar"; a machine may suggest some (optional,
`laiban.sources.translate`). An entry remembers who made it (`origin`: "staff" or "machine") and whether
staff confirmed it: **answers use confirmed entries only** (`glossary_of`), because what a child hears
must be right. A suggestion stays unconfirmed until staff approve it or write their own; staff's own text
is confirmed as it is saved. Without a confirmed entry the answer says the Swedish text inside the
translated sentence (`laiban.i18n.render`).

Every function is scoped by the preschool: another preschool's entries are never read or changed. Input
that cannot be saved raises `TranslationError`, one Swedish sentence per problem, and stores nothing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from laiban.model.intent import glossary_key
from laiban.model.preschool import LANGUAGES
from laiban.store.tables import Preschool, StaffTranslation, utcnow

MAX_SOURCE_LENGTH = 200  # the longest staff text (activities' sentences)
MAX_TEXT_LENGTH = 300  # a translation may be longer than its Swedish text
MAX_ENTRIES = 1000  # per language and preschool
STAFF, MACHINE = "staff", "machine"
SOURCE_LANGUAGE = "sv"  # the language staff write in (laiban.i18n.SOURCE_LANGUAGE)


class TranslationError(ValueError):
    """Translations that cannot be saved; `errors` holds one Swedish sentence per problem."""

    def __init__(self, errors: list[str]):
        super().__init__(" ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Change:
    """One language's change by `save_row`, for the audit log: "create", "update" or "delete"."""

    lang: str
    action: str


def tidy(text: str) -> str:
    return " ".join(text.split())


def _has_control_characters(text: str) -> bool:
    # Format characters (Cf) stay allowed: Persian writes with the zero-width non-joiner.
    return any(unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn") for char in text.replace("\n", " "))


def glossary_of(session: Session, preschool_id: int) -> dict[str, dict[str, str]]:
    """lang → {glossary_key(Swedish text) → translation}: the preschool's confirmed entries, for answers."""
    rows = session.execute(
        select(StaffTranslation.lang, StaffTranslation.source_key, StaffTranslation.text).where(
            StaffTranslation.preschool_id == preschool_id, StaffTranslation.confirmed
        )
    ).all()
    found: dict[str, dict[str, str]] = {}
    for lang, key, text in rows:
        found.setdefault(lang, {})[key] = text
    return found


def entries_of(session: Session, preschool_id: int) -> dict[str, dict[str, StaffTranslation]]:
    """glossary_key(Swedish text) → lang → entry: everything the preschool has, for the admin page."""
    rows = session.scalars(select(StaffTranslation).where(StaffTranslation.preschool_id == preschool_id))
    found: dict[str, dict[str, StaffTranslation]] = {}
    for row in rows:
        found.setdefault(row.source_key, {})[row.lang] = row
    return found


def _locked(session: Session, preschool_id: int) -> Preschool:
    """The preschool, its row locked (on PostgreSQL) so that two staff saving the same text take turns."""
    return session.scalars(select(Preschool).where(Preschool.id == preschool_id).with_for_update()).one()


def _source(source: str, errors: list[str]) -> str:
    if _has_control_characters(source):
        errors.append("Den svenska texten får inte innehålla styrtecken.")
        return ""
    text = tidy(source)
    if not text:
        errors.append("Den svenska texten saknas.")
    elif len(text) > MAX_SOURCE_LENGTH:
        errors.append(f"Den svenska texten får vara högst {MAX_SOURCE_LENGTH} tecken lång.")
    return text


def _translation(lang: str, value: str, errors: list[str]) -> str:
    name = LANGUAGES.get(lang, lang)
    if _has_control_characters(value):
        errors.append(f"Översättningen till {name.lower()} får inte innehålla tabbar eller andra styrtecken.")
        return ""
    text = tidy(value)
    if len(text) > MAX_TEXT_LENGTH:
        errors.append(f"Översättningen till {name.lower()} får vara högst {MAX_TEXT_LENGTH} tecken lång.")
    return text


def _rows_for(session: Session, preschool_id: int, key: str) -> dict[str, StaffTranslation]:
    rows = session.scalars(
        select(StaffTranslation).where(
            StaffTranslation.preschool_id == preschool_id, StaffTranslation.source_key == key
        )
    )
    return {row.lang: row for row in rows}


def _count(session: Session, preschool_id: int, lang: str) -> int:
    return len(
        session.scalars(
            select(StaffTranslation.id).where(
                StaffTranslation.preschool_id == preschool_id, StaffTranslation.lang == lang
            )
        ).all()
    )


def save_row(
    session: Session,
    preschool_id: int,
    source: str,
    texts: Mapping[str, str],
    confirm: frozenset[str] | set[str] = frozenset(),
) -> list[Change]:
    """Save one Swedish text's translations, one per language of `texts` (the preschool's languages but
    Swedish; others are ignored), all or nothing:

    - a new text is saved as staff's, confirmed;
    - a changed text becomes staff's, confirmed;
    - an unchanged machine suggestion stays unconfirmed unless its language is in `confirm`;
    - an emptied field deletes the language's entry.

    Raises TranslationError (nothing saved) for a bad text, or when there is nothing at all to save."""
    preschool = _locked(session, preschool_id)
    errors: list[str] = []
    checked_source = _source(source, errors)
    wanted = {
        lang: _translation(lang, value, errors)
        for lang, value in texts.items()
        if lang in preschool.languages and lang != SOURCE_LANGUAGE
    }
    existing = _rows_for(session, preschool.id, glossary_key(checked_source)) if checked_source else {}
    if not errors and not any(wanted.values()) and not any(lang in existing for lang in wanted):
        errors.append("Skriv en översättning till minst ett språk.")
    if not errors:
        for lang, text in wanted.items():
            if text and lang not in existing and _count(session, preschool.id, lang) >= MAX_ENTRIES:
                name = LANGUAGES.get(lang, lang).lower()
                errors.append(
                    f"Förskolan har redan {MAX_ENTRIES} översättningar till {name}. Ta bort några först."
                )
    if errors:
        raise TranslationError(errors)
    changes: list[Change] = []
    for lang, text in wanted.items():
        row = existing.get(lang)
        if row is None:
            if text:
                session.add(
                    StaffTranslation(
                        preschool_id=preschool.id,
                        lang=lang,
                        source=checked_source,
                        source_key=glossary_key(checked_source),
                        text=text,
                        origin=STAFF,
                        confirmed=True,
                    )
                )
                changes.append(Change(lang, "create"))
        elif not text:
            session.delete(row)
            changes.append(Change(lang, "delete"))
        elif text != row.text:
            row.text, row.origin, row.confirmed, row.updated_at = text, STAFF, True, utcnow()
            changes.append(Change(lang, "update"))
        elif not row.confirmed and lang in confirm:
            row.confirmed, row.updated_at = True, utcnow()
            changes.append(Change(lang, "update"))
    session.flush()
    return changes


def add_suggestion(
    session: Session, preschool_id: int, lang: str, source: str, text: str
) -> StaffTranslation | None:
    """A machine's suggestion, stored unconfirmed, where the preschool has no entry for the text in the
    language yet (one staff wrote is never replaced); None when nothing was stored (an entry exists, the
    language is not the preschool's, or the suggestion is empty or too long)."""
    preschool = session.get(Preschool, preschool_id)
    source, text = tidy(source), tidy(text)
    if (
        preschool is None
        or lang not in preschool.languages
        or lang == SOURCE_LANGUAGE
        or not source
        or len(source) > MAX_SOURCE_LENGTH
        or not text
        or len(text) > MAX_TEXT_LENGTH
        or _has_control_characters(text)
    ):
        return None
    key = glossary_key(source)
    if lang in _rows_for(session, preschool_id, key) or _count(session, preschool_id, lang) >= MAX_ENTRIES:
        return None
    row = StaffTranslation(
        preschool_id=preschool_id,
        lang=lang,
        source=source,
        source_key=key,
        text=text,
        origin=MACHINE,
        confirmed=False,
    )
    session.add(row)
    session.flush()
    return row


def delete_translations(session: Session, preschool_id: int, source: str) -> int:
    """Deletes every language's entry of one Swedish text at the preschool; how many."""
    rows = _rows_for(session, preschool_id, glossary_key(source))
    for row in rows.values():
        session.delete(row)
    session.flush()
    return len(rows)
