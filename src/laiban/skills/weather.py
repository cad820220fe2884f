"""`weather`: what it looks like outside and how warm it feels — now, today, tomorrow or another day —
and whether it rains when the children go out. Honest when the forecast is missing or old."""

from __future__ import annotations

import datetime as dt

from laiban.i18n import N_, Np_
from laiban.model.intent import Answer, ClockTime, DayName, Intent, Message
from laiban.model.today import Today
from laiban.model.weather import Forecast, ForecastStep
from laiban.skills.conversation import NO, YES
from laiban.skills.days import resolve_day
from laiban.skills.outdoors import (
    State,
    day_steps,
    next_outing,
    precipitation_of,
    state_of,
    state_of_period,
    steps_between,
    usable_forecast,
)

NOW = {
    State.CLEAR: N_("Just nu är det klart väder."),
    State.PARTLY_CLOUDY: N_("Just nu är det lite moln på himlen."),
    State.CLOUDY: N_("Just nu är det molnigt."),
    State.FOG: N_("Just nu är det dimma ute."),
    State.RAIN: N_("Just nu regnar det."),
    State.SLEET: N_("Just nu kommer det snöblandat regn."),
    State.SNOW: N_("Just nu snöar det."),
    State.THUNDER: N_("Just nu åskar det."),
}
TODAY = {
    State.CLEAR: N_("Idag blir det mest sol."),
    State.PARTLY_CLOUDY: N_("Idag blir det både sol och moln."),
    State.CLOUDY: N_("Idag blir det molnigt."),
    State.FOG: N_("Idag blir det dimmigt."),
    State.RAIN: N_("Idag kommer det regn."),
    State.SLEET: N_("Idag kommer det snöblandat regn."),
    State.SNOW: N_("Idag kommer det snö."),
    State.THUNDER: N_("Idag kan det åska."),
}
TOMORROW = {
    State.CLEAR: N_("Imorgon blir det mest sol."),
    State.PARTLY_CLOUDY: N_("Imorgon blir det både sol och moln."),
    State.CLOUDY: N_("Imorgon blir det molnigt."),
    State.FOG: N_("Imorgon blir det dimmigt."),
    State.RAIN: N_("Imorgon kommer det regn."),
    State.SLEET: N_("Imorgon kommer det snöblandat regn."),
    State.SNOW: N_("Imorgon kommer det snö."),
    State.THUNDER: N_("Imorgon kan det åska."),
}
AFTERNOON = {
    State.CLEAR: N_("I eftermiddag blir det mest sol."),
    State.PARTLY_CLOUDY: N_("I eftermiddag blir det både sol och moln."),
    State.CLOUDY: N_("I eftermiddag blir det molnigt."),
    State.FOG: N_("I eftermiddag blir det dimmigt."),
    State.RAIN: N_("I eftermiddag kommer det regn."),
    State.SLEET: N_("I eftermiddag kommer det snöblandat regn."),
    State.SNOW: N_("I eftermiddag kommer det snö."),
    State.THUNDER: N_("I eftermiddag kan det åska."),
}
ON_DAY = {
    State.CLEAR: N_("På {day} blir det mest sol."),
    State.PARTLY_CLOUDY: N_("På {day} blir det både sol och moln."),
    State.CLOUDY: N_("På {day} blir det molnigt."),
    State.FOG: N_("På {day} blir det dimmigt."),
    State.RAIN: N_("På {day} kommer det regn."),
    State.SLEET: N_("På {day} kommer det snöblandat regn."),
    State.SNOW: N_("På {day} kommer det snö."),
    State.THUNDER: N_("På {day} kan det åska."),
}
FEELS_LIKE = Np_("Det känns som {n} grad.", "Det känns som {n} grader.")
RANGE = Np_("Det blir mellan {low} och {n} grad.", "Det blir mellan {low} och {n} grader.")
RAIN_WHEN_OUT = N_("Det kan regna när ni går ut klockan {time}.")
CANNOT_SEE = N_("Jag kan inte se vädret just nu.")
LOOK_OUTSIDE = N_("Titta ut genom fönstret tillsammans med en pedagog!")
ONLY_AHEAD = N_("Jag vet bara hur vädret blir, inte hur det var.")
TOO_FAR = N_("Så långt fram vet jag inte hur vädret blir.")
WHICH_DAY = N_("Jag kan berätta om vädret idag och de närmaste dagarna.")

AFTERNOON_STARTS = dt.time(12, 0)
WINDY = 8.0  # m/s mean wind that children feel as "blåsigt"
COLD = 5.0  # °C feels-like at or below: "kallt"
WARM = 18.0  # °C feels-like at or above: "varmt"


def unknown_weather() -> Answer:
    return Answer((Message(CANNOT_SEE), Message(LOOK_OUTSIDE)), pictures=("laiban/window",))


