"""Scheduled work: refreshing outside data into the store, pre-rendering audio, purging personal data.

Each job is a function `(engine, settings) -> str` that does one round of its work (skipping what is
still fresh) and says what it did in one line. `laiban fetch` runs each once; `laiban serve` runs them
every minute in a background thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator

from sqlalchemy import Engine

from laiban.config import Settings
from laiban.jobs.menus import refresh_menus
from laiban.jobs.prerender import prerender_morning
from laiban.jobs.retention import purge_personal_data
from laiban.jobs.weather import refresh_forecasts
from laiban.store.leases import claim, release
from laiban.store.tables import utcnow

log = logging.getLogger("laiban.jobs")

Job = Callable[[Engine, Settings], str]

JOBS: dict[str, Job] = {
    "forecasts": refresh_forecasts,
    "menus": refresh_menus,
    "retention": purge_personal_data,
    "prerender": prerender_morning,  # last: after the morning's forecasts and menus are in
}


def run_all_once(engine: Engine, settings: Settings) -> Iterator[str]:
    for name, job in JOBS.items():
        try:
            yield f"{name}: {job(engine, settings)}"
        except Exception:  # one broken job must not stop the others
            log.exception("job %s failed", name)
            yield f"{name}: failed (see the log)"


ROUND = "jobs"  # the lease every process competes for, once per round
HOLD = dt.timedelta(minutes=10)  # a round that takes longer (or a process that died) frees the lease


def run_due(engine: Engine, settings: Settings, holder: str, every: float = 60.0) -> bool:
    """One round of every job if it is due and no other process is running it; whether it ran."""
    started = utcnow()
    if not claim(engine, ROUND, holder, started, HOLD):
        return False
    try:
        for line in run_all_once(engine, settings):
            log.info("%s", line)
    finally:
        # Due again a little before `every` has passed, so that the holder's next wake-up finds it due.
        release(engine, ROUND, holder, utcnow(), started + dt.timedelta(seconds=every * 0.9))
    return True


def run_periodically(engine: Engine, settings: Settings, stop: threading.Event, every: float = 60.0) -> None:
    """Every `every` seconds, until `stop` is set: a round of the jobs, unless another server process on
    the same database has it (see store.leases)."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    while not stop.is_set():
        try:
            run_due(engine, settings, holder, every)
        except Exception:  # the database may be briefly away; the next round tries again
            log.exception("the scheduled jobs could not start")
        stop.wait(every)
