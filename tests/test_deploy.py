"""The production set-up (issue 12, docs/deploy.md): `laiban serve --workers 2` on one PostgreSQL, as the
systemd unit in deploy/ runs it, with paired kiosks asking at once; workers replaced when they die and
stopped with the server; the JSON log; the settings it adds; and the files in deploy/.

The load here is short (about 10 s); `python bench/load.py --db postgres --workers 2` is the long run.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import fields
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from laiban.cli import build_parser
from laiban.config import ConfigError, Settings

from .serving import STOP_TIMEOUT, Launch, Server, alive, serve_command
from .world import PASSWORD, World

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
WORKERS = ("--workers", "2")
LOAD_SECONDS = 10.0
ASKERS = 8  # threads asking at once
TODAY_CACHE_TTL = 5.0  # store.today.TodayCache: a kiosk group's Today is rebuilt at most this often
ASKS = (
    {"intent": "weather"},
    {"intent": "clothes"},
    {"intent": "lunch"},
    {"intent": "time"},
    {"intent": "schedule"},
    {"intent": "date"},
    {"text": "vad är klockan"},
    {"text": "vad blir det för mat idag"},
)


@pytest.fixture
def backend() -> str:
    """PostgreSQL: the database for several workers (a test may still ask for SQLite by parametrizing)."""
    return "postgres"


def kiosk(server: Server, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30.0)


def wait_for_workers(
    server: Server, count: int, *, not_: set[int] = frozenset(), within: float = 20.0
) -> list[int]:
    """The server's worker pids once there are `count` of them, none of them in `not_`."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        workers = server.workers()
        if len(workers) == count and not set(workers) & not_:
            return workers
        assert server.process.poll() is None, server.describe()
        time.sleep(0.05)
    pytest.fail(
        f"expected {count} workers (not {sorted(not_)}), have {server.workers()}\n{server.describe()}"
    )


def pids_in_access_log(server: Server) -> set[int]:
    """The processes that answered requests: with several workers each log line names its pid."""
    return {int(pid) for pid in re.findall(r"laiban\.access\[(\d+)\]", server.output())}


