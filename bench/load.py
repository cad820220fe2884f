"""A kiosk fleet against one real `laiban serve` (uvicorn) on loopback: throughput, latency, errors, CPU, RAM.

For each database (SQLite, PostgreSQL) in a fresh temporary data folder:

1. `laiban db upgrade`, then the store is filled directly through laiban's store functions: one
   organisation with N preschools, each with two groups, about 20 children (fictional first names) with
   weekly schedules and two of today's changes, the demo's day schedule, three weeks of lunch menus and a
   fresh stored forecast; K kiosk devices paired (tokens spread over the preschools and groups) and a few
   admin users. The preschools' time zone is chosen so that it is a weekday between 08:00 and 15:00 there
   now (`--timezone auto`), so that the answers are the ones of a working morning.
2. `python -m laiban.cli serve` starts with the outside services pointed at a dead local port.
3. An asyncio client (HTTP/1.1 keep-alive on plain streams, a bounded pool; httpx for the admins) sends,
   open loop:
   - asks: Poisson arrivals at `--rate` per second in total, each from a random kiosk, with the children's
     mix: tapped weather/clothes 25 %, lunch 20 %, time/schedule/date 20 %, pickup with a child of the
     kiosk's group 15 %, spoken Swedish questions 20 %;
   - the kiosks' polling: GET /api/v1/kiosk and GET /api/v1/today every 60 s per kiosk (random phase),
     and GET /api/v1/answers per kiosk language every hour (what the kiosk keeps for offline use);
   - children's ratings (POST /api/v1/lunch/rating and /clothes/rating), `--ratings` per second;
   - admins (`--admins`, default 3) signed in through the real login form, each saving every 10 s, with the
     session cookie and the CSRF token, either one child's day (POST /admin/p/<slug>/day/<child>) or the
     day schedule (POST /admin/p/<slug>/schedule), then loading the page the redirect leads to.
   Latency is measured from each request's intended start (its arrival time), so a slow server or a full
   connection pool shows up in the figures instead of silently slowing the arrivals (no coordinated
   omission). `client_lag` says how late the client itself was in sending.

    python bench/load.py [--db sqlite|postgres|both] [--preschools 80] [--kiosks 1000] [--rate 100]
                         [--duration 60] [--workers 1] [--knee] [--profile PREFIX]

`--workers N` starts `laiban serve --workers N` (N processes on one port); the server's CPU time and
memory are then those of the parent and its workers together.

`--knee` steps the ask rate up (10, 25, 40, 50, 60, 75, 100, 150, 200, 300, …; `--knee-step` seconds
each, the polling and the admins at the fleet's level throughout) until anything fails, the client cannot
keep the rate or the p95 of asks is above 1 s, and prints the highest rate whose p95 of asks and of polls
stayed within 100 ms with zero errors.
`--profile PREFIX` runs the server under `py-spy record --subprocesses` and writes PREFIX-<db>.svg (or
.txt collapsed stacks, .json speedscope: `--profile-format`). Before the load, each kind of request is sent
alone `--costs` times: the server's CPU time per request and the latency of one (`cost[...]`).

Prints one `name value` line per figure. The server, PostgreSQL and the temporary folders are always
removed at the end; every wait has a deadline. Talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
STARTUP_DEADLINE_S = 120.0
REQUEST_TIMEOUT_S = 10.0
DRAIN_S = 15.0  # after the last phase, how long requests still under way may take
POOL = 100  # kiosk connections to the server (the admins have their own)
KEEP_ALIVE_S = 4.0  # a kept-alive kiosk connection idle longer than this is not used again
MAX_IN_FLIGHT = 5000  # more than this waiting in the client: counted as an error, not sent
SLO_MS = 100.0
KNEE_RATES = (10, 25, 40, 50, 60, 75, 100, 150, 200, 300, 400, 600, 800, 1000)
OUTSIDE = ("SMHI", "METNO", "SKOLMATEN", "MASHIE")

# Fictional children: first names only.
FIRST_NAMES = (
    "Ella", "Noah", "Alice", "Omar", "Saga", "Liam", "Maja", "Hugo", "Amira", "Elias",
    "Vera", "Leo", "Alma", "William", "Selma", "Oscar", "Wilma", "Lucas", "Astrid", "Adam",
    "Ebba", "Nils", "Freja", "Ali", "Tyra", "Sixten", "Stella", "Malte", "Juni", "Melvin",
    "Idun", "Iris", "Ville", "Signe", "Otto", "Lova", "Theo", "Edith", "Måns", "Nora",
)  # fmt: skip
PICKUP_BY = ("mamma", "pappa", "mormor", "farfar", "morfar", "farmor", "taxi", "")
FLOWERS = ("Solrosen", "Blåklockan", "Vitsippan", "Tussilagon", "Linnean", "Prästkragen", "Smörblomman")
GROUPS = ("Blåbär", "Lingon")
# How children ask (speech recognition output, Swedish).
SPOKEN_SV = (
    "vad blir det för mat idag",
    "vad ska vi äta idag",
    "vem hämtar mig",
    "när blir jag hämtad",
    "vad är klockan",
    "hur mycket är klockan",
    "ska jag ha regnkläder",
    "behöver jag mössa idag",
    "vad ska jag ha på mig ute",
    "är det kallt ute",
    "regnar det",
    "vad är det för väder idag",
    "vad händer idag",
    "när är det lunch",
    "när ska vi gå ut",
    "vilken dag är det idag",
    "vad är det för datum",
    "vad blir det för mat imorgon",
    "när är det vila",
    "är det fredag idag",
)
# (what, weight): a tapped picture's intent, "pickup" (tapped, with the child's own picture) or "text".
ASK_MIX = (
    ("weather", 12.5),
    ("clothes", 12.5),
    ("lunch", 20.0),
    ("time", 7.0),
    ("schedule", 7.0),
    ("date", 6.0),
    ("pickup", 15.0),
    ("text", 20.0),
)
KINDS = ("ask", "poll", "answers", "rating", "admin_write", "admin_read")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def say(name: str, value: object) -> None:
    if isinstance(value, float):
        value = f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    print(f"{name} {value}", flush=True)


def note(text: str) -> None:
    print(f"# {text}", file=sys.stderr, flush=True)


# --- the preschools' clock ---------------------------------------------------------------------------


def pick_timezone(wanted: str) -> str:
    """`auto`: Europe/Stockholm if it is a weekday between 08:00 and 15:00 there now, else such a zone."""
    if wanted != "auto":
        zoneinfo.ZoneInfo(wanted)
        return wanted
    now = dt.datetime.now(dt.UTC)

    def morning(name: str) -> bool:
        local = now.astimezone(zoneinfo.ZoneInfo(name))
        return local.weekday() < 5 and 8 <= local.hour < 15

    if morning("Europe/Stockholm"):
        return "Europe/Stockholm"
    zones = sorted(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith("Etc/"))
    for name in zones:
        if morning(name):
            return name
    return "Europe/Stockholm"  # a weekend everywhere it is daytime: the answers say so


# --- the fleet in the store ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Kiosk:
    token: str
    slug: str
    languages: tuple[str, ...]  # spoken: the kiosk keeps today's answers in each
    child_ids: tuple[int, ...]  # the kiosk's group's children (who can tap their own picture)


@dataclass(frozen=True)
class Admin:
    email: str
    password: str
    slug: str
    child_ids: tuple[int, ...]


@dataclass
class Fleet:
    kiosks: list[Kiosk]
    admins: list[Admin]
    children: int
    local_time: str


def _forecast(latitude: float, longitude: float, now: dt.datetime, seed: int) -> Any:
    from laiban.model.weather import Forecast, ForecastStep, Precipitation, Symbol, feels_like

    rng = random.Random(seed)
    base = rng.uniform(-4.0, 12.0)
    start = now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=3)
    steps = []
    for hour in range(75):
        temperature = round(base + 4 * rng.random() - (2 if hour % 24 < 6 else 0), 1)
        wind = round(rng.uniform(1, 9), 1)
        humidity = round(rng.uniform(60, 95))
        raining = rng.random() < 0.3
        steps.append(
            ForecastStep(
                time=start + dt.timedelta(hours=hour),
                temperature=temperature,
                feels_like=feels_like(temperature, wind, humidity),
                wind_speed=wind,
                wind_gust=round(wind * 1.6, 1),
                humidity=humidity,
                precipitation_mm=round(rng.uniform(0.2, 2.5), 1) if raining else 0.0,
                precipitation=Precipitation.RAIN if raining else Precipitation.NONE,
                cloud_cover=round(rng.uniform(20, 100)),
                symbol=Symbol.RAIN if raining else rng.choice((Symbol.CLOUDY, Symbol.PARTLY_CLOUDY)),
            )
        )
    return Forecast("smhi", now, latitude, longitude, tuple(steps))


def populate(database_url: str, preschools: int, kiosks: int, admins: int, timezone: str) -> Fleet:
    """The fleet's preschools, children, schedules, menus, forecasts, paired devices and admin users."""
    from sqlalchemy import select

    from laiban.assistant import speakable
    from laiban.demo import DEMO_LUNCHES, DEMO_SCHEDULE, MONDAY_TO_FRIDAY
    from laiban.model.preschool import MODULES, Role
    from laiban.store import accounts
    from laiban.store.children import AVATARS, Plan, add_child, set_day, set_pickup, set_week
    from laiban.store.db import make_engine, session_factory, transaction
    from laiban.store.preschools import PreschoolSettings, create_organisation, create_preschool
    from laiban.store.tables import MenuItem, Organisation, Preschool, ScheduleEvent, utcnow
    from laiban.store.weather import forecast_row, save_forecast

    now_utc = utcnow()
    local = now_utc.astimezone(zoneinfo.ZoneInfo(timezone))
    today = local.date()
    monday = today - dt.timedelta(days=today.weekday())
    weekend = today.weekday() >= 5
    rng = random.Random(12)
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    groups_of: list[tuple[str, tuple[str, ...], list[tuple[int, tuple[int, ...]]]]] = []
    child_count = 0
    try:
        with transaction(sessions) as session:
            organisation_id = create_organisation(session, "Benchkommunen").id
        for number in range(preschools):
            with transaction(sessions) as session:
                organisation = session.get_one(Organisation, organisation_id)
                languages = ["sv", "en", "ar"] if number % 4 == 0 else ["sv", "en"]
                latitude = round(55.95 + (number % 10) * 0.03, 4)  # 0.03° apart: one forecast each
                longitude = round(12.55 + (number // 10) * 0.03, 4)
                settings = PreschoolSettings(
                    name=f"Förskolan {FLOWERS[number % len(FLOWERS)]} {number + 1}",
                    address=f"Bänkgatan {number + 1}, 252 20 Helsingborg",
                    latitude=latitude,
                    longitude=longitude,
                    timezone=timezone,
                    modules=list(MODULES),
                    languages=languages,
                )
                preschool = create_preschool(session, organisation, f"bench-{number:03d}", settings, GROUPS)
                # As if the morning job had spoken the day's answers already (before opening): measured
                # here is the day's load, not 80 preschools' pre-rendering in the background.
                preschool.audio_prerendered_on = today
                by_group: list[tuple[int, tuple[int, ...]]] = []
                for group_index, group in enumerate(preschool.groups):
                    ids = []
                    for place in range(rng.randint(9, 11)):
                        name = FIRST_NAMES[(number * 7 + group_index * 11 + place) % len(FIRST_NAMES)]
                        child = add_child(session, preschool, name, group.id, AVATARS[place % len(AVATARS)])
                        arrives = dt.time(7 + place % 3, 15 * (place % 4))
                        leaves = dt.time(14 + place % 3, 15 * ((place + 1) % 4))
                        plan = Plan(arrives, leaves, PICKUP_BY[(number + place) % len(PICKUP_BY)])
                        weekdays = range(7) if weekend else MONDAY_TO_FRIDAY
                        set_week(session, preschool, child, dict.fromkeys(weekdays, plan))
                        if place == 0:
                            set_pickup(
                                session, preschool, child, today, dt.time(15, 30), "mormor", by="Bench"
                            )
                        elif place == 1:
                            set_day(session, preschool, child, today, absent=True, plan=Plan(), by="Bench")
                        ids.append(child.id)
                    by_group.append((group.id, tuple(ids)))
                    child_count += len(ids)
                session.add_all(
                    ScheduleEvent(
                        preschool_id=preschool.id, at=dt.time.fromisoformat(at), kind=kind, title=title
                    )
                    for at, kind, title in DEMO_SCHEDULE
                )
                for week in (-1, 0, 1):
                    for weekday in range(5):
                        day = monday + dt.timedelta(days=week * 7 + weekday)
                        dish, alternative = DEMO_LUNCHES[(week + 1 + weekday + number) % len(DEMO_LUNCHES)]
                        for position, text in enumerate((dish, alternative)):
                            session.add(
                                MenuItem(
                                    preschool_id=preschool.id,
                                    day=day,
                                    meal="lunch",
                                    position=position,
                                    text=text,
                                )
                            )
                row = forecast_row(session, latitude, longitude)
                save_forecast(row, _forecast(latitude, longitude, now_utc, number))
                row.last_attempt_at = now_utc
                groups_of.append((preschool.slug, tuple(languages), by_group))
        fleet_kiosks: list[Kiosk] = []
        with transaction(sessions) as session:
            by_slug = {p.slug: p for p in session.scalars(select(Preschool))}
            for number in range(kiosks):
                slug, languages, by_group = groups_of[number % preschools]
                group_id, child_ids = by_group[(number // preschools) % len(by_group)]
                _, code = accounts.create_device(session, by_slug[slug], f"Kiosk {number + 1}", group_id)
                paired = accounts.pair_device(session, code)
                assert paired is not None
                # Seen just now, as in the middle of a morning: the server writes last_seen_at again only
                # after five minutes. (At the first request of every kiosk it would write it each time: a
                # morning when all kiosks start at once, which is another scenario.)
                paired[0].last_seen_at = utcnow()
                # The kiosk keeps answers for the languages Laiban speaks (GET /api/v1/kiosk's list).
                fleet_kiosks.append(Kiosk(paired[1], slug, speakable(languages), child_ids))
        fleet_admins: list[Admin] = []
        with transaction(sessions) as session:
            for number in range(admins):
                slug, _, by_group = groups_of[number % preschools]
                password = secrets.token_urlsafe(18)  # random: the policy refuses the e-mail domain in it
                email = f"admin{number + 1}@bench.example"
                accounts.create_user(
                    session,
                    organisation_id=organisation_id,
                    email=email,
                    name=f"Pedagog {number + 1}",
                    password=password,
                    roles={by_slug[slug].id: Role.ADMIN},
                )
                fleet_admins.append(
                    Admin(email, password, slug, tuple(i for _, ids in by_group for i in ids))
                )
    finally:
        engine.dispose()
    return Fleet(fleet_kiosks, fleet_admins, child_count, local.isoformat(timespec="minutes"))


# --- processes -----------------------------------------------------------------------------------------


def clean_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LAIBAN_")}
    env["LAIBAN_DATA_DIR"] = str(data_dir)
    env["LAIBAN_LOG_LEVEL"] = "warning"
    env["PYTHONIOENCODING"] = "utf-8"
    if database_url:
        env["LAIBAN_DATABASE_URL"] = database_url
    for source in OUTSIDE:  # measure Laiban, not the internet
        env[f"LAIBAN_{source}_BASE_URL"] = "http://127.0.0.1:9"
    return env


def children_of_pid(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path
    profile: Path | None

    def pid(self) -> int:
        """The Python server's pid (under py-spy it is py-spy's child)."""
        if self.profile is None:
            return self.process.pid
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            kids = children_of_pid(self.process.pid)
            if kids:
                return kids[0]
            time.sleep(0.1)
        return self.process.pid

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return "(no output)"

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        if self.profile is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
            return
        # Under py-spy: Ctrl-C makes it write its file; then the server (its child) is stopped.
        server = self.pid()
        self.process.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=60)
        if server != self.process.pid:
            for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(server, sig)
                deadline = time.monotonic() + wait
                while _alive(server) and time.monotonic() < deadline:
                    time.sleep(0.1)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=15)


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def start_server(data_dir: Path, database_url: str | None, profile: Path | None, workers: int = 1) -> Server:
    port = free_port()
    launcher = ["-m", "laiban.cli"]
    command = [sys.executable, *launcher, "serve", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    if profile is not None:
        kind = (
            "raw" if profile.suffix == ".txt" else "speedscope" if profile.suffix == ".json" else "flamegraph"
        )
        spy = ["py-spy", "record", "--subprocesses", "--nonblocking", "--rate", "50", "--format", kind]
        spy += ["-o", str(profile)]
        command = [*spy, "--", *command]
    log = data_dir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            env=clean_env(data_dir, database_url),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log, profile)
    started = time.monotonic()
    while time.monotonic() - started < STARTUP_DEADLINE_S:
        if process.poll() is not None:
            raise RuntimeError(f"laiban serve exited with {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"laiban serve did not answer /healthz in {STARTUP_DEADLINE_S} s:\n{server.output()}")


def upgrade(data_dir: Path, database_url: str | None) -> None:
    subprocess.run(
        [sys.executable, "-m", "laiban.cli", "db", "upgrade"],
        env=clean_env(data_dir, database_url),
        check=True,
        capture_output=True,
        timeout=120,
    )


@contextmanager
def postgres() -> Iterator[tuple[str, int]]:
    """A throwaway PostgreSQL server as the test suite starts it (tests/pg.py), but durable: fsync and
    synchronous commits on, as in production (the tests turn them off). Yields (URL, postmaster pid)."""
    sys.path.insert(0, str(ROOT))
    from tests.pg import TempPostgres, _has_c_utf8, find_bin_dir

    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise RuntimeError("no PostgreSQL binaries (apt install postgresql)")
    server = TempPostgres(bin_dir)
    try:
        if server.as_root:
            shutil.chown(server.root, "postgres")
        locale = "--locale=C.UTF-8" if _has_c_utf8() else "--locale=C"
        server._run(
            str(bin_dir / "initdb"),
            *("-D", str(server.data), "-U", "laiban", "--auth=trust", "-E", "UTF8", locale),
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={server.port} -c unix_socket_directories={server.root} "
            "-c max_connections=200"
        )
        server._run(
            str(bin_dir / "pg_ctl"),
            *("-D", str(server.data), "-o", options, "-l", str(server.root / "server.log"), "-w"),
            *("-t", "60", "start"),
        )
        admin_url = f"postgresql+psycopg://laiban@127.0.0.1:{server.port}/postgres"
        from sqlalchemy import create_engine, text

        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE laiban_bench"))
        admin.dispose()
        postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
        yield f"postgresql+psycopg://laiban@127.0.0.1:{server.port}/laiban_bench", postmaster
    finally:
        try:
            server.stop()
        except subprocess.CalledProcessError as exc:
            note(f"stopping PostgreSQL: {exc} {exc.stderr}")
            shutil.rmtree(server.root, ignore_errors=True)


# --- CPU and memory from /proc ---------------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_ticks(pid: int, with_children: bool = False) -> int:
    """utime + stime (+ of the reaped children, and of the live ones: PostgreSQL's backends)."""
    fields = _stat(pid)
    if fields is None:
        return 0
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
        ticks += sum(cpu_ticks(child) for child in children_of_pid(pid))
    return ticks


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


@dataclass(frozen=True)
class Snapshot:
    at: float
    server: int
    postgres: int
    client: float
    machine: tuple[int, int]


def snapshot(server_pid: int, postmaster: int | None) -> Snapshot:
    return Snapshot(
        time.monotonic(),
        cpu_ticks(server_pid, with_children=True),  # with --workers: the workers
        cpu_ticks(postmaster, with_children=True) if postmaster else 0,
        time.process_time(),
        machine_ticks(),
    )


# --- the load ----------------------------------------------------------------------------------------------


@dataclass
class Phase:
    """What happened to the requests whose arrival fell in one measured period."""

    name: str
    ask_rate: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    errors: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    error_examples: list[str] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    unavailable: Counter[str] = field(default_factory=Counter)
    out_of_scope: int = 0
    rss: list[tuple[float, float]] = field(default_factory=list)
    started: Snapshot | None = None
    ended: Snapshot | None = None

    def record(self, kind: str, ms: float, status: str, ok: bool, example: str = "") -> None:
        self.latencies[kind].append(ms)
        self.statuses[kind][status] += 1
        if not ok:
            self.errors[kind][status] += 1
            if example and len(self.error_examples) < 10:
                self.error_examples.append(f"{kind} {status}: {example[:300]}")

    @property
    def error_count(self) -> int:
        return sum(sum(c.values()) for c in self.errors.values())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = q / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _ask_body(rng: random.Random, kiosk: Kiosk) -> dict[str, Any]:
    return _ask_of(rng, kiosk, rng.choices([w for w, _ in ASK_MIX], weights=[p for _, p in ASK_MIX])[0])


def _ask_of(rng: random.Random, kiosk: Kiosk, what: str) -> dict[str, Any]:
    if what == "text":
        return {"text": rng.choice(SPOKEN_SV), "lang": "sv"}
    if what == "pickup":
        return {"intent": "pickup", "child": rng.choice(kiosk.child_ids)}
    return {"intent": what}


class KioskResponse:
    """What `_timed` needs of a response (the same names as httpx's)."""

    def __init__(self, status_code: int, content: bytes):
        self.status_code = status_code
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class KioskConnections:
    """The kiosks' HTTP/1.1 keep-alive connections, on plain asyncio streams.

    httpx spends about 5 ms of CPU per request; at 140 requests per second the load generator took most of
    a core of this two-core machine from the server it measures. This sends the same requests for a
    fraction of that. It knows only what Laiban's kiosk API answers: a Content-Length body, no chunks.
    """

    def __init__(self, base_url: str, size: int):
        address = httpx.URL(base_url)
        self.host, self.port = address.host, address.port or 80
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.slots = asyncio.Semaphore(size)

    async def request(
        self, method: str, path: str, token: str, body: dict[str, Any] | None = None
    ) -> KioskResponse:
        payload = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {len(payload)}\r\n"
            + ("Content-Type: application/json\r\n" if body is not None else "")
            + "\r\n"
        ).encode()
        async with self.slots:
            reader, writer = await self._connection()
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    writer.write(head + payload)
                    status_line = await reader.readline()
                    if not status_line:
                        raise ConnectionResetError("the server closed the connection")
                    status = int(status_line.split(b" ", 2)[1])
                    length, close = 0, False
                    while (line := await reader.readline()) not in (b"\r\n", b""):
                        name, _, value = line.partition(b":")
                        name = name.strip().lower()
                        if name == b"content-length":
                            length = int(value)
                        elif name == b"connection" and value.strip().lower() == b"close":
                            close = True
                        elif name == b"transfer-encoding":
                            raise ValueError("a chunked reply: not a kiosk API answer")
                    content = await reader.readexactly(length) if length else b""
            except BaseException:
                writer.close()
                raise
            if close:
                writer.close()
            else:
                self.idle.append((reader, writer, time.monotonic()))
            return KioskResponse(status, content)

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while self.idle:
            reader, writer, since = self.idle.pop()
            # uvicorn closes a connection idle for 5 s (timeout_keep_alive): never send on one near that.
            if time.monotonic() - since < KEEP_ALIVE_S and not reader.at_eof():
                return reader, writer
            writer.close()
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            return await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()
        self.idle.clear()


class Load:
    def __init__(self, base_url: str, fleet: Fleet, args: argparse.Namespace, server_pid: int):
        self.base_url = base_url
        self.fleet = fleet
        self.args = args
        self.server_pid = server_pid
        self.rng = random.Random(args.seed)
        self.ask_rate = float(args.rate)
        self.phase: Phase | None = None  # None: warming up, not measured
        self.stopping = False
        self.tasks: set[asyncio.Task[None]] = set()
        # Requests wait for a connection; the wait counts in the latency, which runs from the intended start.
        self.kiosks = KioskConnections(base_url, POOL)
        self.loop = asyncio.get_running_loop()

    # -- sending

    def fire(self, intended: float, kind: str, send: Callable[[], Any]) -> None:
        phase = self.phase
        if len(self.tasks) >= MAX_IN_FLIGHT:
            if phase is not None:
                phase.record(kind, 0.0, "client_overload", ok=False)
            return
        task = self.loop.create_task(self._timed(phase, intended, kind, send))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _timed(self, phase: Phase | None, intended: float, kind: str, send: Callable[[], Any]) -> None:
        if phase is not None:
            phase.lags.append((self.loop.time() - intended) * 1000)
        example = ""
        try:
            response = await send()
            status = str(response.status_code)
            ok = response.status_code < 400
            if not ok:
                example = response.text
            elif phase is not None and kind == "ask":
                answer = response.json()
                if not answer.get("available", True):
                    phase.unavailable[answer.get("intent", "?")] += 1
                if answer.get("intent") == "out_of_scope":
                    phase.out_of_scope += 1
        except asyncio.CancelledError:  # still waiting when the run ended: a failure, not a gap
            if phase is not None:
                phase.record(kind, (self.loop.time() - intended) * 1000, "unfinished", ok=False)
            raise
        except (TimeoutError, httpx.TimeoutException) as exc:
            status, ok, example = f"timeout:{type(exc).__name__}", False, repr(exc)
        except (OSError, asyncio.IncompleteReadError, ValueError, httpx.HTTPError) as exc:
            status, ok, example = type(exc).__name__, False, repr(exc)
        if phase is not None:
            phase.record(kind, (self.loop.time() - intended) * 1000, status, ok, example)

    def _get(self, kiosk: Kiosk, url: str) -> Callable[[], Any]:
        return lambda: self.kiosks.request("GET", url, kiosk.token)

    def _post(self, kiosk: Kiosk, url: str, body: dict[str, Any]) -> Callable[[], Any]:
        return lambda: self.kiosks.request("POST", url, kiosk.token, body)

    # -- arrivals

    async def _until(self, moment: float) -> None:
        delay = moment - self.loop.time()
        if delay > 0:
            await asyncio.sleep(delay)

    async def asks(self) -> None:
        """Poisson arrivals at `self.ask_rate`, each from a random kiosk."""
        moment = self.loop.time()
        while not self.stopping:
            moment += self.rng.expovariate(self.ask_rate)
            await self._until(moment)
            kiosk = self.rng.choice(self.fleet.kiosks)
            self.fire(moment, "ask", self._post(kiosk, "/api/v1/ask", _ask_body(self.rng, kiosk)))

    async def ratings(self) -> None:
        if self.args.ratings <= 0:
            return
        moment = self.loop.time()
        while not self.stopping:
            moment += self.rng.expovariate(self.args.ratings)
            await self._until(moment)
            kiosk = self.rng.choice(self.fleet.kiosks)
            if self.rng.random() < 0.5:
                send = self._post(kiosk, "/api/v1/lunch/rating", {"rating": self.rng.randint(1, 4)})
            else:
                send = self._post(
                    kiosk, "/api/v1/clothes/rating", {"rating": self.rng.choice(("up", "down"))}
                )
            self.fire(moment, "rating", send)

    async def every(self, period: float, items: list[tuple[str, Callable[[], Any]]]) -> None:
        """Each item once per `period`, at its own random phase."""
        timed = sorted(
            ((self.rng.uniform(0, period), kind, send) for kind, send in items), key=lambda x: x[0]
        )
        start = self.loop.time()
        cycle = 0
        while not self.stopping:
            for offset, kind, send in timed:
                moment = start + cycle * period + offset
                await self._until(moment)
                if self.stopping:
                    return
                self.fire(moment, kind, send)
            cycle += 1

    async def sign_in(self, admin: Admin) -> tuple[httpx.AsyncClient, str]:
        """A browser of its own (cookies), signed in through the login form; its CSRF token."""
        browser = httpx.AsyncClient(base_url=self.base_url, timeout=REQUEST_TIMEOUT_S)
        page = await browser.get("/admin/login")
        response = await browser.post(
            "/admin/login",
            data={"csrf_token": csrf_from(page.text), "email": admin.email, "password": admin.password},
        )
        if response.status_code != 303:
            await browser.aclose()
            raise RuntimeError(f"admin sign-in failed: {response.status_code} {response.text[:300]}")
        return browser, csrf_from((await browser.get("/admin/account")).text)

    async def admin(self, admin: Admin, browser: httpx.AsyncClient, csrf: str, number: int) -> None:
        """Saves a child's day or the day schedule every `--admin-every` seconds."""
        rng = random.Random(self.args.seed + number)
        moment = self.loop.time() + rng.uniform(0, self.args.admin_every)
        saves = 0
        while not self.stopping:
            await self._until(moment)
            if self.stopping:
                return
            self.fire(moment, "admin_write", self._admin_save(browser, admin, csrf, saves, rng))
            saves += 1
            moment += self.args.admin_every

    def _admin_save(
        self, browser: httpx.AsyncClient, admin: Admin, csrf: str, saves: int, rng: random.Random
    ) -> Callable[[], Any]:
        from laiban.demo import DEMO_SCHEDULE

        async def save() -> httpx.Response:
            if saves % 2 == 0:
                child = rng.choice(admin.child_ids)
                form: dict[str, Any] = {"csrf_token": csrf}
                if saves % 4 == 0:
                    form |= {"arrives": "08:00", "leaves": "15:15", "pickup_by": rng.choice(PICKUP_BY[:6])}
                else:
                    form |= {"action": "usual"}
                response = await browser.post(f"/admin/p/{admin.slug}/day/{child}", data=form)
            else:
                rows = list(DEMO_SCHEDULE)
                if saves % 4 == 1:
                    rows[1] = (rows[1][0], rows[1][1], "Samling i ringen")
                response = await browser.post(
                    f"/admin/p/{admin.slug}/schedule",
                    data={
                        "csrf_token": csrf,
                        "time": [r[0] for r in rows],
                        "kind": [r[1] for r in rows],
                        "title": [r[2] for r in rows],
                    },
                )
            if response.status_code == 303:  # then the browser loads the page it is sent to
                location = response.headers["location"].split("#")[0]
                moment = self.loop.time()
                self.fire(moment, "admin_read", lambda: browser.get(location))
            return response

        return save

    # -- phases

    async def sample_memory(self) -> None:
        while not self.stopping:
            if self.phase is not None:
                server_and_workers = [self.server_pid, *children_of_pid(self.server_pid)]
                self.phase.rss.append((time.monotonic(), sum(rss_mb(pid) for pid in server_and_workers)))
            await asyncio.sleep(1.0)

    def _begin(self, phase: Phase | None, postmaster: int | None) -> None:
        now = snapshot(self.server_pid, postmaster)
        if self.phase is not None:
            self.phase.ended = now
        if phase is not None:
            phase.started = now
        self.phase = phase

    async def run(self, phases: list[tuple[Phase, float]], postmaster: int | None) -> list[Phase]:
        """Warm-up, then each phase for its seconds (with --knee, up to the first that misses the SLO)."""
        browsers = [await self.sign_in(admin) for admin in self.fleet.admins]
        kiosks = self.fleet.kiosks
        polls = [("poll", self._get(k, "/api/v1/kiosk")) for k in kiosks]
        todays = [("poll", self._get(k, "/api/v1/today")) for k in kiosks]
        answers = [
            ("answers", self._get(k, f"/api/v1/answers?lang={lang}")) for k in kiosks for lang in k.languages
        ]
        streams = [
            self.asks(),
            self.ratings(),
            self.every(self.args.poll_every, polls),
            self.every(self.args.today_every, todays),
            self.every(self.args.answers_every, answers),
            self.sample_memory(),
        ]
        streams += [
            self.admin(admin, browser, csrf, number)
            for number, (admin, (browser, csrf)) in enumerate(zip(self.fleet.admins, browsers, strict=True))
        ]
        running = [self.loop.create_task(stream) for stream in streams]
        done: list[Phase] = []
        try:
            self.ask_rate = phases[0][0].ask_rate
            await asyncio.sleep(self.args.warmup)
            for phase, seconds in phases:
                self.ask_rate = phase.ask_rate
                self._begin(phase, postmaster)
                ends = self.loop.time() + seconds
                while self.loop.time() < ends:
                    await asyncio.sleep(min(1.0, ends - self.loop.time()))
                    failed = [task for task in running if task.done() and task.exception()]
                    if failed:
                        raise failed[0].exception()  # type: ignore[misc]
                self._begin(None, postmaster)
                done.append(phase)
                if self.args.knee and overloaded(phase):
                    break
        finally:
            self.stopping = True
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            if self.tasks:
                await asyncio.wait(set(self.tasks), timeout=DRAIN_S)
            for task in list(self.tasks):
                task.cancel()
            self.kiosks.close()
            for browser, _ in browsers:
                await browser.aclose()
        return done


def meets_slo(phase: Phase) -> bool:
    """Zero errors, p95 of asks and of polls within the SLO, and the client kept up with the rate."""
    seconds = phase.ended.at - phase.started.at if phase.ended and phase.started else 1.0
    achieved = len(phase.latencies["ask"]) / seconds
    return (
        phase.error_count == 0
        and percentile(phase.latencies["ask"], 95) <= SLO_MS
        and percentile(phase.latencies["poll"], 95) <= SLO_MS
        and achieved >= 0.9 * phase.ask_rate
    )


def overloaded(phase: Phase) -> bool:
    """Where a knee search stops: errors, the client could not keep the rate, or a p95 ten times the SLO.
    A step that only misses the SLO goes on to the next (a busy shared machine makes single steps noisy)."""
    seconds = phase.ended.at - phase.started.at if phase.ended and phase.started else 1.0
    return (
        phase.error_count > 0
        or len(phase.latencies["ask"]) / seconds < 0.9 * phase.ask_rate
        or percentile(phase.latencies["ask"], 95) > 10 * SLO_MS
    )


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if found is None:
        raise RuntimeError("no CSRF token in the page")
    return found.group(1)


# --- reporting --------------------------------------------------------------------------------------------


def report(prefix: str, phase: Phase) -> None:
    assert phase.started is not None and phase.ended is not None
    start, end = phase.started, phase.ended
    seconds = end.at - start.at
    say(f"{prefix}_seconds", seconds)
    say(f"{prefix}_ask_rate_target", phase.ask_rate)
    asks = phase.statuses["ask"]
    ok_asks = sum(n for status, n in asks.items() if status.startswith("2"))
    say(f"{prefix}_asks_per_s", ok_asks / seconds)
    responses = sum(
        n for counter in phase.statuses.values() for status, n in counter.items() if status.isdigit()
    )
    ok = sum(n for counter in phase.statuses.values() for status, n in counter.items() if status[0] in "23")
    say(f"{prefix}_requests_per_s", sum(len(v) for v in phase.latencies.values()) / seconds)
    say(f"{prefix}_responses_per_s", responses / seconds)
    say(f"{prefix}_ok_responses_per_s", ok / seconds)
    for kind in KINDS:
        values = phase.latencies.get(kind, [])
        say(f"{prefix}_{kind}_count", len(values))
        if not values:
            continue
        for q in (50, 95, 99):
            say(f"{prefix}_{kind}_p{q}_ms", percentile(values, q))
        say(f"{prefix}_{kind}_max_ms", max(values))
    say(f"{prefix}_errors", phase.error_count)
    for kind, counter in sorted(phase.errors.items()):
        for status, count in sorted(counter.items()):
            say(f"{prefix}_errors[{kind}:{status}]", count)
    for intent, count in sorted(phase.unavailable.items()):
        say(f"{prefix}_ask_unavailable[{intent}]", count)
    say(f"{prefix}_ask_out_of_scope", phase.out_of_scope)
    say(f"{prefix}_client_lag_p99_ms", percentile(phase.lags, 99))
    say(f"{prefix}_server_cpu_pct", 100 * (end.server - start.server) / TICKS / seconds)
    say(
        f"{prefix}_server_cpu_ms_per_response", 1000 * (end.server - start.server) / TICKS / max(1, responses)
    )
    if end.postgres or start.postgres:
        say(f"{prefix}_postgres_cpu_pct", 100 * (end.postgres - start.postgres) / TICKS / seconds)
    say(f"{prefix}_client_cpu_pct", 100 * (end.client - start.client) / seconds)
    busy = end.machine[0] - start.machine[0]
    total_ticks = max(1, end.machine[1] - start.machine[1])
    say(f"{prefix}_machine_cpu_busy_pct", 100 * busy / total_ticks * (os.cpu_count() or 1))
    if phase.rss:
        middle = phase.rss[len(phase.rss) // 2][1]
        say(f"{prefix}_server_rss_mb_start", phase.rss[0][1])
        say(f"{prefix}_server_rss_mb_middle", middle)
        say(f"{prefix}_server_rss_mb_end", phase.rss[-1][1])
        say(f"{prefix}_server_rss_mb_max", max(mb for _, mb in phase.rss))
    for example in phase.error_examples:
        note(f"{prefix} error: {example}")


def log_problems(prefix: str, log_text: str) -> None:
    lines = log_text.splitlines()
    bad = [i for i, line in enumerate(lines) if re.search(r"Traceback|ERROR|CRITICAL", line)]
    warnings = [line for line in lines if "WARNING" in line]
    say(f"{prefix}_server_log_errors", len(bad))
    say(f"{prefix}_server_log_warnings", len(warnings))
    if bad or warnings:  # kept for reading (the data folder goes)
        kept = Path(tempfile.gettempdir()) / f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}-serve.log"
        kept.write_text(log_text)
        say(f"{prefix}_server_log", kept)
    for line in warnings[:5]:
        note(f"{prefix} server log: {line[:300]}")
    for index in bad[:3]:
        for line in lines[index : index + 25]:
            note(f"{prefix} server log: {line[:300]}")


def git_state() -> tuple[str, int]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown", -1
    return commit or "unknown", len(dirty)


# --- one database ------------------------------------------------------------------------------------------


def run_database(db: str, args: argparse.Namespace, timezone: str) -> None:
    prefix = f"load_{db}"
    with tempfile.TemporaryDirectory(prefix=f"laiban-bench-load-{db}-") as root:
        data_dir = Path(root)
        with postgres() if db == "postgres" else _no_postgres() as (database_url, postmaster):
            started = time.perf_counter()
            upgrade(data_dir, database_url)
            url = database_url or f"sqlite:///{data_dir / 'laiban.db'}"
            fleet = populate(url, args.preschools, args.kiosks, args.admins, timezone)
            say(f"{prefix}_setup_s", time.perf_counter() - started)
            say(f"{prefix}_preschools", args.preschools)
            say(f"{prefix}_kiosks", len(fleet.kiosks))
            say(f"{prefix}_children", fleet.children)
            say(f"{prefix}_admins", len(fleet.admins))
            say(f"{prefix}_local_time", fleet.local_time)
            suffix = args.profile_format
            profile = Path(f"{args.profile}-{db}.{suffix}").resolve() if args.profile else None
            server = start_server(data_dir, database_url, profile, args.workers)
            try:
                server_pid = server.pid()
                warm_up(server.base_url, fleet)
                if args.costs:
                    costs(prefix, server.base_url, fleet, server_pid, args.costs)
                if args.knee:
                    phases = [(Phase(f"knee{rate}", rate), args.knee_step) for rate in KNEE_RATES]
                else:
                    phases = [(Phase("run", args.rate), args.duration)]
                limit = args.warmup + sum(seconds for _, seconds in phases) + DRAIN_S + 60
                done = asyncio.run(
                    _bounded(server.base_url, fleet, args, server_pid, phases, postmaster, limit)
                )
                if server.process.poll() is not None:
                    note(f"{prefix}: the server exited with {server.process.returncode} during the run")
                    say(f"{prefix}_server_exited", server.process.returncode)
            finally:
                server.stop()
            if args.knee:
                knee = 0.0
                for phase in done:
                    step = f"{prefix}_knee[{phase.ask_rate:g}]"
                    report(step, phase)
                    meets = meets_slo(phase)
                    say(f"{step}_meets_slo", int(meets))
                    if meets:
                        knee = phase.ask_rate
                say(f"{prefix}_knee_asks_per_s", knee)
            else:
                report(prefix, done[0])
                say(f"{prefix}_meets_slo", int(meets_slo(done[0])))
            log_problems(prefix, server.output())
            if profile is not None:
                say(f"{prefix}_profile", profile if profile.exists() else "missing")


@contextmanager
def _no_postgres() -> Iterator[tuple[None, None]]:
    yield None, None


async def _bounded(
    base_url: str,
    fleet: Fleet,
    args: argparse.Namespace,
    server_pid: int,
    phases: list[tuple[Phase, float]],
    postmaster: int | None,
    limit: float,
) -> list[Phase]:
    load = Load(base_url, fleet, args, server_pid)
    return await asyncio.wait_for(load.run(phases, postmaster), timeout=limit)


def warm_up(base_url: str, fleet: Fleet) -> None:
    """Each kind of request once per preschool (imports, first queries); the understanding models are
    built in the background at start: wait for a spoken question to be quick."""
    seen: set[str] = set()
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for kiosk in fleet.kiosks:
            if kiosk.slug in seen:
                continue
            seen.add(kiosk.slug)
            headers = {"Authorization": f"Bearer {kiosk.token}"}
            for body in ({"intent": "weather"}, {"intent": "pickup", "child": kiosk.child_ids[0]}):
                client.post("/api/v1/ask", json=body, headers=headers).raise_for_status()
            client.get("/api/v1/today", headers=headers).raise_for_status()
        deadline = time.monotonic() + 60
        headers = {"Authorization": f"Bearer {fleet.kiosks[0].token}"}
        while time.monotonic() < deadline:
            started = time.perf_counter()
            client.post("/api/v1/ask", json={"text": "vad är klockan"}, headers=headers).raise_for_status()
            if time.perf_counter() - started < 0.2:
                break


def costs(prefix: str, base_url: str, fleet: Fleet, server_pid: int, repeat: int) -> None:
    """Each kind of request alone, one after another: the server's CPU time and the latency of one."""
    rng = random.Random(7)
    kinds: list[tuple[str, Callable[[Kiosk], tuple[str, str, dict[str, Any] | None]]]] = [
        (f"ask:{what}", lambda k, w=what: ("POST", "/api/v1/ask", _ask_of(rng, k, w))) for what, _ in ASK_MIX
    ]
    kinds += [
        ("poll:kiosk", lambda k: ("GET", "/api/v1/kiosk", None)),
        ("poll:today", lambda k: ("GET", "/api/v1/today", None)),
        ("children", lambda k: ("GET", "/api/v1/children", None)),
        ("answers", lambda k: ("GET", "/api/v1/answers?lang=sv", None)),
        ("rating:lunch", lambda k: ("POST", "/api/v1/lunch/rating", {"rating": 3})),
    ]
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get("/healthz").raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
        say(f"{prefix}_cost[healthz]_p50_ms", percentile(times, 50))
        for name, make in kinds:
            times = []
            count = max(1, repeat // 10) if name == "answers" else repeat
            before = cpu_ticks(server_pid, with_children=True)
            for _ in range(count):
                kiosk = rng.choice(fleet.kiosks)
                method, url, body = make(kiosk)
                started = time.perf_counter()
                response = client.request(
                    method, url, json=body, headers={"Authorization": f"Bearer {kiosk.token}"}
                )
                times.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            used = (cpu_ticks(server_pid, with_children=True) - before) / TICKS * 1000 / count
            say(f"{prefix}_cost[{name}]_server_cpu_ms", used)
            say(f"{prefix}_cost[{name}]_p50_ms", percentile(times, 50))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    have_postgres = any(Path(p).exists() for p in Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    parser.add_argument(
        "--db", choices=("sqlite", "postgres", "both"), default="both" if have_postgres else "sqlite"
    )
    parser.add_argument("--preschools", type=int, default=80)
    parser.add_argument("--kiosks", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0, help="asks per second, all kiosks (default 100)")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds (default 60)")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds first (default 5)")
    parser.add_argument("--knee", action="store_true", help="step the ask rate up until the SLO breaks")
    parser.add_argument("--knee-step", type=float, default=15.0, help="seconds per knee step (default 15)")
    parser.add_argument("--poll-every", type=float, default=60.0, help="GET /api/v1/kiosk per kiosk, s")
    parser.add_argument("--today-every", type=float, default=60.0, help="GET /api/v1/today per kiosk, s")
    parser.add_argument("--answers-every", type=float, default=3600.0, help="GET /api/v1/answers, s")
    parser.add_argument("--ratings", type=float, default=1.0, help="children's ratings per second")
    parser.add_argument("--admins", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="laiban serve --workers N (default 1)")
    parser.add_argument("--admin-every", type=float, default=10.0, help="seconds between an admin's saves")
    parser.add_argument("--timezone", default="auto", help="the preschools' zone (auto: a working morning)")
    parser.add_argument("--profile", metavar="PREFIX", help="run the server under py-spy: PREFIX-<db>.svg")
    parser.add_argument(
        "--costs", type=int, default=40, help="first, each request kind alone this many times (0: skip)"
    )
    parser.add_argument(
        "--profile-format",
        choices=("svg", "txt", "json"),
        default="svg",
        help="flame graph (svg), collapsed stacks (txt) or speedscope (json)",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.preschools < 1 or args.kiosks < 1 or args.rate <= 0 or args.duration <= 0 or args.workers < 1:
        parser.error("--preschools, --kiosks, --rate, --duration and --workers must be positive")
    if args.profile and shutil.which("py-spy") is None:
        parser.error("--profile needs py-spy (pip install py-spy)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up as on Ctrl-C
    timezone = pick_timezone(args.timezone)
    commit, dirty = git_state()
    say("load_git_commit", commit)
    say("load_src_changed_files", dirty)
    say("load_cpus", os.cpu_count() or 0)
    say("load_loadavg_before", os.getloadavg()[0])
    say("load_timezone", timezone)
    say("load_workers", args.workers)
    for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        run_database(db, args, timezone)
    say("load_loadavg_after", os.getloadavg()[0])


if __name__ == "__main__":
    main()
