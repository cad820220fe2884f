"""Backups of the whole database, and restoring one (`laiban backup`, `laiban restore`).

SQLite: the online backup API copies a consistent snapshot while the server goes on writing (WAL); the
copy is written to a temporary file next to the target, checked (`PRAGMA integrity_check`) and renamed
into place, so a backup file is either complete or absent. Restoring copies the backup into the
configured database with the same API in one step: other connections see the old or the new database,
never a mixture.

PostgreSQL: `pg_dump --format=custom`. Restoring runs `pg_restore --clean --if-exists --no-owner
--no-privileges` into `psql`, in one transaction that first drops Laiban's own tables, so that a backup
made before a migration replaces a newer schema too (plain `pg_restore --clean` cannot drop a newer
table that refers to the backup's tables). Any failure rolls the whole restore back.

A backup is recognised by its content, never by its name. After a restore the normal migrations bring
an older backup up to date; a backup made by a newer Laiban is refused before anything changes.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from laiban.store.db import MIGRATIONS, StoreError, _describe, _first_line, make_engine, migrate
from laiban.store.tables import Base

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
PG_CLIENT_PACKAGE = "postgresql-client"


class BackupError(StoreError):
    """A backup cannot be made or restored; the message is one sentence for the operator."""


@dataclass(frozen=True)
class Backup:
    """A checked backup file: what kind of database it holds, its size and its schema revision."""

    path: Path
    kind: str  # "sqlite" or "postgresql"
    size: int
    revision: str


# --- what is what ----------------------------------------------------------------------------------


def database_kind(database_url: str) -> str:
    """ "sqlite" or "postgresql"."""
    backend = make_url(database_url).get_backend_name()
    if backend not in KIND_NAMES:
        raise BackupError(f"Laiban cannot back up or restore a {backend} database.")
    return backend


def describe_database(database_url: str) -> str:
    """ "the SQLite database /var/lib/laiban/laiban.db", "the PostgreSQL database laiban on db:5432"."""
    url = make_url(database_url)
    if database_kind(database_url) == "sqlite":
        return f"the SQLite database {_sqlite_path(url)}"
    where = url.host or str(url.query.get("host") or "localhost")
    return f"the PostgreSQL database {url.database} on {where}{f':{url.port}' if url.port else ''}"


def human_size(size: int) -> str:
    """ "812 bytes", "307.2 kB", "12.5 MB" (powers of 1000)."""
    if size < 1000:
        return f"{size} bytes"
    value = size / 1000
    for unit in ("kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            break
        value /= 1000
    return f"{value:.1f} {unit}"


def known_revisions() -> set[str]:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


def backup_kind(path: Path) -> tuple[str, int]:
    """The kind of backup in the file, told by its first bytes, and its size."""
    if not path.exists():
        raise BackupError(f"The backup file {path} does not exist.")
    if path.is_dir():
        raise BackupError(f"{path} is a folder, not a backup file.")
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError as exc:
        raise BackupError(f"The backup file {path} cannot be read ({exc.strerror}).") from exc
    if size == 0:
        raise BackupError(f"{path} is empty; it is not a backup.")
    if head.startswith(SQLITE_MAGIC):
        return "sqlite", size
    if head.startswith(PG_CUSTOM_MAGIC):
        return "postgresql", size
    if b"PostgreSQL database dump" in head:
        raise BackupError(
            f"{path} is a plain SQL dump; Laiban restores PostgreSQL backups in pg_dump's custom format "
            "(made by `laiban backup` or `pg_dump --format=custom`)."
        )
    raise BackupError(
        f"{path} is not a Laiban backup (neither a SQLite database nor a pg_dump custom-format file)."
    )


def check_backup(path: Path, kind: str, name: str | None = None) -> str:
    """Reads the whole backup; returns its schema revision, or raises BackupError when it is damaged,
    incomplete or not Laiban's. `name` is how messages call the file (default: its path)."""
    shown = name or str(path)
    revision = _check_sqlite(path, shown) if kind == "sqlite" else _check_pg_dump(path, shown)
    if revision is None:
        what = "database" if kind == "sqlite" else "dump"
        raise BackupError(f"{shown} is a {KIND_NAMES[kind]} {what}, but not of a Laiban database.")
    return revision


def open_backup(path: str | Path, database_url: str) -> Backup:
    """A backup that can be restored into the configured database; raises BackupError with the reason
    otherwise. Changes nothing."""
    path = Path(path)
    kind, size = backup_kind(path)
    target = database_kind(database_url)
    if kind != target:
        raise BackupError(
            f"{path} is a {KIND_NAMES[kind]} backup, which cannot be restored into the configured "
            f"{KIND_NAMES[target]} database."
        )
    revision = check_backup(path, kind)
    if revision not in known_revisions():
        raise BackupError(
            f"{path} was made by a newer Laiban (schema {revision}); upgrade Laiban first, then restore it."
        )
    return Backup(path, kind, size, revision)


