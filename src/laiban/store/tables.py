"""The database tables (SQLAlchemy 2 typed ORM). Schema changes go through Alembic migrations.

Tenancy: organisation → preschool → group → child. Every row of personal data carries its
preschool_id so that every query can be scoped by it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names so that migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


DEFAULT_WEEKDAY_COLOURS = ("#43a047", "#1e88e5", "#ffffff", "#8d6e63", "#fdd835", "#e53935", "#f48fb1")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores aware datetimes as UTC and always gives aware UTC datetimes back (SQLite has no zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; Laiban uses aware datetimes only")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class Organisation(Base):
    """A municipality or a preschool company: owns preschools and staff accounts."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    preschools: Mapped[list[Preschool]] = relationship(back_populates="organisation")


class Preschool(Base):
    __tablename__ = "preschools"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Stockholm")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    address: Mapped[str] = mapped_column(String(300), default="")
    modules: Mapped[list[str]] = mapped_column(default=list)
    languages: Mapped[list[str]] = mapped_column(default=lambda: ["sv"])
    day_starts_at: Mapped[dt.time] = mapped_column(Time, default=dt.time(6, 30))
    day_ends_at: Mapped[dt.time] = mapped_column(Time, default=dt.time(17, 30))
    # Monday … Sunday, as the children's week strip shows them (Swedish preschools' usual colours)
    weekday_colours: Mapped[list[str]] = mapped_column(default=lambda: list(DEFAULT_WEEKDAY_COLOURS))
    # Whether Laiban says which children take part in an activity (their first names).
    show_child_names: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Days after which a day's presence and pickup details are deleted (0 = at the end of the same day).
    presence_retention_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Whether a child's avatar may be a photo (off: only the pictures Laiban ships).
    child_photos: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # How Laiban's voice speaks here: words per minute (children need a calm voice), and pitch 0–100
    # (50 = the voice's own). Checked by laiban.store.pronunciations.set_speech.
    speech_rate: Mapped[int] = mapped_column(Integer, default=140, server_default="140")
    speech_pitch: Mapped[int] = mapped_column(Integer, default=50, server_default="50")
    # The local date whose likely answers the morning job last spoke into the audio cache (jobs.prerender).
    audio_prerendered_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="preschools")
    groups: Mapped[list[Group]] = relationship(
        back_populates="preschool", order_by="Group.name", cascade="all, delete-orphan"
    )


class Group(Base):
    """An avdelning: the children who share a room and a cloakroom."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("preschool_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    preschool_id: Mapped[int] = mapped_column(ForeignKey("preschools.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))

    preschool: Mapped[Preschool] = relationship(back_populates="groups")


class User(Base):
    """A staff member. Org admins administer every preschool of their organisation."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_org_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Sign-in codes (TOTP), if switched on: the secret sealed under the server's key (laiban/sealing.py),
    # and the last time step whose code was used (a code works once).
    totp_secret: Mapped[str | None] = mapped_column(String(200))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")


