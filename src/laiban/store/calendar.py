"""The preschool's own calendar in the store: its events (a Lucia party, yearly or once), the days it is
closed (planning days) and the activities of a day (told in staff's own sentences, with who takes part).

Adding checks everything first and stores nothing when anything is wrong: `CalendarError` then holds one
Swedish sentence per problem, for staff.
"""

from __future__ import annotations

import calendar as gregorian
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from laiban.model.today import ActivityInfo
from laiban.store.tables import Activity, CalendarEvent, Child, ClosedDay, Preschool
from laiban.store.uploads import is_upload_key

MAX_TITLE_LENGTH = 100  # CalendarEvent.title, Activity.title, ClosedDay.reason
MAX_TEXT_LENGTH = 200  # Activity.future_text, Activity.past_text
_CLOCK = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")  # 08:30, 8:30, 8.30

# The pictures staff can choose (the key the kiosk shows → what staff read). Activities may also have an
# uploaded picture (`upload/<sha256>`, see laiban.store.uploads).
EVENT_PICTURES: dict[str, str] = {
    "": "Ingen bild",
    "calendar/party": "Fest",
    "calendar/birthday": "Födelsedag",
    "calendar/lucia": "Lucia",
    "calendar/parents": "Föräldrar på besök",
    "calendar/photo": "Fotografering",
    "calendar/trip": "Utflykt",
}
ACTIVITY_PICTURES: dict[str, str] = {
    "": "Ingen bild",
    "activity/forest": "Skogen",
    "activity/playground": "Lekplatsen",
    "activity/art": "Måla och skapa",
    "activity/music": "Musik och sång",
    "activity/reading": "Läsa böcker",
    "activity/gym": "Gympa och rörelse",
    "activity/cooking": "Baka och laga mat",
    "activity/trip": "Utflykt",
}


class CalendarError(ValueError):
    """Calendar input that cannot be saved; `errors` holds one Swedish sentence per problem."""

    def __init__(self, errors: list[str]):
        super().__init__(" ".join(errors))
        self.errors = errors


# --- checking what staff typed ---------------------------------------------------------------------


def _day(value: str | dt.date | None, errors: list[str]) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    raw = (value or "").strip()
    if not raw:
        errors.append("Ange ett datum.")
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors.append(f"”{raw[:20]}” är inget datum som 2026-12-13.")
        return None


def _clock(value: str | dt.time | None, label: str, errors: list[str]) -> dt.time | None:
    """An optional time of day: empty is None."""
    if value is None or isinstance(value, dt.time):
        return value
    raw = value.strip()
    if not raw:
        return None
    match = _CLOCK.match(raw)
    if match is None:
        errors.append(f"{label}: ange en tid som 09:30.")
        return None
    return dt.time(int(match[1]), int(match[2]))


def _text(value: str | None, label: str, limit: int, errors: list[str], *, required: bool) -> str:
    text = " ".join((value or "").split())
    if required and not text:
        errors.append(f"Ange {label} (högst {limit} tecken).")
    elif len(text) > limit:
        errors.append(f"{label[:1].upper()}{label[1:]} får vara högst {limit} tecken lång.")
    return text


def _sentence(text: str) -> str:
    """Staff's text as a whole sentence: it ends with a full stop unless it already ends a sentence."""
    return text if not text or text[-1] in ".!?…" else f"{text}."


def _picture(value: str | None, choices: dict[str, str], errors: list[str], *, uploads: bool = False) -> str:
    """A key from `choices` or, when `uploads`, the key of an uploaded picture (`upload/<sha256>`)."""
    picture = (value or "").strip()
    if picture not in choices and not (uploads and is_upload_key(picture)):
        errors.append("Välj en bild i listan.")
        return ""
    return picture


# --- events --------------------------------------------------------------------------------------


def add_event(
    session: Session,
    preschool_id: int,
    *,
    day: str | dt.date | None,
    title: str,
    at: str | dt.time | None = None,
    picture: str = "",
    yearly: bool = False,
) -> CalendarEvent:
    errors: list[str] = []
    checked_day = _day(day, errors)
    checked_title = _text(title, "en rubrik", MAX_TITLE_LENGTH, errors, required=True)
    checked_at = _clock(at, "Tiden", errors)
    checked_picture = _picture(picture, EVENT_PICTURES, errors)
    if errors or checked_day is None:
        raise CalendarError(errors)
    row = CalendarEvent(
        preschool_id=preschool_id,
        day=checked_day,
        at=checked_at,
        title=checked_title,
        picture=checked_picture,
        yearly=yearly,
    )
    session.add(row)
    session.flush()
    return row


