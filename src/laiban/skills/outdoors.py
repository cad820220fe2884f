"""What the forecast means for going outside: is it fresh enough to trust, when do we go out next, how
does it feel then, and which clothes does that call for. Shared by the weather and clothes skills and
the admin's weather page."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from laiban.model.garments import EXCLUSIVE, Condition, in_dressing_order
from laiban.model.today import Today
from laiban.model.weather import Forecast, ForecastStep, Precipitation, Symbol

STALE_AFTER = dt.timedelta(hours=3)  # an older forecast is not shown to children
OUTING = dt.timedelta(hours=1)  # how long an outdoor event is assumed to last
DAYTIME = (dt.time(8, 0), dt.time(17, 0))  # the part of another day a child asks about
WET = 0.1  # mm in an hour: less than this is not rain worth dressing for


class State:
    """What the sky does, in the words children hear; ordered from the least to the most notable."""

    CLEAR = "clear"
    PARTLY_CLOUDY = "partly_cloudy"
    CLOUDY = "cloudy"
    FOG = "fog"
    RAIN = "rain"
    SLEET = "sleet"
    SNOW = "snow"
    THUNDER = "thunder"
    ORDER = (CLEAR, PARTLY_CLOUDY, CLOUDY, FOG, RAIN, SLEET, SNOW, THUNDER)


def usable_forecast(today: Today) -> Forecast | None:
    """The forecast if it is fresh enough to tell a child about; never last week's weather."""
    forecast = today.forecast
    if forecast is None or not forecast.steps or today.now - forecast.fetched_at > STALE_AFTER:
        return None
    return forecast


def precipitation_of(step: ForecastStep) -> Precipitation:
    if step.precipitation is not Precipitation.NONE and (
        step.precipitation_mm is None or step.precipitation_mm >= WET
    ):
        return step.precipitation
    return Precipitation.NONE


def state_of(step: ForecastStep) -> str:
    if step.thunder or step.symbol is Symbol.THUNDER:
        return State.THUNDER
    falling = precipitation_of(step)
    if falling is Precipitation.SNOW:
        return State.SNOW
    if falling in (Precipitation.SLEET, Precipitation.HAIL):
        return State.SLEET
    if falling in (Precipitation.RAIN, Precipitation.DRIZZLE):
        return State.RAIN
    sky = {
        Symbol.FOG: State.FOG,
        Symbol.CLOUDY: State.CLOUDY,
        Symbol.PARTLY_CLOUDY: State.PARTLY_CLOUDY,
        Symbol.CLEAR: State.CLEAR,
    }
    if step.symbol in sky:
        return sky[step.symbol]
    cover = step.cloud_cover
    if cover is None:
        return State.CLOUDY
    return State.CLEAR if cover < 25 else State.PARTLY_CLOUDY if cover < 75 else State.CLOUDY


