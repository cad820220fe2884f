"""Shared fixtures. Every test that takes `settings`, `engine`, `client` or `world` runs twice: on SQLite
and on a real PostgreSQL server (started by the suite, or given as LAIBAN_TEST_POSTGRES_URL).

Without PostgreSQL binaries the PostgreSQL half is skipped, unless LAIBAN_TEST_REQUIRE_POSTGRES=1 (set
by scripts/test and CI), which turns the absence into an error.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from laiban.config import Settings
from laiban.demo import DEMO_CHILDREN
from laiban.store.db import make_engine, migrate, session_factory, transaction
from laiban.web.app import create_app

from .localserver import LocalServer
from .pg import TempPostgres, find_bin_dir
from .serving import Launch, Server, free_port, serve_command
from .world import World, build_world

SECRET = "test-secret-key-that-is-long-enough-0123456789"
_counter = itertools.count()


# --- no child's or guardian's name in any log line (DESIGN.md §4) --------------------------------------
# The demo's children and the guardians it names (laiban.demo; tests/world.py has no children), as whole
# words: they are the names tests give children and pickups most. Every record logged during a test, at
# any level, and the output of every `laiban serve` a test starts (`launch`) is searched for them.
PERSONAL_NAMES = sorted(
    {name for name, *_ in DEMO_CHILDREN} | {row[5] for row in DEMO_CHILDREN if row[5][:1].isupper()}
)
NAMED = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, PERSONAL_NAMES)) + r")(?!\w)")


class NameWatch(logging.Handler):
    """Keeps the formatted log records (message and traceback) that name a child or a guardian."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record that cannot be formatted is not ours to judge
            return
        if NAMED.search(text):
            self.found.append(text[:300])


@pytest.fixture(autouse=True)
def no_names_in_the_log() -> Iterator[None]:
    watch = NameWatch()
    root = logging.getLogger()
    level = root.level
    root.addHandler(watch)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(watch)
        root.setLevel(level)
    if watch.found:
        pytest.fail("A log line names a child or a guardian:\n" + "\n".join(watch.found[:5]), pytrace=False)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str | None]:
    given = os.environ.get("LAIBAN_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    bin_dir = find_bin_dir()
    if bin_dir is None:
        if os.environ.get("LAIBAN_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is required (LAIBAN_TEST_REQUIRE_POSTGRES=1) but initdb was not found.")
        yield None
        return
    server = TempPostgres(bin_dir)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url: str | None) -> str | None:
    """A database migrated once; each test gets a fresh copy of it (CREATE DATABASE … TEMPLATE)."""
    if postgres_admin_url is None:
        return None
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS laiban_template"))
        connection.execute(text("CREATE DATABASE laiban_template"))
    admin.dispose()
    url = make_url(postgres_admin_url).set(database="laiban_template")
    engine = make_engine(url.render_as_string(hide_password=False))
    migrate(engine)
    engine.dispose()
    return "laiban_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "laiban.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(
    backend: str,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_admin_url: str | None,
    postgres_template: str | None,
) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / "laiban.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    if postgres_admin_url is None:
        pytest.skip("no PostgreSQL server for the tests (install postgresql or set LAIBAN_TEST_POSTGRES_URL)")
    name = f"laiban_test_{os.getpid()}_{next(_counter)}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE {postgres_template}'))
    yield make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, secret_key=SECRET)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def db(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session for arranging and checking data; commit what other connections must see."""
    with sessions() as session:
        yield session


@pytest.fixture
def app(settings: Settings, engine: Engine) -> FastAPI:
    return create_app(settings, engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    with transaction(sessions) as session:
        return build_world(session)


@dataclass
class Browser:
    """A TestClient signed in as one staff member, with the CSRF token of its session."""

    client: TestClient
    csrf: str

    def post(self, url: str, data: dict[str, object] | None = None, **kwargs: Any) -> httpx.Response:
        return self.client.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(url, **kwargs)


def csrf_from(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def sign_in(client: TestClient, email: str, password: str) -> Browser:
    page = client.get("/admin/login")
    response = client.post(
        "/admin/login",
        data={"csrf_token": csrf_from(page.text), "email": email, "password": password},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return Browser(client, csrf_from(client.get("/admin/account").text))


SignIn = Callable[[str, str], "Browser"]


@pytest.fixture
def browser_for(app: FastAPI) -> Iterator[SignIn]:
    """Signs in a fresh browser (its own cookie jar) as the given user."""
    opened: list[TestClient] = []

    def open_as(email: str, password: str) -> Browser:
        test_client = TestClient(app, base_url="http://testserver")
        opened.append(test_client)
        return sign_in(test_client, email, password)

    yield open_as
    for test_client in opened:
        test_client.close()


@pytest.fixture(scope="session")
def _local_server() -> Iterator[LocalServer]:
    server = LocalServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def server(_local_server: LocalServer) -> Iterator[LocalServer]:
    _local_server.reset()
    yield _local_server
    _local_server.reset()  # wakes any handler still sleeping


# --- a real `laiban serve` in a subprocess (tests/serving.py) -------------------------------------------


@pytest.fixture
def server_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LAIBAN_")}
    env.update(
        LAIBAN_DATA_DIR=str(tmp_path / "data"),
        LAIBAN_DATABASE_URL=database_url,
        PYTHONIOENCODING="utf-8",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def launch(server_env: dict[str, str], tmp_path: Path) -> Iterator[Launch]:
    """Starts `laiban serve [args]` (and waits for /healthz); every server, and every worker process it
    started, is stopped at the end of the test.

    Depends on `server_env`, hence on `database_url`: the servers stop before the test database is dropped.
    """
    started: list[Server] = []

    def start(
        port: int | None = None,
        *,
        wait: bool = True,
        env: dict[str, str] | None = None,
        args: Sequence[str] = (),
    ) -> Server:
        port = port or free_port()
        env = env or server_env
        log = tmp_path / f"server-{len(started) + 1}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                serve_command(port, *args),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = Server(process, port, log, env)
        started.append(server)
        if wait:
            server.wait_until_healthy()
        return server

    yield start
    for server in started:
        try:
            server.stop()
        finally:
            if server.process.poll() is None:
                server.kill()
            server.kill_leftovers()
    named = [line for server in started for line in server.output().splitlines() if NAMED.search(line)]
    if named:
        message = "The server's output names a child or a guardian:\n" + "\n".join(named[:5])
        pytest.fail(message, pytrace=False)
