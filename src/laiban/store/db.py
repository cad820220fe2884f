"""Engine, sessions and migrations. SQLite (WAL, busy timeout) by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
# Connections per process. Requests hold at most web.app.REQUESTS_IN_DATABASE sessions (a few need a
# second one for a record that must outlive a failed request); the jobs and /healthz use a few more.
POOL_SIZE = 10
POOL_OVERFLOW = 10


class StoreError(Exception):
    """The database cannot be used; the message is one sentence for the operator."""


def _describe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unreadable address)"


def make_engine(database_url: str) -> Engine:
    """An engine for the URL; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    try:
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite":
            if url.database and url.database != ":memory:":
                folder = Path(url.database).expanduser().resolve().parent
                if not folder.is_dir():
                    raise StoreError(f"The database folder {str(folder)!r} does not exist.")
            engine = create_engine(
                url, connect_args={"timeout": 30}, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
            )
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StoreError(f"LAIBAN_DATABASE_URL {_describe(database_url)!r} cannot be used ({exc}).") from exc
    except ImportError as exc:
        raise StoreError(
            "LAIBAN_DATABASE_URL names PostgreSQL but its driver is missing: install laiban[postgres]."
        ) from exc
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # staff edits survive a power cut, not only a crash
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error.

    Code inside may call `rollback()` to drop its changes and go on (autobegin starts afresh).
    """
    with factory() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


def _alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; raises StoreError with one sentence on failure."""
    where = _describe(str(engine.url))
    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except DBAPIError as exc:
        raise StoreError(f"Cannot open the database {where}: {_first_line(exc.orig)}.") from exc
    if current == head:
        return
    known = {
        script.revision for script in ScriptDirectory.from_config(_alembic_config(engine)).walk_revisions()
    }
    if current is not None and current not in known:
        raise StoreError(
            f"The database {where} was made by a newer Laiban (schema {current}); upgrade Laiban first."
        )
    try:
        command.upgrade(_alembic_config(engine), "head")
    except DBAPIError as exc:
        raise StoreError(f"Updating the database {where} failed: {_first_line(exc.orig)}.") from exc


def check(engine: Engine) -> str | None:
    """None when the database answers, else the reason in one line."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as exc:
        return _first_line(exc.orig)
    return None


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0].rstrip(".") if error and str(error).strip() else "unknown error"
