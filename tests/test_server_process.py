"""A real `laiban serve` (uvicorn) in a subprocess, on SQLite and on PostgreSQL.

The server is started like an operator would: LAIBAN_DATA_DIR and LAIBAN_DATABASE_URL in the environment,
a free port on 127.0.0.1. Every started process is killed when its test ends, pass or fail.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from .serving import STOP_TIMEOUT, Launch, Server, free_port, serve_command

PASSWORD = "korrekt häst batteri"
EMAIL = "chef@norrstad.example"
SLUG = "ekorren"


# --- admin over HTTP ---------------------------------------------------------------------------------


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token in the page:\n{html[:2000]}"
    return match.group(1)


def first_setup(client: httpx.Client) -> None:
    page = client.get("/admin/setup")
    assert page.status_code == 200, page.text
    response = client.post(
        "/admin/setup",
        data={
            "csrf_token": csrf_from(page.text),
            "organisation": "Norrstads kommun",
            "preschool": "Förskolan Ekorren",
            "slug": SLUG,
            "name": "Chefen",
            "email": EMAIL,
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/admin"
    assert client.cookies.get("laiban_session"), "setup did not sign in"


def sign_in(client: httpx.Client, email: str = EMAIL, password: str = PASSWORD) -> None:
    page = client.get("/admin/login")
    assert page.status_code == 200, page.text
    response = client.post(
        "/admin/login",
        data={"csrf_token": csrf_from(page.text), "email": email, "password": password},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/admin"


def session_csrf(client: httpx.Client) -> str:
    page = client.get("/admin/account")
    assert page.status_code == 200, page.text
    return csrf_from(page.text)


def add_device(client: httpx.Client, csrf: str, name: str) -> None:
    """Creates a kiosk device; returns only once the server acknowledged it."""
    response = client.post(f"/admin/p/{SLUG}/devices", data={"csrf_token": csrf, "name": name})
    assert response.status_code == 200, response.text
    assert f"Koppla ”{name}”" in response.text, "the answer does not show the new device's pairing code"


def listed_devices(client: httpx.Client) -> set[str]:
    page = client.get(f"/admin/p/{SLUG}/devices")
    assert page.status_code == 200, page.text
    return set(re.findall(r"<td>(Platta [^<]*)</td>", page.text))


def admin_client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=15.0, follow_redirects=False)


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path, postgres_admin_url: str | None) -> Iterator[str]:
    """A database without any table (not copied from the migrated template)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    if postgres_admin_url is None:
        pytest.skip("no PostgreSQL server for the tests (install postgresql or set LAIBAN_TEST_POSTGRES_URL)")
    name = f"laiban_empty_{os.getpid()}_{free_port()}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- tests -------------------------------------------------------------------------------------------


def test_health_docs_and_openapi(launch: Launch) -> None:
    server = launch()
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}

        docs = client.get("/api/docs")
        assert docs.status_code == 200
        assert docs.headers["content-type"].startswith("text/html")
        assert "<html" in docs.text.lower()
        # The docs page works offline: every script and style it names is served by Laiban itself.
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', docs.text)
        assert assets, docs.text
        for asset in assets:
            assert client.get(asset).status_code == 200, asset

        spec = client.get("/api/openapi.json")
        assert spec.status_code == 200
        assert spec.headers["content-type"].startswith("application/json")
        assert "/api/v1/preschools" in spec.json()["paths"]

        # The admin of a new server starts with the first-time setup.
        root = client.get("/admin", follow_redirects=False)
        assert root.status_code == 303
        assert root.headers["location"] == "/admin/setup"
    assert "Traceback" not in server.output()


