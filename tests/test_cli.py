"""The real `laiban` command, run as a subprocess (SQLite only: the store has its own tests).

Every run gets a clean environment: no LAIBAN_* variable from the caller leaks in, and LAIBAN_DATA_DIR
points into the test's tmp_path.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, Select, func, select
from sqlalchemy.orm import Session

from laiban.store import accounts
from laiban.store.db import make_engine
from laiban.store.tables import Child, Device, Group, MenuItem, Organisation, Preschool, ScheduleEvent, User

TIMEOUT = 60  # seconds for one command; each needs about 1–2 s
DEMO_EMAIL = "demo@solrosen.example"
NEW_PASSWORD = "ett nytt långt lösenord"


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return (
            f"laiban {' '.join(self.args)} → exit {self.returncode}\n"
            f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"
        )


# Outside sources point at a closed local port: a test's server never reaches the internet.
NO_INTERNET = {
    f"LAIBAN_{source}_BASE_URL": "http://127.0.0.1:9" for source in ("SMHI", "METNO", "SKOLMATEN", "MASHIE")
}


def clean_env(data_dir: Path | None, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LAIBAN_")}
    env.update(NO_INTERNET)
    if data_dir is not None:
        env["LAIBAN_DATA_DIR"] = str(data_dir)
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "laiban.cli", *args]


def laiban(*args: str, env: Mapping[str, str], stdin: str | None = None) -> Run:
    result = subprocess.run(
        command(*args),
        env=dict(env),
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
    )
    return Run(args, result.returncode, result.stdout, result.stderr)


def ok(*args: str, env: Mapping[str, str], stdin: str | None = None) -> Run:
    run = laiban(*args, env=env, stdin=stdin)
    assert run.returncode == 0, str(run)
    assert "Traceback" not in run.stderr, str(run)
    return run


def assert_one_line_error(run: Run, *needles: str, code: int | None = None) -> str:
    """A failure the operator can act on: non-zero exit, one `laiban: …` line, no traceback."""
    assert run.returncode != 0, str(run)
    if code is not None:
        assert run.returncode == code, str(run)
    assert "Traceback" not in run.stderr, str(run)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, str(run)
    assert lines[0].startswith("laiban: "), str(run)
    for needle in needles:
        assert needle in lines[0], str(run)
    return lines[0]


def demo_password(run: Run) -> str:
    match = re.search(r"^Demo admin: (\S+)\s+password: (\S+)$", run.stdout, re.MULTILINE)
    assert match, str(run)
    assert match.group(1) == DEMO_EMAIL
    return match.group(2)


def engine_for(data_dir: Path) -> Engine:
    path = data_dir / "laiban.db"
    assert path.exists(), f"no database at {path}"
    return make_engine(f"sqlite:///{path}")


OpenEngine = Callable[[Path], Engine]


@pytest.fixture
def open_engine() -> Iterator[OpenEngine]:
    """Opens engines on data folders and disposes of them after the test."""
    opened: list[Engine] = []

    def open_(data_dir: Path) -> Engine:
        engine = engine_for(data_dir)
        opened.append(engine)
        return engine

    yield open_
    for engine in opened:
        engine.dispose()


def can_sign_in(engine: Engine, email: str, password: str) -> bool:
    """Checks the password the way the admin's login does (nothing is committed)."""
    with Session(engine) as session:
        user = accounts.authenticate(
            session,
            email,
            password,
            client="test_cli",
            max_failures=1000,
            window=dt.timedelta(minutes=15),
        )
        session.rollback()
        return user is not None


def count(engine: Engine, statement: Select[tuple[int]]) -> int:
    with engine.connect() as connection:
        return connection.execute(statement).scalar_one()


# --- --help ----------------------------------------------------------------------------------------

HELP_CASES = {
    "laiban": ((), ("usage: laiban", "serve", "demo", "db", "users", "fetch")),
    "serve": (("serve",), ("usage: laiban serve", "--port", "--host", "--demo", "--workers")),
    "demo": (("demo",), ("usage: laiban demo", "Solrosen")),
    "db": (("db",), ("usage: laiban db", "upgrade")),
    "db upgrade": (("db", "upgrade"), ("usage: laiban db upgrade",)),
    "users": (("users",), ("usage: laiban users", "add", "passwd")),
    "users add": (("users", "add"), ("usage: laiban users add", "--name", "--preschool", "--password-stdin")),
    "users passwd": (("users", "passwd"), ("usage: laiban users passwd", "--password-stdin")),
    "fetch": (("fetch",), ("usage: laiban fetch",)),
    "prerender": (("prerender",), ("usage: laiban prerender", "--preschool")),
}


