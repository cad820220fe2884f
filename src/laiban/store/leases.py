"""A lease in the database: with several server processes on one database, a scheduled round of work is
done by exactly one of them. Claiming is one conditional UPDATE, atomic on SQLite (one writer at a time)
and on PostgreSQL (row lock); a holder that dies leaves a lease that expires."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError

from laiban.store.db import session_factory, transaction
from laiban.store.tables import JobLease


def claim(engine: Engine, name: str, holder: str, now: dt.datetime, hold: dt.timedelta) -> bool:
    """True when `holder` now holds the lease (it was due and nobody held it); for at most `hold`."""
    sessions = session_factory(engine)
    try:
        with transaction(sessions) as session:
            if session.get(JobLease, name) is None:
                session.add(JobLease(name=name, holder="", held_until=now, next_run_at=now))
    except IntegrityError:
        pass  # another process created it at the same moment
    with transaction(sessions) as session:
        claimed = session.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.next_run_at <= now, JobLease.held_until <= now)
            .values(holder=holder, held_until=now + hold)
        ).rowcount
    return claimed == 1


def release(engine: Engine, name: str, holder: str, now: dt.datetime, next_run_at: dt.datetime) -> None:
    """Done: the lease is free, and the work is due again at `next_run_at`."""
    with transaction(session_factory(engine)) as session:
        session.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.holder == holder)
            .values(held_until=now, next_run_at=next_run_at)
        )