def test_second_server_on_the_same_port_fails_fast(launch: Launch, server_env: dict[str, str]) -> None:
    first = launch()
    started = time.monotonic()
    second = subprocess.run(
        serve_command(first.port),
        env=server_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    elapsed = time.monotonic() - started
    assert second.returncode != 0, second.stdout + second.stderr
    assert "already in use" in second.stderr, second.stderr
    assert str(first.port) in second.stderr
    assert "Traceback" not in second.stderr
    assert elapsed < 20, f"the second server took {elapsed:.1f} s to give up"
    # The first server is unharmed.
    assert first.process.poll() is None, first.describe()
    response = httpx.get(f"{first.base_url}/healthz", timeout=10.0)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_acknowledged_writes_survive_kill_9(launch: Launch) -> None:
    server = launch()
    acknowledged: list[str] = []
    with admin_client(server) as client:
        first_setup(client)
        csrf = session_csrf(client)
        for number in range(1, 6):
            name = f"Platta {number:02d}"
            add_device(client, csrf, name)
            acknowledged.append(name)
        server.kill()  # right after the last acknowledged write

        # Same data folder, same database, same port.
        server = launch(server.port)
        # The session from before the crash is still valid.
        assert listed_devices(client) == set(acknowledged)

        # A second round on the restarted server, killed again.
        csrf = session_csrf(client)
        for number in range(6, 9):
            name = f"Platta {number:02d}"
            add_device(client, csrf, name)
            acknowledged.append(name)
        server.kill()

    server = launch(server.port)
    with admin_client(server) as client:
        setup = client.get("/admin/setup")
        assert setup.status_code == 303, "the server asks for first-time setup again"
        sign_in(client)
        assert listed_devices(client) == set(acknowledged)
        preschools = client.get("/api/v1/preschools")
        assert preschools.status_code == 200, preschools.text
        assert [p["slug"] for p in preschools.json()["items"]] == [SLUG]
    assert "Traceback" not in server.output()


def test_concurrent_acknowledged_writes_survive_kill_9(launch: Launch) -> None:
    """Writers keep posting while the server is killed: every answered write must be there afterwards."""
    server = launch()
    with admin_client(server) as client:
        first_setup(client)
        csrf = session_csrf(client)
        cookies = dict(client.cookies)

    acknowledged: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()
    stop = threading.Event()
    writer_errors: list[BaseException] = []

    def writer(number: int) -> None:
        with httpx.Client(base_url=server.base_url, cookies=cookies, timeout=15.0) as writer_client:
            attempt = 0
            while not stop.is_set():
                attempt += 1
                name = f"Platta {number}-{attempt:03d}"
                try:
                    response = writer_client.post(
                        f"/admin/p/{SLUG}/devices", data={"csrf_token": csrf, "name": name}
                    )
                except httpx.TransportError:
                    return  # the server is gone; this write was never acknowledged
                if response.status_code != 200 or f"Koppla ”{name}”" not in response.text:
                    writer_errors.append(AssertionError(f"{response.status_code}: {response.text[:500]}"))
                    return
                with lock:
                    acknowledged.append(name)
                    if len(acknowledged) >= 12:
                        enough.set()

    threads = [threading.Thread(target=writer, args=(number,), daemon=True) for number in range(1, 5)]
    for thread in threads:
        thread.start()
    try:
        assert enough.wait(timeout=60), f"the writers did not get 12 answers\n{server.describe()}"
        server.kill()  # while the writers are still posting
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert not writer_errors, writer_errors
    with lock:
        answered = set(acknowledged)

    server = launch(server.port)
    with admin_client(server) as client:
        sign_in(client)
        listed = listed_devices(client)
    missing = answered - listed
    assert not missing, f"{len(missing)} acknowledged devices were lost: {sorted(missing)}"


def test_sigterm_stops_the_server(launch: Launch) -> None:
    server = launch()
    server.process.send_signal(signal.SIGTERM)
    returncode = server.process.wait(timeout=STOP_TIMEOUT)
    # uvicorn re-raises the signal after its graceful shutdown, so "killed by SIGTERM" is normal too.
    assert returncode in (0, -signal.SIGTERM), server.describe()
    assert "Traceback" not in server.output()
    # The port is free again at once.
    restarted = launch(server.port)
    assert restarted.process.poll() is None


def test_serve_migrates_an_empty_database(
    empty_database_url: str, launch: Launch, server_env: dict[str, str]
) -> None:
    engine = create_engine(empty_database_url)
    try:
        assert inspect(engine).get_table_names() == []
        server = launch(env={**server_env, "LAIBAN_DATABASE_URL": empty_database_url})
        assert "Running upgrade" in server.output()
        tables = set(inspect(engine).get_table_names())
        assert {"alembic_version", "preschools", "users", "devices"} <= tables
        with admin_client(server) as client:
            first_setup(client)
            add_device(client, session_csrf(client), "Platta 01")
            assert listed_devices(client) == {"Platta 01"}
    finally:
        engine.dispose()


def test_two_servers_on_one_database_run_each_round_of_jobs_once(launch: Launch) -> None:
    first, second = launch(), launch()
    deadline = time.monotonic() + 20
    rounds = 0
    while time.monotonic() < deadline:
        rounds = sum(server.output().count("retention: deleted") for server in (first, second))
        if rounds:
            break
        time.sleep(0.2)
    time.sleep(3)  # both are well past their first wake-up: the other one must not have run a round
    outputs = [server.output() for server in (first, second)]
    assert sum(output.count("retention: deleted") for output in outputs) == 1, "\n".join(outputs)


def test_the_listening_socket_sends_small_responses_at_once() -> None:
    from laiban.cli import _listen

    sock = _listen("127.0.0.1", 0)
    try:  # TCP_NODELAY: no ~40 ms wait for the client's delayed ACK on every response
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        sock.close()