@pytest.fixture(scope="module")
def help_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """Every `--help` at once (each start costs about a second of imports)."""
    env = clean_env(tmp_path_factory.mktemp("help-data"))
    processes = {
        name: (
            args,
            subprocess.Popen(
                command(*args, "--help"),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
            ),
        )
        for name, (args, _) in HELP_CASES.items()
    }
    runs = {}
    try:
        for name, (args, process) in processes.items():
            stdout, stderr = process.communicate(timeout=TIMEOUT)
            runs[name] = Run((*args, "--help"), process.returncode, stdout, stderr)
    finally:
        for _, process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    return runs


@pytest.mark.parametrize("name", list(HELP_CASES))
def test_help_works(help_runs: dict[str, Run], name: str) -> None:
    run = help_runs[name]
    assert run.returncode == 0, str(run)
    assert run.stderr == "", str(run)
    for needle in HELP_CASES[name][1]:
        assert needle in run.stdout, f"{needle!r} missing\n{run}"


def test_help_does_not_create_the_data_folder(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ok("--help", env=clean_env(data_dir))
    assert not data_dir.exists()


def test_no_command_is_a_usage_error(tmp_path: Path) -> None:
    run = laiban(env=clean_env(tmp_path))
    assert run.returncode == 2, str(run)
    assert "usage: laiban" in run.stderr
    assert "Traceback" not in run.stderr


# --- demo --------------------------------------------------------------------------------------------


def test_demo_twice_is_idempotent_and_prints_the_working_password(
    tmp_path: Path, open_engine: OpenEngine
) -> None:
    env = clean_env(tmp_path)
    first = ok("demo", env=env)
    assert first.stdout.startswith("Created the demo preschool Solrosen"), str(first)
    first_password = demo_password(first)
    engine = open_engine(tmp_path)

    def census() -> dict[str, int]:
        preschool_id = select(Preschool.id).where(Preschool.slug == "solrosen").scalar_subquery()
        return {
            "organisations": count(engine, select(func.count()).select_from(Organisation)),
            "preschools": count(engine, select(func.count()).select_from(Preschool)),
            "solrosen": count(engine, select(func.count()).where(Preschool.slug == "solrosen")),
            "groups": count(engine, select(func.count()).where(Group.preschool_id == preschool_id)),
            "children": count(engine, select(func.count()).where(Child.preschool_id == preschool_id)),
            "events": count(engine, select(func.count()).where(ScheduleEvent.preschool_id == preschool_id)),
            "menu": count(engine, select(func.count()).where(MenuItem.preschool_id == preschool_id)),
            "users": count(engine, select(func.count()).select_from(User)),
        }

    before = census()
    assert before["solrosen"] == 1
    assert before["children"] == 10
    assert before["events"] > 0
    assert before["groups"] == 2
    assert before["users"] == 1
    assert can_sign_in(engine, DEMO_EMAIL, first_password)

    second = ok("demo", env=env)
    assert second.stdout.startswith("Refreshed the demo preschool Solrosen"), str(second)
    assert "Created" not in second.stdout
    second_password = demo_password(second)
    assert second_password != first_password

    assert census() == before
    assert can_sign_in(engine, DEMO_EMAIL, second_password), "the printed password does not work"
    assert not can_sign_in(engine, DEMO_EMAIL, first_password), "the old demo password still works"


def test_demo_prints_a_kiosk_link_that_pairs_once(tmp_path: Path, open_engine: OpenEngine) -> None:
    env = clean_env(tmp_path)
    ok("demo", env=env)
    second = ok("demo", env=env)
    match = re.search(
        r"^Demo kiosk: http://127\.0\.0\.1:8000/kiosk/pair\?code=([A-Z0-9]{8}) ", second.stdout, re.M
    )
    assert match, str(second)
    engine = open_engine(tmp_path)
    with Session(engine) as session:
        # The first run's unused code is gone; the printed one pairs a kiosk of the group Blåbär, once.
        assert count(engine, select(func.count()).select_from(Device)) == 1
        paired = accounts.pair_device(session, match.group(1))
        assert paired is not None and paired[0].group_id is not None
        session.commit()
        assert accounts.pair_device(session, match.group(1)) is None


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A data folder after one `laiban demo`, and the demo admin's password; tests copy it."""
    data_dir = tmp_path_factory.mktemp("demo-template") / "data"
    run = ok("demo", env=clean_env(data_dir))
    return data_dir, demo_password(run)


@pytest.fixture
def demo_dir(tmp_path: Path, demo_template: tuple[Path, str]) -> Path:
    data_dir = tmp_path / "data"
    shutil.copytree(demo_template[0], data_dir)
    return data_dir


# --- db upgrade and settings -------------------------------------------------------------------------


def test_db_upgrade_twice(tmp_path: Path, open_engine: OpenEngine) -> None:
    env = clean_env(tmp_path / "data")
    first = ok("db", "upgrade", env=env)
    assert "up to date" in first.stdout
    assert (tmp_path / "data" / "laiban.db").exists()
    assert (tmp_path / "data" / "secret_key").exists()
    second = ok("db", "upgrade", env=env)
    assert "up to date" in second.stdout
    engine = open_engine(tmp_path / "data")
    assert count(engine, select(func.count()).select_from(Preschool)) == 0


def test_db_upgrade_keeps_existing_data(demo_dir: Path, open_engine: OpenEngine) -> None:
    ok("db", "upgrade", env=clean_env(demo_dir))
    engine = open_engine(demo_dir)
    assert count(engine, select(func.count()).where(Preschool.slug == "solrosen")) == 1


def test_unsupported_database_url_is_one_clear_line(tmp_path: Path) -> None:
    run = laiban("db", "upgrade", env=clean_env(tmp_path, LAIBAN_DATABASE_URL="mysql://x"))
    assert_one_line_error(run, "LAIBAN_DATABASE_URL")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://nobody@127.0.0.1:9/nothing",  # nothing listens on the discard port
        "sqlite:////no/such/folder/laiban.db",
    ],
    ids=["postgres-unreachable", "sqlite-missing-folder"],
)
def test_unusable_database_is_one_clear_line(tmp_path: Path, url: str) -> None:
    run = laiban("db", "upgrade", env=clean_env(tmp_path, LAIBAN_DATABASE_URL=url))
    assert_one_line_error(run, "database")


