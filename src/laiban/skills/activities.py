"""`activities`: what we do today (a forest trip, painting…), told in staff's own sentences — before it
what we will do, after it what we did, while it goes on that it is happening now — and, when the
preschool allows it, who takes part. Only today: the preschool's plans for other days stay with staff."""

from __future__ import annotations

import datetime as dt
from enum import Enum

from laiban.i18n import N_
from laiban.model.intent import Answer, Intent, Message, StaffTexts, Texts
from laiban.model.today import ActivityInfo, Today

# Staff write whole sentences in their own words ("Vi ska gå till skogen."); Laiban says them as written.
# Translators: keep "{sentence}" alone, it is a whole sentence typed by the preschool's staff.
STAFF_SENTENCE = N_("{sentence}")
# Translators: introduces a sentence staff wrote in Swedish that nobody has translated into your language.
IN_SWEDISH = N_("På svenska: {sentence}")
NOW_IT_IS = N_("Nu är det {activity}!")
TAKING_PART = N_("Med är {names}.")
TOOK_PART = N_("Med var {names}.")
NOTHING_PLANNED = N_("Idag har vi inget särskilt inplanerat.")
ASK = N_("Fråga en pedagog vad ni ska hitta på!")
ONLY_TODAY = N_("Jag kan berätta om dagens aktiviteter.")

NOON = dt.time(12)  # an activity without times has happened after noon
LENGTH = dt.timedelta(hours=1)  # an activity with a start but no end lasts this long
DEFAULT_PICTURE = "activity/default"


class Tense(Enum):
    FUTURE = "future"
    NOW = "now"
    PAST = "past"


def tense(activity: ActivityInfo, now: dt.datetime) -> Tense:
    """Where the activity is at `now` (local time of its day)."""

    def at(time: dt.time) -> dt.datetime:
        return dt.datetime.combine(now.date(), time, now.tzinfo)

    if activity.starts_at is None:
        end = at(activity.ends_at or NOON)
        return Tense.FUTURE if now < end else Tense.PAST
    start = at(activity.starts_at)
    end = at(activity.ends_at) if activity.ends_at is not None else start + LENGTH
    if now < start:
        return Tense.FUTURE
    return Tense.NOW if now < end else Tense.PAST


def _told(activity: ActivityInfo, today: Today) -> list[Message]:
    when = tense(activity, today.now)
    if when is Tense.NOW:
        messages = [Message(NOW_IT_IS, {"activity": StaffTexts((activity.title,))})]
    else:
        text = activity.future_text if when is Tense.FUTURE else activity.past_text
        messages = [Message(STAFF_SENTENCE, {"sentence": StaffTexts((text,))}, untranslated=IN_SWEDISH)]
    if today.show_child_names and activity.participants:
        names = TOOK_PART if when is Tense.PAST else TAKING_PART
        messages.append(Message(names, {"names": Texts(activity.participants)}))
    return messages


def answer(intent: Intent, today: Today) -> Answer:
    if intent.slots.get("day") not in (None, "today"):
        return Answer((Message(ONLY_TODAY),), pictures=("laiban/thinking",))
    if not today.activities:
        return Answer((Message(NOTHING_PLANNED), Message(ASK)), pictures=("laiban/thinking",))
    messages = [message for activity in today.activities for message in _told(activity, today)]
    pictures = tuple(dict.fromkeys(activity.picture or DEFAULT_PICTURE for activity in today.activities))
    return Answer(tuple(messages), pictures=pictures)
