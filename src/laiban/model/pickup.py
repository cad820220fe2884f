"""Who picks a child up, and when: one child's day as the pickup skill needs it.

Built by the store from the child's weekly schedule, the day's own entry (staff's or a guardian's) and
what staff marked (arrived, went home); the skill only reads it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ChildDay:
    """One child's plan for one day. `coming` is None when nobody told Laiban (no schedule, no entry)."""

    day: dt.date
    coming: bool | None
    arrives_at: dt.time | None = None
    leaves_at: dt.time | None = None
    pickup_by: str = ""  # as staff or a guardian wrote it: "mormor", "Ali", "taxi"; "" = not told
    usual_leaves_at: dt.time | None = None  # the weekly schedule's time, to tell that today's changed
    checked_in_at: dt.time | None = None  # marked by staff when the child arrived
    checked_out_at: dt.time | None = None  # marked by staff when the child went home


@dataclass(frozen=True)
class PickupChild:
    """A child of the kiosk's group as the pickup skill sees them: first name, picture, today and
    tomorrow, and the next day after today they come (from the weekly schedule, open days only)."""

    id: int
    name: str
    avatar: str
    today: ChildDay
    tomorrow: ChildDay
    next_day: dt.date | None = None
    group_id: int | None = None  # the child's avdelning (a kiosk of a group tells only about its own)
