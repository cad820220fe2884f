"""Outside sources down, slow or sending garbage, end to end (issue 12): the real refresh jobs against a
local stand-in for SMHI, MET Norway and skolmaten.se, and the real kiosk API and admin pages.

What must hold: a failing round finishes, records the failure for staff and backs off further each time;
the last good forecast and menu stay, and children keep getting the same answers from them; an old
forecast is never told as today's weather; when the source is back, the next due round stores the new
data and clears the failure; a round stuck on a slow source never slows a question; a source that
trickles or never ends its reply is given up on at a deadline or a size cap; an exception nobody expected
(a bug) is one location's or preschool's failure like any other, and the round goes on.

The kiosk answers at the real present moment (the API has no clock to set), so the forecasts and menus
served here are made around the present, and the jobs' clock is set relative to it.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from laiban.config import Settings
from laiban.jobs import run_all_once
from laiban.jobs.menus import refresh_menus
from laiban.jobs.weather import refresh_forecasts
from laiban.model.weather import location_key
from laiban.skills.days import WEEKDAYS
from laiban.sources import metno, number, parse_time, skolmaten, smhi
from laiban.store import menus
from laiban.store.db import transaction
from laiban.store.tables import MenuItem, MenuSource, Preschool, StoredForecast, utcnow

from .conftest import Browser, SignIn
from .localserver import LocalServer, Reply, json_reply
from .world import PASSWORD, World

STOCKHOLM = ZoneInfo("Europe/Stockholm")
EKORREN = (56.0464, 12.6945)  # Helsingborg
HUMLAN = (59.3293, 18.0686)  # Stockholm: another forecast location
SLUG = "ekorrens-forskola"
OTHER_SLUG = "humlans-forskola"
MET_PATH = "/metno/locationforecast/2.0/compact"
JSON = {"Content-Type": "application/json"}
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
HTML = {"Content-Type": "text/html; charset=utf-8"}

# What children hear when the forecast is missing or too old (the catalog's Swedish source sentences).
CANNOT_SEE = "Jag kan inte se vädret just nu. Titta ut genom fönstret tillsammans med en pedagog!"
NO_MENU = "Jag vet inte vad det blir till lunch då. Köket kanske överraskar oss!"

# What staff read about each kind of outage (SourceError.in_swedish).
UNREACHABLE = "Laiban kunde inte nå källan. Kontrollera serverns nätverk; Laiban försöker igen senare."
TIMEOUT = "Källan svarade inte i tid. Laiban försöker igen senare."
UNREADABLE = "Källan skickade något som inte går att läsa. Laiban försöker igen senare."
TOO_LARGE = "Källan skickade ett alldeles för stort svar. Laiban försöker igen senare."
WEATHER_ERROR = "Varken SMHI eller MET Norway gav någon prognos. "
# … and about a failure that is no source's fault (a bug; the log has the traceback).
WEATHER_BUG = (
    "Något oväntat gick fel när Laiban hämtade prognosen. Laiban försöker igen senare; den som sköter "
    "servern hittar detaljerna i loggen."
)
MENU_BUG = (
    "Något oväntat gick fel när Laiban hämtade matsedeln. Laiban försöker igen senare; den som sköter "
    "servern hittar detaljerna i loggen."
)

KINDS = (
    "down",
    "slow",
    "trickle",
    "endless",
    "html",
    "truncated",
    "wrong_shape",
    "no_values",
    "huge",
    "out_of_range",
    "absurd",
)
MENU_KINDS = ("down", "slow", "trickle", "endless", "html", "truncated", "wrong_shape", "huge")
REASON = dict.fromkeys(KINDS, UNREADABLE) | {
    "down": UNREACHABLE,
    "slow": TIMEOUT,
    "trickle": TIMEOUT,
    "endless": TOO_LARGE,
}
SLOW = 0.3  # the jobs' client timeout in the outage rounds, in seconds; a slow source takes longer
NEVER = 30.0  # seconds a slow source would take; the test ends it early (LocalServer.reset)
DEADLINE = 1.0  # the jobs' deadline for a whole reply in the outage rounds, in seconds (else 30)
TRICKLE = 0.05  # seconds between pieces of a trickling reply: each within SLOW, the whole far beyond DEADLINE
# Nested deeper than Python's JSON reader can recurse: it raises RecursionError, not a ValueError, and no
# parser here expects that. It stands in for "a bug in a parser" in the safety-net tests; should the
# sources learn to refuse it as a SourceError, those tests need another reply that crashes a parser.
TOO_DEEP = "[" * 100_000 + "]" * 100_000


def path_of(latitude: float, longitude: float) -> str:
    return urlsplit(smhi.point_url("http://x", latitude, longitude)).path


def rss_path(slug: str) -> str:
    return f"/api/4/rss/week/{slug}"


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def smhi_payload(temperature: float, symbol: int) -> dict[str, Any]:
    """SNOW1gv1 point JSON with hourly steps from four hours ago to two days ahead: the same weather all
    along, calm (so it feels like the air temperature) and dry."""
    first = utcnow().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=4)
    steps = [first + dt.timedelta(hours=i) for i in range(56)]
    return {
        "createdTime": iso(first),
        "referenceTime": iso(first),
        "geometry": {"type": "Point", "coordinates": [[EKORREN[1], EKORREN[0]]]},
        "timeSeries": [
            {
                "time": iso(step),
                "intervalParametersStartTime": iso(step - dt.timedelta(hours=1)),
                "data": {
                    "air_temperature": temperature,
                    "wind_speed": 1.0,
                    "relative_humidity": 70,
                    "cloud_area_fraction": 8 if symbol >= 5 else 0,
                    "precipitation_amount_mean": 0.0,
                    "precipitation_frozen_part": -9,
                    "symbol_code": symbol,
                },
            }
            for step in steps
        ],
    }


OLD_WEATHER = (3.0, 6)  # cloudy, 3 °C
NEW_WEATHER = (15.0, 1)  # clear, 15 °C
OLD_SAYS = "Just nu är det molnigt. Det känns som 3 grader."
NEW_SAYS = "Just nu är det klart väder. Det känns som 15 grader."


def local_today() -> dt.date:
    return dt.datetime.now(STOCKHOLM).date()


def asked_day() -> dt.date:
    """An open day still ahead (never today, whose answer turns from "blir" to "åt" at lunch time)."""
    day = local_today() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def rss(dish: str, days: list[dt.date]) -> bytes:
    items = "".join(
        f"<item><title>Dag</title><description>{dish}&lt;br/&gt;Vegetariskt alternativ</description>"
        f'<guid isPermaLink="false">{SLUG}-{day.isoformat()}</guid>'
        f"<pubDate>{email.utils.format_datetime(dt.datetime.combine(day, dt.time(), dt.UTC), usegmt=True)}"
        "</pubDate></item>"
        for day in days
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Matsedel</title>'
        f"{items}</channel></rss>"
    ).encode()


def this_fortnight() -> list[dt.date]:
    return [local_today() + dt.timedelta(days=i) for i in range(-1, 14)]


OLD_DISH = "Köttbullar med potatismos"
NEW_DISH = "Pannkakor med sylt"


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def weather_garbage(kind: str, server: LocalServer) -> None:
    """Both weather sources answer with the same kind of trouble (MET Norway is the fallback)."""
    paths = (path_of(*EKORREN), MET_PATH)
    if kind == "slow":
        reply = json_reply(smhi_payload(*NEW_WEATHER))
        reply.delay = NEVER
    elif kind == "trickle":  # the whole forecast, but a hundred bytes at a time
        reply = Reply(200, json.dumps(smhi_payload(*NEW_WEATHER)).encode(), JSON, pace=TRICKLE, piece=100)
    elif kind == "endless":  # a body that never ends (whitespace: JSON that could still turn out valid)
        reply = Reply(200, b" " * 65536, JSON, endless=True)
    elif kind == "html":
        reply = Reply(200, b"<!DOCTYPE html><html><body><h1>Service Unavailable</h1></body></html>", HTML)
    elif kind == "truncated":
        reply = Reply(200, json.dumps(smhi_payload(*NEW_WEATHER)).encode()[:700], JSON)
    elif kind == "wrong_shape":  # SMHI's retired PMP3gv2 shape: valid JSON, no usable steps
        old = {"validTime": "2026-11-26T12:00:00Z", "parameters": [{"name": "t", "values": [3.1]}]}
        reply = json_reply({"approvedTime": "2026-11-26T07:00:00Z", "timeSeries": [old] * 50})
    elif kind == "no_values":  # today's times, but every value under names we do not know
        payload = smhi_payload(*NEW_WEATHER)
        for entry in payload["timeSeries"]:
            entry["data"] = {f"{key}_v2": value for key, value in entry["data"].items()}
        met = [{"time": entry["time"], "data": {}} for entry in payload["timeSeries"]]
        payload["properties"] = {"timeseries": met}
        reply = json_reply(payload)
    elif kind == "huge":  # 2 MB of valid JSON in the wrong shape
        reply = Reply(200, b"[" + b"0," * 1_000_000 + b"0]", JSON)
    elif kind == "out_of_range":  # times and numbers no datetime or float can hold
        bad = {"air_temperature": 10**400, "symbol_code": 10**400}
        reply = json_reply(
            {
                "timeSeries": [
                    {"time": "9999-12-31T23:00:00-05:00", "data": bad},
                    {"time": "0001-01-01T00:30:00+05:00", "data": bad},
                ],
                "properties": {
                    "timeseries": [
                        {"time": "9999-12-31T23:00:00-05:00", "data": {"instant": {"details": bad}}},
                    ]
                },
            },
            headers={"Expires": "Fri, 31 Dec 9999 23:00:00 -0500"},
        )
    elif kind == "absurd":  # finite numbers no weather has: 1e300 °C overflowed "feels like" into NaN
        payload = smhi_payload(*NEW_WEATHER)
        absurd = {"air_temperature": 1e300, "relative_humidity": 100, "wind_speed": 1e300}
        for entry in payload["timeSeries"]:
            entry["data"].update(absurd)
        met = [
            {"time": entry["time"], "data": {"instant": {"details": absurd}}}
            for entry in payload["timeSeries"]
        ]
        payload["properties"] = {"timeseries": met}
        reply = json_reply(payload)
    else:
        raise AssertionError(kind)
    for path in paths:
        server.routes[path] = reply


def menu_garbage(kind: str, server: LocalServer) -> None:
    if kind == "slow":
        reply = Reply(200, rss(NEW_DISH, this_fortnight()), RSS, delay=NEVER)
    elif kind == "trickle":
        reply = Reply(200, rss(NEW_DISH, this_fortnight()), RSS, pace=TRICKLE, piece=20)
    elif kind == "endless":  # items without end, in a channel that never closes
        reply = Reply(200, b"<item><description>Fisk</description></item>" * 1000, RSS, endless=True)
    elif kind == "html":
        reply = Reply(200, b"<!DOCTYPE html><html><body><p>Sidan finns inte</p></body></html>", HTML)
    elif kind == "truncated":
        reply = Reply(200, rss(NEW_DISH, this_fortnight())[:400], RSS)
    elif kind == "wrong_shape":  # skolmaten.se's JSON API answering instead of the feed
        reply = Reply(200, b'{"menu": {"weeks": []}}', JSON)
    elif kind == "huge":  # 2 MB that never closes its channel
        reply = Reply(200, b'<?xml version="1.0"?><rss><channel><title>' + b"x" * 2_000_000, RSS)
    elif kind == "out_of_range":  # the only item's date is beyond what a datetime holds
        reply = Reply(
            200,
            b"<rss><channel><item><description>Fisk</description>"
            b"<pubDate>Fri, 31 Dec 9999 23:00:00 -0500</pubDate></item></channel></rss>",
            RSS,
        )
    else:
        raise AssertionError(kind)
    server.routes[rss_path(SLUG)] = reply


# --- fixtures and helpers ------------------------------------------------------------------------------


@pytest.fixture
def sources(settings: Settings, server: LocalServer) -> Settings:
    return replace(
        settings,
        smhi_base_url=server.url,
        metno_base_url=server.url + "/metno",
        skolmaten_base_url=server.url,
        contact="test@example",
    )


@pytest.fixture
def down(sources: Settings) -> Settings:
    """Every source's address refuses connections."""
    nowhere = closed_port_url()
    return replace(sources, smhi_base_url=nowhere, metno_base_url=nowhere, skolmaten_base_url=nowhere)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """The jobs' HTTP client for rounds that go well."""
    with httpx.Client(timeout=10.0, trust_env=False) as client:
        yield client


