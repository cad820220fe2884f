"""`lunch`: what we eat (lunch, breakfast, snack) today, tomorrow or another day, and what we ate —
told with child-friendly dish names and food pictures. Yes/no for a food ("blir det fisk?"). Honest
about closed days and days without a menu."""

from __future__ import annotations

import datetime as dt

from laiban.i18n import N_
from laiban.model.intent import Answer, DateName, DayName, Intent, Message, Nouns, StaffTexts
from laiban.model.menu import Dish
from laiban.model.today import Today
from laiban.skills.conversation import NO, YES
from laiban.skills.days import resolve_day
from laiban.skills.dishes import dish, mentions

MEAL_NAMES = {"breakfast": N_("frukost"), "lunch": N_("lunch"), "snack": N_("mellanmål")}
MEAL_OF_SLOT = {"breakfast": "breakfast", "lunch": "lunch", "snack": "snack", "dessert": "lunch"}

WILL_TODAY = N_("Idag blir det {dishes} till {meal}.")
ATE_TODAY = N_("Idag åt vi {dishes} till {meal}.")
WILL_TOMORROW = N_("Imorgon blir det {dishes} till {meal}.")
WILL_ON_DAY = N_("På {day} blir det {dishes} till {meal}.")
ATE_YESTERDAY = N_("Igår åt vi {dishes} till {meal}.")
ATE_ON_DATE = N_("Den {date} åt vi {dishes} till {meal}.")
CLOSED = N_("Förskolan är stängd på {day}.")
CLOSED_THAT_DAY = N_("Förskolan är stängd den dagen.")
UNKNOWN_AHEAD = N_("Jag vet inte vad det blir till {meal} då.")
SURPRISE = N_("Köket kanske överraskar oss!")
UNKNOWN_PAST = N_("Jag vet inte vad vi åt till {meal} då.")
WHICH_DAY = N_("Fråga mig om maten en dag i taget, till exempel idag eller imorgon.")

FINISHED_AFTER = dt.timedelta(minutes=30)  # lunch is "eaten" half an hour after it starts
DEFAULT_LUNCH = dt.time(11, 30)


def dishes_of(today: Today, day: dt.date, meal: str) -> tuple[Dish, ...]:
    found = []
    for text, override in today.menu.get((day, meal), ()):
        told = dish(text)
        found.append(Dish(text, override or told.simple, told.picture))
    return tuple(found)


def answer(intent: Intent, today: Today) -> Answer:
    meal = MEAL_OF_SLOT.get(intent.slots.get("meal", "lunch"), "lunch")
    meal_name = Nouns((MEAL_NAMES[meal],))
    date = today.now.date()
    day = resolve_day(intent.slots.get("day"), date)
    if day is None:
        return Answer((Message(WHICH_DAY),), pictures=("laiban/thinking",))
    if day.weekday() not in today.open_weekdays:
        return Answer((Message(CLOSED, {"day": DayName(day)}),), pictures=("laiban/sleepy",))
    if day in today.closed_days:
        return Answer((Message(CLOSED_THAT_DAY),), pictures=("laiban/sleepy",))
    dishes = dishes_of(today, day, meal)
    past = day < date or (day == date and meal == "lunch" and today.now.time() >= _lunch_done(today))
    if not dishes:
        if past:
            return Answer((Message(UNKNOWN_PAST, {"meal": meal_name}),), pictures=("food/plate",))
        return Answer(
            (Message(UNKNOWN_AHEAD, {"meal": meal_name}), Message(SURPRISE)), pictures=("food/plate",)
        )
    params = {"dishes": StaffTexts(tuple(d.simple for d in dishes), style="or"), "meal": meal_name}
    if day == date:
        sentence = Message(ATE_TODAY if past else WILL_TODAY, params)
    elif day == date - dt.timedelta(days=1):
        sentence = Message(ATE_YESTERDAY, params)
    elif day < date:
        sentence = Message(ATE_ON_DATE, {**params, "date": DateName(day)})
    elif day == date + dt.timedelta(days=1):
        sentence = Message(WILL_TOMORROW, params)
    else:
        sentence = Message(WILL_ON_DAY, {**params, "day": DayName(day)})
    messages = [sentence]
    food = intent.slots.get("food")
    if intent.yes_no and food:
        messages.insert(0, Message(YES if any(mentions(d.text, food) for d in dishes) else NO))
    return Answer(tuple(messages), pictures=tuple(dict.fromkeys(d.picture for d in dishes)))


def _lunch_done(today: Today) -> dt.time:
    start = dt.datetime.combine(today.now.date(), today.lunch_at or DEFAULT_LUNCH)
    return (start + FINISHED_AFTER).time()
