"""Weather and clothes: the rules, the skills at fixed times, the refresh job against a local server,
corrections and ratings, the admin page, and the `laiban fetch` + `laiban ask` path end to end."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from laiban.config import Settings
from laiban.i18n import render
from laiban.jobs.weather import refresh_forecasts
from laiban.model.garments import Condition
from laiban.model.intent import Intent
from laiban.model.today import ClockEvent, Today
from laiban.model.weather import Forecast, ForecastStep, Precipitation, Symbol
from laiban.skills import clothes, weather
from laiban.skills.outdoors import condition_for, rule_garments
from laiban.sources import smhi
from laiban.store import weather as stored
from laiban.store.tables import GarmentRating, Preschool, ScheduleEvent, StoredForecast

from .conftest import Browser, SignIn
from .localserver import LocalServer, Reply, json_reply
from .world import PASSWORD, World

FIXTURES = Path(__file__).with_name("fixtures")
STOCKHOLM = ZoneInfo("Europe/Stockholm")
SMHI_FIXTURE = json.loads((FIXTURES / "smhi-snow1g-point-helsingborg.json").read_text())
METNO_FIXTURE = json.loads((FIXTURES / "metno-locationforecast-compact-helsingborg.json").read_text())
SMHI_PATH = "/api/category/snow1g/version/1/geotype/point/lon/12.694500/lat/56.046400/data.json"
METNO_PATH = "/locationforecast/2.0/compact"


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=STOCKHOLM)


def fixture_forecast(fetched_at: dt.datetime | None = None) -> Forecast:
    return smhi.parse(SMHI_FIXTURE, fetched_at or local(26, 8), 56.0464, 12.6945)


def today_at(moment: dt.datetime, forecast: Forecast | None = None, **changes: object) -> Today:
    values: dict[str, object] = {
        "now": moment,
        "preschool_name": "Förskolan Solrosen",
        "modules": ("weather",),
        "languages": ("sv", "en"),
        "events": (
            ClockEvent(dt.time(10, 0), "outdoor", "Ute"),
            ClockEvent(dt.time(15, 0), "outdoor", "Ute"),
        ),
        "forecast": forecast if forecast is not None else fixture_forecast(moment - dt.timedelta(minutes=5)),
    }
    values.update(changes)
    return Today(**values)  # type: ignore[arg-type]


def say(answer_for, intent: Intent, today: Today, lang: str = "sv") -> str:  # type: ignore[no-untyped-def]
    return render(answer_for(intent, today), lang).text


# --- the clothes rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("feels", "falling", "condition"),
    [
        (25, Precipitation.NONE, Condition.HOT),
        (20.1, Precipitation.NONE, Condition.HOT),
        (20, Precipitation.NONE, Condition.WARM),
        (16, Precipitation.NONE, Condition.WARMISH),
        (12.1, Precipitation.NONE, Condition.WARMISH),
        (12, Precipitation.NONE, Condition.COOL),
        (10, Precipitation.NONE, Condition.COLD),
        (-15, Precipitation.NONE, Condition.COLD),
        (18, Precipitation.RAIN, Condition.RAIN),
        (11, Precipitation.DRIZZLE, Condition.COOL_RAIN),
        (4, Precipitation.SLEET, Condition.COLD_RAIN),
        (-2, Precipitation.SNOW, Condition.SNOW),
    ],
)
def test_conditions_follow_the_temperature_bands(
    feels: float, falling: Precipitation, condition: Condition
) -> None:
    assert condition_for(feels, falling) is condition


def test_summer_rain_and_sun() -> None:
    july = dt.date(2026, 7, 1)
    assert rule_garments(Condition.RAIN, july) == ("rain_coat", "rain_pants", "rain_boots")
    assert rule_garments(Condition.HOT, july) == ("cap", "shoes")
    assert rule_garments(Condition.WARMISH, july) == ("sweater", "cap", "shoes")


def test_winter_dry_cold_gets_the_winter_outfit() -> None:
    garments = rule_garments(Condition.COLD, dt.date(2026, 1, 10))
    assert garments == ("sweater", "neckwear", "winter_outfit", "beanie", "winter_boots", "mittens")
    assert "jacket" not in garments and "pullover_pants" not in garments  # the overall replaces them


def test_cold_rain_means_rain_clothes_with_a_beanie_in_winter() -> None:
    garments = rule_garments(Condition.COLD_RAIN, dt.date(2026, 11, 26))
    assert {"rain_coat", "rain_pants", "rain_boots", "beanie", "neckwear"} <= set(garments)
    assert "rain_gloves" in garments and "mittens" not in garments  # never both


@pytest.mark.parametrize(
    ("day", "beanie"),
    [
        (dt.date(2026, 9, 15), False),  # the cold season starts after 15 September
        (dt.date(2026, 9, 16), True),
        (dt.date(2026, 5, 14), True),
        (dt.date(2026, 5, 15), False),
    ],
)
def test_the_cold_season_adds_beanie_and_mittens(day: dt.date, beanie: bool) -> None:
    garments = rule_garments(Condition.COLD, day)
    assert ("beanie" in garments) is beanie and ("mittens" in garments) is beanie
    assert not {"beanie", "cap"} <= set(garments)


def test_a_mild_march_day_needs_no_overall() -> None:
    assert "winter_outfit" not in rule_garments(Condition.WARMISH, dt.date(2026, 3, 20))
    assert "winter_outfit" in rule_garments(Condition.COOL, dt.date(2026, 3, 20))


def test_no_suggestion_breaks_the_exclusions() -> None:
    for condition in Condition:
        for month in range(1, 13):
            garments = set(rule_garments(condition, dt.date(2026, month, 10)))
            assert not {"beanie", "cap"} <= garments
            assert not {"mittens", "rain_gloves"} <= garments
            assert len(garments & {"shoes", "rain_boots", "winter_boots"}) == 1
            assert not ("winter_outfit" in garments and garments & {"jacket", "pullover_pants"})


# --- the skills at fixed times (fixture: cloudy morning, rain 12–20 local, sleet at night) ----------


def test_weather_now_in_the_morning() -> None:
    text = say(weather.answer, Intent("weather"), today_at(local(26, 9, 30)))
    assert text == "Just nu är det molnigt. Det känns som -1 grad."


def test_is_it_raining_at_two() -> None:
    today = today_at(local(26, 14))
    assert say(weather.answer, Intent("weather", {"condition": "rain"}, yes_no=True), today) == (
        "Ja. Just nu regnar det. Det känns som 1 grad."
    )
    assert say(weather.answer, Intent("weather", {"condition": "snow"}, yes_no=True), today, "en").startswith(
        "No."
    )


def test_rain_when_the_children_go_out_is_mentioned() -> None:
    text = say(weather.answer, Intent("weather"), today_at(local(26, 11)))
    assert text.endswith("Det kan regna när ni går ut klockan 15:00.")
    # While the children are out (10:00–11:00) there is no "when you go out" to speak of.
    assert "klockan" not in say(weather.answer, Intent("weather"), today_at(local(26, 10, 30)))


def test_today_and_tomorrow() -> None:
    today = today_at(local(26, 9))
    assert say(weather.answer, Intent("weather", {"day": "today"}), today).startswith("Idag kommer det regn.")
    tomorrow = say(weather.answer, Intent("weather", {"day": "tomorrow"}), today, "en")
    assert tomorrow == "Tomorrow it will be cloudy. It will be between 2 and 6 degrees."
    saturday = say(weather.answer, Intent("weather", {"day": "saturday"}), today)
    assert saturday.startswith("På lördag blir det")


def test_this_afternoon() -> None:
    text = say(weather.answer, Intent("weather", {"day": "this_afternoon"}), today_at(local(26, 9)))
    assert text == "I eftermiddag kommer det regn. Det blir mellan 4 och 6 grader."


def test_honest_about_the_past_and_the_far_future() -> None:
    today = today_at(local(26, 9))
    assert say(weather.answer, Intent("weather", {"day": "yesterday"}), today) == (
        "Jag vet bara hur vädret blir, inte hur det var."
    )
    assert say(weather.answer, Intent("weather", {"day": "next_friday"}), today) == (
        "Så långt fram vet jag inte hur vädret blir."
    )


@pytest.mark.parametrize("forecast", ["missing", "stale", "empty"])
def test_no_invented_weather_when_the_forecast_is_missing_or_old(forecast: str) -> None:
    moment = local(26, 14)
    chosen = {
        "missing": None,
        "stale": fixture_forecast(fetched_at=moment - dt.timedelta(hours=3, minutes=1)),
        "empty": Forecast("smhi", moment, 56.0, 12.7, ()),
    }[forecast]
    today = (
        today_at(moment, forecast=chosen)
        if chosen is not None
        else Today(now=moment, preschool_name="X", modules=("weather",), languages=("sv",))
    )
    for skill, intent in ((weather.answer, Intent("weather")), (clothes.answer, Intent("clothes"))):
        answer = skill(intent, today)
        assert render(answer, "sv").text == (
            "Jag kan inte se vädret just nu. Titta ut genom fönstret tillsammans med en pedagog!"
        )
        assert not any(p.startswith("thermometer") for p in answer.pictures)


def test_clothes_for_the_next_outing_and_in_the_rain() -> None:
    morning = say(clothes.answer, Intent("clothes"), today_at(local(26, 9)))
    assert morning.startswith("När ni går ut klockan 10:00, ta på dig tröja, halsduk, overall, mössa")
    afternoon = clothes.answer(Intent("clothes"), today_at(local(26, 14), events=()))
    assert {"garment/rain_coat", "garment/rain_pants", "garment/rain_boots"} <= set(afternoon.pictures)
    assert render(afternoon, "en").text.startswith("Put on your sweater, scarf, raincoat, rain pants")


def test_yes_no_per_garment() -> None:
    today = today_at(local(26, 14), events=())
    ask = lambda garment: say(clothes.answer, Intent("clothes", {"garment": garment}, yes_no=True), today)  # noqa: E731
    assert ask("beanie") == "Ja, du behöver mössa."
    assert ask("rain_clothes") == "Ja, du behöver regnkläder."
    assert ask("cap") == "Nej, du behöver inte keps nu."
    assert ask("sunglasses") == "Jag vet inte om du behöver solglasögon. Fråga en pedagog!"


def test_a_correction_replaces_the_rules_for_its_condition() -> None:
    corrected = {"cold_rain": ("sweater", "winter_outfit", "rain_boots")}
    answer = clothes.answer(
        Intent("clothes"), today_at(local(26, 14), events=(), garment_corrections=corrected)
    )
    assert answer.pictures == ("garment/sweater", "garment/winter_outfit", "garment/rain_boots")
    dry = clothes.answer(
        Intent("clothes"), today_at(local(26, 9, 30), events=(), garment_corrections=corrected)
    )
    assert (
        "garment/winter_outfit" in dry.pictures and "garment/rain_boots" not in dry.pictures
    )  # cold, not corrected


def test_feels_like_steps_and_wind() -> None:
    step = ForecastStep(
        time=local(26, 10), temperature=4.0, feels_like=-1.0, wind_speed=9.0, symbol=Symbol.PARTLY_CLOUDY
    )
    forecast = Forecast("smhi", local(26, 9), 56.0, 12.7, (step,))
    today = today_at(local(26, 9, 30), forecast=forecast, events=())
    assert say(weather.answer, Intent("weather", {"condition": "wind"}, yes_no=True), today).startswith("Ja.")
    assert say(weather.answer, Intent("weather", {"condition": "cold"}, yes_no=True), today).startswith("Ja.")


# --- stored data: corrections expire, ratings count ------------------------------------------------


def test_corrections_expire_and_replace_each_other(db: Session, world: World) -> None:
    now = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)
    stored.correct(db, world.ekorren, "cold", ["sweater", "winter_outfit"], None, now=now)
    stored.correct(db, world.ekorren, "cold", ["jacket", "pullover_pants"], None, now=now)
    assert stored.active_corrections(db, world.ekorren, now) == {"cold": ("pullover_pants", "jacket")}
    assert stored.active_corrections(db, world.ekorren, now + dt.timedelta(days=14, seconds=1)) == {}
    assert stored.active_corrections(db, world.humlan, now) == {}  # another preschool
    with pytest.raises(ValueError):
        stored.correct(db, world.ekorren, "tropical", ["cap"], None)
    with pytest.raises(ValueError):
        stored.correct(db, world.ekorren, "cold", ["spacesuit"], None)


def test_ratings_are_counted_per_condition_and_preschool(db: Session, world: World) -> None:
    for up in (True, True, False):
        stored.rate(db, world.ekorren, "cold", ("sweater",), up)
    stored.rate(db, world.humlan, "cold", ("sweater",), False)
    db.flush()
    since = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert stored.rating_summary(db, world.ekorren, since) == {"cold": (2, 1)}


# --- the refresh job against a local server --------------------------------------------------------


@pytest.fixture
def sources(settings: Settings, server: LocalServer) -> Settings:
    from dataclasses import replace

    return replace(
        settings, smhi_base_url=server.url, metno_base_url=server.url + "/metno", contact="test@example"
    )


@pytest.fixture
def located(db: Session, world: World) -> Preschool:
    preschool = db.get_one(Preschool, world.ekorren)
    preschool.latitude, preschool.longitude = 56.0464, 12.6945
    preschool.modules = ["weather"]
    db.commit()
    return preschool


NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


def test_the_job_stores_a_forecast_and_keeps_it_fresh(
    engine: Engine, sources: Settings, server: LocalServer, located: Preschool, db: Session
) -> None:
    server.routes[SMHI_PATH] = json_reply(SMHI_FIXTURE)
    assert "from SMHI" in refresh_forecasts(engine, sources, NOW)
    forecast = stored.load_forecast(db, 56.0464, 12.6945)
    assert forecast is not None and forecast.source == "smhi" and len(forecast.steps) == 80
    assert forecast == stored.load_forecast(db, 56.0491, 12.6902)  # a neighbour shares it
    calls = len(server.seen)
    assert "fresh" in refresh_forecasts(engine, sources, NOW + dt.timedelta(minutes=29))
    assert len(server.seen) == calls  # not asked again within 30 minutes


def test_met_norway_is_the_fallback(
    engine: Engine, sources: Settings, server: LocalServer, located: Preschool, db: Session
) -> None:
    server.routes[SMHI_PATH] = Reply(404, b"outside")
    server.routes["/metno" + METNO_PATH] = json_reply(
        METNO_FIXTURE, headers={"Last-Modified": "Thu, 26 Nov 2026 08:55:00 GMT"}
    )
    assert "from MET Norway" in refresh_forecasts(engine, sources, NOW)
    met_request = server.seen[-1]
    assert (
        met_request.headers["user-agent"].startswith("Laiban/")
        and "test@example" in met_request.headers["user-agent"]
    )
    forecast = stored.load_forecast(db, 56.0464, 12.6945)
    assert forecast is not None and forecast.source == "metno"
    # Next time MET Norway says "not modified": the stored steps stay and count as fresh again.
    server.routes["/metno" + METNO_PATH] = Reply(304)
    later = NOW + dt.timedelta(minutes=31)
    refresh_forecasts(engine, sources, later)
    assert server.seen[-1].headers["if-modified-since"] == "Thu, 26 Nov 2026 08:55:00 GMT"
    db.expire_all()
    again = stored.load_forecast(db, 56.0464, 12.6945)
    assert again is not None and again.steps == forecast.steps and again.fetched_at == later


def test_met_norways_expires_is_honoured(
    engine: Engine, sources: Settings, server: LocalServer, located: Preschool
) -> None:
    server.routes[SMHI_PATH] = Reply(404, b"outside")
    server.routes["/metno" + METNO_PATH] = json_reply(
        METNO_FIXTURE, headers={"Expires": "Thu, 26 Nov 2026 10:30:00 GMT"}
    )
    refresh_forecasts(engine, sources, NOW)
    calls = len(server.seen)
    assert "Expires" in refresh_forecasts(engine, sources, NOW + dt.timedelta(minutes=45))
    assert len(server.seen) == calls
    assert "from" in refresh_forecasts(engine, sources, NOW + dt.timedelta(minutes=91))


def test_failures_back_off_and_keep_the_last_good_forecast(
    engine: Engine, sources: Settings, server: LocalServer, located: Preschool, db: Session
) -> None:
    server.routes[SMHI_PATH] = json_reply(SMHI_FIXTURE)
    refresh_forecasts(engine, sources, NOW)
    server.routes[SMHI_PATH] = Reply(500, b"oops")
    server.routes["/metno" + METNO_PATH] = Reply(200, b"{not json", {"Content-Type": "application/json"})
    later = NOW + dt.timedelta(hours=1)
    assert "failed" in refresh_forecasts(engine, sources, later)
    row = db.get_one(StoredForecast, "56.05,12.69")
    assert row.failures == 1 and row.next_attempt_at == later + dt.timedelta(minutes=2)
    assert row.last_error == (  # for staff, in Swedish
        "Varken SMHI eller MET Norway gav någon prognos. Källan skickade något som inte går att läsa. "
        "Laiban försöker igen senare."
    )
    calls = len(server.seen)
    assert "waiting" in refresh_forecasts(engine, sources, later + dt.timedelta(minutes=1))
    assert len(server.seen) == calls
    refresh_forecasts(engine, sources, later + dt.timedelta(minutes=3))
    db.expire_all()
    row = db.get_one(StoredForecast, "56.05,12.69")
    assert row.failures == 2 and row.next_attempt_at == later + dt.timedelta(minutes=3 + 4)
    forecast = stored.load_forecast(db, 56.0464, 12.6945)
    assert forecast is not None and forecast.fetched_at == NOW  # the last good one, with its true age
    server.routes[SMHI_PATH] = json_reply(SMHI_FIXTURE)
    assert "from SMHI" in refresh_forecasts(engine, sources, later + dt.timedelta(minutes=8))


def test_preschools_without_weather_or_coordinates_are_not_fetched(
    engine: Engine, sources: Settings, server: LocalServer, world: World
) -> None:
    assert refresh_forecasts(engine, sources, NOW) == "no preschool with the weather module has coordinates"
    assert server.seen == []


# --- the kiosk and the admin -----------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def store_fixture(db: Session, preschool: Preschool, fetched_at: dt.datetime) -> None:
    row = stored.forecast_row(db, preschool.latitude, preschool.longitude)  # type: ignore[arg-type]
    stored.save_forecast(row, smhi.parse(SMHI_FIXTURE, fetched_at, 56.0464, 12.6945))
    db.commit()


def test_kiosk_rating_is_stored_for_the_current_condition(
    client: TestClient, world: World, located: Preschool, db: Session
) -> None:
    assert (
        client.post(
            "/api/v1/clothes/rating", json={"rating": "up"}, headers=bearer(world.device_ekorren)
        ).status_code
        == 409
    )  # no forecast yet
    store_fixture(db, located, dt.datetime.now(dt.UTC))
    client.app.state.today_cache.clear()  # as if the few seconds a kiosk's Today is kept had passed
    response = client.post(
        "/api/v1/clothes/rating", json={"rating": "down"}, headers=bearer(world.device_ekorren)
    )
    assert response.status_code == 204
    rating = db.scalars(select(GarmentRating)).one()
    assert rating.preschool_id == world.ekorren and rating.rating == -1 and rating.garments
    assert (
        client.post(
            "/api/v1/clothes/rating", json={"rating": "meh"}, headers=bearer(world.device_ekorren)
        ).status_code
        == 422
    )


def test_the_admin_page_corrects_the_clothes_for_this_preschool(
    client: TestClient, world: World, located: Preschool, db: Session, browser_for: SignIn
) -> None:
    store_fixture(db, located, dt.datetime.now(dt.UTC))
    pedagogue: Browser = browser_for(world.pedagogue_ekorren, PASSWORD)
    page = pedagogue.get("/admin/p/ekorren/weather")
    assert page.status_code == 200 and "Senast hämtad" in page.text and "Laiban föreslår" in page.text
    condition = page.text.split('name="condition" value="')[1].split('"')[0]
    saved = pedagogue.post(
        "/admin/p/ekorren/weather/corrections",
        {"condition": condition, "garments": ["sweater", "winter_outfit", "rain_boots"]},
    )
    assert saved.status_code == 200 and "Sparat." in saved.text and "Gäller till" in saved.text
    assert stored.active_corrections(db, world.ekorren, dt.datetime.now(dt.UTC)) == {
        condition: ("sweater", "winter_outfit", "rain_boots")
    }
    empty = pedagogue.post("/admin/p/ekorren/weather/corrections", {"condition": condition})
    assert empty.status_code == 400 and "Välj minst ett plagg." in empty.text
    other: Browser = browser_for(world.org_admin_b, PASSWORD)
    assert other.get("/admin/p/ekorren/weather").status_code == 404
    assert (
        other.post(
            "/admin/p/ekorren/weather/corrections", {"condition": condition, "garments": ["cap"]}
        ).status_code
        == 404
    )


def test_the_admin_page_is_honest_about_a_missing_location(world: World, browser_for: SignIn) -> None:
    admin: Browser = browser_for(world.admin_ekorren, PASSWORD)
    page = admin.get("/admin/p/ekorren/weather")
    assert page.status_code == 200 and "inga koordinater" in page.text


# --- end to end: laiban fetch, then laiban ask ------------------------------------------------------


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "laiban.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_fetch_then_ask_end_to_end(tmp_path: Path, server: LocalServer) -> None:
    server.routes[SMHI_PATH] = json_reply(SMHI_FIXTURE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAIBAN_")}
    env.update(
        LAIBAN_DATA_DIR=str(tmp_path),
        LAIBAN_SMHI_BASE_URL=server.url,
        LAIBAN_METNO_BASE_URL=server.url + "/metno",
    )
    assert run(env, "demo").returncode == 0
    fetched = run(env, "fetch")
    assert fetched.returncode == 0 and "from SMHI" in fetched.stdout
    dressed = json.loads(
        run(env, "ask", "--at", "2026-11-26T14:00", "--json", "vad ska jag ha på mig ute?").stdout
    )
    assert dressed["intent"] == "clothes" and dressed["available"]
    assert {"garment/rain_coat", "garment/rain_pants", "garment/rain_boots"} <= set(dressed["pictures"])
    raining = json.loads(run(env, "ask", "--at", "2026-11-26T14:00", "--json", "regnar det?").stdout)
    assert (raining["intent"], raining["yes_no"]) == ("weather", True)
    assert raining["text"].startswith("Ja.")


def test_with_the_sources_down_the_answer_is_honest(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAIBAN_")}
    env.update(
        LAIBAN_DATA_DIR=str(tmp_path),
        LAIBAN_SMHI_BASE_URL="http://127.0.0.1:9",
        LAIBAN_METNO_BASE_URL="http://127.0.0.1:9",
    )
    assert run(env, "demo").returncode == 0
    fetched = run(env, "fetch")
    assert fetched.returncode == 0 and "failed" in fetched.stdout and "Traceback" not in fetched.stderr
    answer = json.loads(run(env, "ask", "--json", "hur är vädret").stdout)
    assert (
        answer["text"]
        == "Jag kan inte se vädret just nu. Titta ut genom fönstret tillsammans med en pedagog!"
    )


def test_a_weekdays_own_schedule_replaces_the_every_day_one(db: Session, located: Preschool) -> None:
    from laiban.store.today import today_for

    db.add_all(
        [
            ScheduleEvent(preschool_id=located.id, at=dt.time(15, 0), kind="outdoor", title="Ute"),
            ScheduleEvent(preschool_id=located.id, at=dt.time(9, 30), kind="outdoor", title="Ute", weekday=3),
            ScheduleEvent(preschool_id=located.id, at=dt.time(15, 0), kind="outdoor", title="Ute", weekday=3),
            ScheduleEvent(preschool_id=located.id, at=dt.time(11, 0), kind="outdoor", title="Ute", weekday=4),
            ScheduleEvent(preschool_id=located.id, at=dt.time(11, 30), kind="lunch", title="Lunch"),
        ]
    )
    db.commit()
    today = today_for(db, located, local(26, 8))  # a Thursday
    assert today.outdoor_times == (dt.time(9, 30), dt.time(15, 0))


def test_the_server_refreshes_forecasts_on_its_own(tmp_path: Path, server: LocalServer) -> None:
    import socket
    import time

    server.routes[SMHI_PATH] = json_reply(SMHI_FIXTURE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAIBAN_")}
    env.update(
        LAIBAN_DATA_DIR=str(tmp_path),
        LAIBAN_SMHI_BASE_URL=server.url,
        LAIBAN_METNO_BASE_URL=server.url + "/metno",
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "laiban.cli", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(s.path.startswith(SMHI_PATH) for s in server.seen):
            time.sleep(0.1)
        assert any(s.path.startswith(SMHI_PATH) for s in server.seen), "the server never fetched a forecast"
    finally:
        process.kill()
        process.wait(timeout=10)
