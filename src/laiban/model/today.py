"""Today: everything a preschool knows about this moment, handed to the skills (which never read clocks,
databases or the network themselves). Topic issues add their data here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from laiban.model.weather import Forecast


@dataclass(frozen=True)
class Today:
    now: dt.datetime  # aware, in the preschool's timezone
    preschool_name: str
    modules: tuple[str, ...]
    languages: tuple[str, ...]
    day_ends_at: dt.time = dt.time(17, 0)
    outdoor_times: tuple[dt.time, ...] = ()  # today's outdoor events, in order
    forecast: Forecast | None = None  # the last good forecast for the preschool's location, if any
    garment_corrections: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # condition → garments
    # (day, meal) → dishes as (the kitchen's text, staff's child-friendly wording or None), a week around now
    menu: Mapping[tuple[dt.date, str], tuple[tuple[str, str | None], ...]] = field(default_factory=dict)
    lunch_at: dt.time | None = None  # today's lunch in the schedule
    open_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