class Membership(Base):
    """A user's role at one preschool."""

    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    preschool_id: Mapped[int] = mapped_column(
        ForeignKey("preschools.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20))

    user: Mapped[User] = relationship(back_populates="memberships")
    preschool: Mapped[Preschool] = relationship()


class LoginSession(Base):
    """A signed-in browser. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "login_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime | None]  # for the idle timeout; None: not used since created_at

    user: Mapped[User] = relationship()


class LoginFailure(Base):
    """One failed sign-in, kept for the throttling window (by e-mail and by client address)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Device(Base):
    """A kiosk tablet of one preschool. Pairs once with a short code, then uses a long token."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    preschool_id: Mapped[int] = mapped_column(ForeignKey("preschools.id", ondelete="CASCADE"), index=True)
    # The avdelning whose cloakroom the tablet is in: its own schedule, if it has one, applies
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    pairing_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    pairing_expires_at: Mapped[dt.datetime | None]
    paired_at: Mapped[dt.datetime | None]
    last_seen_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    preschool: Mapped[Preschool] = relationship()


class Child(Base):
    """A child as Laiban needs to know them: a first name and a picture they recognise. Nothing more."""

    __tablename__ = "children"

    id: Mapped[int] = mapped_column(primary_key=True)
    preschool_id: Mapped[int] = mapped_column(ForeignKey("preschools.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    first_name: Mapped[str] = mapped_column(String(100))
    avatar: Mapped[str] = mapped_column(String(80), default="")  # "cat", or "upload/<sha256>" (a photo)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ChildWeekday(Base):
    """A child's usual day on one weekday (0 = Monday): when they come, go home and who picks them up.
    No row for a weekday = the child does not come that day (once the child has any row at all)."""

    __tablename__ = "child_weekdays"
    __table_args__ = (UniqueConstraint("child_id", "weekday"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    preschool_id: Mapped[int] = mapped_column(ForeignKey("preschools.id", ondelete="CASCADE"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    arrives_at: Mapped[dt.time | None] = mapped_column(Time)
    leaves_at: Mapped[dt.time | None] = mapped_column(Time)
    pickup_by: Mapped[str] = mapped_column(String(60), default="")


class Presence(Base):
    """One child's own entry for one day: it replaces the weekly schedule where set (absent, times, who
    picks up), and holds what staff marked (arrived, went home). Deleted by the retention job."""

    __tablename__ = "presence"
    __table_args__ = (UniqueConstraint("child_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    preschool_id: Mapped[int] = mapped_column(ForeignKey("preschools.id", ondelete="CASCADE"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    absent: Mapped[bool] = mapped_column(Boolean, default=False)
    arrives_at: Mapped[dt.time | None] = mapped_column(Time)
    leaves_at: Mapped[dt.time | None] = mapped_column(Time)
    pickup_by: Mapped[str] = mapped_column(String(60), default="")
    checked_in_at: Mapped[dt.datetime | None]
    checked_out_at: Mapped[dt.datetime | None]


class PresenceChange(Base):
    """Who changed a child's day, what and when ("Hämtas 15:30 av mormor", by a guardian's link), so
    staff can see it. Personal data of the day: deleted with the day's presence."""

    __tablename__ = "presence_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    preschool_id: Mapped[int] = mapped_column(ForeignKey("preschools.id", ondelete="CASCADE"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), index=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    by: Mapped[str] = mapped_column(String(200))  # "Anna Pedagog" or "Mamma (länk)"
    what: Mapped[str] = mapped_column(String(300))


class GuardianLink(Base):
    """A guardian's personal link for one child: they may set today's and tomorrow's pickup, nothing
    else. Only the hash of the token is stored; the link expires and staff can revoke it."""

    __tablename__ = "guardian_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    preschool_id: Mapped[int] = mapped_column(ForeignKey("preschools.id", ondelete="CASCADE"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100))  # who holds it: "Mamma", "Pappa Ali"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]


