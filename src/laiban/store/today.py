"""Building `Today` and the understanding `Context` of a preschool from the store."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from laiban.model.intent import Context
from laiban.model.today import ClockEvent, Today
from laiban.sources.holidays import special_days_between
from laiban.store.calendar import activities_on, calendar_events_between, closed_days_between
from laiban.store.children import pickup_children
from laiban.store.menus import menu_between
from laiban.store.pronunciations import pronunciations_for
from laiban.store.tables import Child, Preschool, ScheduleEvent
from laiban.store.translations import glossary_of
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
    return replace(PreschoolDay.build(session, preschool, now).for_group(group_id), asking_child=asking_child)


@dataclass(frozen=True)
class _ScheduleRow:
    at: dt.time
    kind: str
    title: str
    weekday: int | None
    group_id: int | None


def _events(rows: tuple[_ScheduleRow, ...], group_id: int | None) -> tuple[ClockEvent, ...]:
    # A group's own schedule replaces the preschool's; within either, a weekday's own replaces every day's.
    chosen = [row for row in rows if group_id is not None and row.group_id == group_id] or [
        row for row in rows if row.group_id is None
    ]
    chosen = [row for row in chosen if row.weekday is not None] or chosen
    return tuple(sorted({ClockEvent(r.at, r.kind, r.title) for r in chosen}, key=lambda e: (e.at, e.kind)))


@dataclass
class PreschoolDay:
    """What the preschool knows about a day, read once for all its groups: `Today` of the whole
    preschool, plus every group's schedule rows, from which each group's `Today` is derived."""

    today: Today  # the preschool's own schedule and all its children
    schedule: tuple[_ScheduleRow, ...]
    _groups: dict[int, Today] = field(default_factory=dict)

    @classmethod
    def build(cls, session: Session, preschool: Preschool, now: dt.datetime) -> PreschoolDay:
        schedule = tuple(
            _ScheduleRow(*row)
            for row in session.execute(
                select(
                    ScheduleEvent.at,
                    ScheduleEvent.kind,
                    ScheduleEvent.title,
                    ScheduleEvent.weekday,
                    ScheduleEvent.group_id,
                ).where(
                    ScheduleEvent.preschool_id == preschool.id,
                    or_(ScheduleEvent.weekday.is_(None), ScheduleEvent.weekday == now.weekday()),
                )
            )
        )
        weather = "weather" in preschool.modules
        lunch = "lunch" in preschool.modules
        menu = (
            menu_between(session, preschool.id, now.date() - MENU_DAYS_BACK, now.date() + MENU_DAYS_AHEAD)
            if lunch
            else {}
        )
        today = Today(
            now=now,
            preschool_name=preschool.name,
            modules=tuple(preschool.modules),
            languages=tuple(preschool.languages),
            day_starts_at=preschool.day_starts_at,
            day_ends_at=preschool.day_ends_at,
            events=_events(schedule, None),
            special_days=special_days_between(
                now.date() - dt.timedelta(days=1), now.date() + dt.timedelta(days=400)
            ),
            forecast=load_forecast(session, preschool.latitude, preschool.longitude) if weather else None,
            garment_corrections=active_corrections(session, preschool.id, now) if weather else {},
            menu={key: tuple((d.text, d.simple_override) for d in dishes) for key, dishes in menu.items()},
            preschool_events={
                day: tuple(events)
                for day, events in calendar_events_between(
                    session,
                    preschool.id,
                    now.date() - dt.timedelta(days=1),
                    now.date() + dt.timedelta(days=400),
                ).items()
            },
            closed_days=closed_days_between(
                session, preschool.id, now.date() - MENU_DAYS_BACK, now.date() + dt.timedelta(days=400)
            ),
            activities=tuple(activities_on(session, preschool.id, now.date()))
            if "activities" in preschool.modules
            else (),
            show_child_names=preschool.show_child_names,
            children=pickup_children(session, preschool, None, now) if "pickup" in preschool.modules else (),
            translations=glossary_of(session, preschool.id) if len(preschool.languages) > 1 else {},
        )
        return cls(today, schedule)

    def for_group(self, group_id: int | None) -> Today:
        """The kiosk group's Today: its own schedule when it has one, and only its children."""
        if group_id is None:
            return self.today
        found = self._groups.get(group_id)
        if found is None:  # two threads may both derive it; the results are equal
            found = self._groups[group_id] = replace(
                self.today,
                events=_events(self.schedule, group_id),
                children=tuple(child for child in self.today.children if child.group_id == group_id),
            )
        return found


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
    """Each preschool's `PreschoolDay` and understanding `Context`, built at most every `ttl` seconds (and
    again when the preschool's date changes), shared by all its kiosks; each question gets its own `now`.
    Staff's changes reach the kiosks within `ttl`. Thread-safe: while one request rebuilds an expired
    entry, the others go on with the previous one instead of all building it at once."""

    def __init__(self, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[int, tuple[float, dt.date, PreschoolDay, Context]] = {}
        self._building: set[int] = set()
        self._tables: dict[tuple[int, str], tuple[float, tuple[tuple[str, str], ...]]] = {}

    def get(
        self, session: Session, preschool: Preschool, now: dt.datetime, group_id: int | None = None
    ) -> tuple[Today, Context]:
        key = preschool.id
        at = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            usable = entry is not None and entry[1] == now.date()
            if entry is None or not usable or (at - entry[0] >= self.ttl and key not in self._building):
                self._building.add(key)
                entry = None
        if entry is not None:  # fresh, or another request is rebuilding it
            return replace(entry[2].for_group(group_id), now=now), entry[3]
        try:
            day, context = PreschoolDay.build(session, preschool, now), context_for(session, preschool)
        finally:
            with self._lock:
                self._building.discard(key)
        with self._lock:
            self._entries[key] = (at, now.date(), day, context)
        return day.for_group(group_id), context

    def pronunciations(self, session: Session, preschool_id: int, lang: str) -> tuple[tuple[str, str], ...]:
        """The preschool's pronunciation table for `lang` (what the voice says instead of a written word),
        read at most every `ttl` seconds like Today: every spoken answer needs it."""
        key = (preschool_id, lang)
        at = self._clock()
        with self._lock:
            entry = self._tables.get(key)
        if entry is not None and at - entry[0] < self.ttl:
            return entry[1]
        table = pronunciations_for(session, preschool_id, lang)
        with self._lock:
            self._tables[key] = (at, table)
        return table

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._tables.clear()