# --- backup ------------------------------------------------------------------------------------------


def make_backup(database_url: str, target: str | Path, *, force: bool = False) -> Backup:
    """Copies the configured database into the file `target` (never half-written; an existing file only
    with `force`)."""
    target = Path(target)
    kind = database_kind(database_url)
    if target.is_dir():
        raise BackupError(
            f"{target} is a folder; give the backup a file name, such as {target / 'laiban.bak'}."
        )
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    if target.exists() and not force:
        raise BackupError(f"{target} already exists; choose another name, or give --force to replace it.")
    source = _sqlite_path(make_url(database_url)) if kind == "sqlite" else None
    if source is not None and not source.is_file():
        raise BackupError(f"There is no database at {source} yet, so there is nothing to back up.")
    if _live_revision(database_url) is None:
        raise BackupError(
            f"{_capital(describe_database(database_url))} has no Laiban schema yet, "
            "so there is nothing to back up."
        )
    try:
        handle, temporary_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise BackupError(f"Cannot write in the folder {target.parent} ({exc.strerror}).") from exc
    os.close(handle)  # mode 600: a backup holds personal data
    temporary = Path(temporary_name)
    try:
        if source is not None:
            _sqlite_copy(source, temporary)
        else:
            _pg_dump(database_url, temporary)
        revision = check_backup(temporary, kind, name="The new backup")
        _fsync(temporary)
        _publish(temporary, target, force=force)
        return Backup(target, kind, target.stat().st_size, revision)
    finally:
        temporary.unlink(missing_ok=True)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _live_revision(database_url: str) -> str | None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except DBAPIError as exc:
        raise BackupError(
            f"Cannot open the database {_describe(database_url)}: {_first_line(exc.orig)}."
        ) from exc
    finally:
        engine.dispose()


def _publish(temporary: Path, target: Path, *, force: bool) -> None:
    """Puts the finished copy in place in one step; without `force` an existing file is never replaced,
    not even one that appeared while the copy was made."""
    try:
        if force:
            os.replace(temporary, target)
        else:
            try:
                os.link(temporary, target)
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links
                if target.exists():
                    raise FileExistsError(target) from None
                os.replace(temporary, target)
    except FileExistsError as exc:
        raise BackupError(
            f"{target} already exists; choose another name, or give --force to replace it."
        ) from exc
    except OSError as exc:
        raise BackupError(f"Cannot write {target} ({exc.strerror}).") from exc
    _fsync(target.parent)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems cannot sync a folder; the data itself was synced
    finally:
        os.close(descriptor)


# --- SQLite ------------------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError("Laiban backs up only a SQLite database in a file (sqlite:///path/laiban.db).")
    return Path(url.database).expanduser().resolve()


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)


def _sqlite_copy(source: Path, temporary: Path) -> None:
    try:
        reader = _read_only(source)
        try:
            copy = sqlite3.connect(temporary)
            try:
                reader.backup(copy)  # all pages in one step: one consistent snapshot
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            finally:
                copy.close()
        finally:
            reader.close()
    except sqlite3.Error as exc:
        raise BackupError(f"Copying {source} failed ({exc}).") from exc


def _check_sqlite(path: Path, shown: str) -> str | None:
    try:
        connection = _read_only(path)
        try:
            problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise BackupError(f"{shown} is damaged (SQLite's integrity check says: {problems[0]}).")
            if not connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone():
                return None
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{shown} is damaged or incomplete (SQLite says: {exc}).") from exc
    return str(row[0]) if row else None


def _sqlite_restore(backup: Backup, database_url: str) -> None:
    path = _sqlite_path(make_url(database_url))
    if not path.parent.is_dir():
        raise BackupError(f"The database folder {path.parent} does not exist.")
    try:
        reader = _read_only(backup.path)
        try:
            database = sqlite3.connect(path, timeout=30)
            try:
                database.execute("PRAGMA busy_timeout=30000")
                reader.backup(database)  # one step, one transaction: all or nothing for every reader
            finally:
                database.close()
        finally:
            reader.close()
    except sqlite3.Error as exc:
        raise BackupError(f"Restoring {backup.path} failed ({exc}); the database was not changed.") from exc


# --- PostgreSQL --------------------------------------------------------------------------------------