@pytest.fixture
def impatient() -> Iterator[httpx.Client]:
    """The jobs' HTTP client in an outage: a short timeout, so that a slow source is given up on quickly."""
    with httpx.Client(timeout=SLOW, trust_env=False) as client:
        yield client


@pytest.fixture
def ekorren(sessions: sessionmaker[Session], world: World) -> World:
    """Ekorren shows the weather and the lunch; its menu comes from skolmaten.se."""
    with transaction(sessions) as session:
        preschool = session.get_one(Preschool, world.ekorren)
        preschool.latitude, preschool.longitude = EKORREN
        preschool.modules = ["weather", "lunch", "clock"]
        menus.set_source(session, world.ekorren, "skolmaten", SLUG)
    return world


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


Asker = Callable[..., dict[str, Any]]


@pytest.fixture
def ask(client: TestClient, ekorren: World) -> Asker:
    """A tapped picture at Ekorren's kiosk, as the child would ask it right now."""

    def asked(intent: str, **slots: str) -> dict[str, Any]:
        client.app.state.today_cache.clear()  # type: ignore[attr-defined]  # as if its seconds had passed
        response = client.post(
            "/api/v1/ask", json={"intent": intent, "slots": slots}, headers=bearer(ekorren.device_ekorren)
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["intent"] == intent
        return body

    return asked


def lunch_day_slot() -> str:
    return WEEKDAYS[asked_day().weekday()]


def answers(ask: Asker) -> dict[str, str]:
    return {
        "weather": ask("weather")["text"],
        "clothes": ask("clothes")["text"],
        "lunch": ask("lunch", day=lunch_day_slot())["text"],
    }


def forecast_row(sessions: sessionmaker[Session]) -> StoredForecast:
    with sessions() as session:
        row = session.get_one(StoredForecast, location_key(*EKORREN))
        session.expunge(row)
        return row


def menu_source(sessions: sessionmaker[Session], preschool_id: int) -> MenuSource:
    with sessions() as session:
        row = session.get_one(MenuSource, preschool_id)
        session.expunge(row)
        return row


def menu_rows(sessions: sessionmaker[Session], preschool_id: int) -> list[tuple[dt.date, str, int, str, str]]:
    with sessions() as session:
        rows = session.scalars(
            select(MenuItem)
            .where(MenuItem.preschool_id == preschool_id)
            .order_by(MenuItem.day, MenuItem.meal, MenuItem.position)
        )
        return [(r.day, r.meal, r.position, r.text, r.source) for r in rows]


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def local_minute(moment: dt.datetime) -> str:
    """A stored moment as the admin pages show it (the preschools are in Stockholm's time)."""
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def forget_the_forecasts(sessions: sessionmaker[Session]) -> None:
    """Back to a server that has never fetched a forecast (each kind of outage starts from there)."""
    with transaction(sessions) as session:
        session.execute(delete(StoredForecast))


def forget_the_menus(sessions: sessionmaker[Session], preschool_id: int) -> None:
    """Back to a menu source that has never been fetched."""
    with transaction(sessions) as session:
        session.execute(delete(MenuItem).where(MenuItem.preschool_id == preschool_id))
        source = session.get_one(MenuSource, preschool_id)
        source.last_success_at = source.last_attempt_at = source.next_attempt_at = source.last_error = None
        source.failures = 0


# --- 1 and 3: a weather outage of each kind, the back-off, the answers, the recovery ----------------


def test_weather_outages_back_off_keep_the_forecast_and_recover(
    engine: Engine,
    sessions: sessionmaker[Session],
    sources: Settings,
    down: Settings,
    server: LocalServer,
    http: httpx.Client,
    impatient: httpx.Client,
    ask: Asker,
) -> None:
    for kind in KINDS:  # one test for all kinds: the fixtures cost more than a kind's rounds
        forget_the_forecasts(sessions)
        server.reset()
        present = utcnow()
        server.routes[path_of(*EKORREN)] = json_reply(smhi_payload(*OLD_WEATHER))
        assert "from SMHI" in refresh_forecasts(engine, sources, present - minutes(60), http)
        before = forecast_row(sessions)
        told = answers(ask)
        assert told["weather"] == OLD_SAYS

        server.routes.clear()
        if kind != "down":
            weather_garbage(kind, server)
        broken = down if kind == "down" else sources
        at = present - minutes(25)  # due: the forecast is 35 minutes old
        for failures in (1, 2, 3):
            said = refresh_forecasts(engine, broken, at, impatient, deadline=DEADLINE)  # does not raise
            assert "failed" in said, kind
            row = forecast_row(sessions)
            assert (row.failures, row.last_attempt_at) == (failures, at), kind
            assert row.next_attempt_at == at + minutes(2**failures), kind  # 2, 4, 8 minutes
            assert row.last_error == WEATHER_ERROR + REASON[kind]
            # The last good forecast stays, with its true age.
            assert (row.source, row.fetched_at, row.steps) == (before.source, before.fetched_at, before.steps)
            asked = len(server.seen)
            waiting = refresh_forecasts(
                engine, broken, at + minutes(2**failures - 1), impatient, deadline=DEADLINE
            )
            assert "waiting after" in waiting and len(server.seen) == asked, kind  # not asked before its time
            at += minutes(2**failures)
        assert answers(ask) == told, kind  # the children hear the same, from the stored forecast

        server.reset()  # the source is back, with new weather
        server.routes[path_of(*EKORREN)] = json_reply(smhi_payload(*NEW_WEATHER))
        assert "from SMHI" in refresh_forecasts(engine, sources, at, http), kind
        row = forecast_row(sessions)
        assert (row.failures, row.next_attempt_at, row.last_error, row.fetched_at) == (0, None, None, at)
        now_told = answers(ask)
        assert now_told["weather"] == NEW_SAYS, kind
        assert now_told["clothes"] != told["clothes"], kind  # 15 °C and sun is not 3 °C and clouds


def test_the_weather_back_off_is_capped(
    engine: Engine,
    sessions: sessionmaker[Session],
    sources: Settings,
    down: Settings,
    server: LocalServer,
    http: httpx.Client,
    ekorren: World,
) -> None:
    present = utcnow()
    server.routes[path_of(*EKORREN)] = json_reply(smhi_payload(*OLD_WEATHER))
    refresh_forecasts(engine, sources, present - minutes(120), http)
    at, waits = present - minutes(90), []
    for _ in range(6):
        refresh_forecasts(engine, down, at, http)
        row = forecast_row(sessions)
        waits.append(row.next_attempt_at - at)  # type: ignore[operator]
        at = row.next_attempt_at  # type: ignore[assignment]
    assert waits == [minutes(m) for m in (2, 4, 8, 16, 30, 30)]  # at most half an hour
    with transaction(sessions) as session:  # a source dead for days: 2**60 minutes would not fit a timedelta
        session.get_one(StoredForecast, forecast_row(sessions).location_key).failures = 60
    refresh_forecasts(engine, down, at, http)
    assert forecast_row(sessions).next_attempt_at - at == minutes(30)  # type: ignore[operator]


# --- 1 and 3: a menu outage of each kind --------------------------------------------------------------


def test_menu_outages_back_off_keep_the_menu_and_recover(
    engine: Engine,
    sessions: sessionmaker[Session],
    sources: Settings,
    down: Settings,
    server: LocalServer,
    http: httpx.Client,
    impatient: httpx.Client,
    ask: Asker,
    ekorren: World,
) -> None:
    for kind in MENU_KINDS:
        forget_the_menus(sessions, ekorren.ekorren)
        server.reset()
        present = utcnow()
        server.routes[rss_path(SLUG)] = Reply(200, rss(OLD_DISH, this_fortnight()), RSS)
        assert "15 day(s) from skolmaten.se" in refresh_menus(engine, sources, present, http)
        stored = menu_rows(sessions, ekorren.ekorren)
        told = ask("lunch", day=lunch_day_slot())["text"]
        assert "köttbullar med potatismos" in told

        server.routes.clear()
        if kind != "down":
            menu_garbage(kind, server)
        broken = down if kind == "down" else sources
        at = present + dt.timedelta(hours=3, minutes=1)  # due again
        for failures in (1, 2, 3):
            assert "failed" in refresh_menus(engine, broken, at, impatient, deadline=DEADLINE), kind
            source = menu_source(sessions, ekorren.ekorren)
            assert (source.failures, source.last_attempt_at) == (failures, at), kind
            assert source.next_attempt_at == at + minutes(5 * 2**failures), kind  # 10, 20, 40 minutes
            assert source.last_error == "skolmaten.se: " + REASON[kind]
            assert source.last_success_at == present, kind
            assert menu_rows(sessions, ekorren.ekorren) == stored, kind  # nothing erased or overwritten
            asked = len(server.seen)
            waiting = refresh_menus(
                engine, broken, at + minutes(5 * 2**failures - 1), impatient, deadline=DEADLINE
            )
            assert waiting == "nothing due" and len(server.seen) == asked, kind
            at += minutes(5 * 2**failures)
        assert ask("lunch", day=lunch_day_slot())["text"] == told, kind

        server.reset()
        server.routes[rss_path(SLUG)] = Reply(200, rss(NEW_DISH, this_fortnight()), RSS)
        assert "15 day(s) from skolmaten.se" in refresh_menus(engine, sources, at, http), kind
        source = menu_source(sessions, ekorren.ekorren)
        assert (source.failures, source.next_attempt_at, source.last_error) == (0, None, None), kind
        assert source.last_success_at == at, kind
        now_told = ask("lunch", day=lunch_day_slot())["text"]
        assert "pannkakor med sylt" in now_told and "köttbullar" not in now_told, kind


def test_the_menu_back_off_is_capped(
    engine: Engine, sessions: sessionmaker[Session], down: Settings, http: httpx.Client, ekorren: World
) -> None:
    at, waits = utcnow(), []
    for _ in range(5):
        refresh_menus(engine, down, at, http)
        source = menu_source(sessions, ekorren.ekorren)
        waits.append(source.next_attempt_at - at)  # type: ignore[operator]
        at = source.next_attempt_at  # type: ignore[assignment]
    assert waits == [minutes(m) for m in (10, 20, 40, 60, 60)]  # at most an hour
    with transaction(sessions) as session:  # a source dead for days: 5 * 2**60 minutes would not fit
        session.get_one(MenuSource, ekorren.ekorren).failures = 60
    refresh_menus(engine, down, at, http)
    assert menu_source(sessions, ekorren.ekorren).next_attempt_at - at == minutes(60)  # type: ignore[operator]
    assert menu_source(sessions, ekorren.ekorren).last_success_at is None


# --- one source's garbage does not stop the round for the others ---------------------------------------


def test_garbage_for_one_preschool_does_not_stop_the_round_for_the_others(
    engine: Engine,
    sessions: sessionmaker[Session],
    sources: Settings,
    server: LocalServer,
    http: httpx.Client,
    ekorren: World,
) -> None:
    with transaction(sessions) as session:
        humlan = session.get_one(Preschool, ekorren.humlan)
        humlan.latitude, humlan.longitude = HUMLAN
        humlan.modules = ["weather", "lunch"]
        menus.set_source(session, ekorren.ekorren, "skolmaten", SLUG)
        menus.set_source(session, ekorren.humlan, "skolmaten", OTHER_SLUG)
        menus.set_day(session, ekorren.ekorren, asked_day(), "lunch", ["Pedagogernas soppa"])
    weather_garbage("out_of_range", server)  # Ekorren's location: SMHI and MET Norway
    server.routes[path_of(*HUMLAN)] = json_reply(smhi_payload(*NEW_WEATHER))
    menu_garbage("out_of_range", server)  # Ekorren's feed
    server.routes[rss_path(OTHER_SLUG)] = Reply(200, rss(NEW_DISH, this_fortnight()), RSS)
    at = utcnow()

    said = refresh_forecasts(engine, sources, at, http)
    assert "failed" in said and "from SMHI" in said
    row = forecast_row(sessions)
    assert row.failures == 1 and row.fetched_at is None and row.next_attempt_at == at + minutes(2)
    with sessions() as session:
        other = session.get_one(StoredForecast, location_key(*HUMLAN))
        assert other.fetched_at == at and other.failures == 0 and other.steps

    said = refresh_menus(engine, sources, at, http)
    # A feed whose only day cannot be dated is an empty week, not an error; staff's day stays.
    assert "ekorren: 0 day(s)" in said and "humlan: 15 day(s)" in said
    assert [text for *_, text, _source in menu_rows(sessions, ekorren.ekorren)] == ["Pedagogernas soppa"]
    assert len({day for day, *_ in menu_rows(sessions, ekorren.humlan)}) == 15


# --- an exception nobody expected (a bug): that location's or preschool's failure, and the round goes on -


def two_locations(sessions: sessionmaker[Session], world: World) -> None:
    """Humlan shows the weather too, from another forecast location."""
    with transaction(sessions) as session:
        humlan = session.get_one(Preschool, world.humlan)
        humlan.latitude, humlan.longitude = HUMLAN
        humlan.modules = ["weather", "lunch"]


def the_traceback(caplog: pytest.LogCaptureFixture, logger: str) -> BaseException:
    """The one error the job logged, with its traceback; what it was."""
    (record,) = [r for r in caplog.records if r.name == logger and r.levelno >= logging.ERROR]
    assert record.exc_info is not None and record.exc_info[1] is not None
    return record.exc_info[1]


def test_an_unexpected_error_for_one_location_backs_off_and_the_round_goes_on(
    engine: Engine,
    sessions: sessionmaker[Session],
    sources: Settings,
    server: LocalServer,
    http: httpx.Client,
    ekorren: World,
    caplog: pytest.LogCaptureFixture,
) -> None:
    two_locations(sessions, ekorren)
    for path in (path_of(*EKORREN), MET_PATH):  # Ekorren's location: both sources (Humlan's SMHI is fine)
        server.routes[path] = Reply(200, TOO_DEEP.encode(), JSON)
    server.routes[path_of(*HUMLAN)] = json_reply(smhi_payload(*NEW_WEATHER))
    ours, other = location_key(*EKORREN), location_key(*HUMLAN)
    at = utcnow()

    with caplog.at_level(logging.WARNING, logger="laiban.jobs"):
        said = refresh_forecasts(engine, sources, at, http)  # does not raise
    assert f"{ours} failed: unexpected RecursionError (see the log)" in said
    assert f"{other} from SMHI" in said
    assert server.seen[0].path.startswith(path_of(*EKORREN))  # Ekorren's crash first; the round went on
    assert isinstance(the_traceback(caplog, "laiban.jobs.weather"), RecursionError)
    row = forecast_row(sessions)
    assert (row.failures, row.last_attempt_at, row.next_attempt_at) == (1, at, at + minutes(2))
    assert row.last_error == WEATHER_BUG and row.fetched_at is None
    with sessions() as session:
        assert session.get_one(StoredForecast, other).fetched_at == at

    # Backed off like any failure: not asked before its time, then 2, 4 … minutes.
    asked = len(server.seen)
    assert f"{ours} waiting after 1 failure(s)" in refresh_forecasts(engine, sources, at + minutes(1), http)
    assert len(server.seen) == asked
    at += minutes(2)
    assert f"{ours} failed: unexpected RecursionError" in refresh_forecasts(engine, sources, at, http)
    row = forecast_row(sessions)
    assert (row.failures, row.next_attempt_at, row.last_error) == (2, at + minutes(4), WEATHER_BUG)

    server.routes[path_of(*EKORREN)] = json_reply(smhi_payload(*NEW_WEATHER))  # fixed (or SMHI is sane again)
    at += minutes(4)
    assert f"{ours} from SMHI" in refresh_forecasts(engine, sources, at, http)
    row = forecast_row(sessions)
    assert (row.failures, row.next_attempt_at, row.last_error, row.fetched_at) == (0, None, None, at)


def test_an_unexpected_error_for_one_preschool_backs_off_and_the_round_goes_on(
    engine: Engine,
    sessions: sessionmaker[Session],
    sources: Settings,
    server: LocalServer,
    http: httpx.Client,
    ekorren: World,
    browser_for: SignIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with transaction(sessions) as session:
        menus.set_source(session, ekorren.ekorren, "mashie", "Helsingborg/ekorren")
        menus.set_source(session, ekorren.humlan, "skolmaten", OTHER_SLUG)
    mashie_page = f'<html><script>var weekMenues = {{"Weeks": {TOO_DEEP}}};</script></html>'
    server.routes["/public/menu/Helsingborg/ekorren"] = Reply(200, mashie_page.encode(), HTML)
    server.routes[rss_path(OTHER_SLUG)] = Reply(200, rss(NEW_DISH, this_fortnight()), RSS)
    with_mashie = replace(sources, mashie_base_url=server.url)
    at = utcnow()

    with caplog.at_level(logging.WARNING, logger="laiban.jobs"):
        said = refresh_menus(engine, with_mashie, at, http)  # does not raise
    assert "ekorren failed: unexpected RecursionError (see the log)" in said
    assert "humlan: 15 day(s) from skolmaten.se" in said
    assert server.seen[0].path.startswith("/public/menu/")  # Ekorren's crash first; the round went on
    assert isinstance(the_traceback(caplog, "laiban.jobs.menus"), RecursionError)
    source = menu_source(sessions, ekorren.ekorren)
    assert (source.failures, source.last_attempt_at, source.next_attempt_at) == (1, at, at + minutes(10))
    assert source.last_error == "Mashie: " + MENU_BUG and source.last_success_at is None
    assert menu_rows(sessions, ekorren.ekorren) == []
    staff: Browser = browser_for(ekorren.pedagogue_ekorren, PASSWORD)
    page = staff.get("/admin/p/ekorren/menu").text
    assert "Senaste hämtningen misslyckades (1 gång i rad): Mashie: " + MENU_BUG in page

    asked = len(server.seen)
    assert refresh_menus(engine, with_mashie, at + minutes(9), http) == "nothing due"
    assert len(server.seen) == asked
    at += minutes(10)
    assert "ekorren failed: unexpected RecursionError" in refresh_menus(engine, with_mashie, at, http)
    source = menu_source(sessions, ekorren.ekorren)
    assert (source.failures, source.next_attempt_at) == (2, at + minutes(20))


# --- 2: honest about an old forecast and a missing menu -------------------------------------------------


def test_a_forecast_older_than_three_hours_is_not_told_as_the_weather_now(
    engine: Engine,
    sessions: sessionmaker[Session],
    sources: Settings,
    down: Settings,
    server: LocalServer,
    http: httpx.Client,
    ask: Asker,
) -> None:
    for age, current in ((minutes(170), True), (minutes(190), False)):  # the skills accept 3 hours
        forget_the_forecasts(sessions)
        present = utcnow()
        server.routes[path_of(*EKORREN)] = json_reply(smhi_payload(*OLD_WEATHER))
        refresh_forecasts(engine, sources, present - age, http)  # the last good forecast, `age` ago
        assert "failed" in refresh_forecasts(engine, down, present, http)  # and the sources are down since
        weather, clothes = ask("weather"), ask("clothes")
        if current:
            assert weather["text"] == OLD_SAYS
            assert clothes["text"] != CANNOT_SEE and clothes["pictures"][0].startswith("garment/")
        else:
            for answer in (weather, clothes):
                assert answer["text"] == CANNOT_SEE
                assert answer["pictures"] == ["laiban/window"]  # no thermometer, no garments


def test_a_day_without_a_menu_is_honest_while_the_source_is_down(
    engine: Engine,
    sessions: sessionmaker[Session],
    sources: Settings,
    down: Settings,
    server: LocalServer,
    http: httpx.Client,
    ask: Asker,
    ekorren: World,
) -> None:
    day = asked_day()
    present = utcnow()
    server.routes[rss_path(SLUG)] = Reply(200, rss(OLD_DISH, [d for d in this_fortnight() if d != day]), RSS)
    refresh_menus(engine, sources, present, http)
    assert "failed" in refresh_menus(engine, down, present + dt.timedelta(hours=4), http)
    missing = ask("lunch", day=lunch_day_slot())
    assert missing["text"] == NO_MENU  # not another day's dish
    assert missing["pictures"] == ["food/plate"]
    other = day + dt.timedelta(days=1)
    while other.weekday() >= 5:
        other += dt.timedelta(days=1)
    assert "köttbullar" in ask("lunch", day=WEEKDAYS[other.weekday()])["text"]  # the days it has are told


# --- 4: a round stuck on a slow source does not slow the questions -----------------------------------


def test_questions_are_answered_while_a_round_waits_for_a_slow_source(
    engine: Engine,
    sessions: sessionmaker[Session],
    sources: Settings,
    server: LocalServer,
    ask: Asker,
    ekorren: World,
) -> None:
    present = utcnow()
    server.routes[path_of(*EKORREN)] = json_reply(smhi_payload(*OLD_WEATHER))
    server.routes[rss_path(SLUG)] = Reply(200, rss(OLD_DISH, this_fortnight()), RSS)
    refresh_forecasts(engine, sources, present - minutes(60))
    refresh_menus(engine, sources, present - dt.timedelta(hours=4))
    told = answers(ask)

    slow_weather = json_reply(smhi_payload(*NEW_WEATHER))
    slow_weather.delay = NEVER  # answers only when the test lets it (server.release)
    server.routes[path_of(*EKORREN)] = slow_weather
    server.routes[rss_path(SLUG)] = Reply(200, rss(NEW_DISH, this_fortnight()), RSS)
    lines: list[str] = []
    worker = threading.Thread(target=lambda: lines.extend(run_all_once(engine, sources)), daemon=True)
    earlier = len(server.seen)
    worker.start()  # the real round, with the jobs' own clients and timeouts
    try:
        deadline = time.monotonic() + 10
        while not any(s.path.startswith(path_of(*EKORREN)) for s in server.seen[earlier:]):
            assert time.monotonic() < deadline, "the round never asked SMHI"
            time.sleep(0.01)
        asked = len(server.seen)
        assert answers(ask) == told  # from the store, while the round waits
        assert worker.is_alive() and len(server.seen) == asked  # the questions asked nobody outside
    finally:
        server.release.set()  # SMHI answers now
        worker.join(timeout=30)
    assert not worker.is_alive()
    assert lines[0].startswith("forecasts: ") and "from SMHI" in lines[0]
    assert lines[1].startswith("menus: ") and "day(s) from skolmaten.se" in lines[1]
    now_told = answers(ask)
    assert now_told["weather"] == NEW_SAYS and "pannkakor" in now_told["lunch"]


# --- 5: staff see the problem ----------------------------------------------------------------------------


def test_staff_see_the_failing_sources_and_the_old_forecast(
    engine: Engine,
    sessions: sessionmaker[Session],
    sources: Settings,
    down: Settings,
    server: LocalServer,
    http: httpx.Client,
    browser_for: SignIn,
    ekorren: World,
) -> None:
    present = utcnow()
    server.routes[path_of(*EKORREN)] = json_reply(smhi_payload(*OLD_WEATHER))
    server.routes[rss_path(SLUG)] = Reply(200, rss(OLD_DISH, this_fortnight()), RSS)
    refresh_forecasts(engine, sources, present - minutes(190), http)
    refresh_menus(engine, sources, present - minutes(240), http)
    staff: Browser = browser_for(ekorren.pedagogue_ekorren, PASSWORD)
    for failures, minute in ((1, -30), (2, -20)):  # two failed rounds each
        refresh_forecasts(engine, down, present + minutes(minute), http)
        refresh_menus(engine, down, present + minutes(minute), http)
        times = "1 gång" if failures == 1 else f"{failures} gånger"
        weather = staff.get("/admin/p/ekorren/weather").text
        assert f"Senaste försöket misslyckades ({times} i rad): " + WEATHER_ERROR + UNREACHABLE in weather
        next_try = forecast_row(sessions).next_attempt_at
        assert f"Nästa försök tidigast {local_minute(next_try)}." in weather  # type: ignore[arg-type]
        assert "Prognosen är för gammal: barnen får höra att Laiban inte kan se vädret just nu." in weather
        menu = staff.get("/admin/p/ekorren/menu").text
        assert f"Senaste hämtningen misslyckades ({times} i rad): skolmaten.se: " + UNREACHABLE in menu
        next_try = menu_source(sessions, ekorren.ekorren).next_attempt_at
        assert f"Nästa försök tidigast {local_minute(next_try)}." in menu  # type: ignore[arg-type]

    server.routes[path_of(*EKORREN)] = json_reply(smhi_payload(*NEW_WEATHER))
    assert "from SMHI" in refresh_forecasts(engine, sources, present, http)  # due again, and back
    assert "from skolmaten.se" in refresh_menus(engine, sources, present, http)
    for page in ("weather", "menu"):
        assert "misslyckades" not in staff.get(f"/admin/p/ekorren/{page}").text
    assert "Prognosen är för gammal" not in staff.get("/admin/p/ekorren/weather").text


# --- values beyond what a datetime or a float holds: unreadable, not a crash of the round ---------------


def test_out_of_range_values_are_unreadable_not_an_exception(server: LocalServer) -> None:
    assert number({"t": 10**400}, "t") is None  # json.loads gives such an int; float() overflows
    assert parse_time("9999-12-31T23:00:00-05:00") is None  # after year 9999 in UTC
    assert parse_time("0001-01-01T00:30:00+05:00") is None  # before year 1 in UTC
    (day,) = skolmaten.parse(  # the pubDate overflows in Swedish time; the guid's date is used
        "<rss><channel><item><description>Fisk</description><guid>x-2026-11-23</guid>"
        "<pubDate>Fri, 31 Dec 9999 23:00:00 -0500</pubDate></item></channel></rss>"
    )
    assert day.day == dt.date(2026, 11, 23)
    beyond = "Fri, 31 Dec 9999 23:00:00 -0500"
    server.routes["/locationforecast/2.0/compact"] = json_reply(
        {"properties": {"timeseries": []}}, headers={"Expires": beyond, "Last-Modified": beyond}
    )
    with httpx.Client(timeout=10.0, trust_env=False) as client:
        _, info = metno.fetch(client, server.url, *EKORREN, utcnow(), user_agent="Laiban/test test@example")
    assert info["expires"] is None and info["last_modified"] is None
