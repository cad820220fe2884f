"""Children, their weekly schedules, each day's presence and pickup, and guardians' links.

Everything here is personal data of children: every function is scoped by preschool, and nothing here
logs or raises a child's name. Errors are `ChildError` with one Swedish sentence for staff or guardians.

A child's day = the weekly schedule of that weekday, replaced where the day's own entry (`Presence`) says
otherwise, on days the preschool is open. Each change of a day is kept as a `PresenceChange` (who, what,
when) until the retention job deletes the day.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from laiban.model.pickup import ChildDay, PickupChild
from laiban.sources.holidays import special_days_between
from laiban.store.accounts import token_hash
from laiban.store.calendar import closed_days_between
from laiban.store.tables import (
    Activity,
    AuditEntry,
    Child,
    ChildWeekday,
    Group,
    GuardianLink,
    Preschool,
    Presence,
    PresenceChange,
    Pronunciation,
    utcnow,
)
from laiban.store.uploads import is_upload_key

# The pictures a child can choose (the kiosk draws them), with their Swedish names for staff; a photo is
# "upload/<sha256>", when the preschool allows photos.
AVATAR_LABELS = {
    "cat": "Katt",
    "dog": "Hund",
    "rabbit": "Kanin",
    "lion": "Lejon",
    "owl": "Uggla",
    "bear": "Björn",
    "hedgehog": "Igelkott",
    "fox": "Räv",
    "butterfly": "Fjäril",
    "frog": "Groda",
    "elephant": "Elefant",
    "giraffe": "Giraff",
    "horse": "Häst",
    "penguin": "Pingvin",
    "turtle": "Sköldpadda",
    "squirrel": "Ekorre",
    "duck": "Anka",
    "ladybug": "Nyckelpiga",
}
AVATARS = tuple(AVATAR_LABELS)
PHOTO_LABEL = "Eget foto"
# Public holidays (and the eves Swedish preschools close on): no child is expected.
CLOSED_HOLIDAYS = frozenset(
    {
        "new_year",
        "epiphany",
        "good_friday",
        "easter_monday",
        "may_day",
        "ascension",
        "national_day",
        "midsummer",
        "christmas_eve",
        "christmas",
        "boxing_day",
        "new_years_eve",
    }
)
OPEN_WEEKDAYS = range(5)  # Monday … Friday
MAX_NAME = 40
MAX_PICKUP_BY = 60
GUARDIAN_LINK_DAYS = (30, 90, 180, 365)  # how long a new link may be valid
NEXT_DAY_WITHIN = 14  # how far ahead "comes again on …" looks


class ChildError(ValueError):
    """Bad input about a child or a day; the message is one Swedish sentence (never a child's name)."""


# --- children ------------------------------------------------------------------------------------


def children_of(
    session: Session, preschool_id: int, group_id: int | None = None, *, active_only: bool = True
) -> list[Child]:
    """The preschool's children (one group's, if given), by first name."""
    query = select(Child).where(Child.preschool_id == preschool_id)
    if group_id is not None:
        query = query.where(Child.group_id == group_id)
    if active_only:
        query = query.where(Child.active)
    return list(session.scalars(query.order_by(Child.first_name, Child.id)))


def child_of(session: Session, preschool_id: int, child_id: int) -> Child | None:
    """The child if it belongs to this preschool; None otherwise (callers answer 404)."""
    child = session.get(Child, child_id)
    return child if child is not None and child.preschool_id == preschool_id else None


def check_child(
    preschool: Preschool, first_name: str, group_id: int | None, avatar: str
) -> tuple[str, int | None, str]:
    """The cleaned first name, group and avatar; raises ChildError."""
    name = " ".join(first_name.split())
    if not name:
        raise ChildError("Skriv barnets förnamn.")
    if len(name) > MAX_NAME:
        raise ChildError(f"Förnamnet får vara högst {MAX_NAME} tecken.")
    if any(not (ch.isalpha() or ch in " -'.") for ch in name):
        raise ChildError("Förnamnet får bara innehålla bokstäver, mellanslag, bindestreck och apostrof.")
    if group_id is not None and group_id not in {group.id for group in preschool.groups}:
        raise ChildError("Välj en avdelning i listan.")
    if avatar and avatar not in AVATARS:
        if not is_upload_key(avatar):
            raise ChildError("Välj en bild i listan.")
        if not preschool.child_photos:
            raise ChildError("Förskolan använder inte foton av barnen; välj en bild i listan.")
    return name, group_id, avatar or AVATARS[0]


def add_child(
    session: Session, preschool: Preschool, first_name: str, group_id: int | None, avatar: str = ""
) -> Child:
    name, group, picture = check_child(preschool, first_name, group_id, avatar)
    child = Child(preschool_id=preschool.id, group_id=group, first_name=name, avatar=picture)
    session.add(child)
    session.flush()
    return child


def update_child(
    session: Session,
    preschool: Preschool,
    child: Child,
    first_name: str,
    group_id: int | None,
    avatar: str,
    active: bool,
) -> None:
    child.first_name, child.group_id, child.avatar = check_child(preschool, first_name, group_id, avatar)
    child.active = active
    session.flush()


def shown_avatar(preschool: Preschool, child: Child) -> str:
    """The picture the kiosk shows: a photo only while the preschool allows photos."""
    if is_upload_key(child.avatar) and not preschool.child_photos:
        return AVATARS[child.id % len(AVATARS)]
    return child.avatar or AVATARS[0]


def delete_child(session: Session, child: Child) -> None:
    """Erases the child and everything about them (the right to erasure): schedule, days, changes,
    guardian links, their place in activities' participants, the pronunciation of their name (unless
    another child of the preschool has the same name), and their id in the audit log (the entries stay:
    who read or changed a child's data and when, no longer saying which child)."""
    for table in (ChildWeekday, Presence, PresenceChange, GuardianLink):
        session.execute(delete(table).where(table.child_id == child.id))
    for activity in _activities_of(session, child):
        activity.participants = [other for other in activity.participants if other != child.id]
    for entry in _pronunciations_of(session, child, unless_shared=True):
        session.delete(entry)
    session.execute(update(AuditEntry).where(AuditEntry.child_id == child.id).values(child_id=None))
    session.delete(child)
    session.flush()


def _activities_of(session: Session, child: Child) -> list[Activity]:
    """The preschool's activities the child takes or took part in (a JSON list: filtered here)."""
    query = select(Activity).where(Activity.preschool_id == child.preschool_id)
    rows = session.scalars(query.order_by(Activity.day, Activity.id))
    return [row for row in rows if child.id in (row.participants or [])]


def _names_word(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)


def _pronunciations_of(session: Session, child: Child, *, unless_shared: bool) -> list[Pronunciation]:
    """The preschool's pronunciation entries whose written form holds the child's first name as a word;
    `unless_shared`: none when another child of the preschool has the same first name (theirs too)."""
    if not child.first_name.strip():
        return []
    shared = unless_shared and session.scalar(
        select(Child.id)
        .where(
            Child.preschool_id == child.preschool_id,
            Child.id != child.id,
            Child.first_name == child.first_name,
        )
        .limit(1)
    )
    if shared:
        return []
    word = _names_word(child.first_name)
    rows = session.scalars(
        select(Pronunciation)
        .where(Pronunciation.preschool_id == child.preschool_id)
        .order_by(Pronunciation.lang, Pronunciation.id)
    )
    return [row for row in rows if word.search(row.written)]


# --- the right of access: everything Laiban stores about one child --------------------------------

EXPORT_FORMAT = "laiban-child-export/1"
WEEKDAY_NAMES = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")


def _clock_text(at: dt.time | None) -> str | None:
    return f"{at:%H:%M}" if at else None


def _moment(at: dt.datetime | None, zone: ZoneInfo) -> str | None:
    return at.astimezone(zone).isoformat(timespec="seconds") if at else None


def export_child(session: Session, preschool: Preschool, child: Child, now: dt.datetime) -> dict[str, Any]:
    """Everything stored about the child, as plain JSON values (times in the preschool's zone): the child,
    their group, usual week, days and the changes to them, guardians' links (never their token hashes),
    activities they take part in, pronunciations of their name and the audit log's entries about them."""
    zone = ZoneInfo(preschool.timezone)
    group = session.get(Group, child.group_id) if child.group_id is not None else None
    days = session.scalars(select(Presence).where(Presence.child_id == child.id).order_by(Presence.day))
    changes = session.scalars(
        select(PresenceChange)
        .where(PresenceChange.child_id == child.id)
        .order_by(PresenceChange.at, PresenceChange.id)
    )
    audit_rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.child_id == child.id, AuditEntry.organisation_id == preschool.organisation_id)
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _moment(now, zone),
        "preschool": {"name": preschool.name, "slug": preschool.slug, "timezone": preschool.timezone},
        "child": {
            "id": child.id,
            "first_name": child.first_name,
            "group": group.name if group is not None else None,
            "avatar": child.avatar,
            "active": child.active,
        },
        "week": [
            {
                "weekday": weekday,
                "weekday_name": WEEKDAY_NAMES[weekday],
                "arrives_at": _clock_text(plan.arrives_at),
                "leaves_at": _clock_text(plan.leaves_at),
                "pickup_by": plan.pickup_by,
            }
            for weekday, plan in sorted(week_of(session, child.id).items())
        ],
        "days": [
            {
                "day": row.day.isoformat(),
                "absent": row.absent,
                "arrives_at": _clock_text(row.arrives_at),
                "leaves_at": _clock_text(row.leaves_at),
                "pickup_by": row.pickup_by,
                "checked_in_at": _moment(row.checked_in_at, zone),
                "checked_out_at": _moment(row.checked_out_at, zone),
            }
            for row in days
        ],
        "day_changes": [
            {"day": row.day.isoformat(), "at": _moment(row.at, zone), "by": row.by, "what": row.what}
            for row in changes
        ],
        "guardian_links": [
            {
                "label": link.label,
                "created_at": _moment(link.created_at, zone),
                "expires_at": _moment(link.expires_at, zone),
                "revoked_at": _moment(link.revoked_at, zone),
                "last_used_at": _moment(link.last_used_at, zone),
            }
            for link in reversed(guardian_links_of(session, child))
        ],
        "activities": [
            {
                "day": row.day.isoformat(),
                "starts_at": _clock_text(row.starts_at),
                "ends_at": _clock_text(row.ends_at),
                "title": row.title,
            }
            for row in _activities_of(session, child)
        ],
        "pronunciations": [
            {"lang": row.lang, "written": row.written, "spoken": row.spoken}
            for row in _pronunciations_of(session, child, unless_shared=False)
        ],
        "audit_log": [
            {"at": _moment(row.at, zone), "actor": row.actor, "action": row.action, "subject": row.subject}
            for row in audit_rows
        ],
    }


