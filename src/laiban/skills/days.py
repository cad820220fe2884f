"""Which date a `day` slot means, seen from today."""

from __future__ import annotations

import datetime as dt

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def resolve_day(value: str | None, today: dt.date) -> dt.date | None:
    """The date of a day slot value; None for periods (weekend, this_week, next_week) and unknown values.

    A bare weekday is today or the coming one; `next_<weekday>` the one after that when it is this week's
    still to come ("nästa fredag" on a Monday is in 11 days); `last_<weekday>` the most recent past one.
    """
    if value is None or value == "today":
        return today
    offsets = {"tomorrow": 1, "day_after_tomorrow": 2, "yesterday": -1}
    if value in offsets:
        return today + dt.timedelta(days=offsets[value])
    prefix, _, name = value.rpartition("_")
    if name not in WEEKDAYS or prefix not in ("", "last", "next"):
        return None
    ahead = (WEEKDAYS.index(name) - today.weekday()) % 7
    if prefix == "last":
        return today - dt.timedelta(days=(7 - ahead) % 7 or 7)
    if prefix == "next":
        return today + dt.timedelta(days=ahead + 7 if ahead else 7)
    return today + dt.timedelta(days=ahead)
