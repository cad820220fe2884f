"""`laiban backup` and `laiban restore`, on SQLite and PostgreSQL, through the command's entry point
(`laiban.cli.main`, and the real `laiban` process where the database is written meanwhile).

A populated database survives a round trip row for row; a backup taken while another thread writes is
consistent and restorable; an older backup is migrated; and every bad input leaves the database as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import sqlite3
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from laiban import cli
from laiban.config import Settings
from laiban.demo import ensure_demo
from laiban.store.backup import known_revisions, pg_tools
from laiban.store.children import add_child
from laiban.store.db import MIGRATIONS, make_engine, transaction
from laiban.store.preschools import PreschoolSettings, create_organisation, create_preschool
from laiban.store.tables import (
    Activity,
    AuditEntry,
    Base,
    CalendarEvent,
    Child,
    ClosedDay,
    GarmentRating,
    GuardianLink,
    MealRating,
    MenuItem,
    Preschool,
    StoredForecast,
)

from .test_cli import TIMEOUT, Run, assert_one_line_error, clean_env, command

TODAY = dt.date(2026, 11, 26)  # a Thursday: the demo has presence and pickups today
NOW = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC)

Laiban = Callable[..., Run]


@pytest.fixture
def laiban(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Laiban:
    """Runs `laiban ARGS` in this process (`cli.main`) on the test's database; stdin is `stdin`."""
    for key in list(os.environ):
        if key.startswith("LAIBAN_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("LAIBAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LAIBAN_DATABASE_URL", settings.database_url)

    def run(*args: str, stdin: str = "") -> Run:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(list(args))
        return Run(args, code, out.getvalue(), err.getvalue())

    return run


def ok(run: Run) -> Run:
    assert run.returncode == 0, str(run)
    assert run.stderr == "", str(run)
    return run


def head() -> str:
    return max(known_revisions())


def populate(sessions: sessionmaker[Session]) -> None:
    """The demo preschool, and a row or more in every other table a preschool fills."""
    with transaction(sessions) as session:
        demo = ensure_demo(session, TODAY, password="ett långt visningslösenord")
        preschool = session.get_one(Preschool, demo.preschool_id)
        children = session.scalars(select(Child).where(Child.preschool_id == preschool.id)).all()
        session.add_all(
            [
                MealRating(preschool_id=preschool.id, day=TODAY, dish="Köttbullar", rating=4, at=NOW),
                MealRating(preschool_id=preschool.id, day=TODAY, dish="Köttbullar", rating=2, at=NOW),
                GarmentRating(
                    preschool_id=preschool.id, condition="rain", garments=["boots", "rain_jacket"], rating=1
                ),
                CalendarEvent(
                    preschool_id=preschool.id, day=dt.date(2026, 12, 13), title="Lucia", yearly=True
                ),
                ClosedDay(preschool_id=preschool.id, day=dt.date(2026, 12, 28), reason="Planeringsdag"),
                Activity(
                    preschool_id=preschool.id,
                    day=TODAY,
                    starts_at=dt.time(10),
                    title="Skogen",
                    future_text="Vi ska gå till skogen.",
                    past_text="Vi var i skogen.",
                    participants=[children[0].id, children[1].id],
                ),
                StoredForecast(
                    location_key="56.05,12.69",
                    latitude=56.0464,
                    longitude=12.6945,
                    source="smhi",
                    fetched_at=NOW,
                    steps=[{"at": NOW.isoformat(), "temperature": -1.5, "symbol": 18}],
                ),
                GuardianLink(
                    preschool_id=preschool.id,
                    child_id=children[0].id,
                    label="Mamma",
                    token_hash="0" * 64,
                    expires_at=NOW + dt.timedelta(days=30),
                ),
                AuditEntry(
                    organisation_id=preschool.organisation_id,
                    preschool_id=preschool.id,
                    actor="Demo Pedagog",
                    action="read",
                    subject="children",
                ),
            ]
        )


def a_little_data(sessions: sessionmaker[Session]) -> None:
    """A preschool with two children and a menu (quicker than the demo, which hashes a password)."""
    with transaction(sessions) as session:
        organisation = create_organisation(session, "Norrstads kommun")
        preschool = create_preschool(
            session, organisation, "ekorren", PreschoolSettings(name="Förskolan Ekorren"), ["Svamp"]
        )
        for name in ("Ella", "Noah"):
            add_child(session, preschool, name, preschool.groups[0].id, "cat")
        session.add(MenuItem(preschool_id=preschool.id, day=TODAY, meal="lunch", text="Fiskgratäng"))


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (and the schema revision), in primary key order."""
    rows = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            rows[table.name] = [tuple(row) for row in connection.execute(query)]
        rows["alembic_version"] = [
            tuple(row) for row in connection.execute(text("SELECT * FROM alembic_version"))
        ]
    return rows


def change_everything(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        session.execute(delete(Child))  # and with them their weeks, presence and guardian links
        session.execute(delete(MealRating))
        session.execute(update(Preschool).values(name="Fel namn"))
        preschool_id = session.scalars(select(Preschool.id)).first()
        session.add(MenuItem(preschool_id=preschool_id, day=TODAY, meal="lunch", position=5, text="Gröt"))


# --- the round trip ----------------------------------------------------------------------------------


def test_round_trip_restores_every_row(
    laiban: Laiban, engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    populate(sessions)
    before = snapshot(engine)
    for table in ("children", "child_weekdays", "presence", "menu_items", "meal_ratings", "activities"):
        assert before[table], f"{table} is empty before the backup"
    assert before["alembic_version"] == [(head(),)]
    file = tmp_path / "laiban.bak"

    run = ok(laiban("backup", str(file)))
    lines = run.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Saved the "), str(run)
    assert str(file) in lines[0] and f"schema {head()}" in lines[0] and "kB" in lines[0], str(run)
    assert file.stat().st_mode & 0o077 == 0, "a backup holds personal data: only its owner may read it"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "a temporary file was left"

    change_everything(sessions)
    assert snapshot(engine) != before
    run = ok(laiban("restore", str(file), stdin="yes\n"))
    assert "Type yes" in run.stdout and "Restored the " in run.stdout, str(run)
    assert snapshot(engine) == before

    # The restored database goes on working: a new row gets a new id (PostgreSQL's sequences came back).
    with transaction(sessions) as session:
        preschool = session.scalars(select(Preschool)).one()
        child = Child(preschool_id=preschool.id, first_name="Vera", avatar="cat")
        session.add(child)
        session.flush()
        assert child.id > max(row[0] for row in before["children"])


def test_an_older_backup_is_brought_up_to_date(
    laiban: Laiban, engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    alembic_command.downgrade(config, "0007")  # before children's weeks, presence, guardians, job leases
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO organisations (name, created_at) VALUES ('Gamla kommunen', :at)"), {"at": NOW}
        )
    file = tmp_path / "old.bak"
    assert "schema 0007" in ok(laiban("backup", str(file))).stdout

    alembic_command.upgrade(config, "head")
    a_little_data(sessions)  # the newer tables refer to the older ones; restoring must still replace all
    run = ok(laiban("restore", str(file), "--yes"))
    assert f"schema 0007, brought up to schema {head()}" in run.stdout, str(run)
    after = snapshot(engine)
    assert after["alembic_version"] == [(head(),)]
    assert [row[1] for row in after["organisations"]] == ["Gamla kommunen"]
    assert after["preschools"] == after["children"] == after["presence"] == after["job_leases"] == []


def test_a_backup_taken_while_another_thread_writes_is_consistent(
    settings: Settings, engine: Engine, sessions: sessionmaker[Session], laiban: Laiban, tmp_path: Path
) -> None:
    a_little_data(sessions)
    with sessions() as session:
        preschool_id = session.scalars(select(Preschool.id)).one()
        ratings_before = session.scalar(select(func.count()).select_from(MealRating))
    committed = [0]
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        writer = make_engine(settings.database_url)
        try:
            while not stop.is_set():
                with writer.begin() as connection:
                    connection.execute(
                        MealRating.__table__.insert().values(
                            preschool_id=preschool_id, day=TODAY, dish="Soppa", rating=3, at=NOW
                        )
                    )
                committed[0] += 1
                stop.wait(0.002)  # a busy kiosk fleet, not a CPU hog
        except BaseException as exc:  # the test fails below with it
            errors.append(exc)
        finally:
            writer.dispose()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        while committed[0] < 20 and thread.is_alive():
            threading.Event().wait(0.01)
        at_start = committed[0]
        file = tmp_path / "during.bak"
        result = subprocess.run(  # the real `laiban` process, while this one writes
            command("backup", str(file)),
            env=clean_env(tmp_path / "data", LAIBAN_DATABASE_URL=settings.database_url),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert result.returncode == 0, result.stderr
        at_end = committed[0]
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors, errors
    assert at_end > at_start, "the writer did not write during the backup"

    if settings.is_sqlite:
        with contextlib.closing(sqlite3.connect(file)) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert copy.execute("PRAGMA foreign_key_check").fetchall() == []
    else:
        (pg_restore,) = pg_tools("pg_restore")
        subprocess.run([pg_restore, "--list", str(file)], check=True, capture_output=True)

    ok(laiban("restore", str(file), "--yes"))
    with sessions() as session:
        restored = session.scalar(select(func.count()).select_from(MealRating))
    assert ratings_before + at_start <= restored <= ratings_before + at_end


# --- refusals: nothing changes ---------------------------------------------------------------------------


def test_backup_never_overwrites_a_file_without_force(laiban: Laiban, tmp_path: Path) -> None:
    file = tmp_path / "kept.bak"
    file.write_bytes(b"an older backup")
    assert_one_line_error(laiban("backup", str(file)), str(file), "already exists", "--force")
    assert file.read_bytes() == b"an older backup"

    assert "Saved the " in ok(laiban("backup", str(file), "--force")).stdout
    assert file.read_bytes() != b"an older backup"

    missing = tmp_path / "no-such-folder" / "x.bak"
    assert_one_line_error(laiban("backup", str(missing)), "does not exist")
    assert_one_line_error(laiban("backup", str(tmp_path)), "is a folder")


def test_restore_asks_first_and_no_changes_nothing(
    laiban: Laiban, engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    a_little_data(sessions)
    file = tmp_path / "laiban.bak"
    ok(laiban("backup", str(file)))
    change_everything(sessions)
    changed = snapshot(engine)
    for answer in ("no\n", ""):
        run = laiban("restore", str(file), stdin=answer)
        assert "replaces everything" in run.stdout, str(run)
        assert_one_line_error(run, "Nothing was restored", "--yes")
        assert snapshot(engine) == changed


def test_a_backup_from_a_newer_laiban_is_refused(
    laiban: Laiban, engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    a_little_data(sessions)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    file = tmp_path / "future.bak"
    assert "schema 9999_future" in ok(laiban("backup", str(file))).stdout
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head()})
    change_everything(sessions)
    changed = snapshot(engine)

    run = laiban("restore", str(file), "--yes")
    assert_one_line_error(run, str(file), "made by a newer Laiban", "9999_future")
    assert snapshot(engine) == changed


def _bad_file(case: str, tmp_path: Path, laiban: Laiban, settings: Settings) -> Path:
    """A file that `laiban restore` must refuse, made for the case."""
    path = tmp_path / f"{case}.bak"
    if case == "missing":
        return path
    if case == "folder":
        path.mkdir()
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "text":
        path.write_text("Det här är ingen säkerhetskopia.\n")
    elif case == "plain-sql":
        path.write_text("--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\n")
    elif case in ("truncated", "damaged"):
        good = tmp_path / "good.bak"
        ok(laiban("backup", str(good), "--force"))
        data = bytearray(good.read_bytes())
        if case == "truncated":
            data = data[: len(data) * 2 // 3]
        elif settings.is_sqlite:  # a whole page in the middle (every page is in use)
            size = int.from_bytes(data[16:18], "big")
            start = len(data) // 2 // size * size
            data[start : start + size] = b"\xff" * size
        else:  # the end of a custom-format dump holds the rows
            data[-256:] = b"\xff" * 256
        path.write_bytes(bytes(data))
    elif case == "other-kind":
        if settings.is_sqlite:
            path.write_bytes(b"PGDMP\x01\x0f\x00" + os.urandom(200))
        else:
            with contextlib.closing(sqlite3.connect(path)) as other:
                other.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
                other.execute("INSERT INTO alembic_version VALUES (?)", (head(),))
                other.commit()
    elif case == "not-laiban":
        if settings.is_sqlite:
            with contextlib.closing(sqlite3.connect(path)) as other:
                other.execute("CREATE TABLE shopping (item TEXT)")
                other.execute("INSERT INTO shopping VALUES ('mjölk')")
                other.commit()
        else:  # a real dump, of a database without Laiban's schema revision
            (pg_dump,) = pg_tools("pg_dump")
            url = settings.database_url.replace("postgresql+psycopg://", "postgresql://")
            subprocess.run(
                [pg_dump, "--format=custom", "--exclude-table=alembic_version", f"--file={path}", url],
                check=True,
                capture_output=True,
            )
    return path


BAD_INPUT = {
    "missing": ("does not exist",),
    "folder": ("is a folder",),
    "empty": ("is empty",),
    "text": ("is not a Laiban backup",),
    "plain-sql": ("plain SQL dump", "custom format"),
    "truncated": ("damaged or incomplete",),
    "damaged": ("damaged",),
    "other-kind": ("backup, which cannot be restored into the configured",),
    "not-laiban": ("not of a Laiban database",),
}
OTHER_KIND = {  # what the refusal says, by the configured database
    True: ("is a PostgreSQL backup", "into the configured SQLite database"),
    False: ("is a SQLite backup", "into the configured PostgreSQL database"),
}


def test_bad_input_is_refused_and_changes_nothing(
    laiban: Laiban, engine: Engine, sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    a_little_data(sessions)
    before = snapshot(engine)
    assert len(before["children"]) == 2
    for case, expected in BAD_INPUT.items():
        path = _bad_file(case, tmp_path, laiban, settings)
        run = laiban("restore", str(path), "--yes")
        needles = OTHER_KIND[settings.is_sqlite] if case == "other-kind" else ()
        assert_one_line_error(run, str(path), *expected, *needles)
        assert snapshot(engine) == before, f"{case}: the database changed"