# --- times and the weekly schedule ---------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """When a child comes and goes home, and who picks them up ("" = not told)."""

    arrives_at: dt.time | None = None
    leaves_at: dt.time | None = None
    pickup_by: str = ""


def parse_clock(raw: str) -> dt.time | None:
    """ "15:30", "1530", "15.30" or "" (None); raises ChildError."""
    text = raw.strip().replace(".", ":")
    if not text:
        return None
    if text.isdigit() and len(text) in (3, 4):
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        return dt.time(hours, minutes)
    except ValueError:
        raise ChildError(f"”{raw.strip()[:10]}” är inget klockslag; skriv till exempel 15:30.") from None


def clean_pickup_by(raw: str) -> str:
    text = " ".join(raw.split())
    if len(text) > MAX_PICKUP_BY:
        raise ChildError(f"Vem som hämtar får vara högst {MAX_PICKUP_BY} tecken.")
    if any(not ch.isprintable() or ch in "<>{}" for ch in text):
        raise ChildError("Vem som hämtar får inte innehålla tecknen < > { }.")
    return text


def check_plan(preschool: Preschool, plan: Plan) -> Plan:
    """The plan if its times are within opening hours and in order; raises ChildError."""
    opens, closes = preschool.day_starts_at, preschool.day_ends_at
    for at in (plan.arrives_at, plan.leaves_at):
        if at is not None and not opens <= at <= closes:
            raise ChildError(f"Förskolan är öppen {opens:%H:%M}–{closes:%H:%M}; välj en tid då.")
    if plan.arrives_at and plan.leaves_at and plan.leaves_at <= plan.arrives_at:
        raise ChildError("Hämtningen måste vara senare än lämningen.")
    return Plan(plan.arrives_at, plan.leaves_at, clean_pickup_by(plan.pickup_by))


