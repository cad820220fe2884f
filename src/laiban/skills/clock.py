"""The day: `time` (what time it is, and what comes soon), `schedule` (when is lunch, what happens next,
how long until…) and `date` (what day it is). Times are told in clock words; everything comes from
`Today` (the preschool's local now and today's schedule)."""

from __future__ import annotations

import datetime as dt

from laiban.i18n import N_, Np_
from laiban.model.intent import (
    Answer,
    ClockWords,
    DateName,
    DayName,
    Intent,
    Message,
    Nouns,
    Param,
    StaffTexts,
)
from laiban.model.today import ClockEvent, Today
from laiban.skills.conversation import ASK, NO, YES
from laiban.skills.days import WEEKDAYS, resolve_day

# The clock events children ask about, named in the catalog; other events use the title staff wrote.
EVENT_NAMES = {
    "breakfast": N_("frukost"),
    "gathering": N_("samling"),
    "fruit": N_("fruktstund"),
    "outdoor": N_("utevistelse"),
    "lunch": N_("lunch"),
    "rest": N_("vila"),
    "snack": N_("mellanmål"),
    "pickup": N_("hämtning"),
}
SOON = dt.timedelta(minutes=30)  # "soon it is lunch"
UNDERWAY = dt.timedelta(minutes=30)  # an event counts as happening now for its first half hour

TIME_NOW = N_("Klockan är {time}.")
SOON_IT_IS = N_("Snart är det {event}.")
NOW_IT_IS = N_("Nu är det {event}!")
EVENT_AT = N_("Det är {event} klockan {time}.")
EVENT_WAS = N_("Det var {event} klockan {time} idag.")
IN_MINUTES = Np_("Det är om {n} minut.", "Det är om {n} minuter.")
IN_HOURS = Np_("Det är om ungefär {n} timme.", "Det är om ungefär {n} timmar.")
NEXT_IS = N_("Sen är det {event} klockan {time}.")
NOTHING_MORE = N_("Det finns inget mer på schemat idag.")
NOT_TODAY = N_("Jag vet inte när det är {event} idag.")
ONLY_TODAY = N_("Jag kan berätta om schemat för idag.")
TODAY_IS = N_("Idag är det {weekday} den {date}.")
TOMORROW_IS = N_("Imorgon är det {weekday} den {date}.")
YESTERDAY_WAS = N_("Igår var det {weekday} den {date}.")
DAY_IS = N_("På {weekday} är det den {date}.")
WEEK_NUMBER = N_("Det är vecka {n}.")
WEEKEND_YES = N_("Ja, det är helg!")
WEEKEND_NO = N_("Nej, det är inte helg idag.")


def event_name(event: ClockEvent) -> Nouns | StaffTexts:
    """The catalog word for the kinds children ask about ("lunch"); otherwise the title staff wrote."""
    return Nouns((EVENT_NAMES[event.kind],)) if event.kind in EVENT_NAMES else StaffTexts((event.title,))


def _at(today: Today, event: ClockEvent) -> dt.datetime:
    return dt.datetime.combine(today.now.date(), event.at, today.now.tzinfo)


def _until(today: Today, event: ClockEvent) -> Message:
    minutes = max(1, round((_at(today, event) - today.now).total_seconds() / 60))
    if minutes <= 90:
        return Message(IN_MINUTES[0], {"n": minutes}, plural=IN_MINUTES[1])
    hours = round(minutes / 60)
    return Message(IN_HOURS[0], {"n": hours}, plural=IN_HOURS[1])


def time(intent: Intent, today: Today) -> Answer:
    messages = [Message(TIME_NOW, {"time": ClockWords(today.now.time())})]
    for event in today.events:
        start = _at(today, event)
        if start <= today.now < start + UNDERWAY:
            messages.append(Message(NOW_IT_IS, {"event": event_name(event)}))
            break
        if today.now < start <= today.now + SOON:
            messages.append(Message(SOON_IT_IS, {"event": event_name(event)}))
            break
    shown = today.now.strftime("%H:%M")
    return Answer(tuple(messages), pictures=(f"clock/{shown}",))