def sign_in(client: httpx.Client, email: str) -> str:
    """Signs in through the real form; returns the session's CSRF token."""
    page = client.get("/admin/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf, page.text[:2000]
    response = client.post(
        "/admin/login", data={"csrf_token": csrf.group(1), "email": email, "password": PASSWORD}
    )
    assert response.status_code == 303, response.text
    account = client.get("/admin/account")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', account.text)
    assert csrf, account.text[:2000]
    return csrf.group(1)


# --- two workers on one PostgreSQL ------------------------------------------------------------------------


def test_two_workers_answer_a_burst_of_kiosks_and_see_staff_writes(
    launch: Launch, world: World, engine: Engine
) -> None:
    engine.dispose()  # the test's own connections are not needed while the server runs
    server = launch(args=WORKERS)
    workers = wait_for_workers(server, 2)

    # A burst of kiosk questions from several threads, each with its own connections (renewed now and
    # then, so that both workers get some).
    outcomes: Counter[str] = Counter()
    problems: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def asker(number: int) -> None:
        sent = 0
        while not stop.is_set():
            with kiosk(server, world.device_ekorren) as client:
                for _ in range(10):
                    body = ASKS[(number + sent) % len(ASKS)]
                    sent += 1
                    try:
                        if sent % 5 == 0:
                            response = client.get("/api/v1/today")
                        else:
                            response = client.post("/api/v1/ask", json=body)
                    except httpx.HTTPError as exc:
                        outcome = f"{type(exc).__name__}: {exc}"
                    else:
                        outcome = str(response.status_code)
                        if response.status_code == 200 and "/ask" in str(response.url):
                            assert response.json()["text"], response.text
                    with lock:
                        outcomes[outcome] += 1
                        if outcome != "200" and len(problems) < 5:
                            problems.append(f"{body}: {outcome}")
                    if stop.is_set():
                        return

    threads = [threading.Thread(target=asker, args=(n,), daemon=True) for n in range(ASKERS)]
    for thread in threads:
        thread.start()
    time.sleep(LOAD_SECONDS)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "an asker hangs"
    answered = outcomes["200"]
    assert set(outcomes) == {"200"}, f"{dict(outcomes)}; e.g. {problems}\n{server.describe()}"
    assert answered >= 100, f"only {answered} answers in {LOAD_SECONDS} s"
    assert pids_in_access_log(server) == set(workers), "both workers should have answered"
    assert server.workers() == workers, "no worker died under the load"

    # A staff write through one connection: the admin reads it back at once, and every kiosk read (on
    # fresh connections, i.e. either worker) shows it once the TodayCache entries built before have expired.
    title = "Dans i ateljén"
    with httpx.Client(base_url=server.base_url, timeout=30.0) as admin:
        csrf = sign_in(admin, world.admin_ekorren)
        response = admin.post(
            "/admin/p/ekorren/schedule",
            data={
                "csrf_token": csrf,
                "time": ["08:00", "09:30"],
                "kind": ["breakfast", "gathering"],
                "title": ["Frukost", title],
            },
        )
        written = time.monotonic()
        assert response.status_code == 303, response.text
        assert title in admin.get(response.headers["location"]).text
    seen_after_ttl = []
    while time.monotonic() - written < TODAY_CACHE_TTL + 1.0:
        with kiosk(server, world.device_ekorren) as client:
            response = client.get("/api/v1/today")
        assert response.status_code == 200, response.text
        shown = title in [event["title"] for event in response.json()["events"]]
        if time.monotonic() - written > TODAY_CACHE_TTL + 0.2:
            seen_after_ttl.append(shown)
        time.sleep(0.02)
    assert seen_after_ttl, "no read after the cache's lifetime"
    assert all(seen_after_ttl), f"{seen_after_ttl.count(False)} of {len(seen_after_ttl)} reads missed it"
    assert "Traceback" not in server.output(), server.output()


def test_a_killed_worker_is_replaced_and_sigterm_stops_every_worker(launch: Launch, world: World) -> None:
    server = launch(args=WORKERS)
    first = wait_for_workers(server, 2)

    victim, survivor = first
    os.kill(victim, signal.SIGKILL)
    # The server keeps answering: new connections go to the worker that is left (then to the new one).
    for _ in range(20):
        with kiosk(server, world.device_ekorren) as client:
            response = client.post("/api/v1/ask", json={"intent": "time"})
        assert response.status_code == 200, response.text
    replaced = wait_for_workers(server, 2, not_={victim})
    assert survivor in replaced
    assert re.search(rf"worker \d \[{victim}\] was killed by SIGKILL", server.output()), server.output()
    (newcomer,) = set(replaced) - {survivor}
    deadline = time.monotonic() + 20
    while newcomer not in pids_in_access_log(server):  # the new worker answers too
        assert time.monotonic() < deadline, f"worker {newcomer} never answered\n{server.describe()}"
        with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
            assert client.get("/healthz").status_code == 200

    # Behind a trusted proxy (127.0.0.1 by default) the client's scheme comes from X-Forwarded-Proto.
    page = httpx.get(f"{server.base_url}/admin/login", headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert page.status_code == 200
    assert "secure" in page.headers.get("set-cookie", "").lower(), page.headers

    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=STOP_TIMEOUT) == 0, server.describe()
    still = [pid for pid in server.seen_workers if alive(pid)]
    assert not still, f"workers {still} outlived the server\n{server.describe()}"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.base_url}/healthz", timeout=2.0)
    assert "Traceback" not in server.output(), server.output()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_workers_do_not_outlive_a_killed_parent(launch: Launch) -> None:
    server = launch(args=WORKERS)
    workers = wait_for_workers(server, 2)
    server.kill()  # SIGKILL: the parent cannot stop them; the kernel tells them (PR_SET_PDEATHSIG)
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(alive(pid) for pid in workers):
        assert time.monotonic() < deadline, f"orphaned workers {workers} still run"
        time.sleep(0.05)