def weeks_of(session: Session, child_ids: Iterable[int]) -> dict[int, dict[int, Plan]]:
    """child id → weekday (0 = Monday) → the child's usual plan; a missing weekday is a day they do not
    come (every id given is in the result, with an empty week when it has no schedule)."""
    weeks: dict[int, dict[int, Plan]] = {child_id: {} for child_id in child_ids}
    if weeks:
        rows = session.execute(
            select(
                ChildWeekday.child_id,
                ChildWeekday.weekday,
                ChildWeekday.arrives_at,
                ChildWeekday.leaves_at,
                ChildWeekday.pickup_by,
            ).where(ChildWeekday.child_id.in_(list(weeks)))
        )
        for child_id, weekday, arrives_at, leaves_at, pickup_by in rows:
            weeks[child_id][weekday] = Plan(arrives_at, leaves_at, pickup_by)
    return weeks


def week_of(session: Session, child_id: int) -> dict[int, Plan]:
    return weeks_of(session, [child_id])[child_id]


def set_week(session: Session, preschool: Preschool, child: Child, week: dict[int, Plan]) -> None:
    """Replaces the child's weekly schedule (checked first: nothing changes on a ChildError)."""
    checked = {}
    for weekday, plan in week.items():
        if weekday not in range(7):
            raise ChildError("Okänd veckodag.")
        checked[weekday] = check_plan(preschool, plan)
    session.execute(delete(ChildWeekday).where(ChildWeekday.child_id == child.id))
    session.add_all(
        ChildWeekday(
            preschool_id=preschool.id,
            child_id=child.id,
            weekday=weekday,
            arrives_at=plan.arrives_at,
            leaves_at=plan.leaves_at,
            pickup_by=plan.pickup_by,
        )
        for weekday, plan in sorted(checked.items())
    )
    session.flush()


