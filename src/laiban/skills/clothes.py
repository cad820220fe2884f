"""`clothes`: what to put on for going out now (or for the next outdoor event), and yes/no per garment.
The garments follow the weather rules in `outdoors`, or what staff corrected for this condition."""

from __future__ import annotations

from laiban.i18n import N_
from laiban.model.garments import GARMENTS
from laiban.model.intent import Answer, ClockTime, Intent, Message, Nouns
from laiban.model.today import Today
from laiban.skills import weather
from laiban.skills.conversation import ASK
from laiban.skills.outdoors import feel_at, garments_for, next_outing, usable_forecast

# Each garment's name as children hear it; also the garment slot's extra values.
NAMES = {
    "sweater": N_("tröja"),
    "pullover_pants": N_("överdragsbyxor"),
    "neckwear": N_("halsduk"),
    "jacket": N_("jacka"),
    "winter_outfit": N_("overall"),
    "rain_coat": N_("regnjacka"),
    "rain_pants": N_("regnbyxor"),
    "beanie": N_("mössa"),
    "cap": N_("keps"),
    "shoes": N_("skor"),
    "rain_boots": N_("stövlar"),
    "winter_boots": N_("vinterkängor"),
    "mittens": N_("vantar"),
    "rain_gloves": N_("regnvantar"),
    "rain_clothes": N_("regnkläder"),
    "sun_hat": N_("solhatt"),
    "sunglasses": N_("solglasögon"),
}
# Asked-about garments that are satisfied by garments of the catalogue.
COVERED_BY = {"rain_clothes": {"rain_coat", "rain_pants"}, "sun_hat": {"cap"}}

PUT_ON = N_("Ta på dig {garments}.")
PUT_ON_FOR_OUTING = N_("När ni går ut klockan {time}, ta på dig {garments}.")
NEEDED = N_("Ja, du behöver {garment}.")
NOT_NEEDED = N_("Nej, du behöver inte {garment} nu.")
NOT_SURE = N_("Jag vet inte om du behöver {garment}.")


def suggestion(today: Today) -> tuple[str, tuple[str, ...]] | None:
    """(condition, garments) for the next outing, or None when the weather is not known."""
    forecast = usable_forecast(today)
    if forecast is None:
        return None
    outing = next_outing(today)
    feel = feel_at(forecast, outing.start)
    if feel is None:
        return None
    return feel.condition.value, garments_for(feel, outing.start.date(), today.garment_corrections)


def answer(intent: Intent, today: Today) -> Answer:
    suggested = suggestion(today)
    if suggested is None:
        return weather.unknown_weather()
    _, garments = suggested
    pictures = tuple(f"garment/{g}" for g in garments)
    asked = intent.slots.get("garment")
    if asked is not None and asked in NAMES:
        name = Nouns((NAMES[asked],))
        if asked not in GARMENTS and asked not in COVERED_BY:  # e.g. sunglasses: the rules don't say
            return Answer((Message(NOT_SURE, {"garment": name}), Message(ASK)), pictures=("laiban/thinking",))
        needed = asked in garments or bool(COVERED_BY.get(asked, set()) & set(garments))
        return Answer((Message(NEEDED if needed else NOT_NEEDED, {"garment": name}),), pictures=pictures)
    listed = Nouns(tuple(NAMES[g] for g in garments))
    outing = next_outing(today)
    if outing.planned is not None:
        message = Message(PUT_ON_FOR_OUTING, {"time": ClockTime(outing.planned), "garments": listed})
    else:
        message = Message(PUT_ON, {"garments": listed})
    return Answer((message,), pictures=pictures)
