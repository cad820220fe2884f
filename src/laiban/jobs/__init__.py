"""Scheduled work: refreshing outside data into the store, pre-rendering audio, purging personal data.

Each job is a function `(engine, settings) -> str` that does one round of its work (skipping what is
still fresh) and says what it did in one line. `laiban fetch` runs each once; `laiban serve` runs them
every minute in a background thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

from sqlalchemy import Engine

from laiban.config import Settings
from laiban.jobs.menus import refresh_menus
from laiban.jobs.retention import purge_personal_data
from laiban.jobs.weather import refresh_forecasts

log = logging.getLogger("laiban.jobs")

Job = Callable[[Engine, Settings], str]

JOBS: dict[str, Job] = {
    "forecasts": refresh_forecasts,
    "menus": refresh_menus,
    "retention": purge_personal_data,
}


def run_all_once(engine: Engine, settings: Settings) -> Iterator[str]:
    for name, job in JOBS.items():
        try:
            yield f"{name}: {job(engine, settings)}"
        except Exception:  # one broken job must not stop the others
            log.exception("job %s failed", name)
            yield f"{name}: failed (see the log)"


def run_periodically(engine: Engine, settings: Settings, stop: threading.Event, every: float = 60.0) -> None:
    """Runs every job, then waits `every` seconds, until `stop` is set."""
    while not stop.is_set():
        for line in run_all_once(engine, settings):
            log.info("%s", line)
        stop.wait(every)