# --- one day -------------------------------------------------------------------------------------


def _entry(session: Session, child: Child, day: dt.date) -> Presence:
    entry = session.scalar(select(Presence).where(Presence.child_id == child.id, Presence.day == day))
    if entry is None:
        entry = Presence(preschool_id=child.preschool_id, child_id=child.id, day=day, pickup_by="")
        session.add(entry)
    return entry


def _record(session: Session, child: Child, day: dt.date, by: str, what: str, at: dt.datetime) -> None:
    session.add(
        PresenceChange(preschool_id=child.preschool_id, child_id=child.id, day=day, at=at, by=by, what=what)
    )


def describe(absent: bool, plan: Plan) -> str:
    """A change in staff's words: "Kommer inte", "Lämnas 08:00, hämtas 15:30 av mormor"."""
    if absent:
        return "Kommer inte"
    parts = []
    if plan.arrives_at:
        parts.append(f"lämnas {plan.arrives_at:%H:%M}")
    pickup = " ".join(
        part
        for part in (
            f"{plan.leaves_at:%H:%M}" if plan.leaves_at else "",
            f"av {plan.pickup_by}" if plan.pickup_by else "",
        )
        if part
    )
    if pickup:
        parts.append(f"hämtas {pickup}")
    text = ", ".join(parts) or "som vanligt"
    return text[:1].upper() + text[1:]


