"""Building `Today` and the understanding `Context` of a preschool from the store."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from laiban.model.intent import Context
from laiban.model.today import ClockEvent, Today
from laiban.sources.holidays import special_days_between
from laiban.store.calendar import activities_on, calendar_events_between, closed_days_between
from laiban.store.children import pickup_children
from laiban.store.menus import menu_between
from laiban.store.tables import Child, Preschool, ScheduleEvent
from laiban.store.weather import active_corrections, load_forecast

# The menu a child can ask about: from a week back to two weeks ahead.
MENU_DAYS_BACK = dt.timedelta(days=7)
MENU_DAYS_AHEAD = dt.timedelta(days=14)


def local_now(preschool: Preschool, at: dt.datetime | None = None) -> dt.datetime:
    """`at` (naive = the preschool's local time) or the present moment, in the preschool's timezone."""
    zone = ZoneInfo(preschool.timezone)
    if at is None:
        return dt.datetime.now(zone)
    return at.replace(tzinfo=zone) if at.tzinfo is None else at.astimezone(zone)


def today_for(
    session: Session,
    preschool: Preschool,
    now: dt.datetime,
    group_id: int | None = None,
    asking_child: int | None = None,
) -> Today:
    """Everything the skills may use about this moment at this preschool (a few small reads); with a
    group (the kiosk's avdelning), that group's own schedule when it has one, and only its children.
    `asking_child` is the child who tapped their own picture; it must be one of those children."""
    rows = session.execute(
        select(
            ScheduleEvent.at,
            ScheduleEvent.kind,
            ScheduleEvent.title,
            ScheduleEvent.weekday,
            ScheduleEvent.group_id,
        ).where(
            ScheduleEvent.preschool_id == preschool.id,
            ScheduleEvent.group_id.is_(None) | (ScheduleEvent.group_id == group_id),
            or_(ScheduleEvent.weekday.is_(None), ScheduleEvent.weekday == now.weekday()),
        )
    ).all()
    # A group's own schedule replaces the preschool's; within either, a weekday's own replaces every day's.
    chosen = [row for row in rows if group_id is not None and row.group_id == group_id] or [
        row for row in rows if row.group_id is None
    ]
    chosen = [row for row in chosen if row.weekday is not None] or chosen
    events = tuple(sorted({ClockEvent(r.at, r.kind, r.title) for r in chosen}, key=lambda e: (e.at, e.kind)))
    weather = "weather" in preschool.modules
    lunch = "lunch" in preschool.modules
    menu = (
        menu_between(session, preschool.id, now.date() - MENU_DAYS_BACK, now.date() + MENU_DAYS_AHEAD)
        if lunch
        else {}
    )
    return Today(
        now=now,
        preschool_name=preschool.name,
        modules=tuple(preschool.modules),
        languages=tuple(preschool.languages),
        day_starts_at=preschool.day_starts_at,
        day_ends_at=preschool.day_ends_at,
        events=events,
        special_days=special_days_between(
            now.date() - dt.timedelta(days=1), now.date() + dt.timedelta(days=400)
        ),
        forecast=load_forecast(session, preschool.latitude, preschool.longitude) if weather else None,
        garment_corrections=active_corrections(session, preschool.id, now) if weather else {},
        menu={key: tuple((d.text, d.simple_override) for d in dishes) for key, dishes in menu.items()},
        preschool_events={
            day: tuple(events)
            for day, events in calendar_events_between(
                session, preschool.id, now.date() - dt.timedelta(days=1), now.date() + dt.timedelta(days=400)
            ).items()
        },
        closed_days=closed_days_between(
            session, preschool.id, now.date() - MENU_DAYS_BACK, now.date() + dt.timedelta(days=400)
        ),
        activities=tuple(activities_on(session, preschool.id, now.date()))
        if "activities" in preschool.modules
        else (),
        show_child_names=preschool.show_child_names,
        children=pickup_children(session, preschool, group_id, now) if "pickup" in preschool.modules else (),
        asking_child=asking_child,
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


class TodayCache:
    """`Today` and the understanding `Context` of each kiosk group, built at most every `ttl` seconds
    (and again when the preschool's date changes); each question gets its own `now`. Staff's changes
    reach the kiosks within `ttl`. Thread-safe; two threads may both build an entry, which is harmless."""

    def __init__(self, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[int, int | None], tuple[float, dt.date, Today, Context]] = {}

    def get(
        self, session: Session, preschool: Preschool, now: dt.datetime, group_id: int | None = None
    ) -> tuple[Today, Context]:
        key = (preschool.id, group_id)
        at = self._clock()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and at - entry[0] < self.ttl and entry[1] == now.date():
            return replace(entry[2], now=now), entry[3]
        today, context = today_for(session, preschool, now, group_id), context_for(session, preschool)
        with self._lock:
            self._entries[key] = (at, now.date(), today, context)
        return today, context

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