def delete_event(session: Session, preschool_id: int, event_id: int) -> bool:
    """False when the preschool has no such event (another preschool's id included)."""
    row = session.get(CalendarEvent, event_id)
    if row is None or row.preschool_id != preschool_id:
        return False
    session.delete(row)
    session.flush()
    return True


def _on_in(day: dt.date, year: int) -> dt.date:
    """A yearly day's date in a year; 29 February is the 28th in other years."""
    if day.month == 2 and day.day == 29 and not gregorian.isleap(year):
        return dt.date(year, 2, 28)
    return day.replace(year=year)


def event_occurrences(
    session: Session, preschool_id: int, first: dt.date, last: dt.date
) -> list[tuple[dt.date, CalendarEvent]]:
    """Every (date, event) in first..last inclusive, yearly events on each of their days from the year they
    were entered; ordered by date, then untimed before timed, then time and title."""
    rows = session.scalars(
        select(CalendarEvent).where(
            CalendarEvent.preschool_id == preschool_id,
            or_(CalendarEvent.yearly, (CalendarEvent.day >= first) & (CalendarEvent.day <= last)),
            CalendarEvent.day <= last,
        )
    ).all()
    found: list[tuple[dt.date, CalendarEvent]] = []
    for row in rows:
        if not row.yearly:
            found.append((row.day, row))
            continue
        for year in range(max(first.year, row.day.year), last.year + 1):
            day = _on_in(row.day, year)
            if first <= day <= last and day >= row.day:
                found.append((day, row))
    found.sort(key=lambda pair: (pair[0], pair[1].at is not None, pair[1].at or dt.time(), pair[1].title))
    return found


def calendar_events_between(
    session: Session, preschool_id: int, first: dt.date, last: dt.date
) -> dict[dt.date, list[tuple[dt.time | None, str]]]:
    """date → [(time or None, title)] for first..last inclusive, yearly events expanded."""
    found: dict[dt.date, list[tuple[dt.time | None, str]]] = defaultdict(list)
    for day, row in event_occurrences(session, preschool_id, first, last):
        found[day].append((row.at, row.title))
    return dict(found)


# --- closed days ---------------------------------------------------------------------------------


def add_closed_day(
    session: Session, preschool_id: int, *, day: str | dt.date | None, reason: str
) -> ClosedDay:
    errors: list[str] = []
    checked_day = _day(day, errors)
    checked_reason = _text(reason, "varför förskolan är stängd", MAX_TITLE_LENGTH, errors, required=True)
    if checked_day is not None:
        taken = session.scalar(
            select(ClosedDay.id).where(ClosedDay.preschool_id == preschool_id, ClosedDay.day == checked_day)
        )
        if taken is not None:
            errors.append(f"Förskolan är redan stängd {checked_day.isoformat()}.")
    if errors or checked_day is None:
        raise CalendarError(errors)
    row = ClosedDay(preschool_id=preschool_id, day=checked_day, reason=checked_reason)
    session.add(row)
    session.flush()
    return row


def delete_closed_day(session: Session, preschool_id: int, closed_day_id: int) -> bool:
    row = session.get(ClosedDay, closed_day_id)
    if row is None or row.preschool_id != preschool_id:
        return False
    session.delete(row)
    session.flush()
    return True


def closed_day_rows(session: Session, preschool_id: int, first: dt.date, last: dt.date) -> list[ClosedDay]:
    return list(
        session.scalars(
            select(ClosedDay)
            .where(ClosedDay.preschool_id == preschool_id, ClosedDay.day >= first, ClosedDay.day <= last)
            .order_by(ClosedDay.day)
        )
    )


def closed_days_between(
    session: Session, preschool_id: int, first: dt.date, last: dt.date
) -> dict[dt.date, str]:
    """date → why the preschool is closed, for first..last inclusive."""
    return {row.day: row.reason for row in closed_day_rows(session, preschool_id, first, last)}


# --- activities ----------------------------------------------------------------------------------


