"""The job lease: with several processes on one database, a round of scheduled work runs exactly once;
a holder that dies does not block the work for ever."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from laiban import jobs
from laiban.config import Settings
from laiban.store.db import make_engine
from laiban.store.leases import claim, release

NOW = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)
HOLD = dt.timedelta(minutes=10)


def at_once(workers: list[Callable[[], bool]]) -> list[bool]:
    """Runs the callables in threads released at the same moment; their results in order."""
    barrier = threading.Barrier(len(workers))
    results: list[bool | None] = [None] * len(workers)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = workers[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(result is not None for result in results)
    return [bool(result) for result in results]


def test_exactly_one_of_several_processes_claims_a_round(engine: Engine, settings: Settings) -> None:
    others = [make_engine(settings.database_url) for _ in range(3)]  # each like another process
    try:
        for round_number in range(10):
            name = f"round-{round_number}"
            won = at_once(
                [
                    lambda e=e, i=i, n=name: claim(e, n, f"p{i}", NOW, HOLD)
                    for i, e in enumerate([engine, *others])
                ]
            )
            assert won.count(True) == 1, won
    finally:
        for other in others:
            other.dispose()


def test_a_released_round_is_due_again_at_its_time(engine: Engine) -> None:
    assert claim(engine, "jobs", "a", NOW, HOLD)
    assert not claim(engine, "jobs", "b", NOW + dt.timedelta(seconds=1), HOLD)  # held
    release(engine, "jobs", "a", NOW + dt.timedelta(seconds=2), NOW + dt.timedelta(seconds=54))
    assert not claim(engine, "jobs", "b", NOW + dt.timedelta(seconds=30), HOLD)  # free, not due yet
    assert claim(engine, "jobs", "b", NOW + dt.timedelta(seconds=54), HOLD)


def test_a_dead_holders_lease_expires(engine: Engine) -> None:
    assert claim(engine, "jobs", "crashed", NOW, HOLD)  # and never releases it
    assert not claim(engine, "jobs", "b", NOW + HOLD - dt.timedelta(seconds=1), HOLD)
    assert claim(engine, "jobs", "b", NOW + HOLD, HOLD)


def test_run_due_runs_the_jobs_in_one_process_only(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[str] = []
    monkeypatch.setattr(jobs, "JOBS", {"count": lambda _engine, _settings: runs.append("ran") or "ok"})
    other = make_engine(settings.database_url)
    try:
        ran = at_once(
            [
                lambda: jobs.run_due(engine, settings, "one"),
                lambda: jobs.run_due(other, settings, "two"),
            ]
        )
    finally:
        other.dispose()
    assert sorted(ran) == [False, True]
    assert runs == ["ran"]
    assert not jobs.run_due(engine, settings, "three")  # the round is done: not due for a while