def state_of_period(steps: Sequence[ForecastStep]) -> str:
    """Thunder or something falling in a quarter of the hours (at least one) names the period; else the
    commonest sky."""
    states = [state_of(step) for step in steps]
    for notable in (State.THUNDER, State.SNOW, State.SLEET, State.RAIN):
        if states.count(notable) >= max(1, len(states) // 4):
            return notable
    counts = Counter(states)
    return max(counts, key=lambda s: (counts[s], State.ORDER.index(s)))


def local(moment: dt.datetime, today: Today) -> dt.datetime:
    return moment.astimezone(today.now.tzinfo)


def steps_between(forecast: Forecast, start: dt.datetime, end: dt.datetime) -> tuple[ForecastStep, ...]:
    """Steps whose hour overlaps [start, end): a step at `time` covers the hour before it."""
    return tuple(s for s in forecast.steps if start < s.time and s.time - dt.timedelta(hours=1) < end)


def day_steps(forecast: Forecast, today: Today, day: dt.date) -> tuple[ForecastStep, ...]:
    """Today from now until the preschool closes (or the rest of the hour if later); another day 8–17."""
    zone = today.now.tzinfo
    if day == today.now.date():
        end = dt.datetime.combine(day, today.day_ends_at, zone)
        return steps_between(forecast, today.now, max(end, today.now + OUTING))
    start, end = (dt.datetime.combine(day, t, zone) for t in DAYTIME)
    return steps_between(forecast, start, end)


@dataclass(frozen=True)
class Outing:
    """When the children go out next: now, or the next outdoor event today."""

    start: dt.datetime
    planned: dt.time | None  # the outdoor event's time; None = going out now


def next_outing(today: Today) -> Outing:
    for planned in today.outdoor_times:
        start = dt.datetime.combine(today.now.date(), planned, today.now.tzinfo)
        if start > today.now:
            return Outing(start, planned)
        if start <= today.now < start + OUTING:
            return Outing(today.now, None)  # out right now
    return Outing(today.now, None)


@dataclass(frozen=True)
class Feel:
    """How it will feel outside during an outing."""

    feels_like: float
    precipitation: Precipitation
    condition: Condition


def feel_at(forecast: Forecast, start: dt.datetime) -> Feel | None:
    steps = steps_between(forecast, start, start + OUTING) or tuple(
        s for s in (forecast.step_at(start),) if s is not None
    )
    temperatures = [s.feels_like if s.feels_like is not None else s.temperature for s in steps]
    known = [t for t in temperatures if t is not None]
    if not known:
        return None
    feels = min(known)
    falling = [precipitation_of(s) for s in steps if precipitation_of(s) is not Precipitation.NONE]
    precipitation = Counter(falling).most_common(1)[0][0] if falling else Precipitation.NONE
    return Feel(feels, precipitation, condition_for(feels, precipitation))


def condition_for(feels_like: float, precipitation: Precipitation) -> Condition:
    """The original Laiban's temperature bands (each boundary belongs to the colder side), with snow as
    its own condition: snow calls for winter clothes, not rain clothes."""
    wet = precipitation is not Precipitation.NONE
    if precipitation is Precipitation.SNOW:
        return Condition.SNOW
    if feels_like <= 10:
        return Condition.COLD_RAIN if wet else Condition.COLD
    if feels_like <= 12:
        return Condition.COOL_RAIN if wet else Condition.COOL
    if wet:
        return Condition.RAIN
    if feels_like <= 16:
        return Condition.WARMISH
    return Condition.WARM if feels_like <= 20 else Condition.HOT


BASE_GARMENTS: Mapping[Condition, tuple[str, ...]] = {
    Condition.RAIN: ("rain_pants", "rain_coat", "rain_boots"),
    Condition.COLD: ("sweater", "pullover_pants", "jacket", "winter_boots"),
    Condition.COLD_RAIN: ("sweater", "rain_coat", "rain_pants", "rain_boots", "rain_gloves"),
    Condition.COOL: ("sweater", "jacket", "pullover_pants", "shoes"),
    Condition.COOL_RAIN: ("sweater", "rain_pants", "rain_coat", "rain_boots"),
    Condition.WARMISH: ("sweater", "cap", "shoes"),
    Condition.WARM: ("cap", "shoes"),
    Condition.HOT: ("cap", "shoes"),
    Condition.SNOW: ("sweater", "winter_outfit", "neckwear", "beanie", "winter_boots", "mittens"),
}
DRY_CHILLY = frozenset({Condition.COLD, Condition.COOL, Condition.SNOW})
WET_CHILLY = frozenset({Condition.COLD_RAIN, Condition.COOL_RAIN})


def is_winter(day: dt.date) -> bool:
    return day.month in (11, 12, 1, 2, 3)


def is_cold_season(day: dt.date) -> bool:
    """15 September to 15 May."""
    return (day.month, day.day) > (9, 15) or (day.month, day.day) < (5, 15)


def rule_garments(condition: Condition, day: dt.date) -> tuple[str, ...]:
    """The original Laiban's rule table and seasonal adjustments, changed where children got wet or
    overdressed: cold rain calls for rain clothes (the original gave a jacket and trousers), and the
    winter outfit replaces jacket and trousers only on dry chilly days in November–March (not on a 15 °C
    day in March, not in the rain)."""
    garments = set(BASE_GARMENTS[condition])
    if is_winter(day) and condition in DRY_CHILLY:
        garments -= {"pullover_pants", "jacket", "cap", "rain_gloves"}
        garments |= {"winter_outfit", "neckwear", "beanie", "mittens"}
    elif is_winter(day) and condition in WET_CHILLY:
        garments -= {"cap"}
        garments |= {"neckwear", "beanie"}
    elif condition in (Condition.COLD, Condition.COLD_RAIN) and is_cold_season(day):
        garments -= {"cap"}
        garments |= {"beanie", "mittens"}
    return without_conflicts(garments)


def without_conflicts(garments: set[str]) -> tuple[str, ...]:
    """Drops garments that cannot be worn together with a warmer or more specific one."""
    chosen = set(garments)
    if "winter_outfit" in chosen:
        chosen -= {"jacket", "pullover_pants"}
    for group in EXCLUSIVE:
        present = [g for g in group if g in chosen]
        chosen -= set(present[1:])
    return in_dressing_order(chosen)


def garments_for(feel: Feel, day: dt.date, corrections: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Staff's correction for this condition when there is one, else the rules."""
    corrected = corrections.get(feel.condition.value)
    return in_dressing_order(corrected) if corrected is not None else rule_garments(feel.condition, day)
