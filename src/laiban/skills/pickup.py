"""`pickup`: who picks a child up, and when ("Vem hämtar mig?") — today or tomorrow.

Which child: the one named in the question (roster names, exact spelling) or the one who tapped their own
picture (`Today.asking_child`); told "du" to the child who asks about themselves, by name otherwise. When
Laiban cannot tell who asks, it asks back and the kiosk shows the group's pictures (`asks_for="child"`).
An answer tells about one child only: never another child's name or day. Honest when nobody told Laiban.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from laiban.i18n import N_
from laiban.model.intent import Answer, ClockWords, DayName, Intent, Message, Nouns, Param, Texts
from laiban.model.pickup import ChildDay, PickupChild
from laiban.model.today import ClockEvent, Today
from laiban.skills.clock import event_name
from laiban.skills.conversation import ASK
from laiban.skills.days import resolve_day

# Who picks up, as staff and guardians usually write it → the catalog word (so it is translated).
RELATIONS = {
    "mamma": N_("mamma"),
    "pappa": N_("pappa"),
    "mormor": N_("mormor"),
    "morfar": N_("morfar"),
    "farmor": N_("farmor"),
    "farfar": N_("farfar"),
    "moster": N_("moster"),
    "faster": N_("faster"),
    "morbror": N_("morbror"),
    "farbror": N_("farbror"),
    "storebror": N_("storebror"),
    "storasyster": N_("storasyster"),
}
CHANGED = 10  # minutes from the usual time that count as "earlier/later than usual"
ANCHOR = 60  # minutes: how far a schedule event may be from the pickup time to tell it by
# "efter mellanmålet": the events children know, in the definite form the anchor sentences need;
# other events are told by the title staff wrote.
THE_EVENT = {
    "breakfast": N_("frukosten"),
    "gathering": N_("samlingen"),
    "fruit": N_("fruktstunden"),
    "outdoor": N_("utevistelsen"),
    "lunch": N_("lunchen"),
    "rest": N_("vilan"),
    "snack": N_("mellanmålet"),
}

# Asking who asks, and the child Laiban cannot tell about.
WHO_ARE_YOU = N_("Vem är du? Tryck på din bild eller säg ditt namn.")
SEVERAL = N_("Det finns flera som heter {name}. Tryck på din bild!")
DONT_KNOW = N_("Det vet jag inte.")
ONLY_TODAY_TOMORROW = N_("Jag vet bara vem som hämtar idag och imorgon.")

# Sentence pairs: (said to the child who asks, "du"; said about a child by name, "{name}").
Forms = tuple[str, str]
TODAY_BY_AT = (
    N_("Idag hämtar {person} dig ungefär {time}."),
    N_("Idag hämtar {person} {name} ungefär {time}."),
)
TODAY_BY = (N_("Idag hämtar {person} dig."), N_("Idag hämtar {person} {name}."))
TODAY_AT = (N_("Idag går du hem ungefär {time}."), N_("Idag går {name} hem ungefär {time}."))
TODAY_UNKNOWN = (N_("Jag vet inte när du går hem idag."), N_("Jag vet inte när {name} går hem idag."))
TOMORROW_BY_AT = (
    N_("Imorgon hämtar {person} dig ungefär {time}."),
    N_("Imorgon hämtar {person} {name} ungefär {time}."),
)
TOMORROW_BY = (N_("Imorgon hämtar {person} dig."), N_("Imorgon hämtar {person} {name}."))
TOMORROW_AT = (N_("Imorgon går du hem ungefär {time}."), N_("Imorgon går {name} hem ungefär {time}."))
TOMORROW_UNKNOWN = (
    N_("Jag vet inte när du går hem imorgon."),
    N_("Jag vet inte när {name} går hem imorgon."),
)
TOMORROW_NOT_COMING = (N_("Imorgon är du inte på förskolan."), N_("Imorgon är {name} inte på förskolan."))
WHO_UNKNOWN = (N_("Jag vet inte vem som hämtar dig."), N_("Jag vet inte vem som hämtar {name}."))
GONE_HOME = (N_("Min lista säger att du redan har gått hem idag."), N_("{name} har redan gått hem idag."))
NOT_HERE = (N_("Min lista säger att du är ledig idag."), N_("{name} är inte på förskolan idag."))
AGAIN_ON = (N_("Du kommer igen på {weekday}."), N_("{name} kommer igen på {weekday}."))
AGAIN_TOMORROW = N_("{name} kommer igen imorgon.")  # only about another child: "you" are here today
ARRIVES = N_("{name} kommer till förskolan ungefär {time}.")
EARLIER = N_("Det är lite tidigare än vanligt.")
LATER = N_("Det är lite senare än vanligt.")
AFTER_EVENT = N_("Det är efter {event}.")
BEFORE_EVENT = N_("Det är före {event}.")
WITH_EVENT = N_("Det är samtidigt som {event}.")

THINKING = "laiban/thinking"
HOME = "pickup/home"


def answer(intent: Intent, today: Today) -> Answer:
    date = today.now.date()
    day = resolve_day(intent.slots.get("day"), date)
    if day not in (date, date + dt.timedelta(days=1)):
        return Answer((Message(ONLY_TODAY_TOMORROW), Message(ASK)), pictures=(THINKING,))
    asking = next((c for c in today.children if c.id == today.asking_child), None)
    name = intent.slots.get("child")
    if name is None:
        if asking is None:
            return Answer((Message(WHO_ARE_YOU),), pictures=("pickup/who",), asks_for="child")
        return _tell(asking, True, day, today)
    named = [c for c in today.children if c.name.casefold() == name.casefold()]
    if asking is not None and asking in named:
        return _tell(asking, True, day, today)
    if len(named) == 1:
        return _tell(named[0], False, day, today)
    if named:
        return Answer(
            (Message(SEVERAL, {"name": named[0].name}),), pictures=("pickup/who",), asks_for="child"
        )
    # Not a child of this kiosk's group: nothing to tell, and the name is not repeated.
    return Answer((Message(DONT_KNOW), Message(ASK)), pictures=(THINKING,))


@dataclass(frozen=True)
class _Voice:
    """How Laiban tells about one child: "du" to the child who asks about themselves, else by name."""

    child: PickupChild
    you: bool

    def say(self, forms: Forms, **params: Param) -> Message:
        if self.you:
            return Message(forms[0], params)
        return Message(forms[1], {**params, "name": self.child.name})


def _tell(child: PickupChild, you: bool, day: dt.date, today: Today) -> Answer:
    """One child's answer: only this child's name and day go into it."""
    voice = _Voice(child, you)
    avatar = (_avatar_picture(child.avatar),) if child.avatar else ()
    if day != today.now.date():
        return _tomorrow(voice, avatar, today)
    plan = child.today
    if plan.coming is None:
        return Answer((voice.say(TODAY_UNKNOWN), Message(ASK)), pictures=(*avatar, THINKING))
    if plan.checked_out_at is not None:
        gone = (voice.say(GONE_HOME), Message(ASK)) if you else (voice.say(GONE_HOME),)
        return Answer(gone, pictures=(*avatar, HOME))
    if not plan.coming:
        if you:  # the list says so, but the child is at the kiosk: a pedagogue knows better
            return Answer((voice.say(NOT_HERE), Message(ASK)), pictures=(*avatar, HOME))
        again = _again(voice, today.now.date(), include_tomorrow=True)
        return Answer((voice.say(NOT_HERE), *again), pictures=(*avatar, HOME))
    arrival: tuple[Message, ...] = ()
    now = today.now.time()
    if not you and plan.checked_in_at is None and plan.arrives_at is not None and plan.arrives_at > now:
        arrival = (Message(ARRIVES, {"name": child.name, "time": ClockWords(plan.arrives_at)}),)
    told = _pickup(voice, plan, (TODAY_BY_AT, TODAY_BY, TODAY_AT))
    if told is None:
        return Answer((*arrival, voice.say(TODAY_UNKNOWN), Message(ASK)), pictures=(*avatar, THINKING))
    sentences, pictures = told
    anchor = _anchor(today, plan.leaves_at) if plan.leaves_at is not None else None
    if anchor is not None:  # after who and when, and after "earlier than usual" if that was said
        sentences.insert(2 if sentences[1:2] and sentences[1].id in (EARLIER, LATER) else 1, anchor)
    return Answer((*arrival, *sentences), pictures=(*avatar, *pictures))


def _tomorrow(voice: _Voice, avatar: tuple[str, ...], today: Today) -> Answer:
    plan = voice.child.tomorrow
    if plan.coming is None:
        return Answer((voice.say(TOMORROW_UNKNOWN), Message(ASK)), pictures=(*avatar, THINKING))
    if not plan.coming:
        again = _again(voice, today.now.date(), include_tomorrow=False)
        return Answer((voice.say(TOMORROW_NOT_COMING), *again), pictures=(*avatar, HOME))
    told = _pickup(voice, plan, (TOMORROW_BY_AT, TOMORROW_BY, TOMORROW_AT))
    if told is None:
        return Answer((voice.say(TOMORROW_UNKNOWN), Message(ASK)), pictures=(*avatar, THINKING))
    sentences, pictures = told
    return Answer(tuple(sentences), pictures=(*avatar, *pictures))


def _pickup(
    voice: _Voice, plan: ChildDay, forms: tuple[Forms, Forms, Forms]
) -> tuple[list[Message], tuple[str, ...]] | None:
    """Who and when, then whether the time is not the usual one; None when neither is known."""
    by_at, by, at = forms
    person = _person(plan.pickup_by)
    time = plan.leaves_at
    if person is not None and time is not None:
        sentences = [voice.say(by_at, person=person[0], time=ClockWords(time))]
    elif person is not None:
        sentences = [voice.say(by, person=person[0])]
    elif time is not None:
        sentences = [voice.say(at, time=ClockWords(time)), voice.say(WHO_UNKNOWN), Message(ASK)]
    else:
        return None
    changed = _changed(plan)
    if changed is not None:
        sentences.insert(1, changed)
    pictures = (person[1],) if person is not None else ()
    return sentences, (*pictures, *((f"clock/{time:%H:%M}",) if time is not None else ()))


def _avatar_picture(avatar: str) -> str:
    """The child's own picture: an animal ("avatar/cat") or their photo, already a key ("upload/<sha>")."""
    return avatar if avatar.startswith("upload/") else f"avatar/{avatar}"