def set_day(
    session: Session,
    preschool: Preschool,
    child: Child,
    day: dt.date,
    *,
    absent: bool,
    plan: Plan,
    by: str,
    at: dt.datetime | None = None,
) -> None:
    """The day's own entry (staff): absent, or these times and pickup instead of the weekly schedule's."""
    plan = check_plan(preschool, plan)
    entry = _entry(session, child, day)
    entry.absent = absent
    entry.arrives_at, entry.leaves_at, entry.pickup_by = plan.arrives_at, plan.leaves_at, plan.pickup_by
    _record(session, child, day, by, describe(absent, plan), at or utcnow())
    session.flush()


def set_pickup(
    session: Session,
    preschool: Preschool,
    child: Child,
    day: dt.date,
    leaves_at: dt.time | None,
    pickup_by: str,
    *,
    by: str,
    at: dt.datetime | None = None,
) -> None:
    """Who picks up and when, for one day (a guardian's change): arrival and absence stay as they are."""
    entry = _entry(session, child, day)
    plan = check_plan(preschool, Plan(entry.arrives_at, leaves_at, pickup_by))
    entry.leaves_at, entry.pickup_by = plan.leaves_at, plan.pickup_by
    _record(
        session, child, day, by, describe(False, Plan(None, plan.leaves_at, plan.pickup_by)), at or utcnow()
    )
    session.flush()


def clear_day(
    session: Session, child: Child, day: dt.date, *, by: str, at: dt.datetime | None = None
) -> None:
    """Back to the weekly schedule for that day (what staff marked, arrived or gone home, stays)."""
    entry = session.scalar(select(Presence).where(Presence.child_id == child.id, Presence.day == day))
    if entry is None:
        return
    entry.absent, entry.arrives_at, entry.leaves_at, entry.pickup_by = False, None, None, ""
    _record(session, child, day, by, "Som vanligt", at or utcnow())
    session.flush()


def mark(
    session: Session, child: Child, day: dt.date, what: str, *, by: str, at: dt.datetime | None = None
) -> None:
    """Staff mark the child as arrived ("in"), gone home ("out"), or undo either ("undo")."""
    at = at or utcnow()
    entry = _entry(session, child, day)
    if what == "in":
        entry.checked_in_at, text = at, "Har kommit"
    elif what == "out":
        entry.checked_out_at, text = at, "Har gått hem"
        entry.checked_in_at = entry.checked_in_at or at
    elif what == "undo":
        entry.checked_in_at = entry.checked_out_at = None
        text = "Markering ångrad"
    else:
        raise ChildError("Okänd markering.")
    _record(session, child, day, by, text, at)
    session.flush()


def entries_on(session: Session, preschool_id: int, day: dt.date) -> dict[int, Presence]:
    """child id → the day's own entry (staff's or a guardian's changes, staff's marks) at the preschool."""
    rows = session.scalars(select(Presence).where(Presence.preschool_id == preschool_id, Presence.day == day))
    return {row.child_id: row for row in rows}


def usual_plans(session: Session, child_ids: Iterable[int], weekday: int) -> dict[int, Plan]:
    """child id → the weekly schedule's plan for that weekday (0 = Monday); a child who does not usually
    come that weekday is missing."""
    weeks = weeks_of(session, child_ids)
    return {child_id: week[weekday] for child_id, week in weeks.items() if weekday in week}


def changes_on(session: Session, preschool_id: int, day: dt.date) -> list[PresenceChange]:
    """The day's changes at the preschool, newest first."""
    return list(
        session.scalars(
            select(PresenceChange)
            .where(PresenceChange.preschool_id == preschool_id, PresenceChange.day == day)
            .order_by(PresenceChange.at.desc(), PresenceChange.id.desc())
        )
    )