def answer(intent: Intent, today: Today) -> Answer:
    forecast = usable_forecast(today)
    if forecast is None:
        return unknown_weather()
    day_slot = intent.slots.get("day")
    if day_slot == "this_afternoon":
        return _afternoon(intent, today, forecast)
    day = resolve_day(day_slot, today.now.date())
    if day is None:
        return Answer((Message(WHICH_DAY),), pictures=("laiban/thinking",))
    if day < today.now.date():
        return Answer((Message(ONLY_AHEAD),), pictures=("laiban/thinking",))
    if day_slot is None:
        return _now(intent, today, forecast)
    steps = day_steps(forecast, today, day)
    if not steps or steps[-1].time < dt.datetime.combine(day, dt.time(12), today.now.tzinfo):
        return Answer((Message(TOO_FAR),), pictures=("laiban/thinking",))
    return _day(intent, today, day, steps)


def _temperature(step: ForecastStep) -> float | None:
    return step.feels_like if step.feels_like is not None else step.temperature


def _now(intent: Intent, today: Today, forecast: Forecast) -> Answer:
    step = forecast.step_at(today.now)
    if step is None or _temperature(step) is None:
        return unknown_weather()
    state = state_of(step)
    degrees = round(_temperature(step))  # type: ignore[arg-type]
    messages = [Message(NOW[state]), Message(FEELS_LIKE[0], {"n": degrees}, plural=FEELS_LIKE[1])]
    if intent.yes_no:
        messages.insert(0, Message(YES if _holds(intent, [step]) else NO))
    outing = next_outing(today)
    if outing.planned is not None:
        during = steps_between(forecast, outing.start, outing.start + dt.timedelta(hours=1))
        if state != State.RAIN and any(state_of(s) == State.RAIN for s in during):
            messages.append(Message(RAIN_WHEN_OUT, {"time": ClockTime(outing.planned)}))
    return Answer(tuple(messages), pictures=(f"weather/{state}", f"thermometer/{degrees}"))


def _afternoon(intent: Intent, today: Today, forecast: Forecast) -> Answer:
    """From noon (or now, if later) until the preschool closes."""
    noon = dt.datetime.combine(today.now.date(), AFTERNOON_STARTS, today.now.tzinfo)
    start = max(today.now, noon)
    end = max(
        dt.datetime.combine(today.now.date(), today.day_ends_at, today.now.tzinfo),
        start + dt.timedelta(hours=1),
    )
    steps = steps_between(forecast, start, end)
    if not steps:
        return unknown_weather()
    return _day(intent, today, today.now.date(), steps, afternoon=True)


def _day(
    intent: Intent, today: Today, day: dt.date, steps: tuple[ForecastStep, ...], afternoon: bool = False
) -> Answer:
    state = state_of_period(steps)
    temperatures = [s.temperature for s in steps if s.temperature is not None]
    if afternoon:
        sentence = Message(AFTERNOON[state])
    elif day == today.now.date():
        sentence = Message(TODAY[state])
    elif day == today.now.date() + dt.timedelta(days=1):
        sentence = Message(TOMORROW[state])
    else:
        sentence = Message(ON_DAY[state], {"day": DayName(day)})
    messages = [sentence]
    pictures = [f"weather/{state}"]
    if temperatures:
        low, high = round(min(temperatures)), round(max(temperatures))
        messages.append(Message(RANGE[0], {"low": low, "n": high}, plural=RANGE[1]))
        pictures.append(f"thermometer/{high}")
    if intent.yes_no:
        messages.insert(0, Message(YES if _holds(intent, steps) else NO))
    return Answer(tuple(messages), pictures=tuple(pictures))


def _holds(intent: Intent, steps: list[ForecastStep] | tuple[ForecastStep, ...]) -> bool:
    """Whether the asked condition ("regnar det?", "är det kallt?") holds in any of the steps (for the
    sky: in most of them)."""
    condition = intent.slots.get("condition")
    states = [state_of(s) for s in steps]
    falling = {precipitation_of(s).value for s in steps}
    feels = [t for t in (_temperature(s) for s in steps) if t is not None]
    if condition == "rain":
        return bool(falling & {"rain", "drizzle"})
    if condition in ("snow", "sleet", "hail"):
        return condition in falling
    if condition == "thunder":
        return State.THUNDER in states
    if condition == "fog":
        return State.FOG in states
    if condition == "sun":
        return states.count(State.CLEAR) + states.count(State.PARTLY_CLOUDY) > len(states) / 2
    if condition == "cloud":
        return states.count(State.CLOUDY) > len(states) / 2
    if condition == "wind":
        return any((s.wind_speed or 0) >= WINDY for s in steps)
    if condition == "cold":
        return bool(feels) and min(feels) <= COLD
    if condition == "warm":
        return bool(feels) and max(feels) >= WARM
    # A yes/no question without a condition ("blir det fint väder?"): fine = nothing falls.
    return not falling - {"none"}
