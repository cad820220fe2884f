"""`calendar`: what is special about today, and how many days until Christmas, midsummer, Lucia…
Holidays, eves and flag days come from `Today.special_days` (Sweden's calendar, computed offline); the
preschool's own events and closed days from `Today.preschool_events` and `Today.closed_days`."""

from __future__ import annotations

import datetime as dt

from laiban.i18n import N_, Np_
from laiban.model.intent import Answer, DateName, Intent, Message, Nouns, StaffTexts
from laiban.model.today import Today
from laiban.skills.conversation import ASK, NO, YES

NAMES = {
    "new_year": N_("nyårsdagen"),
    "epiphany": N_("trettondedag jul"),
    "good_friday": N_("långfredagen"),
    "easter": N_("påskafton"),
    "easter_day": N_("påskdagen"),
    "easter_monday": N_("annandag påsk"),
    "walpurgis": N_("valborg"),
    "may_day": N_("första maj"),
    "ascension": N_("Kristi himmelsfärdsdag"),
    "pentecost": N_("pingstdagen"),
    "national_day": N_("Sveriges nationaldag"),
    "midsummer": N_("midsommarafton"),
    "midsummer_day": N_("midsommardagen"),
    "all_saints": N_("alla helgons dag"),
    "halloween": N_("halloween"),
    "lucia": N_("lucia"),
    "christmas_eve": N_("julafton"),
    "christmas": N_("juldagen"),
    "boxing_day": N_("annandag jul"),
    "new_years_eve": N_("nyårsafton"),
    "flag_day": N_("flaggdag"),
}
# What children mean when they ask for a holiday: "jul" is Christmas Eve in Sweden, "nyår" New Year's Eve.
COUNT_TO = {"christmas": "christmas_eve", "new_year": "new_years_eve"}

TODAY_IS = N_("Idag är det {day}!")
DAYS_LEFT = Np_("Det är {n} dag kvar till {day}.", "Det är {n} dagar kvar till {day}.")
NOTHING_TODAY = N_("Idag är det ingen speciell dag.")
NEXT_IS = N_("Nästa speciella dag är {day}.")
DO_NOT_KNOW = N_("Jag vet inte när det är {day}.")
CLOSED_TODAY = N_("Idag är förskolan stängd: {reason}.")
WE_HAVE_TODAY = N_("Idag har vi {event}!")
HOLIDAY_WORDS = {"birthday": N_("din födelsedag"), "summer_holiday": N_("sommarlovet")}


NEXT_CLOSED = N_("Nästa gång förskolan är stängd är den {date}.")
NEXT_CLOSED_WITHIN = dt.timedelta(days=31)


def _name(key: str) -> Nouns:
    return Nouns((NAMES[key],))


def _preschool_today(today: Today) -> tuple[tuple[Message, ...], tuple[str, ...]]:
    """The preschool's own news about today: closed (and why), then its events."""
    date = today.now.date()
    messages: list[Message] = []
    pictures: list[str] = []
    reason = today.closed_days.get(date)
    if reason:
        messages.append(Message(CLOSED_TODAY, {"reason": StaffTexts((reason,))}))
        pictures.append("calendar/closed")
    for _at, title in today.preschool_events.get(date, ()):
        messages.append(Message(WE_HAVE_TODAY, {"event": StaffTexts((title,))}))
        pictures.append("calendar/event")
    return tuple(messages), tuple(dict.fromkeys(pictures))


def answer(intent: Intent, today: Today) -> Answer:
    date = today.now.date()
    wanted = intent.slots.get("holiday")
    if wanted is not None:
        key = COUNT_TO.get(wanted, wanted)
        upcoming = sorted(d for d, keys in today.special_days.items() if key in keys and d >= date)
        if not upcoming:  # a child's birthday, the summer holiday: the preschool knows, Laiban does not
            noun = Nouns((HOLIDAY_WORDS.get(wanted) or NAMES.get(key, N_("den dagen")),))
            return Answer((Message(DO_NOT_KNOW, {"day": noun}), Message(ASK)), pictures=("laiban/thinking",))
        days = (upcoming[0] - date).days
        if days == 0:
            messages = [Message(TODAY_IS, {"day": _name(key)})]
        else:
            messages = [Message(DAYS_LEFT[0], {"n": days, "day": _name(key)}, plural=DAYS_LEFT[1])]
        if intent.yes_no:  # "är det jul snart?": yes within a week
            messages.insert(0, Message(YES if days <= 7 else NO))
        return Answer(tuple(messages), pictures=(f"calendar/{key}",))
    own, own_pictures = _preschool_today(today)
    special = [k for k in today.special_days.get(date, ()) if k in NAMES]
    if special:
        return Answer(
            (*own, *(Message(TODAY_IS, {"day": _name(k)}) for k in special[:1])),
            pictures=(*own_pictures, *(f"calendar/{k}" for k in special)),
        )
    if own:
        return Answer(own, pictures=own_pictures)
    # Flag days are for the flagpole; a child waits for holidays.
    ahead = sorted((d, keys) for d, keys in today.special_days.items() if d > date and keys != ("flag_day",))
    messages = [Message(NOTHING_TODAY)]
    if ahead:
        day, keys = ahead[0]
        messages += [
            Message(NEXT_IS, {"day": _name(keys[0])}),
            Message(DAYS_LEFT[0], {"n": (day - date).days, "day": _name(keys[0])}, plural=DAYS_LEFT[1]),
        ]
    return Answer((*messages, *_next_closed(today)), pictures=("calendar/today",))


def _next_closed(today: Today) -> tuple[Message, ...]:
    """The next day the preschool is closed (planning days), within the coming month."""
    date = today.now.date()
    coming = sorted(d for d in today.closed_days if date < d <= date + NEXT_CLOSED_WITHIN)
    return (Message(NEXT_CLOSED, {"date": DateName(coming[0])}),) if coming else ()
