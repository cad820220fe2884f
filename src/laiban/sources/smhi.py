"""SMHI's point forecast, SNOW1gv1 (the default for Sweden) -> Forecast.

`GET {base}/api/category/snow1g/version/1/geotype/point/lon/{lon}/lat/{lat}/data.json`, no key,
licence CC BY 4.0 SE (credit "SMHI"). The old PMP3gv2 point forecast is gone (404 since 2026-03-31).

Each `timeSeries` entry is valid at `time`; its precipitation covers `intervalParametersStartTime`
→ `time` (one hour for the first ~48 h, then 2 h and 6 h), which is exactly our ForecastStep
convention, so steps keep SMHI's times. 9999 means "no value" (−9 in `precipitation_frozen_part`
means "nothing falls"); keys may be missing and unknown keys are ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import httpx

from laiban.model.weather import Forecast, ForecastStep, Precipitation, Symbol, feels_like
from laiban.sources import (
    DEADLINE,
    HUMIDITY,
    PRECIPITATION,
    TEMPERATURE,
    WIND,
    SourceError,
    get,
    json_of,
    number,
    parse_time,
    require_aware,
)

SOURCE = "smhi"
NAME = "SMHI"
MISSING = 9999
SOMETHING_FALLS_MM = 0.05  # less than this in an interval counts as dry
DRIZZLE_MM_PER_HOUR = 0.3  # liquid precipitation lighter than this is drizzle
THUNDER_PROBABILITY = 50  # % from which we say there may be thunder

_SYMBOLS: dict[int, Symbol] = {
    1: Symbol.CLEAR,
    2: Symbol.CLEAR,
    3: Symbol.PARTLY_CLOUDY,
    4: Symbol.PARTLY_CLOUDY,
    5: Symbol.CLOUDY,
    6: Symbol.CLOUDY,
    7: Symbol.FOG,
    8: Symbol.RAIN_SHOWERS,
    9: Symbol.RAIN_SHOWERS,
    10: Symbol.HEAVY_RAIN,
    11: Symbol.THUNDER,
    12: Symbol.SLEET,
    13: Symbol.SLEET,
    14: Symbol.SLEET,
    15: Symbol.SNOW_SHOWERS,
    16: Symbol.SNOW_SHOWERS,
    17: Symbol.HEAVY_SNOW,
    18: Symbol.RAIN,
    19: Symbol.RAIN,
    20: Symbol.HEAVY_RAIN,
    21: Symbol.THUNDER,
    22: Symbol.SLEET,
    23: Symbol.SLEET,
    24: Symbol.SLEET,
    25: Symbol.SNOW,
    26: Symbol.SNOW,
    27: Symbol.HEAVY_SNOW,
}

# What falls, by symbol code; codes 1–7 say nothing falls, so the amount and frozen part decide.
_SYMBOL_PRECIPITATION: dict[int, Precipitation] = {
    **dict.fromkeys((8, 9, 10, 11, 18, 19, 20, 21), Precipitation.RAIN),
    **dict.fromkeys((12, 13, 14, 22, 23, 24), Precipitation.SLEET),
    **dict.fromkeys((15, 16, 17, 25, 26, 27), Precipitation.SNOW),
}
_THUNDER_SYMBOLS = frozenset({11, 21})
_LIGHT_RAIN = 18

# `predominant_precipitation_type_at_surface` (SNOW1gv1's own list, not the old pcat). Sources disagree
# on some codes, so it is only a hint, used when the frozen part is unknown.
_THUNDERSTORM_TYPE = 2
_HAIL_TYPE = 10
_DRIZZLE_TYPES = frozenset({11, 12})
_TYPE_HINTS: dict[int, Precipitation] = {
    1: Precipitation.RAIN,
    2: Precipitation.RAIN,  # thunderstorm
    3: Precipitation.RAIN,  # freezing rain
    4: Precipitation.SLEET,  # mixed / ice
    5: Precipitation.SNOW,
    6: Precipitation.SNOW,  # wet snow
    7: Precipitation.SLEET,  # rain and snow
    8: Precipitation.SLEET,  # ice pellets
    9: Precipitation.SNOW,  # graupel
    10: Precipitation.HAIL,
    11: Precipitation.DRIZZLE,
    12: Precipitation.DRIZZLE,  # freezing drizzle
}


def parse(payload: dict[str, Any], fetched_at: dt.datetime, latitude: float, longitude: float) -> Forecast:
    """SNOW1gv1 point JSON -> Forecast(source="smhi"), steps sorted by time.

    Tolerant: entries without a readable `time` are skipped (as are repeats of a time), missing keys
    and 9999 give None, and a payload without steps gives a Forecast without steps (the caller decides).
    """
    require_aware(fetched_at)
    series = payload.get("timeSeries") if isinstance(payload, Mapping) else None
    steps: dict[dt.datetime, ForecastStep] = {}
    for entry in series if isinstance(series, list) else ():
        if not isinstance(entry, Mapping):
            continue
        time = parse_time(entry.get("time"))
        if time is None or time in steps:
            continue
        data = entry.get("data")
        start = parse_time(entry.get("intervalParametersStartTime"))
        hours = (time - start).total_seconds() / 3600 if start is not None and start < time else 1.0
        steps[time] = _step(time, data if isinstance(data, Mapping) else {}, hours)
    return Forecast(
        source=SOURCE,
        fetched_at=fetched_at,
        latitude=latitude,
        longitude=longitude,
        steps=tuple(steps[time] for time in sorted(steps)),
    )


def point_url(base_url: str, latitude: float, longitude: float) -> str:
    """The SNOW1gv1 point address: longitude before latitude, six decimals (SMHI's maximum)."""
    return (
        f"{base_url.rstrip('/')}/api/category/snow1g/version/1/geotype/point"
        f"/lon/{longitude:.6f}/lat/{latitude:.6f}/data.json"
    )


def fetch(
    client: httpx.Client,
    base_url: str,
    latitude: float,
    longitude: float,
    now: dt.datetime,
    *,
    deadline: float = DEADLINE,
) -> Forecast:
    """Fetch and parse the forecast for a point; `now` becomes `fetched_at`. Uses the client's timeout,
    the whole reply within `deadline` seconds and at most MAX_BYTES (see `sources.get`).

    Raises SourceError on HTTP errors (400/404: outside SMHI's area), timeouts, connection errors,
    malformed JSON, or JSON without a `timeSeries` list.
    """
    require_aware(now)
    url = point_url(base_url, latitude, longitude)
    response = get(client, url, NAME, {"Accept": "application/json"}, deadline=deadline)
    status = response.status_code
    if status in (400, 404):
        raise SourceError(f"{NAME} answered {status}: the location is outside its area.", status=status)
    if status == 429:
        raise SourceError(f"{NAME} answered 429: too many requests, so fetch less often.", status=status)
    if status >= 500:
        raise SourceError(
            f"{NAME} answered {status}: the service has a problem, so try again later.", status=status
        )
    if not 200 <= status < 300:
        raise SourceError(f"{NAME} answered {status} instead of a forecast.", status=status)
    payload = json_of(response, NAME)
    if not isinstance(payload, dict) or not isinstance(payload.get("timeSeries"), list):
        raise SourceError(f"{NAME} sent JSON without a timeSeries list.", status=status)
    return parse(payload, now, latitude, longitude)


def _step(time: dt.datetime, data: Mapping[str, Any], hours: float) -> ForecastStep:
    temperature = number(data, "air_temperature", MISSING, within=TEMPERATURE)
    wind_speed = number(data, "wind_speed", MISSING, within=WIND)
    humidity = number(data, "relative_humidity", MISSING, within=HUMIDITY)
    oktas = number(data, "cloud_area_fraction", MISSING)
    amount = next(
        (
            value
            for key in (
                "precipitation_amount_mean",
                "precipitation_amount_mean_deterministic",
                "precipitation_amount_median",
            )
            if (value := number(data, key, MISSING, within=PRECIPITATION)) is not None
        ),
        None,
    )
    frozen_part = number(data, "precipitation_frozen_part", MISSING)  # −9: nothing falls
    if frozen_part is not None and not 0 <= frozen_part <= 100:
        frozen_part = None
    symbol_code = _code(data, "symbol_code")
    type_code = _code(data, "predominant_precipitation_type_at_surface")
    thunder_probability = number(data, "thunderstorm_probability", MISSING)
    thunder = (
        symbol_code in _THUNDER_SYMBOLS
        or (thunder_probability is not None and thunder_probability >= THUNDER_PROBABILITY)
        or type_code == _THUNDERSTORM_TYPE
    )
    return ForecastStep(
        time=time,
        temperature=temperature,
        feels_like=feels_like(temperature, wind_speed, humidity) if temperature is not None else None,
        wind_speed=wind_speed,
        wind_gust=number(data, "wind_speed_of_gust", MISSING, within=WIND),
        humidity=humidity,
        precipitation_mm=amount,
        precipitation=_precipitation(symbol_code, amount, hours, frozen_part, type_code, temperature),
        thunder=thunder,
        cloud_cover=oktas * 12.5 if oktas is not None and 0 <= oktas <= 8 else None,
        symbol=_SYMBOLS.get(symbol_code) if symbol_code is not None else None,
    )


def _precipitation(
    symbol_code: int | None,
    amount: float | None,
    hours: float,
    frozen_part: float | None,
    type_code: int | None,
    temperature: float | None,
) -> Precipitation:
    """What falls: the symbol decides when it shows precipitation; else the amount, the frozen part and
    (as a hint) the type code. Drizzle compares the amount per hour, so 2 h and 6 h steps count fairly."""
    if symbol_code in _SYMBOL_PRECIPITATION:
        if symbol_code == _LIGHT_RAIN and amount is not None and amount / hours < DRIZZLE_MM_PER_HOUR:
            return Precipitation.DRIZZLE  # the same rule as MET Norway's "lightrain"
        return _SYMBOL_PRECIPITATION[symbol_code]
    if amount is None or amount <= SOMETHING_FALLS_MM:
        return Precipitation.NONE
    if type_code == _HAIL_TYPE:
        return Precipitation.HAIL
    if frozen_part is not None:
        if frozen_part >= 80:
            return Precipitation.SNOW
        if frozen_part >= 20:
            return Precipitation.SLEET
        kind = Precipitation.RAIN
    elif type_code in _TYPE_HINTS:
        kind = _TYPE_HINTS[type_code]
    else:  # neither frozen part nor type: the air temperature is the best guess left
        kind = Precipitation.SNOW if temperature is not None and temperature <= 0 else Precipitation.RAIN
    if kind is Precipitation.RAIN and (type_code in _DRIZZLE_TYPES or amount / hours < DRIZZLE_MM_PER_HOUR):
        return Precipitation.DRIZZLE
    return kind


def _code(data: Mapping[str, Any], key: str) -> int | None:
    value = number(data, key, MISSING)
    return int(value) if value is not None and value.is_integer() else None