def _participants(
    session: Session, preschool_id: int, raw: Iterable[int | str], errors: list[str]
) -> list[int]:
    """Child ids, each an active child of this preschool; any other id is refused (without telling whose
    it is)."""
    ids: list[int] = []
    for value in raw:
        try:
            ids.append(int(str(value).strip()))
        except ValueError:
            errors.append("Välj barnen i listan.")
            return []
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    known = set(
        session.scalars(
            select(Child.id).where(Child.id.in_(ids), Child.preschool_id == preschool_id, Child.active)
        )
    )
    if len(known) != len(ids):
        errors.append("Ett av de valda barnen finns inte (längre) på förskolan.")
        return []
    return ids


def add_activity(
    session: Session,
    preschool_id: int,
    *,
    day: str | dt.date | None,
    title: str,
    future_text: str = "",
    past_text: str = "",
    starts_at: str | dt.time | None = None,
    ends_at: str | dt.time | None = None,
    picture: str = "",
    participants: Sequence[int | str] = (),
) -> Activity:
    """An activity; what Laiban says before and after it defaults to the title."""
    errors: list[str] = []
    checked_day = _day(day, errors)
    checked_title = _text(title, "en rubrik", MAX_TITLE_LENGTH, errors, required=True)
    future = _text(future_text, "texten före", MAX_TEXT_LENGTH, errors, required=False)
    past = _text(past_text, "texten efter", MAX_TEXT_LENGTH, errors, required=False)
    starts = _clock(starts_at, "Starttiden", errors)
    ends = _clock(ends_at, "Sluttiden", errors)
    if starts is not None and ends is not None and starts >= ends:
        errors.append("Aktiviteten måste sluta efter att den börjar.")
    checked_picture = _picture(picture, ACTIVITY_PICTURES, errors, uploads=True)
    children = _participants(session, preschool_id, participants, errors)
    if errors or checked_day is None:
        raise CalendarError(errors)
    row = Activity(
        preschool_id=preschool_id,
        day=checked_day,
        starts_at=starts,
        ends_at=ends,
        title=checked_title,
        future_text=_sentence(future or checked_title),
        past_text=_sentence(past or checked_title),
        picture=checked_picture,
        participants=children,
    )
    session.add(row)
    session.flush()
    return row


def delete_activity(session: Session, preschool_id: int, activity_id: int) -> bool:
    row = session.get(Activity, activity_id)
    if row is None or row.preschool_id != preschool_id:
        return False
    session.delete(row)
    session.flush()
    return True


def _in_time_order(rows: Iterable[Activity]) -> list[Activity]:
    """By day, then start (untimed last), then end, then when they were entered."""
    return sorted(
        rows,
        key=lambda row: (
            row.day,
            row.starts_at is None,
            row.starts_at or dt.time(),
            row.ends_at or dt.time(),
            row.id,
        ),
    )


def activity_rows(session: Session, preschool_id: int, first: dt.date, last: dt.date) -> list[Activity]:
    rows = session.scalars(
        select(Activity).where(
            Activity.preschool_id == preschool_id, Activity.day >= first, Activity.day <= last
        )
    )
    return _in_time_order(rows)


def participant_names(session: Session, preschool_id: int, rows: Iterable[Activity]) -> dict[int, str]:
    """child id → first name, for the active children of this preschool that the activities name."""
    ids = {child_id for row in rows for child_id in row.participants}
    if not ids:
        return {}
    found = session.execute(
        select(Child.id, Child.first_name).where(
            Child.id.in_(ids), Child.preschool_id == preschool_id, Child.active
        )
    ).all()
    return {child_id: name for child_id, name in found}


def activities_on(session: Session, preschool_id: int, day: dt.date) -> list[ActivityInfo]:
    """The day's activities in time order, with the first names of the (still active) participants."""
    rows = activity_rows(session, preschool_id, day, day)
    names = participant_names(session, preschool_id, rows)
    return [
        ActivityInfo(
            title=row.title,
            future_text=row.future_text,
            past_text=row.past_text,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            picture=row.picture,
            participants=tuple(names[i] for i in row.participants if i in names),
        )
        for row in rows
    ]


def active_children(session: Session, preschool_id: int) -> list[tuple[int, str]]:
    """(id, first name) of the preschool's active children, by name: who can take part."""
    rows = session.execute(
        select(Child.id, Child.first_name)
        .where(Child.preschool_id == preschool_id, Child.active)
        .order_by(Child.first_name, Child.id)
    ).all()
    return [(child_id, name) for child_id, name in rows]


def set_show_child_names(session: Session, preschool: Preschool, show: bool) -> None:
    preschool.show_child_names = show
    session.flush()
