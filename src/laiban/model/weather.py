"""The weather as Laiban needs it, whichever service it came from: hourly steps in one shape."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from enum import StrEnum


class Precipitation(StrEnum):
    NONE = "none"
    DRIZZLE = "drizzle"
    RAIN = "rain"
    SLEET = "sleet"
    SNOW = "snow"
    HAIL = "hail"


class Symbol(StrEnum):
    """Our own weather symbols (each has a picture in the kiosk)."""

    CLEAR = "clear"
    PARTLY_CLOUDY = "partly_cloudy"
    CLOUDY = "cloudy"
    FOG = "fog"
    RAIN_SHOWERS = "rain_showers"
    RAIN = "rain"
    HEAVY_RAIN = "heavy_rain"
    THUNDER = "thunder"
    SLEET = "sleet"
    SNOW_SHOWERS = "snow_showers"
    SNOW = "snow"
    HEAVY_SNOW = "heavy_snow"


@dataclass(frozen=True)
class ForecastStep:
    """The weather at `time` (UTC); precipitation covers the hour (or interval) that ends at `time`.

    Values a source did not give are None; `precipitation` is NONE when nothing falls.
    """

    time: dt.datetime
    temperature: float | None = None  # °C
    feels_like: float | None = None  # °C, wind chill / heat index applied
    wind_speed: float | None = None  # m/s
    wind_gust: float | None = None  # m/s
    humidity: float | None = None  # %
    precipitation_mm: float | None = None  # mm in the interval
    precipitation: Precipitation = Precipitation.NONE
    thunder: bool = False
    cloud_cover: float | None = None  # % (0–100)
    symbol: Symbol | None = None


@dataclass(frozen=True)
class Forecast:
    source: str  # "smhi" or "metno"
    fetched_at: dt.datetime  # aware
    latitude: float
    longitude: float
    steps: tuple[ForecastStep, ...] = field(default_factory=tuple)

    def step_at(self, moment: dt.datetime) -> ForecastStep | None:
        """The step whose hour contains `moment` (the first step ending at or after it), if any."""
        for step in self.steps:
            if step.time >= moment:
                return step
        return None


def feels_like(temperature: float, wind_speed: float | None, humidity: float | None) -> float:
    """Wind chill (−40…10 °C, wind 2…35 m/s) or heat index (≥ 27 °C, humidity ≥ 40 %); else the air."""
    if wind_speed is not None and -40 <= temperature <= 10 and 2 <= wind_speed <= 35:
        v = wind_speed**0.16
        return float(round(13.12 + 0.6215 * temperature - 13.956 * v + 0.48669 * temperature * v, 1))
    if humidity is not None and temperature >= 27 and humidity >= 40:
        t, r = temperature, humidity
        index = (
            -8.78469475556
            + 1.61139411 * t
            + 2.33854883889 * r
            - 0.14611605 * t * r
            - 0.012308094 * t * t
            - 0.0164248277778 * r * r
            + 0.002211732 * t * t * r
            + 0.00072546 * t * r * r
            - 0.000003582 * t * t * r * r
        )
        return float(round(max(index, temperature), 1))
    return float(round(temperature, 1))


def location_key(latitude: float, longitude: float) -> str:
    """Nearby preschools share one forecast: coordinates rounded to ~1 km (finer than SMHI's ~2.5 km grid)."""
    return f"{math.floor(latitude * 100 + 0.5) / 100:.2f},{math.floor(longitude * 100 + 0.5) / 100:.2f}"