def pg_tools(*names: str) -> list[str]:
    """The PostgreSQL client programs, all from one installation: the one on PATH, else the newest
    under /usr/lib/postgresql/*/bin (Debian's layout)."""
    on_path = [shutil.which(name) for name in names]
    if all(on_path):
        return [str(found) for found in on_path]

    def version(folder: str) -> int:
        try:
            return int(Path(folder).parent.name)
        except ValueError:
            return 0

    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        programs = [Path(folder) / name for name in names]
        if all(os.access(program, os.X_OK) for program in programs):
            return [str(program) for program in programs]
    missing = next(name for name, found in zip(names, on_path, strict=True) if not found)
    raise BackupError(
        f"{missing} was not found; install the package {PG_CLIENT_PACKAGE} "
        "(of the server's major version or newer)."
    )


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and an environment with PGPASSWORD: a password on
    the command line would be visible to every user of the machine."""
    url = make_url(database_url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool_error(output: str) -> str:
    """The first error line of a PostgreSQL program, without the program's name and level."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    line = next((line for line in lines if "error" in line.lower() or "fatal" in line.lower()), "")
    line = line or (lines[0] if lines else "unknown error")
    for marker in ("error:", "ERROR:", "FATAL:", "fatal:"):
        if marker in line:
            line = line.split(marker, 1)[1]
            break
    return line.strip().rstrip(".")


def _pg_dump(database_url: str, temporary: Path) -> None:
    (pg_dump,) = pg_tools("pg_dump")
    conninfo, env = _libpq(database_url)
    result = subprocess.run(
        [pg_dump, "--format=custom", "--no-password", f"--file={temporary}", f"--dbname={conninfo}"],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {_tool_error(result.stderr)}.")


def _check_pg_dump(path: Path, shown: str) -> str | None:
    (pg_restore,) = pg_tools("pg_restore")

    def run(*args: str) -> str:
        result = subprocess.run([pg_restore, *args, str(path)], capture_output=True, text=True)
        if result.returncode != 0:
            raise BackupError(
                f"{shown} is damaged or incomplete (pg_restore says: {_tool_error(result.stderr)})."
            )
        return result.stdout

    listing = run("--list")
    if not any(entry[3:4] == ["TABLE"] and entry[5:6] == ["alembic_version"] for entry in _toc(listing)):
        return None
    run(f"--file={os.devnull}")  # reads every byte: a cut or damaged file fails here, not halfway in
    script = run("--data-only", "--table=alembic_version", "--file=-").splitlines()
    for number, line in enumerate(script):
        if line.startswith("COPY ") and "alembic_version" in line and number + 1 < len(script):
            value = script[number + 1].strip()
            return value if value and value != "\\." else None
    return None


def _toc(listing: str) -> list[list[str]]:
    """The entries of `pg_restore --list`: `215; 1259 16390 TABLE public children laiban`."""
    return [line.split() for line in listing.splitlines() if line and not line.startswith(";")]


def _pg_restore(backup: Backup, database_url: str) -> None:
    pg_restore, psql = pg_tools("pg_restore", "psql")
    conninfo, env = _libpq(database_url)
    tables = sorted({table.name for table in Base.metadata.sorted_tables} | {"alembic_version"})
    drop = "DROP TABLE IF EXISTS " + ", ".join(f'"{name}"' for name in tables) + " CASCADE;\n"
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        script = subprocess.Popen(
            [
                pg_restore,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--file=-",
                str(backup.path),
            ],
            stdout=subprocess.PIPE,
            stderr=restore_errors,
        )
        applier = subprocess.Popen(
            [
                psql,
                "--no-psqlrc",
                "--quiet",
                "--no-password",
                "--set=ON_ERROR_STOP=1",
                f"--dbname={conninfo}",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_errors,
            env=env,
        )
        assert script.stdout is not None and applier.stdin is not None
        stopped = False
        try:
            # One transaction: BEGIN, drop Laiban's tables, the backup's script, and COMMIT only when
            # pg_restore finished well. Without COMMIT, psql ends and the server rolls everything back.
            applier.stdin.write(b"BEGIN;\nSET client_min_messages = warning;\n" + drop.encode())
            shutil.copyfileobj(script.stdout, applier.stdin, 1 << 16)
            if script.wait() == 0:
                applier.stdin.write(b"COMMIT;\n")
        except BrokenPipeError:
            stopped = True  # psql stopped at an error and said why on stderr
        finally:
            if script.poll() is None:
                script.kill()
            script_ok = script.wait() == 0
            script.stdout.close()
            try:
                applier.stdin.close()
            except BrokenPipeError:
                stopped = True
            applied = applier.wait() == 0 and not stopped
        if not applied:
            reason = _tool_error(_read(psql_errors))
        elif not script_ok:
            reason = _tool_error(_read(restore_errors))
        else:
            return
    raise BackupError(f"Restoring {backup.path} failed ({reason}); the database was not changed.")


def _read(handle: IO[bytes]) -> str:
    handle.seek(0)
    return handle.read().decode("utf-8", "replace")


# --- restore -----------------------------------------------------------------------------------------


def restore_backup(backup: Backup, database_url: str) -> str:
    """Replaces everything in the configured database with the backup (from `open_backup`), then brings
    it up to date with the migrations. Returns the schema revision afterwards."""
    if backup.kind == "sqlite":
        _sqlite_restore(backup, database_url)
    else:
        _pg_restore(backup, database_url)
    engine = make_engine(database_url)
    try:
        migrate(engine)
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    return revision or backup.revision
