"""A preschool's day schedule in the store: the every-day schedule and each weekday's own, as staff type
them. A weekday's own schedule replaces the every-day one when it has any events (see `today_for`).

A group (avdelning) may have its own schedule (group_id); None is the whole preschool's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from laiban.store.tables import Preschool, ScheduleEvent

# The kinds children ask about by name (skills.clock.EVENT_NAMES), and "other", which uses the title.
KINDS = ("breakfast", "gathering", "fruit", "outdoor", "lunch", "rest", "snack", "pickup", "other")
MAX_TITLE_LENGTH = 100  # ScheduleEvent.title
MAX_EVENTS = 30  # per day
_CLOCK = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")  # 08:30, 8:30, 8.30


class ScheduleError(ValueError):
    """Schedule input that cannot be saved; `errors` holds one Swedish sentence per problem."""

    def __init__(self, errors: list[str]):
        super().__init__(" ".join(errors))
        self.errors = errors


def _weekday_checked(weekday: int | None) -> int | None:
    if weekday is not None and not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be None or 0..6, not {weekday!r}")
    return weekday


def _of_group(group_id: int | None) -> ColumnElement[bool]:
    return ScheduleEvent.group_id.is_(None) if group_id is None else ScheduleEvent.group_id == group_id


def _of_weekday(weekday: int | None) -> ColumnElement[bool]:
    return ScheduleEvent.weekday.is_(None) if weekday is None else ScheduleEvent.weekday == weekday


def events_of(
    session: Session, preschool_id: int, group_id: int | None = None
) -> dict[int | None, list[ScheduleEvent]]:
    """weekday (None = every day) → the preschool's own events of that day, in time order. Days without
    events are left out."""
    rows = session.scalars(
        select(ScheduleEvent)
        .where(ScheduleEvent.preschool_id == preschool_id, _of_group(group_id))
        .order_by(ScheduleEvent.at, ScheduleEvent.id)
    )
    found: dict[int | None, list[ScheduleEvent]] = defaultdict(list)
    for row in rows:
        found[row.weekday].append(row)
    return dict(found)


def parse_clock(text: str) -> dt.time | None:
    """ "08:30", "8:30" or "8.30" as a time; None for anything else."""
    match = _CLOCK.match(text.strip())
    return dt.time(int(match[1]), int(match[2])) if match else None


def check_rows(
    rows: Sequence[tuple[str, str, str]], opens: dt.time, closes: dt.time
) -> list[tuple[dt.time, str, str]]:
    """Staff's rows (time text, kind, title) as events, in time order; rows with neither time nor title
    are skipped. Raises ScheduleError with every problem, each naming its row (1 = the first row given)."""
    errors: list[str] = []
    events: list[tuple[dt.time, str, str]] = []
    first_row_at: dict[dt.time, int] = {}
    for number, (time_text, kind, title_text) in enumerate(rows, start=1):
        time_text, title = time_text.strip(), " ".join(title_text.split())
        if not time_text and not title:
            continue
        at = parse_clock(time_text)
        if not time_text:
            errors.append(f"Rad {number}: ange ett klockslag, till exempel 08:30.")
        elif at is None:
            errors.append(f"Rad {number}: ”{time_text[:20]}” är inget klockslag. Skriv till exempel 08:30.")
        if not title:
            errors.append(f"Rad {number}: skriv vad som händer.")
        elif len(title) > MAX_TITLE_LENGTH:
            errors.append(f"Rad {number}: texten får vara högst {MAX_TITLE_LENGTH} tecken lång.")
        if kind not in KINDS:
            errors.append(f"Rad {number}: välj vad det är i listan (till exempel Lunch eller Annat).")
        if at is None:
            continue
        if at in first_row_at:
            errors.append(
                f"Rad {number}: klockan {at:%H:%M} finns redan på rad {first_row_at[at]}. "
                "Två händelser kan inte börja samtidigt."
            )
        else:
            first_row_at[at] = number
        if not opens <= at <= closes:
            errors.append(
                f"Rad {number}: {at:%H:%M} är utanför förskolans öppettider {opens:%H:%M}–{closes:%H:%M}."
            )
        events.append((at, kind, title))
    if len(events) > MAX_EVENTS:
        errors.append(f"Högst {MAX_EVENTS} händelser per dag.")
    if errors:
        raise ScheduleError(errors)
    return sorted(events)


def _opening_hours_locked(session: Session, preschool_id: int) -> tuple[dt.time, dt.time]:
    """The preschool's opening hours, locking its row (on PostgreSQL) so that two staff saving the same
    preschool's schedule at once take turns instead of both adding their events."""
    row = session.execute(
        select(Preschool.day_starts_at, Preschool.day_ends_at)
        .where(Preschool.id == preschool_id)
        .with_for_update()
    ).one_or_none()
    if row is None:
        raise LookupError(f"there is no preschool {preschool_id}")
    return row.day_starts_at, row.day_ends_at


def replace_events(
    session: Session,
    preschool_id: int,
    weekday: int | None,
    rows: Sequence[tuple[str, str, str]],
    group_id: int | None = None,
) -> int:
    """Replaces the preschool's events of one weekday (None = every day) with staff's rows, all or none:
    with any bad row, nothing changes and ScheduleError lists every problem. No rows empties the day
    (a weekday then follows the every-day schedule again). Returns the number of events stored."""
    weekday = _weekday_checked(weekday)
    opens, closes = _opening_hours_locked(session, preschool_id)
    events = check_rows(rows, opens, closes)
    session.execute(
        delete(ScheduleEvent).where(
            ScheduleEvent.preschool_id == preschool_id,
            _of_group(group_id),
            _of_weekday(weekday),
        )
    )
    session.add_all(
        ScheduleEvent(
            preschool_id=preschool_id, group_id=group_id, weekday=weekday, at=at, kind=kind, title=title
        )
        for at, kind, title in events
    )
    session.flush()
    return len(events)


def copy_to_weekday(
    session: Session,
    preschool_id: int,
    from_weekday: int | None,
    to_weekday: int | None,
    group_id: int | None = None,
) -> int:
    """Copies one day's events (None = every day) onto another, replacing what that day had; copying
    an empty day empties the target. Returns the number of events copied."""
    from_weekday, to_weekday = _weekday_checked(from_weekday), _weekday_checked(to_weekday)
    _opening_hours_locked(session, preschool_id)
    if from_weekday == to_weekday:
        return len(events_of(session, preschool_id, group_id).get(from_weekday, []))
    events = events_of(session, preschool_id, group_id).get(from_weekday, [])
    source = [(e.at, e.kind, e.title) for e in events]
    session.execute(
        delete(ScheduleEvent).where(
            ScheduleEvent.preschool_id == preschool_id,
            _of_group(group_id),
            _of_weekday(to_weekday),
        )
    )
    session.add_all(
        ScheduleEvent(
            preschool_id=preschool_id, group_id=group_id, weekday=to_weekday, at=at, kind=kind, title=title
        )
        for at, kind, title in source
    )
    session.flush()
    return len(source)