# --- what Laiban knows about a child's days ------------------------------------------------------


def closed_days(session: Session, preschool_id: int, first: dt.date, last: dt.date) -> set[dt.date]:
    """Days in first..last when no child is expected: weekends, public holidays, the preschool's own."""
    closed = {
        day for day, keys in special_days_between(first, last).items() if CLOSED_HOLIDAYS.intersection(keys)
    }
    closed |= set(closed_days_between(session, preschool_id, first, last))
    return closed | {
        first + dt.timedelta(days=i)
        for i in range((last - first).days + 1)
        if (first + dt.timedelta(days=i)).weekday() not in OPEN_WEEKDAYS
    }


def _local_time(at: dt.datetime | None, zone: dt.tzinfo) -> dt.time | None:
    return at.astimezone(zone).time().replace(second=0, microsecond=0) if at else None


def _coming(closed: bool, usual: Plan | None, entry: Presence | None, has_week: bool) -> bool | None:
    """Whether the child is expected that day; None when nobody told Laiban (no schedule, no entry)."""
    if entry is not None and entry.checked_in_at:
        return True  # staff saw the child arrive, whatever the plan said
    if closed or (entry is not None and entry.absent):
        return False
    if (entry is not None and (entry.arrives_at or entry.leaves_at or entry.pickup_by)) or usual:
        return True
    return False if has_week else None


def child_days(
    session: Session,
    preschool: Preschool,
    children: Iterable[Child],
    days: Iterable[dt.date],
    zone: dt.tzinfo,
) -> dict[int, dict[dt.date, ChildDay]]:
    """child id → day → what Laiban knows of that child that day (three reads for the whole group)."""
    ids = [child.id for child in children]
    days = sorted(set(days))
    if not ids or not days:
        return {}
    closed = closed_days(session, preschool.id, days[0], days[-1])
    return _days(session, weeks_of(session, ids), days, closed, zone)


def _days(
    session: Session,
    weeks: dict[int, dict[int, Plan]],
    days: list[dt.date],
    closed: set[dt.date],
    zone: dt.tzinfo,
) -> dict[int, dict[dt.date, ChildDay]]:
    entries = {
        (row.child_id, row.day): row
        for row in session.scalars(
            select(Presence).where(Presence.child_id.in_(list(weeks)), Presence.day.in_(days))
        )
    }
    result: dict[int, dict[dt.date, ChildDay]] = {}
    for child_id, week in weeks.items():
        result[child_id] = {}
        for day in days:
            usual = week.get(day.weekday())
            entry = entries.get((child_id, day))
            plan = usual or Plan()
            result[child_id][day] = ChildDay(
                day=day,
                coming=_coming(day in closed, usual, entry, bool(week)),
                arrives_at=(entry.arrives_at if entry and entry.arrives_at else None) or plan.arrives_at,
                leaves_at=(entry.leaves_at if entry and entry.leaves_at else None) or plan.leaves_at,
                pickup_by=(entry.pickup_by if entry and entry.pickup_by else "") or plan.pickup_by,
                usual_leaves_at=plan.leaves_at,
                checked_in_at=_local_time(entry.checked_in_at, zone) if entry else None,
                checked_out_at=_local_time(entry.checked_out_at, zone) if entry else None,
            )
    return result


def next_day_of(week: dict[int, Plan], after: dt.date, closed: set[dt.date]) -> dt.date | None:
    """The next day after `after` the weekly schedule brings the child, within two weeks."""
    for i in range(1, NEXT_DAY_WITHIN + 1):
        day = after + dt.timedelta(days=i)
        if day.weekday() in week and day not in closed:
            return day
    return None