def test_workers_that_keep_dying_at_start_stop_the_server() -> None:
    """Replaced with growing pauses (shortened here), then the parent gives up with one sentence."""
    script = (
        "import sys, laiban.supervisor as s\n"
        "s._pause = lambda deaths: 0.01\n"
        "try:\n"
        "    s.supervise(2, lambda: sys.exit(3))\n"
        "except s.WorkersFailing as exc:\n"
        "    print(exc)\n"
        "    sys.exit(1)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run
    assert re.fullmatch(
        r"Worker \d died 5 times in a row right after its start; see the log above\.\n", run.stdout
    )


# --- the JSON log, several workers on SQLite, the proxy setting ------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite"])
def test_json_log_on_sqlite_with_two_workers(launch: Launch, server_env: dict[str, str]) -> None:
    env = {
        **server_env,
        "LAIBAN_LOG_FORMAT": "json",
        "LAIBAN_FORWARDED_ALLOW_IPS": "192.0.2.1",  # not us: our X-Forwarded-* headers must be ignored
    }
    server = launch(env=env, args=WORKERS)
    workers = wait_for_workers(server, 2)
    page = httpx.get(f"{server.base_url}/admin/setup", headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert page.status_code == 200  # a new server starts with the first-time setup
    assert "set-cookie" in page.headers
    assert "secure" not in page.headers["set-cookie"].lower(), "X-Forwarded-Proto from an untrusted client"
    for _ in range(10):
        assert httpx.get(f"{server.base_url}/api/v1/kiosk", timeout=10).status_code == 401
    server.stop()
    assert server.process.returncode == 0, server.describe()

    lines = server.output().splitlines()
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not JSON: {line!r}\n{server.describe()}")
    for entry in entries:
        assert {"time", "level", "logger", "message", "pid"} <= set(entry), entry
    loggers = {entry["logger"] for entry in entries}
    assert {"laiban", "laiban.supervisor", "uvicorn.error", "laiban.access"} <= loggers
    assert any("PostgreSQL is the database for several workers" in entry["message"] for entry in entries)
    assert {entry["pid"] for entry in entries if entry["logger"] == "uvicorn.error"} >= set(workers)
    assert any(entry["message"].startswith("GET /api/v1/kiosk 401") for entry in entries)


# --- settings and options --------------------------------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("LAIBAN_")}, **extra}


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_workers_option_must_be_a_positive_whole_number(tmp_path: Path, value: str) -> None:
    run = subprocess.run(
        [*serve_command(1), "--workers", value],
        env=clean_env(LAIBAN_DATA_DIR=str(tmp_path / "data")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run
    assert f"argument --workers: must be a whole number of at least 1, not {value!r}" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "data").exists(), "nothing may happen before the options are checked"


def test_workers_setting_must_be_a_positive_whole_number(tmp_path: Path) -> None:
    run = subprocess.run(
        serve_command(1),
        env=clean_env(LAIBAN_DATA_DIR=str(tmp_path / "data"), LAIBAN_WORKERS="0"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run
    assert run.stderr == "laiban: LAIBAN_WORKERS must be a whole number of at least 1, not '0'.\n"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LAIBAN_WORKERS", "-2"),
        ("LAIBAN_LOG_FORMAT", "xml"),
        ("LAIBAN_FORWARDED_ALLOW_IPS", "proxy.example"),
        ("LAIBAN_FORWARDED_ALLOW_IPS", "10.0.0.1, *"),
        ("LAIBAN_FORWARDED_ALLOW_IPS", " "),
    ],
)
def test_bad_deployment_settings_name_the_setting(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.load({"LAIBAN_DATA_DIR": str(tmp_path), name: value})
    assert str(caught.value).startswith(name)


def test_deployment_settings(tmp_path: Path) -> None:
    defaults = Settings.load({"LAIBAN_DATA_DIR": str(tmp_path)})
    assert (defaults.workers, defaults.log_format, defaults.forwarded_allow_ips) == (1, "text", "127.0.0.1")
    given = Settings.load(
        {
            "LAIBAN_DATA_DIR": str(tmp_path),
            "LAIBAN_WORKERS": "4",
            "LAIBAN_LOG_FORMAT": "JSON",
            "LAIBAN_FORWARDED_ALLOW_IPS": "10.0.0.5, 192.168.0.0/16,::1",
        }
    )
    assert (given.workers, given.log_format) == (4, "json")
    assert given.forwarded_allow_ips == "10.0.0.5,192.168.0.0/16,::1"
    assert (
        Settings.load(
            {"LAIBAN_DATA_DIR": str(tmp_path), "LAIBAN_FORWARDED_ALLOW_IPS": "*"}
        ).forwarded_allow_ips
        == "*"
    )


def test_json_formatter_keeps_a_traceback_on_its_one_line() -> None:
    from laiban.logs import JsonFormatter

    record = logging.LogRecord("laiban.x", logging.ERROR, __file__, 1, "failed %s", ("once",), None)
    try:
        raise ValueError("broken\nacross lines")
    except ValueError:
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed once"
    assert entry["level"] == "ERROR"
    assert "ValueError: broken" in entry["exception"]


# --- deploy/ ---------------------------------------------------------------------------------------------


def unit_commands(unit: str) -> dict[str, list[list[str]]]:
    commands: dict[str, list[list[str]]] = {}
    for line in unit.splitlines():
        key, sep, value = line.partition("=")
        if sep and key in ("ExecStart", "ExecStartPre"):
            commands.setdefault(key, []).append(shlex.split(value.lstrip("-+!@:")))
    return commands


def test_the_systemd_unit_runs_real_laiban_commands() -> None:
    unit = (DEPLOY / "laiban.service").read_text()
    commands = unit_commands(unit)
    assert len(commands["ExecStart"]) == 1 and len(commands["ExecStartPre"]) == 1, commands
    parser = build_parser()
    for argv in (*commands["ExecStartPre"], *commands["ExecStart"]):
        assert Path(argv[0]).name == "laiban", argv
        parser.parse_args(argv[1:])  # exits (fails the test) on an unknown command or option
    assert commands["ExecStartPre"][0][1:] == ["db", "upgrade"]
    serve = parser.parse_args(commands["ExecStart"][0][1:])
    assert serve.command == "serve" and serve.workers >= 2 and not serve.demo
    for needed in (
        "User=laiban",
        "EnvironmentFile=/etc/laiban/laiban.env",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/laiban",
        "PrivateTmp=yes",
        "ProtectHome=yes",
    ):
        assert re.search(rf"^{re.escape(needed)}$", unit, re.M), needed


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_the_systemd_unit_passes_systemd_analyze(tmp_path: Path) -> None:
    """`systemd-analyze verify`, with the laiban command pointed at a file that exists here."""
    fake = tmp_path / "laiban"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    env_file = tmp_path / "laiban.env"
    env_file.write_text((DEPLOY / "laiban.env.example").read_text())
    unit = (DEPLOY / "laiban.service").read_text()
    unit = unit.replace("/opt/laiban/bin/laiban", str(fake)).replace("/etc/laiban/laiban.env", str(env_file))
    (tmp_path / "laiban.service").write_text(unit)
    run = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(tmp_path / "laiban.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    problems = [
        line
        for line in (run.stdout + run.stderr).splitlines()
        # A build machine or container without a running systemd says so; that is not the unit's fault.
        if line.strip() and "laiban.service" in line
    ]
    assert not problems, run.stdout + run.stderr


def env_file_values(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"not KEY=value: {line!r}"
            values[key.strip()] = value.strip()
    return values


def test_the_env_example_names_real_settings_with_valid_values() -> None:
    values = env_file_values(DEPLOY / "laiban.env.example")
    known = {"LAIBAN_" + field.name.upper() for field in fields(Settings)}
    assert set(values) <= known, set(values) - known
    settings = Settings.load(values)
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert str(settings.data_dir) == "/var/lib/laiban"
    assert settings.log_format == "json"
    assert settings.host == "127.0.0.1"
    # Every setting the example mentions in a comment is a real one too.
    mentioned = set(re.findall(r"\bLAIBAN_[A-Z_]+\b", (DEPLOY / "laiban.env.example").read_text()))
    assert mentioned <= known | {"LAIBAN_CONFIG"}, mentioned - known


def test_the_proxies_and_the_container_fit_the_server() -> None:
    settings = Settings.load(env_file_values(DEPLOY / "laiban.env.example"))
    upstream = f"{settings.host}:{settings.port}"
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert f"server {upstream};" in nginx
    for needed in (
        "X-Forwarded-Proto $scheme",
        "X-Forwarded-For",
        "Strict-Transport-Security",
        "ssl_certificate",
    ):
        assert needed in nginx, needed
    body_limit = re.search(r"client_max_body_size (\d+)m;", nginx)
    assert body_limit and int(body_limit.group(1)) > 10, "uploads of pictures are up to 10 MB"
    assert nginx.count("{") == nginx.count("}")
    caddy = (DEPLOY / "Caddyfile").read_text()
    assert f"reverse_proxy {upstream}" in caddy
    assert "/healthz" in caddy
    assert caddy.count("{") == caddy.count("}")

    container = (DEPLOY / "Containerfile").read_text()
    assert container.startswith("#") and "FROM python:3.11-slim" in container
    assert re.search(r"^USER laiban$", container, re.M), "runs as a non-root user"
    assert "HEALTHCHECK" in container and "/healthz" in container
    cmd = re.search(r"^CMD (\[.*\])$", container, re.M)
    assert cmd, "CMD in exec form"
    argv = json.loads(cmd.group(1))
    assert argv[0] == "laiban"
    assert build_parser().parse_args(argv[1:]).command == "serve"
