"""Building `Today` and the understanding `Context` of a preschool from the store."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from laiban.model.intent import Context
from laiban.model.today import Today
from laiban.store.tables import Child, Preschool, ScheduleEvent


def local_now(preschool: Preschool, at: dt.datetime | None = None) -> dt.datetime:
    """`at` (naive = the preschool's local time) or the present moment, in the preschool's timezone."""
    zone = ZoneInfo(preschool.timezone)
    if at is None:
        return dt.datetime.now(zone)
    return at.replace(tzinfo=zone) if at.tzinfo is None else at.astimezone(zone)


def today_for(preschool: Preschool, now: dt.datetime) -> Today:
    return Today(
        now=now,
        preschool_name=preschool.name,
        modules=tuple(preschool.modules),
        languages=tuple(preschool.languages),
    )


def context_for(session: Session, preschool: Preschool) -> Context:
    names = session.scalars(
        select(Child.first_name)
        .where(Child.preschool_id == preschool.id, Child.active)
        .order_by(Child.first_name)
    ).all()
    events = session.execute(
        select(ScheduleEvent.title, ScheduleEvent.kind)
        .where(ScheduleEvent.preschool_id == preschool.id)
        .distinct()
    ).all()
    return Context(names=tuple(dict.fromkeys(names)), events=tuple(sorted((t, k) for t, k in events)))