def _person(pickup_by: str) -> tuple[Param, str] | None:
    """Who picks up: a relation word from the catalog, or what staff or a guardian wrote, as written."""
    written = pickup_by.strip()
    if not written:
        return None
    key = written.casefold()
    if key in RELATIONS:
        return Nouns((RELATIONS[key],)), f"person/{key}"
    return Texts((written,)), "person/someone"


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _changed(plan: ChildDay) -> Message | None:
    if plan.leaves_at is None or plan.usual_leaves_at is None:
        return None
    difference = _minutes(plan.leaves_at) - _minutes(plan.usual_leaves_at)
    if difference <= -CHANGED:
        return Message(EARLIER)
    if difference >= CHANGED:
        return Message(LATER)
    return None


def _anchor(today: Today, leaves_at: dt.time) -> Message | None:
    """The pickup time told by the day's nearest event within an hour; on a tie, the event before."""
    nearest: tuple[tuple[int, bool], ClockEvent, int] | None = None
    for event in today.events:
        if event.kind == "pickup":
            continue
        offset = _minutes(event.at) - _minutes(leaves_at)  # < 0: the event comes before the pickup
        if abs(offset) <= ANCHOR and (nearest is None or (abs(offset), offset > 0) < nearest[0]):
            nearest = ((abs(offset), offset > 0), event, offset)
    if nearest is None:
        return None
    _, event, offset = nearest
    sentence = WITH_EVENT if offset == 0 else AFTER_EVENT if offset < 0 else BEFORE_EVENT
    named = THE_EVENT.get(event.kind)
    return Message(sentence, {"event": Nouns((named,)) if named else event_name(event)})


def _again(voice: _Voice, date: dt.date, *, include_tomorrow: bool) -> tuple[Message, ...]:
    """When the child comes next (within a week; a weekday further ahead would mislead)."""
    next_day = voice.child.next_day
    if next_day is None or next_day <= date or next_day > date + dt.timedelta(days=7):
        return ()
    if next_day == date + dt.timedelta(days=1):
        told = include_tomorrow and not voice.you
        return (Message(AGAIN_TOMORROW, {"name": voice.child.name}),) if told else ()
    return (voice.say(AGAIN_ON, weekday=DayName(next_day)),)
