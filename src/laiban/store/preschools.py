"""Organisations, preschools and groups: creating them and checking what staff type into their settings."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from laiban.model.preschool import DEFAULT_TIMEZONE, LANGUAGES, MODULES
from laiban.store.tables import DEFAULT_WEEKDAY_COLOURS, Group, Organisation, Preschool

COLOUR = re.compile(r"^#[0-9a-f]{6}$")
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
TIMEZONES = frozenset(zoneinfo.available_timezones())
# How many days after the day a child's presence and pickup details may be kept (0 = until the day ends).
RETENTION_DAYS = (0, 1, 2, 7, 14, 30)


class InvalidSettings(ValueError):
    """Form input that cannot be saved; `errors` maps each field to a Swedish sentence."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class PreschoolSettings:
    """The settings a preschool admin edits, already checked."""

    name: str
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    timezone: str = DEFAULT_TIMEZONE
    modules: list[str] = field(default_factory=lambda: list(MODULES))
    languages: list[str] = field(default_factory=lambda: ["sv"])
    day_starts_at: dt.time = dt.time(6, 30)
    day_ends_at: dt.time = dt.time(17, 30)
    weekday_colours: list[str] = field(default_factory=lambda: list(DEFAULT_WEEKDAY_COLOURS))
    presence_retention_days: int = 0  # 0 = a day's presence is deleted when the day is over
    child_photos: bool = False

    @classmethod
    def parse(
        cls, form: Mapping[str, str], modules: Sequence[str], languages: Sequence[str]
    ) -> PreschoolSettings:
        """Check a submitted settings form; raises InvalidSettings with every problem at once."""
        errors: dict[str, str] = {}
        name = form.get("name", "").strip()
        if not name or len(name) > 200:
            errors["name"] = "Ange förskolans namn (högst 200 tecken)."
        address = form.get("address", "").strip()
        if len(address) > 300:
            errors["address"] = "Adressen får ha högst 300 tecken."
        latitude = _coordinate(form.get("latitude", ""), -90, 90, "latitude", "Latitud", errors)
        longitude = _coordinate(form.get("longitude", ""), -180, 180, "longitude", "Longitud", errors)
        if (latitude is None) != (longitude is None) and not errors.keys() & {"latitude", "longitude"}:
            errors["latitude"] = "Ange både latitud och longitud, eller ingen av dem."
        timezone = form.get("timezone", DEFAULT_TIMEZONE).strip() or DEFAULT_TIMEZONE
        if timezone not in TIMEZONES:
            errors["timezone"] = f"Tidszonen {timezone!r} finns inte (till exempel Europe/Stockholm)."
        unknown_modules = [m for m in modules if m not in MODULES]
        if unknown_modules:
            errors["modules"] = "Okänd modul: " + ", ".join(unknown_modules) + "."
        unknown_languages = [lang for lang in languages if lang not in LANGUAGES]
        if unknown_languages:
            errors["languages"] = "Okänt språk: " + ", ".join(unknown_languages) + "."
        starts = _clock(form.get("day_starts_at", "06:30"), "day_starts_at", errors)
        ends = _clock(form.get("day_ends_at", "17:30"), "day_ends_at", errors)
        if starts and ends and starts >= ends:
            errors["day_ends_at"] = "Dagen måste sluta efter att den börjar."
        colours = [form.get(f"colour_{i}", DEFAULT_WEEKDAY_COLOURS[i]).strip().lower() for i in range(7)]
        if not all(COLOUR.match(colour) for colour in colours):
            errors["weekday_colours"] = "Färgerna ska anges som #rrggbb."
        retention = form.get("presence_retention_days", "0").strip() or "0"
        if retention not in {str(days) for days in RETENTION_DAYS}:
            errors["presence_retention_days"] = "Välj hur länge uppgifter om närvaro och hämtning sparas."
        if errors:
            raise InvalidSettings(errors)
        # Swedish is always spoken; it is the source language of every text.
        ordered_languages = ["sv", *[lang for lang in LANGUAGES if lang in languages and lang != "sv"]]
        return cls(
            name=name,
            address=address,
            latitude=latitude,
            longitude=longitude,
            timezone=timezone,
            modules=[m for m in MODULES if m in modules],
            languages=ordered_languages,
            day_starts_at=starts or dt.time(6, 30),
            day_ends_at=ends or dt.time(17, 30),
            weekday_colours=colours,
            presence_retention_days=int(retention),
            child_photos=bool(form.get("child_photos")),
        )

    def apply(self, preschool: Preschool) -> None:
        for name, value in vars(self).items():
            setattr(preschool, name, value)


def _coordinate(
    raw: str, low: float, high: float, key: str, label: str, errors: dict[str, str]
) -> float | None:
    raw = raw.strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # also false for NaN
        errors[key] = f"{label} måste vara ett tal mellan {low:g} och {high:g}."
        return None
    return round(value, 5)


def _clock(raw: str, key: str, errors: dict[str, str]) -> dt.time | None:
    try:
        return dt.time.fromisoformat(raw.strip())
    except ValueError:
        errors[key] = "Ange en tid som 07:30."
        return None


def check_slug(session: Session, slug: str) -> str:
    slug = slug.strip().lower()
    if not SLUG.match(slug):
        raise InvalidSettings(
            {
                "slug": "Kortnamnet får bara ha små bokstäver a–z, siffror och bindestreck "
                "(till exempel solrosen)."
            }
        )
    if session.scalar(select(Preschool.id).where(Preschool.slug == slug)) is not None:
        raise InvalidSettings({"slug": f"Kortnamnet {slug!r} används redan av en annan förskola."})
    return slug


def create_organisation(session: Session, name: str) -> Organisation:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidSettings({"organisation": "Ange organisationens namn (högst 200 tecken)."})
    organisation = Organisation(name=name)
    session.add(organisation)
    session.flush()
    return organisation


def create_preschool(
    session: Session,
    organisation: Organisation,
    slug: str,
    settings: PreschoolSettings,
    groups: Sequence[str] = (),
) -> Preschool:
    preschool = Preschool(organisation_id=organisation.id, slug=check_slug(session, slug), name=settings.name)
    settings.apply(preschool)
    preschool.groups = [Group(name=name) for name in groups]
    session.add(preschool)
    session.flush()
    return preschool


def preschool_by_slug(session: Session, slug: str) -> Preschool | None:
    return session.scalar(select(Preschool).where(Preschool.slug == slug))
