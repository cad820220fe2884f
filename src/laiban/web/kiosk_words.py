"""The kiosk's own words: the names it gives its buttons (aria-labels) and its offline sentences.

Everything else a child sees or hears comes from the answers. These words live in the message catalog
like every other sentence (Swedish msgids, extracted by `scripts/catalogs`) and reach the kiosk in
GET /api/v1/kiosk, one set per language it speaks, so that it has them offline too (the service worker
keeps that response). The kiosk's script knows only the Swedish words, for the moments before the first
response. The keys are the script's; `Nc_` gives a short, ambiguous word its context.
"""

from __future__ import annotations

from functools import cache

from babel import Locale
from babel.dates import get_day_names

from laiban.i18n import N_, SOURCE_LANGUAGE, Nc_, word

# Translators' comments (`# Translators:`) say where each word is shown or heard.
WORDS: dict[str, str | tuple[str, str]] = {
    # Translators: the name of the home screen's grid of picture buttons (read by a screen reader).
    "modules": N_("Vad vill du veta?"),
    # Translators: the picture button of the weather module.
    "module.weather": N_("Väder och kläder"),
    # Translators: the picture button of the lunch module.
    "module.lunch": Nc_("kiosk module", "Mat"),
    # Translators: the picture button of the clock module (the time, the day's schedule, the date).
    "module.clock": N_("Klockan och dagen"),
    # Translators: the picture button of the pickup module ("who picks me up today?").
    "module.pickup": N_("Vem hämtar mig?"),
    # Translators: the picture button of the calendar module.
    "module.calendar": Nc_("kiosk module", "Kalender"),
    # Translators: the picture button of the activities module.
    "module.activities": N_("Vad ska vi göra idag?"),
    # Translators: a follow-up button under an answer.
    "intent.clothes": N_("Vad ska jag ha på mig?"),
    # Translators: a follow-up button under an answer.
    "intent.weather": N_("Hur är vädret?"),
    # Translators: a follow-up button under an answer (the next event of the day).
    "intent.schedule": N_("Vad händer sen?"),
    # Translators: a follow-up button under an answer.
    "intent.date": N_("Vilken dag är det?"),
    # Translators: a follow-up button under an answer.
    "intent.time": N_("Vad är klockan?"),
    # Translators: the button back to the home screen.
    "home": Nc_("kiosk button", "Hem"),
    # Translators: Laiban's own picture (a tap asks "who are you?"); Laiban is a name.
    "laiban": N_("Laiban"),
    # Translators: the button that opens the list of languages.
    "language": N_("Byt språk"),
    # Translators: the button a child holds to speak to Laiban.
    "talk": N_("Prata med Laiban"),
    # Translators: shown while Laiban listens to a child.
    "listening": N_("Laiban lyssnar"),
    # Translators: a tap on an answer's picture says the answer again.
    "again": N_("Lyssna igen"),
    # Translators: the grid of children's pictures when Laiban asks who is asking.
    "children": N_("Vem är du?"),
    # Translators: the first (lowest) of four faces a child taps to rate the lunch.
    "rating.1": Nc_("lunch rating", "Inte gott"),
    # Translators: the second of four faces a child taps to rate the lunch.
    "rating.2": Nc_("lunch rating", "Sådär"),
    # Translators: the third of four faces a child taps to rate the lunch.
    "rating.3": Nc_("lunch rating", "Gott"),
    # Translators: the fourth (highest) of four faces a child taps to rate the lunch.
    "rating.4": Nc_("lunch rating", "Jättegott"),
    # Translators: a child taps it when Laiban's advice on clothes was good.
    "rating.up": N_("Bra kläder"),
    # Translators: a child taps it when Laiban's advice on clothes was not good.
    "rating.down": N_("Inte bra kläder"),
    # Translators: shown and said after a child has rated the lunch or the clothes.
    "thanks": N_("Tack!"),
    # Translators: a small sign while the tablet has no network.
    "offline": N_("Ingen anslutning"),
    # Translators: said offline when a tapped picture has no answer kept for today.
    "offline.answer": N_("Jag kan inte svara på det just nu. Fråga en pedagog, eller tryck på en bild."),
    # Translators: said offline when a child has spoken (Laiban cannot listen without the network).
    "offline.hear": N_("Jag kan inte höra dig just nu. Tryck på en bild!"),
    # Translators: said offline when a child asks for the time; the clock is drawn beside it.
    "offline.clock": N_("Titta på klockan!"),
    # Translators: said when no children's pictures can be shown for "who are you?".
    "offline.nobody": N_("Fråga en pedagog."),
    # Translators: the sleeping screen; a tap wakes Laiban up.
    "wake": N_("Väck Laiban"),
}


def source(key: str) -> str:
    """The Swedish word (the msgid) for `key`."""
    entry = WORDS[key]
    return entry if isinstance(entry, str) else entry[1]


@cache
def kiosk_words(lang: str) -> dict[str, str]:
    """The kiosk's words in `lang`; a word the catalog lacks is left out (the kiosk says it in Swedish)."""
    words = {}
    for key, entry in WORDS.items():
        context, msgid = (None, entry) if isinstance(entry, str) else entry
        try:
            words[key] = msgid if lang == SOURCE_LANGUAGE else word(msgid, lang, context=context)
        except LookupError:
            continue
    return words


@cache
def weekday_letters(lang: str) -> tuple[str, ...]:
    """The week strip's one-letter weekday names, Monday first, from CLDR ("M T O T F L S")."""
    names = get_day_names("narrow", context="stand-alone", locale=Locale.parse(lang))
    return tuple(names[day] for day in range(7))
