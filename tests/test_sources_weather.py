"""Weather sources against a real HTTP server on 127.0.0.1: SMHI SNOW1gv1 and MET Norway Locationforecast.

The two fixtures in tests/fixtures/ are synthesized from the documented shapes (not recorded): the same
Helsingborg situation, rain from late morning, sleet around midnight, clearing the next day.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from laiban.model.weather import Precipitation, Symbol, feels_like, location_key
from laiban.sources import MAX_BYTES, SourceError, metno, smhi

from .localserver import LocalServer, Reply, Route, Seen, json_reply

FIXTURES = Path(__file__).parent / "fixtures"
UTC = dt.UTC
NOW = dt.datetime(2026, 11, 26, 6, 50, tzinfo=UTC)
LAT, LON = 56.046389, 12.694513  # Helsingborg
SMHI_PATH = "/api/category/snow1g/version/1/geotype/point/lon/12.694513/lat/56.046389/data.json"
MET_PATH = "/locationforecast/2.0/compact"
USER_AGENT = "laiban-tests/0.1 https://example.org/laiban laiban@example.org"
LAST_MODIFIED = "Thu, 26 Nov 2026 06:40:11 GMT"
EXPIRES = "Thu, 26 Nov 2026 07:12:41 GMT"


def utc(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0, trust_env=False) as http:  # trust_env: no proxy for 127.0.0.1
        yield http


@pytest.fixture
def quick_client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=0.5, trust_env=False) as http:
        yield http


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def smhi_payload() -> dict[str, Any]:
    return load("smhi-snow1g-point-helsingborg.json")


@pytest.fixture
def met_payload() -> dict[str, Any]:
    return load("metno-locationforecast-compact-helsingborg.json")


def smhi_fetch(server: LocalServer, http: httpx.Client, route: Route) -> Any:
    server.routes[SMHI_PATH] = route
    return smhi.fetch(http, server.url, LAT, LON, NOW)


def met_fetch(server: LocalServer, http: httpx.Client, route: Route, **kwargs: Any) -> Any:
    server.routes[MET_PATH] = route
    kwargs.setdefault("user_agent", USER_AGENT)
    return metno.fetch(http, server.url, LAT, LON, NOW, **kwargs)


def smhi_step(**data: Any) -> dict[str, Any]:
    return {
        "createdTime": "2026-11-26T06:47:12Z",
        "timeSeries": [
            {
                "time": "2026-11-26T12:00:00Z",
                "intervalParametersStartTime": "2026-11-26T11:00:00Z",
                "data": data,
            }
        ],
    }


# --- SMHI: the fixture ---------------------------------------------------------------------------------

RAIN_HOURS = {utc(26, h) for h in range(12, 20)}  # steps 12:00–19:00 UTC: rain 11:00–19:00 UTC
SLEET_HOURS = {utc(26, 23), *(utc(27, h) for h in range(4))}  # steps 23:00–03:00: sleet 22:00–03:00 UTC


def test_smhi_fetch_parses_the_fixture(server: LocalServer, client: httpx.Client, smhi_payload: Any) -> None:
    forecast = smhi_fetch(server, client, json_reply(smhi_payload))

    assert forecast.source == "smhi"
    assert forecast.fetched_at == NOW
    assert (forecast.latitude, forecast.longitude) == (LAT, LON)
    assert len(forecast.steps) == 80
    assert [step.time for step in forecast.steps] == sorted(step.time for step in forecast.steps)
    first = forecast.steps[0]
    assert first.time == utc(26, 7)
    assert first.temperature == 2.2
    assert first.wind_speed == 6.1
    assert first.wind_gust == 9.2
    assert first.humidity == 82
    assert first.cloud_cover == 100.0  # 8 oktas
    assert first.precipitation_mm == 0.0
    assert first.precipitation is Precipitation.NONE
    assert first.symbol is Symbol.CLOUDY
    assert first.feels_like == feels_like(2.2, 6.1, 82) == -2.7
    assert not first.thunder
    assert forecast.steps[-1].time == dt.datetime(2026, 12, 4, 1, tzinfo=UTC)
    assert forecast == smhi.parse(smhi_payload, NOW, LAT, LON)


def test_smhi_fixture_rain_and_sleet_hours(smhi_payload: Any) -> None:
    steps = {step.time: step for step in smhi.parse(smhi_payload, NOW, LAT, LON).steps}

    assert {t for t, s in steps.items() if s.precipitation is Precipitation.RAIN} == RAIN_HOURS
    assert {t for t, s in steps.items() if s.precipitation is Precipitation.SLEET} == SLEET_HOURS
    assert {
        t for t, s in steps.items() if s.precipitation is not Precipitation.NONE
    } == RAIN_HOURS | SLEET_HOURS
    assert steps[utc(26, 12)].symbol is Symbol.RAIN  # 18 light rain, 1.1 mm
    assert steps[utc(26, 12)].precipitation_mm == 1.1
    assert steps[utc(26, 14)].symbol is Symbol.RAIN  # 19 moderate rain
    assert steps[utc(27, 0)].symbol is Symbol.SLEET  # 22 light sleet
    assert steps[utc(27, 0)].precipitation_mm == 0.5
    assert steps[utc(27, 13)].symbol is Symbol.PARTLY_CLOUDY  # clearing the next day
    assert steps[utc(27, 13)].cloud_cover == 50.0
    assert steps[utc(28, 19)].symbol is Symbol.CLEAR
    assert not any(step.thunder for step in steps.values())


# --- SMHI: the request ---------------------------------------------------------------------------------


def test_smhi_url_is_snow1g_with_lon_before_lat_and_six_decimals(
    server: LocalServer, client: httpx.Client
) -> None:
    path = "/api/category/snow1g/version/1/geotype/point/lon/12.690000/lat/56.046400/data.json"
    server.routes[path] = json_reply({"timeSeries": []})

    forecast = smhi.fetch(client, server.url + "/", 56.0464, 12.69, NOW)

    assert forecast.steps == ()
    assert [seen.path for seen in server.seen] == [path]
    assert "pmp3g" not in server.seen[0].path


def test_smhi_url_rounds_to_six_decimals() -> None:
    url = smhi.point_url("https://smhi.example", 59.3303601234, 18.0772069999)
    assert url == (
        "https://smhi.example/api/category/snow1g/version/1/geotype/point/lon/18.077207/lat/59.330360/data.json"
    )


# --- SMHI: tolerant parsing ----------------------------------------------------------------------------


def test_smhi_missing_keys_give_none() -> None:
    (step,) = smhi.parse(smhi_step(), NOW, LAT, LON).steps
    assert step.time == utc(26, 12)
    assert (step.temperature, step.feels_like, step.wind_speed, step.wind_gust) == (None, None, None, None)
    assert (step.humidity, step.precipitation_mm, step.cloud_cover, step.symbol) == (None, None, None, None)
    assert step.precipitation is Precipitation.NONE
    assert not step.thunder

    (bare,) = smhi.parse({"timeSeries": [{"time": "2026-11-26T12:00:00Z"}]}, NOW, LAT, LON).steps
    assert bare == step


def test_smhi_9999_everywhere_gives_none() -> None:
    keys = [
        "air_temperature",
        "wind_speed",
        "wind_speed_of_gust",
        "relative_humidity",
        "cloud_area_fraction",
        "precipitation_amount_mean",
        "precipitation_amount_mean_deterministic",
        "precipitation_amount_median",
        "precipitation_frozen_part",
        "thunderstorm_probability",
        "predominant_precipitation_type_at_surface",
        "symbol_code",
    ]
    (step,) = smhi.parse(smhi_step(**dict.fromkeys(keys, 9999)), NOW, LAT, LON).steps
    assert (step.temperature, step.feels_like, step.wind_speed, step.wind_gust) == (None, None, None, None)
    assert (step.humidity, step.precipitation_mm, step.cloud_cover, step.symbol) == (None, None, None, None)
    assert step.precipitation is Precipitation.NONE
    assert not step.thunder


def test_smhi_ignores_extra_keys_and_junk_values() -> None:
    (step,) = smhi.parse(
        smhi_step(
            air_temperature="3.5", wind_speed=True, relative_humidity=None, new_parameter=[1], symbol_code=1.0
        ),
        NOW,
        LAT,
        LON,
    ).steps
    assert step.temperature == 3.5
    assert step.wind_speed is None
    assert step.humidity is None
    assert step.symbol is Symbol.CLEAR


def test_smhi_skips_bad_times_and_sorts() -> None:
    payload = {
        "timeSeries": [
            {"time": "2026-11-26T09:00:00Z", "data": {"air_temperature": 9}},
            {"time": "not a time", "data": {"air_temperature": 1}},
            {"data": {"air_temperature": 2}},
            "junk",
            {"time": "2026-11-26T09:00:00+01:00", "data": {"air_temperature": 8}},  # 08:00 UTC
            {"time": "2026-11-26T07:00:00", "data": {"air_temperature": 7}},  # no offset: UTC
            {"time": "2026-11-26T09:00:00Z", "data": {"air_temperature": 99}},  # a repeat: the first wins
        ],
        "extra": {"ignored": True},
    }
    steps = smhi.parse(payload, NOW, LAT, LON).steps
    assert [(step.time, step.temperature) for step in steps] == [
        (utc(26, 7), 7),
        (utc(26, 8), 8),
        (utc(26, 9), 9),
    ]
    assert all(step.time.tzinfo is UTC for step in steps)


@pytest.mark.parametrize("payload", [{}, {"timeSeries": []}, {"timeSeries": None}, {"timeSeries": "x"}, []])
def test_smhi_no_steps_gives_an_empty_forecast(payload: Any) -> None:
    forecast = smhi.parse(payload, NOW, LAT, LON)
    assert forecast.steps == ()
    assert forecast.source == "smhi"


def test_smhi_parse_needs_an_aware_fetch_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        smhi.parse({"timeSeries": []}, dt.datetime(2026, 11, 26, 7), LAT, LON)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"precipitation_amount_mean": 0.7, "precipitation_amount_mean_deterministic": 0.3}, 0.7),
        ({"precipitation_amount_mean": 9999, "precipitation_amount_mean_deterministic": 0.3}, 0.3),
        ({"precipitation_amount_median": 0.2}, 0.2),
        ({"precipitation_amount_min": 0.2, "precipitation_amount_max": 0.9}, None),
    ],
)
def test_smhi_precipitation_amount_fallbacks(data: dict[str, Any], expected: float | None) -> None:
    (step,) = smhi.parse(smhi_step(**data), NOW, LAT, LON).steps
    assert step.precipitation_mm == expected


@pytest.mark.parametrize(
    ("oktas", "percent"), [(0, 0.0), (1, 12.5), (4, 50.0), (8, 100.0), (9, None), (-1, None)]
)
def test_smhi_cloud_cover_from_oktas(oktas: int, percent: float | None) -> None:
    (step,) = smhi.parse(smhi_step(cloud_area_fraction=oktas), NOW, LAT, LON).steps
    assert step.cloud_cover == percent


R, D, S, SN, H, N = (
    Precipitation.RAIN,
    Precipitation.DRIZZLE,
    Precipitation.SLEET,
    Precipitation.SNOW,
    Precipitation.HAIL,
    Precipitation.NONE,
)
SMHI_SYMBOLS = {
    1: (Symbol.CLEAR, N),
    2: (Symbol.CLEAR, N),
    3: (Symbol.PARTLY_CLOUDY, N),
    4: (Symbol.PARTLY_CLOUDY, N),
    5: (Symbol.CLOUDY, N),
    6: (Symbol.CLOUDY, N),
    7: (Symbol.FOG, N),
    8: (Symbol.RAIN_SHOWERS, R),
    9: (Symbol.RAIN_SHOWERS, R),
    10: (Symbol.HEAVY_RAIN, R),
    11: (Symbol.THUNDER, R),
    12: (Symbol.SLEET, S),
    13: (Symbol.SLEET, S),
    14: (Symbol.SLEET, S),
    15: (Symbol.SNOW_SHOWERS, SN),
    16: (Symbol.SNOW_SHOWERS, SN),
    17: (Symbol.HEAVY_SNOW, SN),
    18: (Symbol.RAIN, R),
    19: (Symbol.RAIN, R),
    20: (Symbol.HEAVY_RAIN, R),
    21: (Symbol.THUNDER, R),
    22: (Symbol.SLEET, S),
    23: (Symbol.SLEET, S),
    24: (Symbol.SLEET, S),
    25: (Symbol.SNOW, SN),
    26: (Symbol.SNOW, SN),
    27: (Symbol.HEAVY_SNOW, SN),
}


@pytest.mark.parametrize("code", sorted(SMHI_SYMBOLS))
def test_smhi_symbol_codes(code: int) -> None:
    (step,) = smhi.parse(
        smhi_step(symbol_code=code, precipitation_amount_mean=1.0, precipitation_frozen_part=-9),
        NOW,
        LAT,
        LON,
    ).steps
    symbol, kind = SMHI_SYMBOLS[code]
    expected_kind = kind if kind is not N else R  # 1 mm under a dry symbol: the amount decides
    assert (step.symbol, step.precipitation, step.thunder) == (symbol, expected_kind, code in (11, 21))


def test_smhi_unknown_symbol_code_gives_no_symbol() -> None:
    (step,) = smhi.parse(smhi_step(symbol_code=28), NOW, LAT, LON).steps
    assert step.symbol is None
    assert step.precipitation is Precipitation.NONE


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"precipitation_amount_mean": 0.05, "precipitation_frozen_part": 0}, N),  # too little to count
        ({"precipitation_amount_mean": 0.0, "precipitation_frozen_part": -9}, N),
        ({"precipitation_amount_mean": 1.0, "precipitation_frozen_part": 100}, SN),
        ({"precipitation_amount_mean": 1.0, "precipitation_frozen_part": 80}, SN),
        ({"precipitation_amount_mean": 1.0, "precipitation_frozen_part": 79}, S),
        ({"precipitation_amount_mean": 1.0, "precipitation_frozen_part": 20}, S),
        ({"precipitation_amount_mean": 1.0, "precipitation_frozen_part": 19}, R),
        ({"precipitation_amount_mean": 0.29, "precipitation_frozen_part": 0}, D),
        ({"precipitation_amount_mean": 0.3, "precipitation_frozen_part": 0}, R),
        ({"precipitation_amount_mean": 0.2, "precipitation_frozen_part": 90}, SN),  # light snow is snow
        ({"precipitation_amount_mean": 1.0, "precipitation_frozen_part": 0, "x_type": 10}, H),
        ({"precipitation_amount_mean": 1.0, "precipitation_frozen_part": 0, "x_type": 11}, D),
        # −9 (nothing falls) although an amount is given: the type code hints, then the temperature
        ({"precipitation_amount_mean": 1.0, "precipitation_frozen_part": -9, "x_type": 5}, SN),
        ({"precipitation_amount_mean": 1.0, "precipitation_frozen_part": -9, "x_type": 7}, S),
        ({"precipitation_amount_mean": 1.0, "precipitation_frozen_part": -9, "air_temperature": 3}, R),
        ({"precipitation_amount_mean": 1.0, "precipitation_frozen_part": -9, "air_temperature": -2}, SN),
        ({"precipitation_amount_mean": 1.0, "precipitation_frozen_part": 9999, "air_temperature": -2}, SN),
    ],
)
def test_smhi_precipitation_without_a_wet_symbol(data: dict[str, Any], expected: Precipitation) -> None:
    data = dict(data)
    if "x_type" in data:
        data["predominant_precipitation_type_at_surface"] = data.pop("x_type")
    (step,) = smhi.parse(smhi_step(symbol_code=6, **data), NOW, LAT, LON).steps
    assert step.precipitation is expected
    assert step.symbol is Symbol.CLOUDY


def test_smhi_frozen_part_minus_nine_with_no_amount_is_dry() -> None:
    (step,) = smhi.parse(smhi_step(precipitation_frozen_part=-9, air_temperature=-5), NOW, LAT, LON).steps
    assert step.precipitation is Precipitation.NONE


def test_smhi_light_rain_symbol_with_little_water_is_drizzle() -> None:
    (light,) = smhi.parse(smhi_step(symbol_code=18, precipitation_amount_mean=0.2), NOW, LAT, LON).steps
    (more,) = smhi.parse(smhi_step(symbol_code=18, precipitation_amount_mean=0.3), NOW, LAT, LON).steps
    (showers,) = smhi.parse(smhi_step(symbol_code=8, precipitation_amount_mean=0.1), NOW, LAT, LON).steps
    assert (light.precipitation, more.precipitation, showers.precipitation) == (D, R, R)


def test_smhi_drizzle_counts_per_hour_in_longer_steps() -> None:
    payload = {
        "timeSeries": [
            {
                "time": "2026-11-29T13:00:00Z",
                "intervalParametersStartTime": "2026-11-29T07:00:00Z",
                "data": {"precipitation_amount_mean": 1.2, "precipitation_frozen_part": 0, "symbol_code": 6},
            }
        ]
    }
    (step,) = smhi.parse(payload, NOW, LAT, LON).steps
    assert step.precipitation_mm == 1.2  # over the six hours
    assert step.precipitation is Precipitation.DRIZZLE  # 0.2 mm per hour


@pytest.mark.parametrize(
    ("data", "thunder"),
    [
        ({"thunderstorm_probability": 50}, True),
        ({"thunderstorm_probability": 49}, False),
        ({"predominant_precipitation_type_at_surface": 2}, True),
        ({"symbol_code": 21}, True),
        ({"symbol_code": 19}, False),
    ],
)
def test_smhi_thunder(data: dict[str, Any], thunder: bool) -> None:
    (step,) = smhi.parse(smhi_step(**data), NOW, LAT, LON).steps
    assert step.thunder is thunder


def test_smhi_feels_like_uses_wind_and_humidity() -> None:
    (cold,) = smhi.parse(smhi_step(air_temperature=0, wind_speed=5), NOW, LAT, LON).steps
    (still,) = smhi.parse(smhi_step(air_temperature=0), NOW, LAT, LON).steps
    (hot,) = smhi.parse(
        smhi_step(air_temperature=30, wind_speed=1, relative_humidity=70), NOW, LAT, LON
    ).steps
    assert (cold.feels_like, still.feels_like, hot.feels_like) == (-4.9, 0.0, 35.0)


# --- SMHI: errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 400])
def test_smhi_out_of_area(server: LocalServer, client: httpx.Client, status: int) -> None:
    with pytest.raises(SourceError) as caught:
        smhi_fetch(server, client, json_reply({"error": "outside"}, status))
    assert str(caught.value) == f"SMHI answered {status}: the location is outside its area."
    assert caught.value.status == status


def test_smhi_server_error(server: LocalServer, client: httpx.Client) -> None:
    with pytest.raises(SourceError, match=r"^SMHI answered 500: the service has a problem") as caught:
        smhi_fetch(server, client, Reply(500, b"oops"))
    assert caught.value.status == 500


def test_smhi_too_many_requests(server: LocalServer, client: httpx.Client) -> None:
    with pytest.raises(SourceError, match=r"^SMHI answered 429: too many requests"):
        smhi_fetch(server, client, Reply(429))


def test_smhi_malformed_json(server: LocalServer, client: httpx.Client) -> None:
    with pytest.raises(SourceError, match=r"^SMHI sent a reply that is not valid JSON\.$"):
        smhi_fetch(server, client, Reply(200, b'{"timeSeries": [', {"Content-Type": "application/json"}))


@pytest.mark.parametrize("payload", [{"approvedTime": "x"}, {"timeSeries": {}}, [1, 2]])
def test_smhi_json_without_time_series(server: LocalServer, client: httpx.Client, payload: Any) -> None:
    with pytest.raises(SourceError, match=r"^SMHI sent JSON without a timeSeries list\.$"):
        smhi_fetch(server, client, json_reply(payload))


def test_smhi_empty_time_series_is_a_forecast_without_steps(
    server: LocalServer, client: httpx.Client
) -> None:
    forecast = smhi_fetch(server, client, json_reply({"timeSeries": []}))
    assert forecast.steps == ()
    assert forecast.fetched_at == NOW


def test_smhi_timeout(server: LocalServer, quick_client: httpx.Client, smhi_payload: Any) -> None:
    slow = json_reply(smhi_payload)
    slow.delay = 10  # cut short when the test ends
    with pytest.raises(SourceError, match=r"^SMHI did not answer in time \(within 0\.5 seconds\)\.$"):
        smhi_fetch(server, quick_client, slow)


def test_smhi_connection_refused(client: httpx.Client) -> None:
    with socket.socket() as probe:  # a port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceError, match=r"^SMHI could not be reached \(.+\)\.$"):
        smhi.fetch(client, f"http://127.0.0.1:{port}", LAT, LON, NOW)


# --- MET Norway: the fixture ---------------------------------------------------------------------------


def test_metno_fetch_parses_the_fixture(server: LocalServer, client: httpx.Client, met_payload: Any) -> None:
    forecast, info = met_fetch(
        server, client, json_reply(met_payload, headers={"Last-Modified": LAST_MODIFIED, "Expires": EXPIRES})
    )

    assert forecast is not None
    assert forecast.source == "metno"
    assert forecast.fetched_at == NOW
    assert (forecast.latitude, forecast.longitude) == (LAT, LON)
    assert len(forecast.steps) == 24
    first, second = forecast.steps[:2]
    assert first.time == utc(26, 7)
    assert first.temperature == 2.2
    assert first.cloud_cover == 100.0
    assert first.humidity == 82
    assert first.wind_gust is None  # compact has no gusts
    assert first.feels_like == -2.7
    # the first entry has no hour before it: what fell is unknown
    assert (first.precipitation_mm, first.symbol, first.precipitation) == (None, None, Precipitation.NONE)
    assert (second.time, second.temperature, second.symbol, second.precipitation_mm) == (
        utc(26, 8),
        2.8,
        Symbol.CLOUDY,
        0.0,
    )
    assert forecast.steps[-1].time == utc(27, 6)
    assert info == {
        "status": 200,
        "last_modified": dt.datetime(2026, 11, 26, 6, 40, 11, tzinfo=UTC),
        "expires": dt.datetime(2026, 11, 26, 7, 12, 41, tzinfo=UTC),
    }
    assert forecast == metno.parse(met_payload, NOW, LAT, LON)


def test_metno_fixture_rain_and_sleet_hours(met_payload: Any) -> None:
    steps = {step.time: step for step in metno.parse(met_payload, NOW, LAT, LON).steps}

    # MET's entries say what falls in the hour AFTER their time; our steps, the hour before: one hour later
    later = dt.timedelta(hours=1)
    rain = {t + later for t in RAIN_HOURS}  # steps 13:00–20:00 UTC
    sleet = {t + later for t in SLEET_HOURS}  # steps 00:00–04:00 UTC
    assert {t for t, s in steps.items() if s.precipitation is Precipitation.RAIN} == rain
    assert {t for t, s in steps.items() if s.precipitation is Precipitation.SLEET} == sleet
    assert {t for t, s in steps.items() if s.precipitation is not Precipitation.NONE} == rain | sleet
    assert steps[utc(26, 13)].symbol is Symbol.RAIN  # "lightrain", 1.1 mm from 12:00
    assert steps[utc(26, 13)].precipitation_mm == 1.1
    assert steps[utc(26, 13)].temperature == 5.2  # instant values stay at their own time
    assert steps[utc(27, 1)].symbol is Symbol.SLEET
    assert steps[utc(27, 6)].symbol is Symbol.CLOUDY


# --- MET Norway: the request ---------------------------------------------------------------------------


def test_metno_url_has_four_decimals_and_sends_the_user_agent(
    server: LocalServer, client: httpx.Client, met_payload: Any
) -> None:
    met_fetch(server, client, json_reply(met_payload))

    (seen,) = server.seen
    assert seen.path == "/locationforecast/2.0/compact?lat=56.0464&lon=12.6945"
    assert seen.headers["user-agent"] == USER_AGENT
    assert "if-modified-since" not in seen.headers


def test_metno_base_url_with_a_path_and_trailing_slash() -> None:
    url = metno.forecast_url("https://api.met.no/weatherapi/", 59.33036, 18.07721)
    assert url == "https://api.met.no/weatherapi/locationforecast/2.0/compact?lat=59.3304&lon=18.0772"


def test_metno_403_without_a_proper_user_agent(
    server: LocalServer, client: httpx.Client, met_payload: Any
) -> None:
    def guard(seen: Seen) -> Reply:
        agent = seen.headers.get("user-agent", "")
        if "@" not in agent or agent.startswith("python-httpx"):
            return Reply(403, b"Please identify yourself")
        return json_reply(met_payload)

    with pytest.raises(SourceError) as caught:
        met_fetch(server, client, guard, user_agent="python-httpx/0.28.1")
    assert str(caught.value) == "MET Norway refused the request: check the User-Agent contact."
    assert caught.value.status == 403

    forecast, _ = met_fetch(server, client, guard)
    assert forecast is not None


def test_metno_needs_a_user_agent(client: httpx.Client) -> None:
    with pytest.raises(ValueError, match="User-Agent"):
        metno.fetch(client, "http://127.0.0.1:9", LAT, LON, NOW, user_agent=" ")


def test_metno_304_with_if_modified_since(
    server: LocalServer, client: httpx.Client, met_payload: Any
) -> None:
    def conditional(seen: Seen) -> Reply:
        headers = {"Last-Modified": LAST_MODIFIED, "Expires": EXPIRES}
        if seen.headers.get("if-modified-since") == LAST_MODIFIED:
            return Reply(304, b"", headers)
        return json_reply(met_payload, headers=headers)

    first, _ = met_fetch(server, client, conditional)
    assert first is not None
    again, info_again = met_fetch(server, client, conditional, if_modified_since=LAST_MODIFIED)

    assert again is None
    assert info_again == {
        "status": 304,
        "last_modified": dt.datetime(2026, 11, 26, 6, 40, 11, tzinfo=UTC),
        "expires": dt.datetime(2026, 11, 26, 7, 12, 41, tzinfo=UTC),
    }
    assert server.seen[-1].headers["if-modified-since"] == LAST_MODIFIED


@pytest.mark.parametrize(
    ("headers", "last_modified", "expires"),
    [
        ({}, None, None),
        ({"Expires": "soon", "Last-Modified": ""}, None, None),
        (
            {"Expires": "Fri, 27 Nov 2026 00:05:00 GMT", "Last-Modified": "Thu, 26 Nov 2026 23:59:59 +0100"},
            dt.datetime(2026, 11, 26, 22, 59, 59, tzinfo=UTC),
            dt.datetime(2026, 11, 27, 0, 5, tzinfo=UTC),
        ),
        (
            {"Expires": "Thu, 26 Nov 2026 07:12:41 -0000"},
            None,
            dt.datetime(2026, 11, 26, 7, 12, 41, tzinfo=UTC),
        ),
    ],
)
def test_metno_expires_and_last_modified(
    server: LocalServer,
    client: httpx.Client,
    headers: dict[str, str],
    last_modified: dt.datetime | None,
    expires: dt.datetime | None,
) -> None:
    _, info = met_fetch(server, client, json_reply({"properties": {"timeseries": []}}, headers=headers))
    assert (info["last_modified"], info["expires"]) == (last_modified, expires)
    for moment in (info["last_modified"], info["expires"]):
        assert moment is None or moment.utcoffset() == dt.timedelta(0)


# --- MET Norway: tolerant parsing ----------------------------------------------------------------------


def met_entry(time: str, instant: dict[str, Any] | None = None, **periods: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if instant is not None:
        data["instant"] = {"details": instant}
    for key, (code, amount) in periods.items():
        period: dict[str, Any] = {}
        if code is not None:
            period["summary"] = {"symbol_code": code}
        if amount is not None:
            period["details"] = {"precipitation_amount": amount}
        data[key] = period
    return {"time": time, "data": data}


def met_parse(*entries: dict[str, Any]) -> list[Any]:
    return list(metno.parse({"properties": {"timeseries": list(entries)}}, NOW, LAT, LON).steps)


def test_metno_missing_keys_give_none() -> None:
    payload = {
        "properties": {
            "timeseries": [
                {"time": "2026-11-26T10:00:00Z"},
                {"time": "2026-11-26T11:00:00Z", "data": {"instant": {}, "next_1_hours": {}}},
                {"time": "2026-11-26T12:00:00Z", "data": {"instant": {"details": {"air_temperature": None}}}},
                {"time": "bad"},
                "junk",
            ]
        }
    }
    steps = metno.parse(payload, NOW, LAT, LON).steps
    assert [step.time for step in steps] == [utc(26, 10), utc(26, 11), utc(26, 12)]
    for step in steps:
        assert (step.temperature, step.feels_like, step.wind_speed, step.humidity) == (None, None, None, None)
        assert (step.precipitation_mm, step.symbol, step.cloud_cover) == (None, None, None)
        assert step.precipitation is Precipitation.NONE


@pytest.mark.parametrize("payload", [{}, {"properties": {}}, {"properties": {"timeseries": None}}, []])
def test_metno_no_steps_gives_an_empty_forecast(payload: Any) -> None:
    assert metno.parse(payload, NOW, LAT, LON).steps == ()


def test_metno_instant_values_and_gusts() -> None:
    _, step = met_parse(
        met_entry("2026-11-26T10:00:00Z", {}, next_1_hours=("clearsky_day", 0.0)),
        met_entry(
            "2026-11-26T11:00:00Z",
            {
                "air_temperature": -3.0,
                "wind_speed": 4.0,
                "wind_speed_of_gust": 9.5,
                "relative_humidity": 91.2,
                "cloud_area_fraction": 12.5,
                "unknown": "ignored",
            },
        ),
    )
    assert (step.temperature, step.wind_speed, step.wind_gust, step.humidity) == (-3.0, 4.0, 9.5, 91.2)
    assert step.cloud_cover == 12.5
    assert step.feels_like == feels_like(-3.0, 4.0, 91.2)
    assert step.symbol is Symbol.CLEAR


def test_metno_falls_back_to_the_six_hour_period() -> None:
    _, step = met_parse(
        met_entry("2026-11-26T10:00:00Z", {}, next_6_hours=("heavyrain", 3.0)),
        met_entry("2026-11-26T11:00:00Z", {}),
    )
    assert step.precipitation_mm == 0.5
    assert (step.symbol, step.precipitation) == (Symbol.HEAVY_RAIN, Precipitation.RAIN)

    _, mixed = met_parse(
        met_entry("2026-11-26T10:00:00Z", {}, next_1_hours=("snow", None), next_6_hours=("rain", 1.2)),
        met_entry("2026-11-26T11:00:00Z", {}),
    )
    assert (mixed.symbol, mixed.precipitation, mixed.precipitation_mm) == (
        Symbol.SNOW,
        SN,
        pytest.approx(0.2),
    )


def test_metno_six_hourly_tail_carries_the_six_hour_total() -> None:
    steps = met_parse(
        met_entry(
            "2026-11-28T18:00:00Z",
            {"air_temperature": 1},
            next_1_hours=("rain", 0.4),
            next_6_hours=("sleet", 3),
        ),
        met_entry("2026-11-29T00:00:00Z", {"air_temperature": 0}, next_6_hours=("snow", 1.0)),
        met_entry("2026-11-29T18:00:00Z", {"air_temperature": 2}),  # 18 h gap: unknown
    )
    assert [step.time for step in steps] == [utc(28, 18), utc(29, 0), utc(29, 18)]
    assert (steps[1].precipitation_mm, steps[1].symbol, steps[1].precipitation) == (3, Symbol.SLEET, S)
    assert (steps[2].precipitation_mm, steps[2].symbol, steps[2].precipitation) == (None, None, N)


def test_metno_light_rain_with_little_water_is_drizzle() -> None:
    _, light = met_parse(
        met_entry("2026-11-26T10:00:00Z", {}, next_1_hours=("lightrain", 0.2)),
        met_entry("2026-11-26T11:00:00Z"),
    )
    _, more = met_parse(
        met_entry("2026-11-26T10:00:00Z", {}, next_1_hours=("lightrain", 0.3)),
        met_entry("2026-11-26T11:00:00Z"),
    )
    _, showers = met_parse(
        met_entry("2026-11-26T10:00:00Z", {}, next_1_hours=("lightrainshowers_day", 0.1)),
        met_entry("2026-11-26T11:00:00Z"),
    )
    assert (light.precipitation, more.precipitation, showers.precipitation) == (D, R, R)
    assert light.symbol is Symbol.RAIN


def test_metno_amount_without_a_symbol_guesses_from_the_temperature() -> None:
    _, cold = met_parse(
        met_entry("2026-11-26T10:00:00Z", {}, next_1_hours=(None, 1.0)),
        met_entry("2026-11-26T11:00:00Z", {"air_temperature": -1}),
    )
    _, dry_symbol = met_parse(
        met_entry("2026-11-26T10:00:00Z", {}, next_1_hours=("cloudy", 0.1)),
        met_entry("2026-11-26T11:00:00Z", {"air_temperature": -1}),
    )
    assert (cold.symbol, cold.precipitation) == (None, SN)
    assert (dry_symbol.symbol, dry_symbol.precipitation) == (Symbol.CLOUDY, N)  # MET's symbol says dry


MET_SYMBOLS = {
    "clearsky_day": (Symbol.CLEAR, N),
    "clearsky_polartwilight": (Symbol.CLEAR, N),
    "fair_night": (Symbol.PARTLY_CLOUDY, N),
    "partlycloudy_day": (Symbol.PARTLY_CLOUDY, N),
    "cloudy": (Symbol.CLOUDY, N),
    "fog": (Symbol.FOG, N),
    "lightrainshowers_day": (Symbol.RAIN_SHOWERS, R),
    "rainshowers_night": (Symbol.RAIN_SHOWERS, R),
    "heavyrainshowers_day": (Symbol.HEAVY_RAIN, R),
    "lightrain": (Symbol.RAIN, R),
    "rain": (Symbol.RAIN, R),
    "heavyrain": (Symbol.HEAVY_RAIN, R),
    "rainandthunder": (Symbol.THUNDER, R),
    "heavyrainshowersandthunder_night": (Symbol.THUNDER, R),
    "lightsleet": (Symbol.SLEET, S),
    "sleetshowers_day": (Symbol.SLEET, S),
    "heavysleet": (Symbol.SLEET, S),
    "sleetandthunder": (Symbol.THUNDER, S),
    "lightsnowshowers_day": (Symbol.SNOW_SHOWERS, SN),
    "snowshowers_polartwilight": (Symbol.SNOW_SHOWERS, SN),
    "heavysnowshowers_night": (Symbol.HEAVY_SNOW, SN),
    "lightsnow": (Symbol.SNOW, SN),
    "snow": (Symbol.SNOW, SN),
    "heavysnow": (Symbol.HEAVY_SNOW, SN),
    "lightssnowshowersandthunder_day": (Symbol.THUNDER, SN),  # sic, MET's spelling
    "heavysnowandthunder": (Symbol.THUNDER, SN),
    "something_new": (None, R),  # unknown: 1 mm at an unknown temperature
}


@pytest.mark.parametrize("code", sorted(MET_SYMBOLS))
def test_metno_symbol_codes(code: str) -> None:
    _, step = met_parse(
        met_entry("2026-11-26T10:00:00Z", {}, next_1_hours=(code, 1.0)), met_entry("2026-11-26T11:00:00Z", {})
    )
    symbol, kind = MET_SYMBOLS[code]
    assert (step.symbol, step.precipitation, step.thunder) == (symbol, kind, "thunder" in code)


# --- MET Norway: errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(500, b"oops"), r"^MET Norway answered 500: the service has a problem"),
        (Reply(429), r"^MET Norway answered 429: too many requests"),
        (Reply(422), r"^MET Norway answered 422: it has no forecast for this location\.$"),
        (
            Reply(200, b"<html>", {"Content-Type": "text/html"}),
            r"^MET Norway sent a reply that is not valid JSON\.$",
        ),
        (json_reply({"type": "Feature"}), r"^MET Norway sent JSON without a properties\.timeseries list\.$"),
        (json_reply({"properties": {"timeseries": {}}}), r"^MET Norway sent JSON without a properties"),
    ],
)
def test_metno_errors(server: LocalServer, client: httpx.Client, reply: Reply, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        met_fetch(server, client, reply)


def test_metno_timeout(server: LocalServer, quick_client: httpx.Client) -> None:
    with pytest.raises(SourceError, match=r"^MET Norway did not answer in time \(within 0\.5 seconds\)\.$"):
        met_fetch(server, quick_client, Reply(200, b"{}", delay=10))


def test_metno_connection_refused(client: httpx.Client) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceError, match=r"^MET Norway could not be reached \(.+\)\.$"):
        metno.fetch(client, f"http://127.0.0.1:{port}", LAT, LON, NOW, user_agent=USER_AGENT)


# --- replies that are too slow, too large or odd on the wire (sources.get, shared by every source) ---------

DEADLINE = 1.0  # seconds: the deadline these tests give (the jobs use sources.DEADLINE, 30 s)
JSON_TYPE = {"Content-Type": "application/json"}
TOO_LARGE = "Källan skickade ett alldeles för stort svar. Laiban försöker igen senare."


def test_the_fixtures_still_parse_within_the_tests_deadline(
    server: LocalServer, client: httpx.Client, smhi_payload: Any, met_payload: Any
) -> None:
    server.routes[SMHI_PATH] = json_reply(smhi_payload)
    assert smhi.fetch(client, server.url, LAT, LON, NOW, deadline=DEADLINE) == smhi.parse(
        smhi_payload, NOW, LAT, LON
    )
    server.routes[MET_PATH] = json_reply(met_payload)
    forecast, _ = metno.fetch(client, server.url, LAT, LON, NOW, user_agent=USER_AGENT, deadline=DEADLINE)
    assert forecast == metno.parse(met_payload, NOW, LAT, LON)
    assert server.seen[-1].headers["connection"] == "close"  # a connection of its own (see sources.get)


def test_a_trickling_reply_is_given_up_at_the_deadline(server: LocalServer, client: httpx.Client) -> None:
    body = (FIXTURES / "smhi-snow1g-point-helsingborg.json").read_bytes()
    # 100 bytes every 50 ms: each read is far within the client's 5 s timeout, the whole takes 40 s.
    server.routes[SMHI_PATH] = Reply(200, body, JSON_TYPE, pace=0.05, piece=100)
    with pytest.raises(SourceError) as caught:
        smhi.fetch(client, server.url, LAT, LON, NOW, deadline=DEADLINE)
    assert str(caught.value) == "SMHI did not finish its reply within 1 second."
    assert (caught.value.kind, caught.value.status) == ("timeout", None)
    assert caught.value.in_swedish() == "Källan svarade inte i tid. Laiban försöker igen senare."
    seen = server.seen[-1]
    assert seen.ended.wait(10) and seen.hung_up  # the client hung up …
    assert seen.sent < len(body)  # … before the body was all there (on a busy machine maybe before any)


def test_trickling_headers_are_given_up_at_the_deadline(server: LocalServer, client: httpx.Client) -> None:
    # The status line and headers a byte every 50 ms: some 6 s before the body could even start.
    server.routes[MET_PATH] = Reply(200, b"{}", JSON_TYPE, pace=0.05, slow_head=True)
    with pytest.raises(SourceError, match=r"^MET Norway did not finish its reply within 1 second\.$"):
        metno.fetch(client, server.url, LAT, LON, NOW, user_agent=USER_AGENT, deadline=DEADLINE)
    seen = server.seen[-1]
    assert seen.ended.wait(10) and seen.hung_up and seen.sent == 0


def test_an_endless_reply_is_cut_at_the_size_cap(server: LocalServer, client: httpx.Client) -> None:
    # Whitespace is valid padding in JSON: the reply could only be judged at its end, which never comes.
    server.routes[SMHI_PATH] = Reply(200, b" " * 65536, JSON_TYPE, endless=True)
    with pytest.raises(SourceError) as caught:
        smhi.fetch(client, server.url, LAT, LON, NOW)  # the jobs' deadline: the cap ends it
    assert str(caught.value) == "SMHI sent more than 5 MB."
    assert (caught.value.kind, caught.value.status) == ("too_large", 200)
    assert caught.value.in_swedish() == TOO_LARGE
    seen = server.seen[-1]
    assert seen.ended.wait(10) and seen.hung_up  # the client stopped reading and hung up
    assert seen.sent > MAX_BYTES  # it read up to the cap (not less), and no further than the server sent


@pytest.mark.parametrize("extra", [0, 1])
def test_a_reply_of_exactly_the_cap_is_read_one_byte_more_is_not(
    server: LocalServer, client: httpx.Client, smhi_payload: Any, extra: int
) -> None:
    body = json.dumps(smhi_payload).encode()
    server.routes[SMHI_PATH] = Reply(200, body + b" " * (MAX_BYTES - len(body) + extra), JSON_TYPE)
    if extra:
        with pytest.raises(SourceError, match=r"^SMHI sent more than 5 MB\.$"):
            smhi.fetch(client, server.url, LAT, LON, NOW)
    else:
        assert smhi.fetch(client, server.url, LAT, LON, NOW) == smhi.parse(smhi_payload, NOW, LAT, LON)


def test_a_compressed_reply_is_decoded_and_capped_by_its_decoded_size(
    server: LocalServer, client: httpx.Client, smhi_payload: Any
) -> None:
    gzipped = {**JSON_TYPE, "Content-Encoding": "gzip"}
    server.routes[SMHI_PATH] = Reply(200, gzip.compress(json.dumps(smhi_payload).encode()), gzipped)
    assert smhi.fetch(client, server.url, LAT, LON, NOW) == smhi.parse(smhi_payload, NOW, LAT, LON)

    bomb = gzip.compress(b" " * (MAX_BYTES + 1))  # some 5 kB over the wire
    server.routes[SMHI_PATH] = Reply(200, bomb, gzipped)
    with pytest.raises(SourceError, match=r"^SMHI sent more than 5 MB\.$"):
        smhi.fetch(client, server.url, LAT, LON, NOW)


def test_a_body_that_does_not_decode_is_a_source_error(server: LocalServer, client: httpx.Client) -> None:
    server.routes[SMHI_PATH] = Reply(200, b'{"timeSeries": []}', {**JSON_TYPE, "Content-Encoding": "gzip"})
    with pytest.raises(SourceError, match=r"^SMHI sent a reply that cannot be decoded\.$") as caught:
        smhi.fetch(client, server.url, LAT, LON, NOW)  # was httpx.DecodingError, past the jobs' handler
    assert (caught.value.kind, caught.value.status) == ("invalid", 200)


def test_a_redirect_loop_is_a_source_error(server: LocalServer) -> None:
    server.routes[SMHI_PATH] = Reply(302, headers={"Location": SMHI_PATH})
    with (
        httpx.Client(timeout=5.0, trust_env=False, follow_redirects=True) as jobs_like,
        pytest.raises(SourceError, match=r"^SMHI could not be reached \(.*redirects\)\.$") as caught,
    ):
        smhi.fetch(jobs_like, server.url, LAT, LON, NOW)  # was httpx.TooManyRedirects
    assert caught.value.kind == "unreachable"


# --- values no weather has -----------------------------------------------------------------------------


def test_smhi_values_no_weather_has_are_unreadable() -> None:
    (step,) = smhi.parse(
        smhi_step(
            air_temperature=1e300,  # finite, but the feels-like formula overflowed it into NaN
            relative_humidity=100,
            wind_speed=1e300,
            wind_speed_of_gust=-1,
            precipitation_amount_mean=1e300,
            precipitation_amount_median=0.4,
        ),
        NOW,
        LAT,
        LON,
    ).steps
    assert (step.temperature, step.feels_like, step.wind_speed, step.wind_gust) == (None, None, None, None)
    assert (step.humidity, step.precipitation_mm) == (100, 0.4)  # the next amount that is plausible
    (cold,) = smhi.parse(smhi_step(air_temperature=-89.2, relative_humidity=101), NOW, LAT, LON).steps
    assert (cold.temperature, cold.humidity) == (-89.2, None)
    (hot,) = smhi.parse(smhi_step(air_temperature=56.7, relative_humidity=40), NOW, LAT, LON).steps
    assert hot.temperature == 56.7 and hot.feels_like is not None and math.isfinite(hot.feels_like)


def test_metno_values_no_weather_has_are_unreadable() -> None:
    _, step = met_parse(
        met_entry("2026-11-26T10:00:00Z", {}, next_6_hours=("rain", 1.5e308)),  # × 5 / 6 overflowed
        met_entry(
            "2026-11-26T15:00:00Z",
            {"air_temperature": 1e300, "relative_humidity": 100, "wind_speed": -2, "wind_speed_of_gust": 1e9},
        ),
    )
    assert (step.temperature, step.feels_like, step.wind_speed, step.wind_gust) == (None, None, None, None)
    assert step.humidity == 100
    assert step.precipitation_mm is None and step.symbol is Symbol.RAIN


# --- feels-like and the location key -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("temperature", "wind", "humidity", "expected"),
    [
        (10, 2, None, 9.2),  # both wind-chill limits: applies
        (10.1, 2, None, 10.1),  # a little too warm
        (10, 1.9, None, 10.0),  # a little too calm
        (0, 5, None, -4.9),  # 18 km/h at 0 °C
        (-40, 35, None, -70.8),  # 126 km/h at −40 °C
        (-40.1, 5, None, -40.1),
        (-10, 35.1, None, -10.0),
        (0, None, 80, 0.0),
        (27, 1, 40, 27.0),  # both heat-index limits: never below the air
        (30, 1, 70, 35.0),  # NWS table: 86 °F at 70 % feels like 95 °F
        (26.9, 1, 90, 26.9),
        (30, 1, 39.9, 30.0),
        (30, 1, None, 30.0),
    ],
)
def test_feels_like(temperature: float, wind: float | None, humidity: float | None, expected: float) -> None:
    assert feels_like(temperature, wind, humidity) == expected


def test_feels_like_matches_the_wind_chill_formula() -> None:
    v = 6.1**0.16
    assert feels_like(2.2, 6.1, None) == round(13.12 + 0.6215 * 2.2 - 13.956 * v + 0.48669 * 2.2 * v, 1)


@pytest.mark.parametrize(
    ("latitude", "longitude", "key"),
    [
        (56.046389, 12.694513, "56.05,12.69"),
        (56.0449, 12.6949, "56.04,12.69"),
        (56.0451, 12.6951, "56.05,12.70"),
        (59.335, 18.065, "59.34,18.07"),  # halves go up
        (-0.004, -0.006, "0.00,-0.01"),
        (0, 0, "0.00,0.00"),
    ],
)
def test_location_key_rounds_to_hundredths(latitude: float, longitude: float, key: str) -> None:
    assert location_key(latitude, longitude) == key


def test_nearby_preschools_share_a_location_key() -> None:
    assert location_key(56.0461, 12.6941) == location_key(56.0464, 12.6945) != location_key(56.0564, 12.6945)
