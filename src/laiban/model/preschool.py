"""What a preschool can switch on, which languages it speaks, and who may do what."""

from __future__ import annotations

from enum import StrEnum

# Child-facing modules, in the order the kiosk shows them. Keys are stable (stored, used by the API).
MODULES: dict[str, str] = {
    "weather": "Väder och kläder",
    "lunch": "Mat",
    "clock": "Klockan och dagen",
    "pickup": "Vem hämtar mig?",
    "calendar": "Kalender",
    "activities": "Aktiviteter",
}

# Languages Laiban can speak (ISO 639-1), each named in itself. Swedish is the source language.
LANGUAGES: dict[str, str] = {
    "sv": "Svenska",
    "en": "English",
    "ar": "العربية",
    "fa": "فارسی",
    "so": "Soomaali",
    "ti": "ትግርኛ",
    "uk": "Українська",
    "pl": "Polski",
    "fi": "Suomi",
    "bs": "Bosanski / Hrvatski / Srpski",
    "tr": "Türkçe",
}

RTL_LANGUAGES = frozenset({"ar", "fa"})  # written right to left: the kiosk and admin mirror their layout

DEFAULT_TIMEZONE = "Europe/Stockholm"


class Role(StrEnum):
    """A staff member's role at one preschool. Org admins have ADMIN at every preschool of the org."""

    ADMIN = "admin"
    PEDAGOGUE = "pedagogue"


ROLE_LABELS: dict[Role, str] = {Role.ADMIN: "Administratör", Role.PEDAGOGUE: "Pedagog"}
