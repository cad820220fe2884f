"""The conversation around the topics: who Laiban is, greetings, switching language, and the honest
answers for what Laiban does not know (out of scope) or cannot answer yet (no skill, module off)."""

from __future__ import annotations

from laiban.i18n import N_
from laiban.model.intent import Answer, Intent, LanguageNames, Message
from laiban.model.today import Today

# Short sentences every topic uses: before a yes/no answer's details, and when a pedagogue knows better.
YES = N_("Ja.")
NO = N_("Nej.")
ASK = N_("Fråga en pedagog!")

# Module key → the kiosk's picture for it; pictures of the enabled modules invite the child to tap.
MODULE_PICTURES = {
    "weather": "module/weather",
    "lunch": "module/lunch",
    "clock": "module/clock",
    "pickup": "module/pickup",
    "calendar": "module/calendar",
    "activities": "module/activities",
}


def _module_pictures(today: Today) -> tuple[str, ...]:
    return tuple(MODULE_PICTURES[m] for m in today.modules if m in MODULE_PICTURES)


def about(intent: Intent, today: Today) -> Answer:
    return Answer(
        messages=(
            Message(
                N_("Jag heter Laiban och jag bor här på {preschool}."), {"preschool": today.preschool_name}
            ),
            Message(N_("Du kan fråga mig om det du ser på bilderna, eller trycka på en bild.")),
        ),
        pictures=("laiban/happy", *_module_pictures(today)),
    )


def greeting(intent: Intent, today: Today) -> Answer:
    kind = intent.slots.get("greeting", "hello")
    if kind == "goodbye":
        sentence = N_("Hej då! Ha det så bra.")
    elif kind == "thanks":
        sentence = N_("Varsågod!")
    elif kind == "good_morning" or (kind == "hello" and today.now.hour < 10):
        sentence = N_("God morgon! Vad vill du veta?")
    else:
        sentence = N_("Hej! Vad vill du veta?")
    return Answer(messages=(Message(sentence),), pictures=("laiban/happy",))


def language(intent: Intent, today: Today) -> Answer:
    wanted = intent.slots.get("language")
    if wanted is None:
        return Answer(
            messages=(
                Message(N_("Jag kan prata {languages}."), {"languages": LanguageNames(today.languages)}),
            ),
            pictures=tuple(f"language/{code}" for code in today.languages),
        )
    if wanted not in today.languages:
        return Answer(
            messages=(
                Message(N_("Jag kan inte prata {language} här än."), {"language": LanguageNames((wanted,))}),
                Message(ASK),
            ),
            pictures=("laiban/sorry",),
        )
    return Answer(
        messages=(Message(N_("Nu pratar jag {language}."), {"language": LanguageNames((wanted,))}),),
        pictures=(f"language/{wanted}",),
        language=wanted,
    )


def out_of_scope(intent: Intent, today: Today) -> Answer:
    return Answer(
        messages=(
            Message(N_("Det vet jag inte.")),
            Message(N_("Fråga en pedagog, eller tryck på en bild.")),
        ),
        pictures=("laiban/thinking", *_module_pictures(today)),
    )


def not_heard(intent: Intent, today: Today) -> Answer:
    """The kiosk sent a recording, and there were no words in it."""
    return Answer(
        messages=(
            Message(N_("Jag hörde inget.")),
            Message(N_("Tryck på mikrofonen och prata igen, eller tryck på en bild.")),
        ),
        pictures=("laiban/listening", *_module_pictures(today)),
    )


def unavailable(intent: Intent, today: Today) -> Answer:
    """A topic Laiban has no answer for here: no skill yet, or the preschool switched the module off."""
    return Answer(
        messages=(Message(N_("Det kan jag inte svara på här än.")), Message(ASK)),
        pictures=("laiban/sorry",),
        available=False,
    )


def nothing_to_repeat(today: Today) -> Answer:
    return Answer(
        messages=(Message(N_("Jag har inte sagt något än. Vad vill du veta?")),), pictures=("laiban/happy",)
    )