class AuditEntry(Base):
    """One read or write of children's data in the admin, or by a guardian's link: who, what, when.
    Holds ids only, never a child's name; org admins read it."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    preschool_id: Mapped[int | None] = mapped_column(ForeignKey("preschools.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(200))  # the user's name then, or "Vårdnadshavarlänk 12"
    action: Mapped[str] = mapped_column(String(20))  # read, create, update, delete, import
    subject: Mapped[str] = mapped_column(String(50))  # children, child, presence, guardian_link, …
    child_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: the entry outlives the child


class ScheduleEvent(Base):
    """A clock event of the day (breakfast, fruit, outdoor time, lunch, rest…).

    weekday: 0 = Monday … 6 = Sunday, or None for every day; group_id None = the whole preschool.
    """

    __tablename__ = "schedule_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    preschool_id: Mapped[int] = mapped_column(ForeignKey("preschools.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    weekday: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[dt.time] = mapped_column(Time)
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(100))


class MenuItem(Base):
    """One dish of one meal on one day. Hand-edited rows are never overwritten by a fetched menu."""

    __tablename__ = "menu_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    preschool_id: Mapped[int] = mapped_column(ForeignKey("preschools.id", ondelete="CASCADE"), index=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    meal: Mapped[str] = mapped_column(String(20), default="lunch")
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20), default="manual")
    edited_by_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    simple_override: Mapped[str | None] = mapped_column(String(300))  # staff's child-friendly wording


class StoredForecast(Base):
    """The last good forecast for one location (shared by preschools within ~1 km), and how fetching it
    went: failures back off, and the last good steps stay until a newer forecast replaces them."""

    __tablename__ = "forecasts"

    location_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    latitude: Mapped[float]
    longitude: Mapped[float]
    source: Mapped[str | None] = mapped_column(String(20))
    fetched_at: Mapped[dt.datetime | None]
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    last_attempt_at: Mapped[dt.datetime | None]
    next_attempt_at: Mapped[dt.datetime | None]
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    metno_last_modified: Mapped[str | None] = mapped_column(String(64))
    metno_expires_at: Mapped[dt.datetime | None]  # MET Norway asks not to be asked again before this


class GarmentCorrection(Base):
    """Staff's garments for one weather condition at one preschool, used instead of the rules until it
    expires."""

    __tablename__ = "garment_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    preschool_id: Mapped[int] = mapped_column(ForeignKey("preschools.id", ondelete="CASCADE"), index=True)
    condition: Mapped[str] = mapped_column(String(30))
    garments: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class GarmentRating(Base):
    """A child's thumbs up (+1) or down (−1) for the clothes suggested in one condition."""

    __tablename__ = "garment_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    preschool_id: Mapped[int] = mapped_column(ForeignKey("preschools.id", ondelete="CASCADE"), index=True)
    condition: Mapped[str] = mapped_column(String(30))
    garments: Mapped[list[str]] = mapped_column(JSON)
    rating: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class MenuSource(Base):
    """Where a preschool's menu comes from (typed by staff, skolmaten.se or Mashie) and how fetching it
    goes. Staff entry always works, whatever the source."""

    __tablename__ = "menu_sources"

    preschool_id: Mapped[int] = mapped_column(
        ForeignKey("preschools.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="manual")  # manual, skolmaten, mashie
    identifier: Mapped[str] = mapped_column(String(200), default="")
    last_success_at: Mapped[dt.datetime | None]
    last_attempt_at: Mapped[dt.datetime | None]
    next_attempt_at: Mapped[dt.datetime | None]
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class MealRating(Base):
    """What children thought of a day's food: 1 (yuck) … 4 (yum). No child identity is stored."""

    __tablename__ = "meal_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    preschool_id: Mapped[int] = mapped_column(ForeignKey("preschools.id", ondelete="CASCADE"), index=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    dish: Mapped[str] = mapped_column(String(300))
    rating: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CalendarEvent(Base):
    """Something the preschool itself celebrates or does on a day (a Lucia party, a parents' evening);
    `yearly` events repeat every year on the same month and day."""

    __tablename__ = "calendar_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    preschool_id: Mapped[int] = mapped_column(ForeignKey("preschools.id", ondelete="CASCADE"), index=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    at: Mapped[dt.time | None] = mapped_column(Time)
    title: Mapped[str] = mapped_column(String(100))
    picture: Mapped[str] = mapped_column(String(50), default="")  # a picture key, e.g. "calendar/party"
    yearly: Mapped[bool] = mapped_column(Boolean, default=False)


class ClosedDay(Base):
    """A day the preschool is closed although it is a weekday (planning days and the like)."""

    __tablename__ = "closed_days"
    __table_args__ = (UniqueConstraint("preschool_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    preschool_id: Mapped[int] = mapped_column(ForeignKey("preschools.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(100))


class Activity(Base):
    """Something planned for one day (a forest trip, painting), told the way staff wrote it: before
    (`future_text`) and after (`past_text`). `participants` are child ids of the same preschool."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    preschool_id: Mapped[int] = mapped_column(ForeignKey("preschools.id", ondelete="CASCADE"), index=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    starts_at: Mapped[dt.time | None] = mapped_column(Time)
    ends_at: Mapped[dt.time | None] = mapped_column(Time)
    title: Mapped[str] = mapped_column(String(100))
    future_text: Mapped[str] = mapped_column(String(200))
    past_text: Mapped[str] = mapped_column(String(200))
    picture: Mapped[str] = mapped_column(String(100), default="")  # a key; uploads: "upload/<sha256>"
    participants: Mapped[list[int]] = mapped_column(JSON, default=list)


class Pronunciation(Base):
    """A word the voice says wrong, and how to write it so that it sounds right ("Ekorren" → "Ekorrn"),
    for one language at one preschool. Applied to the spoken text before synthesis."""

    __tablename__ = "pronunciations"
    __table_args__ = (UniqueConstraint("preschool_id", "lang", "written"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    preschool_id: Mapped[int] = mapped_column(ForeignKey("preschools.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(10))
    written: Mapped[str] = mapped_column(String(100))
    spoken: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class StaffTranslation(Base):
    """A translation staff saved (or a machine suggested) of a Swedish text the preschool uses in answers
    (a dish, an event, an activity…), for one language. `source` is the Swedish text as staff see it;
    answers use an entry only when `confirmed`: a machine suggestion (`origin` "machine") waits for staff."""

    __tablename__ = "staff_translations"
    __table_args__ = (UniqueConstraint("preschool_id", "lang", "source_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    preschool_id: Mapped[int] = mapped_column(ForeignKey("preschools.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(200))
    source_key: Mapped[str] = mapped_column(String(400))  # model.intent.glossary_key(source)
    text: Mapped[str] = mapped_column(String(300))
    origin: Mapped[str] = mapped_column(String(10), default="staff")  # "staff" or "machine"
    confirmed: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class JobLease(Base):
    """Which server process runs the scheduled jobs, and when they are due again: with several
    processes on one database, each round of jobs runs in exactly one of them."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100), default="")
    held_until: Mapped[dt.datetime]
    next_run_at: Mapped[dt.datetime]
