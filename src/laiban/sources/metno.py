"""MET Norway's Locationforecast 2.0 compact (the fallback, Nordic coverage) -> Forecast.

`GET {base}/locationforecast/2.0/compact?lat=..&lon=..` (at most 4 decimals). A descriptive
`User-Agent` with the app's name and a contact is mandatory (else 403/429); honour `Expires` and send
`If-Modified-Since` (304 when nothing changed). Licence CC BY 4.0, credit "MET Norway" (not "Yr").

Time convention. A MET entry at `time` holds the instant values at `time` and, in `next_1_hours` /
`next_6_hours`, the precipitation and symbol of the period that STARTS at `time`. Our steps say what
fell in the period that ENDS at `time` (as SMHI does), so each step keeps its instant values at its own
`time` and takes precipitation and symbol from the previous entry:
  - previous entry 1 h earlier: its `next_1_hours` (amount fallback `next_6_hours` / 6, symbol fallback
    `next_6_hours`);
  - previous entry 2–6 h earlier (MET's 6-hourly tail): its `next_6_hours`, the amount scaled to the
    gap (so a 6 h step carries the 6 h total, as SMHI's 6 h steps do);
  - no previous entry (the first, usually the current hour) or a longer gap: precipitation unknown
    (`precipitation_mm` and `symbol` None, `precipitation` NONE).
The last entry's own next hours are therefore not used.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
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

log = logging.getLogger(__name__)

SOURCE = "metno"
NAME = "MET Norway"
SOMETHING_FALLS_MM = 0.05  # less than this in a period counts as dry
DRIZZLE_MM_PER_HOUR = 0.3  # "lightrain" lighter than this is drizzle
_HOUR = dt.timedelta(hours=1)
_SUFFIXES = ("_day", "_night", "_polartwilight")
_PLAIN_SYMBOLS: dict[str, Symbol] = {
    "clearsky": Symbol.CLEAR,
    "fair": Symbol.PARTLY_CLOUDY,
    "partlycloudy": Symbol.PARTLY_CLOUDY,
    "cloudy": Symbol.CLOUDY,
    "fog": Symbol.FOG,
}


def parse(payload: dict[str, Any], fetched_at: dt.datetime, latitude: float, longitude: float) -> Forecast:
    """Locationforecast 2.0 compact JSON -> Forecast(source="metno"); see the module text for times.

    Tolerant like the SMHI parser: entries without a readable `time` are skipped (as are repeats),
    missing keys give None, and a payload without entries gives a Forecast without steps.
    """
    require_aware(fetched_at)
    properties = payload.get("properties") if isinstance(payload, Mapping) else None
    series = properties.get("timeseries") if isinstance(properties, Mapping) else None
    entries: dict[dt.datetime, Mapping[str, Any]] = {}
    for entry in series if isinstance(series, list) else ():
        if not isinstance(entry, Mapping):
            continue
        time = parse_time(entry.get("time"))
        if time is not None and time not in entries:
            data = entry.get("data")
            entries[time] = data if isinstance(data, Mapping) else {}
    steps: list[ForecastStep] = []
    previous: tuple[dt.datetime, Mapping[str, Any]] | None = None
    for time in sorted(entries):
        steps.append(_step(time, entries[time], previous))
        previous = (time, entries[time])
    return Forecast(
        source=SOURCE, fetched_at=fetched_at, latitude=latitude, longitude=longitude, steps=tuple(steps)
    )


def forecast_url(base_url: str, latitude: float, longitude: float) -> str:
    """The compact forecast address, coordinates with four decimals (MET's maximum)."""
    return f"{base_url.rstrip('/')}/locationforecast/2.0/compact?lat={latitude:.4f}&lon={longitude:.4f}"


def fetch(
    client: httpx.Client,
    base_url: str,
    latitude: float,
    longitude: float,
    now: dt.datetime,
    *,
    user_agent: str,
    if_modified_since: str | None = None,
    deadline: float = DEADLINE,
) -> tuple[Forecast | None, dict[str, Any]]:
    """Fetch and parse the forecast; `now` becomes `fetched_at`. Uses the client's timeout, the whole
    reply within `deadline` seconds and at most MAX_BYTES (see `sources.get`).

    Returns (forecast, info), or (None, info) when MET answers 304 Not Modified to `if_modified_since`
    (an HTTP date, e.g. the `Last-Modified` text of the previous answer). `info` holds `status` and
    `last_modified` / `expires` as aware datetimes (None when absent or unreadable); do not fetch again
    before `expires`. Raises SourceError on HTTP errors (403: the User-Agent), timeouts, connection
    errors, malformed JSON, or JSON without a `properties.timeseries` list.
    """
    require_aware(now)
    if not user_agent.strip():
        raise ValueError("MET Norway requires a User-Agent with the app's name and a contact.")
    url = forecast_url(base_url, latitude, longitude)
    headers = {"User-Agent": user_agent, "Accept": "application/json"}
    if if_modified_since:
        headers["If-Modified-Since"] = if_modified_since
    response = get(client, url, NAME, headers, deadline=deadline)
    status = response.status_code
    info: dict[str, Any] = {
        "status": status,
        "last_modified": _http_date(response.headers.get("Last-Modified")),
        "expires": _http_date(response.headers.get("Expires")),
    }
    if status == 304:
        return None, info
    _raise_for_status(status)
    if status == 203:
        log.warning("MET Norway marks locationforecast/2.0/compact as deprecated (HTTP 203).")
    payload = json_of(response, NAME)
    properties = payload.get("properties") if isinstance(payload, dict) else None
    if not isinstance(properties, dict) or not isinstance(properties.get("timeseries"), list):
        raise SourceError(f"{NAME} sent JSON without a properties.timeseries list.", status=status)
    return parse(payload, now, latitude, longitude), info


def _raise_for_status(status: int) -> None:
    if 200 <= status < 300:
        return
    if status == 403:
        raise SourceError(f"{NAME} refused the request: check the User-Agent contact.", status=status)
    if status == 429:
        raise SourceError(
            f"{NAME} answered 429: too many requests, so fetch less often and honour Expires.", status=status
        )
    if status in (400, 404, 422):
        raise SourceError(f"{NAME} answered {status}: it has no forecast for this location.", status=status)
    if status >= 500:
        raise SourceError(
            f"{NAME} answered {status}: the service has a problem, so try again later.", status=status
        )
    raise SourceError(f"{NAME} answered {status} instead of a forecast.", status=status)


def _step(
    time: dt.datetime, data: Mapping[str, Any], previous: tuple[dt.datetime, Mapping[str, Any]] | None
) -> ForecastStep:
    details = _mapping(_mapping(data, "instant"), "details")
    temperature = number(details, "air_temperature", within=TEMPERATURE)
    wind_speed = number(details, "wind_speed", within=WIND)
    humidity = number(details, "relative_humidity", within=HUMIDITY)
    cloud = number(details, "cloud_area_fraction")
    amount, code, hours = _period_before(time, previous)
    symbol, kind, thunder = _read_symbol(code)
    if symbol is None and kind is Precipitation.NONE and amount is not None and amount > SOMETHING_FALLS_MM:
        # no (known) symbol to say what falls: the air temperature is the best guess left
        kind = Precipitation.SNOW if temperature is not None and temperature <= 0 else Precipitation.RAIN
    if code == "lightrain" and amount is not None and amount / hours < DRIZZLE_MM_PER_HOUR:
        kind = Precipitation.DRIZZLE
    return ForecastStep(
        time=time,
        temperature=temperature,
        feels_like=feels_like(temperature, wind_speed, humidity) if temperature is not None else None,
        wind_speed=wind_speed,
        wind_gust=number(details, "wind_speed_of_gust", within=WIND),
        humidity=humidity,
        precipitation_mm=amount,
        precipitation=kind,
        thunder=thunder,
        cloud_cover=cloud if cloud is not None and 0 <= cloud <= 100 else None,
        symbol=symbol,
    )


def _period_before(
    time: dt.datetime, previous: tuple[dt.datetime, Mapping[str, Any]] | None
) -> tuple[float | None, str | None, float]:
    """(amount in mm, symbol code without suffix, hours) for the period that ends at `time`."""
    if previous is None:
        return None, None, 1.0
    start, data = previous
    hours = (time - start) / _HOUR
    one, six = _mapping(data, "next_1_hours"), _mapping(data, "next_6_hours")
    six_amount = number(_mapping(six, "details"), "precipitation_amount", within=PRECIPITATION)
    if hours == 1:
        amount = number(_mapping(one, "details"), "precipitation_amount", within=PRECIPITATION)
        if amount is None and six_amount is not None:
            amount = six_amount / 6
        code = _symbol_code(one) or _symbol_code(six)
    elif 1 < hours <= 6:
        amount = six_amount * hours / 6 if six_amount is not None else None
        code = _symbol_code(six)
    else:
        return None, None, max(hours, 1.0)
    if amount is not None and amount < 0:
        amount = None
    return amount, code, hours


def _symbol_code(period: Mapping[str, Any]) -> str | None:
    code = _mapping(period, "summary").get("symbol_code")
    if not isinstance(code, str) or not code.strip():
        return None
    code = code.strip().lower()
    for suffix in _SUFFIXES:
        code = code.removesuffix(suffix)
    return code


def _read_symbol(code: str | None) -> tuple[Symbol | None, Precipitation, bool]:
    """MET symbol code (suffix stripped) -> (our symbol, what falls, thunder)."""
    if code is None:
        return None, Precipitation.NONE, False
    thunder = "thunder" in code
    if "sleet" in code:
        kind = Precipitation.SLEET
    elif "snow" in code:  # also MET's misspelt "lightssnowshowersandthunder"
        kind = Precipitation.SNOW
    elif "rain" in code:
        kind = Precipitation.RAIN
    elif "hail" in code:
        kind = Precipitation.HAIL
    else:
        kind = Precipitation.NONE
    if thunder:
        return Symbol.THUNDER, kind, True
    if code in _PLAIN_SYMBOLS:
        return _PLAIN_SYMBOLS[code], kind, False
    if kind is Precipitation.SLEET:
        return Symbol.SLEET, kind, False
    if kind is Precipitation.SNOW:
        if code.startswith("heavysnow"):
            return Symbol.HEAVY_SNOW, kind, False
        return (Symbol.SNOW_SHOWERS if "showers" in code else Symbol.SNOW), kind, False
    if kind is Precipitation.RAIN:
        if code.startswith("heavyrain"):
            return Symbol.HEAVY_RAIN, kind, False
        return (Symbol.RAIN_SHOWERS if "showers" in code else Symbol.RAIN), kind, False
    return None, kind, False  # a code we do not know


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _http_date(value: str | None) -> dt.datetime | None:
    """An HTTP date header (RFC 9110) as an aware UTC datetime, or None when absent or unreadable."""
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
        if moment.tzinfo is None:  # "-0000" or an obsolete zone: HTTP dates are GMT
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC)
    except (TypeError, ValueError, IndexError, OverflowError):  # OverflowError: beyond year 9999 in UTC
        return None