def test_bad_port_is_a_config_error(tmp_path: Path) -> None:
    run = laiban("serve", env=clean_env(tmp_path, LAIBAN_PORT="abc"))
    assert_one_line_error(run, "LAIBAN_PORT", "'abc'", code=2)


def test_bad_port_option_is_a_usage_error(tmp_path: Path) -> None:
    run = laiban("serve", "--port", "70000", env=clean_env(tmp_path))
    assert run.returncode == 2, str(run)
    assert "--port" in run.stderr
    assert "Traceback" not in run.stderr


def test_data_dir_below_a_regular_file(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    run = laiban("db", "upgrade", env=clean_env(blocker / "data"))
    assert_one_line_error(run, "LAIBAN_DATA_DIR", str(blocker / "data"))
    assert blocker.read_text() == "not a folder"


def test_data_dir_that_is_a_regular_file(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    run = laiban("demo", env=clean_env(blocker))
    assert_one_line_error(run, "LAIBAN_DATA_DIR")


def test_config_file_is_read(tmp_path: Path, open_engine: OpenEngine) -> None:
    from_file = tmp_path / "from-file"
    config = tmp_path / "laiban.toml"
    config.write_text(f'data_dir = "{from_file.as_posix()}"\nport = 8123\nlog_level = "warning"\n')
    env = clean_env(None)
    ok("--config", str(config), "db", "upgrade", env=env)
    assert (from_file / "laiban.db").exists()
    assert (from_file / "secret_key").exists()
    # LAIBAN_CONFIG names the file as well.
    run = ok("demo", env={**env, "LAIBAN_CONFIG": str(config)})
    engine = open_engine(from_file)
    assert can_sign_in(engine, DEMO_EMAIL, demo_password(run))


def test_environment_wins_over_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "laiban.toml"
    config.write_text(f'data_dir = "{(tmp_path / "from-file").as_posix()}"\n')
    ok("--config", str(config), "db", "upgrade", env=clean_env(tmp_path / "from-env"))
    assert (tmp_path / "from-env" / "laiban.db").exists()
    assert not (tmp_path / "from-file").exists()


def test_broken_config_file_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text('data_dir = "unterminated\nport = [\n')
    run = laiban("--config", str(config), "db", "upgrade", env=clean_env(tmp_path / "data"))
    assert_one_line_error(run, str(config), "TOML", code=2)
    assert not (tmp_path / "data").exists()


def test_bad_value_in_config_file_names_the_setting(tmp_path: Path) -> None:
    config = tmp_path / "laiban.toml"
    config.write_text('port = "abc"\n')
    run = laiban("--config", str(config), "serve", env=clean_env(tmp_path / "data"))
    assert_one_line_error(run, "port (config file)", code=2)


def test_unknown_setting_in_config_file(tmp_path: Path) -> None:
    config = tmp_path / "laiban.toml"
    config.write_text('database = "sqlite:///x.db"\n')
    run = laiban("--config", str(config), "db", "upgrade", env=clean_env(tmp_path / "data"))
    assert_one_line_error(run, "'database'", code=2)


def test_missing_config_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    run = laiban("--config", str(missing), "db", "upgrade", env=clean_env(tmp_path / "data"))
    assert_one_line_error(run, str(missing), code=2)


# --- users -------------------------------------------------------------------------------------------


def add_user(data_dir: Path, email: str, password: str, *extra: str) -> Run:
    return laiban(
        "users",
        "add",
        email,
        "--name",
        "Nora Pedagog",
        *extra,
        "--password-stdin",
        env=clean_env(data_dir),
        stdin=password + "\n",
    )


def users_with(engine: Engine, email: str) -> int:
    return count(engine, select(func.count()).where(User.email == email))


def test_users_add_creates_a_user_who_can_sign_in(demo_dir: Path, open_engine: OpenEngine) -> None:
    run = add_user(
        demo_dir,
        "Nora@Solrosen.Example",
        "vi har ett långt lösenord",
        "--preschool",
        "solrosen",
        "--role",
        "pedagogue",
    )
    assert run.returncode == 0, str(run)
    assert "nora@solrosen.example" in run.stdout
    engine = open_engine(demo_dir)
    assert can_sign_in(engine, "nora@solrosen.example", "vi har ett långt lösenord")
    assert not can_sign_in(engine, "nora@solrosen.example", "fel lösenord helt enkelt")
    with engine.connect() as connection:
        user = connection.execute(
            select(User.name, User.is_org_admin).where(User.email == "nora@solrosen.example")
        ).one()
    assert user.name == "Nora Pedagog"
    assert not user.is_org_admin


def test_users_add_refuses_a_short_password(demo_dir: Path, open_engine: OpenEngine) -> None:
    run = add_user(
        demo_dir, "kort@solrosen.example", "kort", "--preschool", "solrosen", "--role", "pedagogue"
    )
    assert_one_line_error(run, str(accounts.MIN_PASSWORD_LENGTH))
    assert users_with(open_engine(demo_dir), "kort@solrosen.example") == 0


def test_users_add_refuses_an_empty_stdin(demo_dir: Path, open_engine: OpenEngine) -> None:
    run = laiban(
        "users",
        "add",
        "tom@solrosen.example",
        "--name",
        "Tom",
        "--preschool",
        "solrosen",
        "--password-stdin",
        env=clean_env(demo_dir),
        stdin="",
    )
    assert_one_line_error(run)
    assert users_with(open_engine(demo_dir), "tom@solrosen.example") == 0


def test_users_add_refuses_a_duplicate_email(demo_dir: Path, open_engine: OpenEngine) -> None:
    first = add_user(
        demo_dir, "dubbel@solrosen.example", "ett första långt lösenord", "--preschool", "solrosen"
    )
    assert first.returncode == 0, str(first)
    second = add_user(
        demo_dir, "DUBBEL@solrosen.example", "ett andra långt lösenord", "--preschool", "solrosen"
    )
    assert_one_line_error(second)
    engine = open_engine(demo_dir)
    assert users_with(engine, "dubbel@solrosen.example") == 1
    assert can_sign_in(engine, "dubbel@solrosen.example", "ett första långt lösenord")
    assert not can_sign_in(engine, "dubbel@solrosen.example", "ett andra långt lösenord")
    # The demo admin's address is taken too.
    taken = add_user(demo_dir, DEMO_EMAIL, "ett tredje långt lösenord", "--preschool", "solrosen")
    assert_one_line_error(taken)
    assert users_with(engine, DEMO_EMAIL) == 1


def test_users_add_unknown_preschool(demo_dir: Path, open_engine: OpenEngine) -> None:
    run = add_user(demo_dir, "vilse@solrosen.example", "ett långt lösenord här", "--preschool", "maskrosen")
    assert_one_line_error(run, "'maskrosen'")
    assert users_with(open_engine(demo_dir), "vilse@solrosen.example") == 0


def test_users_add_without_preschool_or_org_admin(demo_dir: Path, open_engine: OpenEngine) -> None:
    run = add_user(demo_dir, "ingen@solrosen.example", "ett långt lösenord här")
    assert_one_line_error(run, "--preschool")
    assert users_with(open_engine(demo_dir), "ingen@solrosen.example") == 0


def test_users_add_org_admin(demo_dir: Path, open_engine: OpenEngine) -> None:
    run = add_user(demo_dir, "chef@solrosen.example", "ledningens långa lösenord", "--org-admin")
    assert run.returncode == 0, str(run)
    engine = open_engine(demo_dir)
    assert can_sign_in(engine, "chef@solrosen.example", "ledningens långa lösenord")
    with engine.connect() as connection:
        assert connection.execute(
            select(User.is_org_admin).where(User.email == "chef@solrosen.example")
        ).scalar_one()


def test_users_add_on_an_empty_database_needs_an_organisation(tmp_path: Path) -> None:
    run = add_user(tmp_path, "forst@example.org", "ett långt lösenord här", "--org-admin")
    assert_one_line_error(run, "/admin/setup")


def test_users_passwd_changes_the_password(
    demo_dir: Path, demo_template: tuple[Path, str], open_engine: OpenEngine
) -> None:
    old_password = demo_template[1]
    engine = open_engine(demo_dir)
    assert can_sign_in(engine, DEMO_EMAIL, old_password)
    run = laiban(
        "users",
        "passwd",
        DEMO_EMAIL.upper(),
        "--password-stdin",
        env=clean_env(demo_dir),
        stdin=NEW_PASSWORD + "\n",
    )
    assert run.returncode == 0, str(run)
    assert DEMO_EMAIL in run.stdout
    assert can_sign_in(engine, DEMO_EMAIL, NEW_PASSWORD)
    assert not can_sign_in(engine, DEMO_EMAIL, old_password)


def test_users_passwd_refuses_a_short_password(
    demo_dir: Path, demo_template: tuple[Path, str], open_engine: OpenEngine
) -> None:
    run = laiban("users", "passwd", DEMO_EMAIL, "--password-stdin", env=clean_env(demo_dir), stdin="kort\n")
    assert_one_line_error(run, str(accounts.MIN_PASSWORD_LENGTH))
    engine = open_engine(demo_dir)
    assert can_sign_in(engine, DEMO_EMAIL, demo_template[1])
    assert not can_sign_in(engine, DEMO_EMAIL, "kort")


def test_users_passwd_unknown_user(demo_dir: Path) -> None:
    run = laiban(
        "users",
        "passwd",
        "okand@solrosen.example",
        "--password-stdin",
        env=clean_env(demo_dir),
        stdin=NEW_PASSWORD + "\n",
    )
    assert_one_line_error(run, "okand@solrosen.example")


# --- fetch -------------------------------------------------------------------------------------------


def test_fetch_exits_zero(tmp_path: Path) -> None:
    run = ok("fetch", env=clean_env(tmp_path))
    assert run.stdout.strip(), str(run)
