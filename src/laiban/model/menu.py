"""Menus: what the kitchen serves, as fetched or typed, and as children hear it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

MEALS = ("breakfast", "lunch", "snack")


@dataclass(frozen=True)
class MenuDay:
    """One meal on one day as a source gives it: the dishes in the kitchen's words, in order
    (the first is the main dish; later ones are alternatives such as vegetarian)."""

    day: dt.date
    meal: str
    dishes: tuple[str, ...]


@dataclass(frozen=True)
class Dish:
    """A dish as Laiban tells it: the kitchen's text, the child-friendly form, and its picture."""

    text: str
    simple: str
    picture: str