def pickup_children(
    session: Session, preschool: Preschool, group_id: int | None, now: dt.datetime
) -> tuple[PickupChild, ...]:
    """The children a kiosk may tell about (its group's, or the preschool's), today and tomorrow."""
    children = children_of(session, preschool.id, group_id)
    if not children:
        return ()
    today, tomorrow = now.date(), now.date() + dt.timedelta(days=1)
    closed = closed_days(session, preschool.id, today, today + dt.timedelta(days=NEXT_DAY_WITHIN))
    weeks = weeks_of(session, [child.id for child in children])
    days = _days(session, weeks, [today, tomorrow], closed, now.tzinfo or dt.UTC)
    return tuple(
        PickupChild(
            id=child.id,
            name=child.first_name,
            avatar=shown_avatar(preschool, child),
            today=days[child.id][today],
            tomorrow=days[child.id][tomorrow],
            next_day=next_day_of(weeks[child.id], today, closed),
            group_id=child.group_id,
        )
        for child in children
    )


# --- guardians' links ----------------------------------------------------------------------------


def create_guardian_link(
    session: Session, child: Child, label: str, valid_days: int, created_by: int | None, now: dt.datetime
) -> tuple[GuardianLink, str]:
    """A new link for one guardian of one child; the token is returned once (only its hash is kept)."""
    label = " ".join(label.split())
    if not label:
        raise ChildError("Skriv vem länken är till, till exempel ”Mamma”.")
    if len(label) > 100:
        raise ChildError("Namnet på länken får vara högst 100 tecken.")
    if valid_days not in GUARDIAN_LINK_DAYS:
        raise ChildError("Välj hur länge länken ska gälla.")
    token = secrets.token_urlsafe(32)
    link = GuardianLink(
        preschool_id=child.preschool_id,
        child_id=child.id,
        label=label,
        token_hash=token_hash(token),
        created_by=created_by,
        created_at=now,
        expires_at=now + dt.timedelta(days=valid_days),
    )
    session.add(link)
    session.flush()
    return link, token


def guardian_link_for_token(session: Session, token: str, now: dt.datetime) -> GuardianLink | None:
    """The valid link with this token (not revoked, not expired, its child active), or None."""
    if not token or len(token) > 200:
        return None
    link = session.scalar(select(GuardianLink).where(GuardianLink.token_hash == token_hash(token)))
    if link is None or link.revoked_at is not None or link.expires_at <= now:
        return None
    child = session.get(Child, link.child_id)
    if child is None or not child.active:
        return None
    return link


def guardian_links_of(session: Session, child: Child) -> list[GuardianLink]:
    return list(
        session.scalars(
            select(GuardianLink)
            .where(GuardianLink.child_id == child.id)
            .order_by(GuardianLink.created_at.desc(), GuardianLink.id.desc())
        )
    )


def revoke_guardian_link(link: GuardianLink, now: dt.datetime) -> None:
    link.revoked_at = link.revoked_at or now


# --- retention -----------------------------------------------------------------------------------


def purge_days(session: Session, preschool: Preschool, today: dt.date) -> int:
    """Deletes the presence and pickup details of days older than the preschool keeps them (by default
    every day before `today`, the preschool's local date); the number of day entries deleted."""
    keep_from = today - dt.timedelta(days=preschool.presence_retention_days)
    deleted = session.execute(
        delete(Presence).where(Presence.preschool_id == preschool.id, Presence.day < keep_from)
    ).rowcount
    session.execute(
        delete(PresenceChange).where(
            PresenceChange.preschool_id == preschool.id, PresenceChange.day < keep_from
        )
    )
    return deleted or 0


def retention_in_words(days: int) -> str:
    """The retention as staff and guardians read it."""
    if days == 0:
        return "Uppgifter om närvaro och hämtning raderas automatiskt när dagen är slut."
    if days == 1:
        return "Uppgifter om närvaro och hämtning raderas automatiskt dagen efter."
    return f"Uppgifter om närvaro och hämtning raderas automatiskt {days} dagar efter dagen de gäller."
