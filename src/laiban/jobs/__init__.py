"""Scheduled work: refreshing outside data into the store, pre-rendering audio, purging personal data.

Each job is a function `(engine) -> str` that does one round of its work and says what it did in one
line. Topic issues register theirs in `JOBS`; `laiban fetch` runs each once, the server on a schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy import Engine

Job = Callable[[Engine], str]

JOBS: dict[str, Job] = {}


def run_all_once(engine: Engine) -> Iterator[str]:
    if not JOBS:
        yield "No refresh jobs are installed yet: there is no outside data to fetch."
    for name, job in JOBS.items():
        yield f"{name}: {job(engine)}"
