"""The `laiban` command: serve, demo, db, backup, restore, users, fetch, prerender. `laiban COMMAND --help`
explains."""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import getpass
import logging
import socket
import sys
import threading
import time
import zoneinfo
from collections.abc import Sequence
from dataclasses import replace
from typing import TextIO

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from laiban import __version__
from laiban.config import ConfigError, Settings
from laiban.model.preschool import DEFAULT_TIMEZONE, Role
from laiban.store import accounts, audit
from laiban.store.db import StoreError, make_engine, migrate, session_factory, transaction
from laiban.store.preschools import preschool_by_slug
from laiban.store.tables import Organisation, Preschool, User

log = logging.getLogger("laiban")


class CommandError(Exception):
    """A command cannot go on; the message is one sentence for the person at the terminal."""


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.load(config_file=args.config)
    if getattr(args, "host", None):
        settings = replace(settings, host=args.host)
    if getattr(args, "port", None):
        settings = replace(settings, port=args.port)
    return settings.prepare()


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a whole number between 1 and 65535, not {text!r}")
    return int(text)


def _workers(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return int(text)


def _database(settings: Settings) -> Engine:
    engine = make_engine(settings.database_url)
    migrate(engine)
    return engine


def _today() -> dt.date:
    return dt.datetime.now(zoneinfo.ZoneInfo(DEFAULT_TIMEZONE)).date()


def _print_demo(engine: Engine, settings: Settings) -> None:
    from laiban.demo import ensure_demo

    with transaction(session_factory(engine)) as session:
        result = ensure_demo(session, _today())
    verb = "Created" if result.created else "Refreshed"
    print(f"{verb} the demo preschool Solrosen (/admin/p/solrosen/settings).")
    print(f"Demo admin: {result.admin_email}  password: {result.admin_password}")
    print(
        f"Demo kiosk: http://{settings.host}:{settings.port}/kiosk/pair?code={result.kiosk_code}"
        "  (open it once on this computer or a tablet; the code works once, for 24 hours)"
    )


# --- commands ------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> None:
    from laiban import logs

    started = time.perf_counter()
    settings = _settings(args)
    if args.workers:
        settings = replace(settings, workers=args.workers)
    logs.configure(settings.log_level, settings.log_format, with_pid=settings.workers > 1)
    listener = _listen(settings.host, settings.port)
    engine = _database(settings)  # migrations run here, once, before any worker starts
    if args.demo:
        _print_demo(engine, settings)
    if settings.workers == 1:
        _serve(settings, listener, engine, started)
        return
    _serve_workers(settings, listener, engine, started)


def _serve(settings: Settings, listener: socket.socket, engine: Engine, started: float | None = None) -> None:
    """One server process on the bound socket, until SIGTERM or SIGINT; says it is ready if `started`."""
    import uvicorn

    from laiban.web.app import create_app

    app = create_app(settings, engine)
    config = uvicorn.Config(
        app,
        log_level=settings.log_level,
        log_config=None,  # uvicorn's lines go through laiban.logs like every other (text or JSON)
        access_log=False,  # our own access log leaves out query strings (see web/app.py)
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,  # only the proxy may say who the client is
    )
    server = uvicorn.Server(config)
    # Once the server answers: build the understanding models (so the first child does not wait) and
    # start the refresh jobs. Afterwards, so that they do not slow down the start.
    threading.Thread(
        target=_background, args=(server, engine, settings), name="laiban-background", daemon=True
    ).start()
    if started is not None:
        _announce(settings, started)
    server.run(sockets=[listener])


def _serve_workers(settings: Settings, listener: socket.socket, engine: Engine, started: float) -> None:
    """`--workers N`: N forked processes on the one socket, each with its own engine (see supervisor)."""
    from laiban.supervisor import WorkersFailing, supervise
    from laiban.web.app import create_app

    create_app(settings, engine)  # imports every module once here, so that each worker starts in ms
    engine.dispose()  # no pooled connection may be shared with the workers
    if settings.is_sqlite:
        log.warning(
            "%d workers on SQLite: it works (WAL), but PostgreSQL is the database for several workers",
            settings.workers,
        )

    def work() -> None:
        _serve(settings, listener, make_engine(settings.database_url))

    _announce(settings, started)
    try:
        supervise(settings.workers, work)
    except WorkersFailing as exc:
        raise CommandError(str(exc)) from exc
    finally:
        listener.close()


def _announce(settings: Settings, started: float) -> None:
    workers = f" with {settings.workers} workers" if settings.workers > 1 else ""
    line = (
        f"Laiban {__version__} serves http://{settings.host}:{settings.port}/admin{workers} "
        f"(ready in {time.perf_counter() - started:.2f} s)"
    )
    if settings.log_format == "json":  # one JSON object per line on both streams
        log.info("%s", line)
    else:
        print(line, flush=True)


def _background(server: object, engine: Engine, settings: Settings) -> None:
    from laiban.jobs import run_periodically
    from laiban.understanding import available_languages, recognizer_for

    while not getattr(server, "started", False) and not getattr(server, "should_exit", False):
        time.sleep(0.05)
    for lang in available_languages():
        recognizer_for(lang)
    _load_speech_to_text(settings)
    run_periodically(engine, settings, threading.Event())


def _load_speech_to_text(settings: Settings) -> None:
    """Load the speech-to-text model now (1–2 s), so that the first child who talks does not wait for it."""
    from laiban.speech import stt

    try:
        listening = stt.recognizer_for(settings.stt_model_dir, settings.workers)
        if listening is not None:
            listening.load()
    except stt.RecognizerUnavailable:
        pass  # logged; the kiosks' talk button stays hidden


def _listen(host: str, port: int) -> socket.socket:
    """Bind the port before anything else so that a second server fails at once with a clear sentence."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Without TCP_NODELAY every response waits ~40 ms for the client's delayed ACK (uvicorn writes head
    # and body separately); accepted connections inherit it. bench/load.py: /healthz p50 44 → 2 ms.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CommandError(
                f"Port {port} on {host} is already in use (is another Laiban running?); "
                "stop it or set LAIBAN_PORT."
            ) from exc
        raise CommandError(f"Cannot listen on {host}:{port}: {exc.strerror}.") from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def cmd_demo(args: argparse.Namespace) -> None:
    settings = _settings(args)
    _print_demo(_database(settings), settings)


def cmd_db_upgrade(args: argparse.Namespace) -> None:
    settings = _settings(args)
    _database(settings)
    print("The database is up to date.")


def cmd_backup(args: argparse.Namespace) -> None:
    from laiban.store.backup import describe_database, human_size, make_backup

    settings = _settings(args)
    saved = make_backup(settings.database_url, args.file, force=args.force)
    print(
        f"Saved {describe_database(settings.database_url)} to {saved.path} "
        f"({human_size(saved.size)}, schema {saved.revision})."
    )


def cmd_restore(args: argparse.Namespace) -> None:
    from laiban.store.backup import describe_database, human_size, open_backup, restore_backup

    settings = _settings(args)
    backup = open_backup(args.file, settings.database_url)  # refuses a bad file before anything changes
    where = describe_database(settings.database_url)
    if not args.yes:
        print(
            f"Restoring replaces everything in {where} with the backup {backup.path} "
            f"({human_size(backup.size)}, schema {backup.revision}). Type yes to go on: ",
            end="",
            flush=True,
        )
        answer = sys.stdin.readline()
        if not answer.endswith("\n"):  # end of input: end the question's line
            print()
        if answer.strip().lower() not in ("yes", "y"):
            raise CommandError("Nothing was restored (answer yes, or give --yes).")
    revision = restore_backup(backup, settings.database_url)
    updated = f", brought up to schema {revision}" if revision != backup.revision else ""
    print(f"Restored {where} from {backup.path} (schema {backup.revision}{updated}).")


def _read_password(args: argparse.Namespace, *, email: str = "", name: str = "") -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Same again: ") != password:
            raise CommandError("The two passwords differ; nothing was changed.")
    problem = accounts.password_problem(password, email=email, name=name)
    if problem:
        raise CommandError(problem)
    return password


def cmd_users_add(args: argparse.Namespace) -> None:
    engine = _database(_settings(args))
    with transaction(session_factory(engine)) as session:
        preschool = preschool_by_slug(session, args.preschool) if args.preschool else None
        if args.preschool and preschool is None:
            raise CommandError(f"There is no preschool with the short name {args.preschool!r}.")
        if preschool is not None:
            organisation_id = preschool.organisation_id
        else:
            organisations = session.scalars(select(Organisation.id)).all()
            if len(organisations) != 1:
                raise CommandError(
                    "Name the user's preschool with --preschool (there is not exactly one "
                    "organisation), or run the first-time setup at /admin/setup."
                )
            organisation_id = organisations[0]
        if not args.org_admin and preschool is None:
            raise CommandError(
                "Give --preschool SLUG (with --role) or --org-admin, or the user can see nothing."
            )
        try:
            user = accounts.create_user(
                session,
                organisation_id=organisation_id,
                email=args.email,
                name=args.name,
                password=_read_password(args, email=args.email, name=args.name),
                is_org_admin=args.org_admin,
                roles={preschool.id: Role(args.role)} if preschool else {},
            )
        except accounts.AccountError as exc:
            raise CommandError(str(exc)) from exc
        print(f"Added {user.email}.")


def cmd_users_passwd(args: argparse.Namespace) -> None:
    engine = _database(_settings(args))
    with transaction(session_factory(engine)) as session:
        user = session.scalar(select(User).where(User.email == accounts.normalise_email(args.email)))
        if user is None:
            raise CommandError(f"There is no user with the e-mail address {args.email!r}.")
        accounts.set_password(session, user, _read_password(args, email=user.email, name=user.name))
        print(f"Changed the password of {user.email}; their sessions were ended.")


def cmd_users_totp_off(args: argparse.Namespace) -> None:
    engine = _database(_settings(args))
    with transaction(session_factory(engine)) as session:
        user = session.scalar(select(User).where(User.email == accounts.normalise_email(args.email)))
        if user is None:
            raise CommandError(f"There is no user with the e-mail address {args.email!r}.")
        if not accounts.has_totp(user):
            print(f"{user.email} signs in without a code already; nothing was changed.")
            return
        accounts.disable_totp(session, user)
        audit.record_account(
            session, user.organisation_id, actor="Kommandoraden", action="delete", account_id=user.id
        )
        print(f"Switched off sign-in codes for {user.email}: the password alone signs in now.")


def _slot_pairs(pairs: list[str]) -> dict[str, str]:
    slots = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise CommandError(f"--slot takes key=value, not {pair!r}.")
        slots[key] = value
    return slots


def cmd_ask(args: argparse.Namespace) -> None:
    import json

    from laiban import assistant
    from laiban.model.intent import INTENTS, SLOTS_OF, Intent
    from laiban.store.today import context_for, local_now, today_for
    from laiban.understanding import available_languages, recognizer_for

    if args.intent and args.question:
        raise CommandError("Give a question or --intent, not both.")
    if args.lang not in assistant.speakable((args.lang,)):
        raise CommandError(f"Laiban cannot speak {args.lang!r} yet.")
    if args.intent:
        if args.intent not in INTENTS:
            raise CommandError(f"Unknown intent {args.intent!r}; known: {', '.join(INTENTS)}.")
        slots = _slot_pairs(args.slot)
        unknown = sorted(set(slots) - SLOTS_OF[args.intent])
        if unknown:
            raise CommandError(f"The intent {args.intent} has no slot {unknown[0]!r}.")
    elif args.lang not in available_languages():
        raise CommandError(
            f"Laiban cannot understand {args.lang!r} yet; it understands {', '.join(available_languages())}."
        )
    engine = _database(_settings(args))
    with session_factory(engine)() as session:
        preschool = _preschool_for_ask(session, args.preschool)
        context = context_for(session, preschool)
        # Read once for the whole batch; each question only moves the clock.
        day = today_for(session, preschool, local_now(preschool, args.at))
        session.expunge_all()
    if not args.intent:
        recognizer_for(args.lang)  # build the model once, before the first question
    previous = None
    questions = (
        [args.question] if args.question or args.intent else (line.rstrip("\r\n") for line in sys.stdin)
    )
    for question in questions:
        today = replace(day, now=local_now(preschool, args.at))
        if args.intent:
            reply = assistant.ask(
                lang=args.lang, today=today, context=context, intent=Intent(args.intent, slots)
            )
        else:
            reply = assistant.ask(
                lang=args.lang, today=today, context=context, question=question, previous=previous
            )
        if reply.intent.name != "repeat":
            previous = reply.intent
        if args.json:
            print(json.dumps(reply.as_json(), ensure_ascii=False), flush=False)
        else:
            print(reply.rendered.text)
    sys.stdout.flush()


def _preschool_for_ask(session: Session, slug: str | None) -> Preschool:
    if slug:
        preschool = preschool_by_slug(session, slug)
        if preschool is None:
            raise CommandError(f"There is no preschool with the short name {slug!r}.")
        return preschool
    preschools = session.scalars(select(Preschool).order_by(Preschool.id).limit(2)).all()
    if len(preschools) == 1:
        return preschools[0]
    demo = preschool_by_slug(session, "solrosen")
    if demo is not None:
        return demo
    if not preschools:
        raise CommandError("There is no preschool yet: run `laiban demo` or the setup at /admin/setup.")
    raise CommandError("There are several preschools: choose one with --preschool SLUG.")


def _local_time(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"must be a time like 2026-11-26T09:30, not {text!r}") from exc


def cmd_fetch(args: argparse.Namespace) -> None:
    from laiban.jobs import run_all_once

    settings = _settings(args)
    engine = _database(settings)
    for line in run_all_once(engine, settings):
        print(line)


class _Bar:
    """A progress bar on a terminal (standard error, rewritten with \\r); nothing when it is not one."""

    WIDTH = 30

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.shown = stream.isatty()
        self._last = 0.0
        self._length = 0

    def __call__(self, done: int, total: int, what: str) -> None:
        if not self.shown:
            return
        now = time.monotonic()
        if 0 < done < total and now - self._last < 0.1:
            return  # a redraw every tenth of a second is plenty
        self._last = now
        if total:
            filled = self.WIDTH * done // total
            line = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total} {what}"
        else:
            line = f"[{'.' * self.WIDTH}] {what}: reading the day"
        self.stream.write("\r" + line.ljust(self._length))
        self.stream.flush()
        self._length = len(line)

    def clear(self) -> None:
        if self.shown and self._length:
            self.stream.write("\r" + " " * self._length + "\r")
            self.stream.flush()


def cmd_prerender(args: argparse.Namespace) -> None:
    from laiban.jobs.prerender import PrerenderError, prerender

    settings = _settings(args)
    engine = _database(settings)
    bar = _Bar(sys.stderr)
    try:
        summary = prerender(engine, settings, slug=args.preschool, progress=bar)
    except PrerenderError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        bar.clear()
    print(f"Pre-rendered {summary.line(settings.audio_cache_mb * 1024 * 1024)}.")


# --- argument parsing ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="laiban",
        description="Laiban, a digital assistant for preschools. Settings come from LAIBAN_* variables "
        "and an optional TOML file.",
    )
    parser.add_argument("--version", action="version", version=f"laiban {__version__}")
    parser.add_argument("--config", metavar="FILE", help="a TOML settings file (or set LAIBAN_CONFIG)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the web server (migrates the database first)",
        description="Run the Laiban web server: kiosk, admin and API.",
    )
    serve.add_argument("--host", help="address to listen on (default LAIBAN_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="port to listen on (default LAIBAN_PORT or 8000)")
    serve.add_argument("--demo", action="store_true", help="create or refresh the demo preschool first")
    serve.add_argument(
        "--workers",
        type=_workers,
        metavar="N",
        help="server processes on the one port (default LAIBAN_WORKERS or 1; several: use PostgreSQL)",
    )
    serve.set_defaults(func=cmd_serve)

    demo = commands.add_parser(
        "demo",
        help="create or refresh the demo preschool Solrosen",
        description="Create or refresh the demo preschool Solrosen and print its "
        "admin's new password. Safe to run again.",
    )
    demo.set_defaults(func=cmd_demo)

    db = commands.add_parser("db", help="database maintenance", description="Database maintenance.")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_commands.add_parser(
        "upgrade", help="apply all migrations", description="Bring the database schema up to date."
    )
    upgrade.set_defaults(func=cmd_db_upgrade)

    backup = commands.add_parser(
        "backup",
        help="save the whole database to a file",
        description="Save a consistent copy of the whole database to FILE, safe while the server runs: "
        "SQLite's online backup, or pg_dump's custom format for PostgreSQL.",
    )
    backup.add_argument("file", metavar="FILE", help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    backup.set_defaults(func=cmd_backup)
    restore = commands.add_parser(
        "restore",
        help="replace the whole database with a backup",
        description="Replace everything in the database with the backup in FILE (made by `laiban backup`), "
        "then apply the migrations. A damaged file or one made by a newer Laiban changes nothing.",
    )
    restore.add_argument("file", metavar="FILE", help="the backup file to restore")
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    restore.set_defaults(func=cmd_restore)

    users = commands.add_parser("users", help="staff accounts", description="Manage staff accounts.")
    user_commands = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = user_commands.add_parser("add", help="add a staff member", description="Add a staff member.")
    add.add_argument("email")
    add.add_argument("--name", required=True, help="the name shown in the admin")
    add.add_argument("--preschool", metavar="SLUG", help="the preschool the user works at")
    add.add_argument(
        "--role",
        choices=[r.value for r in Role],
        default=Role.PEDAGOGUE.value,
        help="role at that preschool (default pedagogue)",
    )
    add.add_argument("--org-admin", action="store_true", help="administrator of the whole organisation")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=cmd_users_add)
    passwd = user_commands.add_parser(
        "passwd",
        help="set a staff member's password",
        description="Set a new password; the user's sessions end.",
    )
    passwd.add_argument("email")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd.set_defaults(func=cmd_users_passwd)
    totp_off = user_commands.add_parser(
        "totp-off",
        help="switch off a staff member's sign-in codes (a lost phone)",
        description="Switch off two-step sign-in (TOTP) for a user who lost their phone; they sign in with "
        "the password alone and may switch codes on again in the admin. Written to the audit log.",
    )
    totp_off.add_argument("email")
    totp_off.set_defaults(func=cmd_users_totp_off)

    ask = commands.add_parser(
        "ask",
        help="ask Laiban a question, as a child would",
        description="Answer a question, or one question per line from standard input (the model is built "
        "once for all). --intent answers a tapped picture instead of words.",
    )
    ask.add_argument("question", nargs="?", help="the question; without it, questions are read from stdin")
    ask.add_argument("--lang", default="sv", help="the language of the question and answer (default sv)")
    ask.add_argument("--preschool", metavar="SLUG", help="default: the only preschool, or the demo")
    ask.add_argument(
        "--at",
        type=_local_time,
        metavar="YYYY-MM-DDTHH:MM",
        help="pretend it is this local time at the preschool",
    )
    ask.add_argument("--json", action="store_true", help="print one JSON object per answer")
    ask.add_argument("--intent", help="answer this intent (a tapped picture) instead of a question")
    ask.add_argument("--slot", action="append", default=[], metavar="KEY=VALUE", help="a slot for --intent")
    ask.set_defaults(func=cmd_ask)

    fetch = commands.add_parser(
        "fetch",
        help="run every refresh job once (forecasts, menus, …)",
        description="Run every refresh job once and print what each did.",
    )
    fetch.set_defaults(func=cmd_fetch)

    prerender = commands.add_parser(
        "prerender",
        help="speak the day's likely answers into the audio cache",
        description="Speak today's likely answers (each tapped picture's, what time it is every five "
        "minutes of the day, the greetings and 'I don't know') into the audio cache, in every language "
        "of every preschool, so that the first child of the day hears them at once. Nothing about a "
        "child is spoken. The server does it every morning, an hour before each preschool opens.",
    )
    prerender.add_argument("--preschool", metavar="SLUG", help="only this preschool (default: all)")
    prerender.set_defaults(func=cmd_prerender)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ConfigError, StoreError, CommandError) as exc:
        print(f"laiban: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) else 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `laiban ask --json < questions | head`
        sys.stderr.close()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
