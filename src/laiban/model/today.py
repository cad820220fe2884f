"""Today: everything a preschool knows about this moment, handed to the skills (which never read clocks,
databases or the network themselves). Topic issues add their data here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from laiban.model.pickup import PickupChild
from laiban.model.weather import Forecast


@dataclass(frozen=True)
class ClockEvent:
    """A moment of the preschool's day: breakfast, outdoor time, lunch, rest…"""

    at: dt.time
    kind: str
    title: str


@dataclass(frozen=True)
class ActivityInfo:
    """Something planned for today, told in staff's own whole sentences: before it (`future_text`, "Vi ska
    gå till skogen.") and after it (`past_text`, "Vi gick till skogen."). `participants` are first names."""

    title: str
    future_text: str
    past_text: str
    starts_at: dt.time | None = None
    ends_at: dt.time | None = None
    picture: str = ""
    participants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Today:
    now: dt.datetime  # aware, in the preschool's timezone
    preschool_name: str
    modules: tuple[str, ...]
    languages: tuple[str, ...]
    day_starts_at: dt.time = dt.time(6, 30)
    day_ends_at: dt.time = dt.time(17, 0)
    events: tuple[ClockEvent, ...] = ()  # today's schedule, in time order
    forecast: Forecast | None = None  # the last good forecast for the preschool's location, if any
    garment_corrections: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # condition → garments
    # (day, meal) → dishes as (the kitchen's text, staff's child-friendly wording or None), a week around now
    menu: Mapping[tuple[dt.date, str], tuple[tuple[str, str | None], ...]] = field(default_factory=dict)
    open_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    # date → what is special about it (holiday keys, "flag_day"), from yesterday to a year ahead
    special_days: Mapping[dt.date, tuple[str, ...]] = field(default_factory=dict)
    # date → the preschool's own events that day as (time or None, title), yearly ones expanded
    preschool_events: Mapping[dt.date, tuple[tuple[dt.time | None, str], ...]] = field(default_factory=dict)
    closed_days: Mapping[dt.date, str] = field(default_factory=dict)  # date → why the preschool is closed
    activities: tuple[ActivityInfo, ...] = ()  # today's, in time order
    show_child_names: bool = False  # whether activities say who takes part
    # The children the kiosk may tell about (its group's, or the whole preschool's), for `pickup`
    children: tuple[PickupChild, ...] = ()
    asking_child: int | None = None  # the child who tapped their own picture ("who am I"), if any
    # lang → the preschool's confirmed staff translations (glossary_key(Swedish text) → translation), which
    # `i18n.render` uses for the staff texts in an answer (dish names, events, activities…)
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def outdoor_times(self) -> tuple[dt.time, ...]:
        return tuple(event.at for event in self.events if event.kind == "outdoor")

    @property
    def lunch_at(self) -> dt.time | None:
        return next((event.at for event in self.events if event.kind == "lunch"), None)