def schedule(intent: Intent, today: Today) -> Answer:
    day = intent.slots.get("day")
    if day not in (None, "today"):
        return Answer((Message(ONLY_TODAY),), pictures=("laiban/thinking",))
    kind = intent.slots.get("event")
    if kind is None:
        return _next(today)
    matching = [e for e in today.events if e.kind == kind or e.title.casefold() == kind.casefold()]
    name: Param = Nouns((EVENT_NAMES[kind],)) if kind in EVENT_NAMES else StaffTexts((kind,))
    if not matching:
        return Answer((Message(NOT_TODAY, {"event": name}), Message(ASK)), pictures=("laiban/thinking",))
    for event in matching:
        start = _at(today, event)
        if start <= today.now < start + UNDERWAY:
            messages = [Message(NOW_IT_IS, {"event": event_name(event)})]
            return Answer(_yes(intent, True, messages), pictures=(f"event/{event.kind}",))
        if start > today.now:
            messages = [
                Message(EVENT_AT, {"event": event_name(event), "time": ClockWords(event.at)}),
                _until(today, event),
            ]
            soon = start - today.now <= SOON
            return Answer(
                _yes(intent, soon, messages), pictures=(f"event/{event.kind}", f"clock/{event.at:%H:%M}")
            )
    last = matching[-1]
    messages = [Message(EVENT_WAS, {"event": event_name(last), "time": ClockWords(last.at)})]
    return Answer(_yes(intent, False, messages), pictures=(f"event/{last.kind}",))


def _yes(intent: Intent, holds: bool, messages: list[Message]) -> tuple[Message, ...]:
    """ "Är det lunch snart?": yes when it is now or soon."""
    return (Message(YES if holds else NO), *messages) if intent.yes_no else tuple(messages)


def _next(today: Today) -> Answer:
    for event in today.events:
        if _at(today, event) > today.now:
            return Answer(
                (
                    Message(NEXT_IS, {"event": event_name(event), "time": ClockWords(event.at)}),
                    _until(today, event),
                ),
                pictures=(f"event/{event.kind}", f"clock/{event.at:%H:%M}"),
            )
    return Answer((Message(NOTHING_MORE),), pictures=("laiban/sleepy",))


def date(intent: Intent, today: Today) -> Answer:
    slot = intent.slots.get("day")
    now = today.now.date()
    if slot == "weekend":
        weekend = now.weekday() >= 5
        return Answer(
            (Message(WEEKEND_YES if weekend else WEEKEND_NO),), pictures=(f"week/{WEEKDAYS[now.weekday()]}",)
        )
    if slot == "this_week":  # "vilken vecka är det?": the ISO week number Swedish calendars show
        messages = (
            Message(WEEK_NUMBER, {"n": now.isocalendar().week}),
            Message(TODAY_IS, {"weekday": DayName(now), "date": DateName(now)}),
        )
        return Answer(messages, pictures=(f"week/{WEEKDAYS[now.weekday()]}",))
    day = resolve_day(slot, now)
    if day is None:
        day = now
    params = {"weekday": DayName(day), "date": DateName(day)}
    if day == now:
        sentence = Message(TODAY_IS, params)
    elif day == now + dt.timedelta(days=1):
        sentence = Message(TOMORROW_IS, params)
    elif day == now - dt.timedelta(days=1):
        sentence = Message(YESTERDAY_WAS, params)
    else:
        sentence = Message(DAY_IS, params)
    messages = [sentence]
    if intent.yes_no and slot in WEEKDAYS:
        # "Är det fredag idag?": yes or no, then what day it really is.
        messages = [
            Message(YES if WEEKDAYS.index(slot) == now.weekday() else NO),
            Message(TODAY_IS, {"weekday": DayName(now), "date": DateName(now)}),
        ]
        day = now
    return Answer(tuple(messages), pictures=(f"week/{WEEKDAYS[day.weekday()]}",))
