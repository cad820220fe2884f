"""Menus in the store: staff's week entry, fetched days (which never overwrite staff's), CSV import and
export, the menu source of a preschool, and children's ratings of the food."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from laiban.model.menu import MEALS, MenuDay
from laiban.store.tables import MealRating, MenuItem, MenuSource

MAX_DISH_LENGTH = 300
MAX_DISHES = 10
SOURCE_KINDS = ("manual", "skolmaten", "mashie")


class MenuError(ValueError):
    """Menu input that cannot be saved; the message is a Swedish sentence for staff."""


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def clean_dishes(lines: Iterable[str]) -> tuple[str, ...]:
    """Staff's lines as dishes: trimmed, empty lines dropped; too long or too many is refused."""
    dishes = tuple(" ".join(line.split()) for line in lines if line.strip())
    if len(dishes) > MAX_DISHES:
        raise MenuError(f"Högst {MAX_DISHES} rätter per måltid och dag.")
    for dish in dishes:
        if len(dish) > MAX_DISH_LENGTH:
            raise MenuError(f"En rätt får vara högst {MAX_DISH_LENGTH} tecken lång: ”{dish[:40]}…”.")
    return dishes


@dataclass(frozen=True)
class StoredDish:
    text: str
    simple_override: str | None
    source: str


def menu_between(
    session: Session, preschool_id: int, first: dt.date, last: dt.date
) -> dict[tuple[dt.date, str], tuple[StoredDish, ...]]:
    """(day, meal) → dishes in order, for first..last inclusive."""
    rows = session.scalars(
        select(MenuItem)
        .where(MenuItem.preschool_id == preschool_id, MenuItem.day >= first, MenuItem.day <= last)
        .order_by(MenuItem.day, MenuItem.meal, MenuItem.position, MenuItem.id)
    )
    found: dict[tuple[dt.date, str], list[StoredDish]] = defaultdict(list)
    for row in rows:
        found[(row.day, row.meal)].append(StoredDish(row.text, row.simple_override, row.source))
    return {key: tuple(dishes) for key, dishes in found.items()}


def set_day(
    session: Session,
    preschool_id: int,
    day: dt.date,
    meal: str,
    dishes: Sequence[str],
    overrides: Sequence[str | None] = (),
) -> None:
    """Staff's dishes for one meal on one day (replacing what was there; kept from then on even when a
    fetched menu has the day)."""
    if meal not in MEALS:
        raise MenuError(f"Okänd måltid: {meal!r}.")
    dishes = clean_dishes(dishes)
    session.execute(
        delete(MenuItem).where(
            MenuItem.preschool_id == preschool_id, MenuItem.day == day, MenuItem.meal == meal
        )
    )
    for position, text in enumerate(dishes):
        override = overrides[position] if position < len(overrides) else None
        session.add(
            MenuItem(
                preschool_id=preschool_id,
                day=day,
                meal=meal,
                position=position,
                text=text,
                source="manual",
                edited_by_staff=True,
                simple_override=(override or "").strip()[:MAX_DISH_LENGTH] or None,
            )
        )
    session.flush()


def store_fetched(session: Session, preschool_id: int, source: str, days: Iterable[MenuDay]) -> int:
    """Fetched days replace earlier fetched ones; a day staff edited is never touched. Returns how many
    (day, meal) pairs were stored."""
    stored = 0
    for menu_day in days:
        edited = session.scalar(
            select(func.count()).where(
                MenuItem.preschool_id == preschool_id,
                MenuItem.day == menu_day.day,
                MenuItem.meal == menu_day.meal,
                MenuItem.edited_by_staff,
            )
        )
        if edited:
            continue
        session.execute(
            delete(MenuItem).where(
                MenuItem.preschool_id == preschool_id,
                MenuItem.day == menu_day.day,
                MenuItem.meal == menu_day.meal,
            )
        )
        for position, text in enumerate(menu_day.dishes[:MAX_DISHES]):
            session.add(
                MenuItem(
                    preschool_id=preschool_id,
                    day=menu_day.day,
                    meal=menu_day.meal,
                    position=position,
                    text=text[:MAX_DISH_LENGTH],
                    source=source,
                )
            )
        stored += 1
    session.flush()
    return stored


def copy_week(session: Session, preschool_id: int, from_monday: dt.date, to_monday: dt.date) -> int:
    """Copies every meal of one week onto another (as staff's entry); returns the number of days."""
    week = menu_between(session, preschool_id, from_monday, from_monday + dt.timedelta(days=6))
    for (day, meal), dishes in week.items():
        target = to_monday + (day - from_monday)
        set_day(
            session, preschool_id, target, meal, [d.text for d in dishes], [d.simple_override for d in dishes]
        )
    return len({day for day, _ in week})


CSV_HEADER = ("datum", "måltid", "rätt")


# A cell starting with one of these is a formula to a spreadsheet (=HYPERLINK(…) from a feed or a typo):
# exported with a leading apostrophe, which spreadsheets show as text and parse_csv removes again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _as_text_cell(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def export_csv(session: Session, preschool_id: int, first: dt.date, last: dt.date) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for (day, meal), dishes in sorted(menu_between(session, preschool_id, first, last).items()):
        for dish in dishes:
            writer.writerow((day.isoformat(), meal, _as_text_cell(dish.text)))
    return out.getvalue()


def parse_csv(text: str) -> tuple[dict[tuple[dt.date, str], list[str]], list[str]]:
    """(day, meal) → dishes from a CSV of `datum,måltid,rätt` rows, and one Swedish sentence per bad row.
    Nothing is stored here: the caller shows the errors, or stores when there are none."""
    found: dict[tuple[dt.date, str], list[str]] = defaultdict(list)
    errors: list[str] = []
    rows = list(csv.reader(io.StringIO(text)))
    if rows and [cell.strip().lower() for cell in rows[0][:3]] == list(CSV_HEADER):
        rows = rows[1:]
        first_row = 2
    else:
        first_row = 1
    for number, row in enumerate(rows, start=first_row):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 3:
            errors.append(f"Rad {number}: behöver tre kolumner (datum, måltid, rätt).")
            continue
        day_text, meal, dish = (cell.strip() for cell in row[:3])
        if dish.startswith("'") and dish[1:].startswith(FORMULA_STARTS):
            dish = dish[1:]  # as export_csv wrote it
        try:
            day = dt.date.fromisoformat(day_text)
        except ValueError:
            errors.append(f"Rad {number}: ”{day_text[:20]}” är inget datum som 2026-11-23.")
            continue
        meal = {"lunch": "lunch", "frukost": "breakfast", "mellanmål": "snack"}.get(
            meal.lower(), meal.lower()
        )
        if meal not in MEALS:
            errors.append(f"Rad {number}: måltiden ska vara lunch, frukost eller mellanmål.")
            continue
        if not dish:
            errors.append(f"Rad {number}: rätten saknas.")
            continue
        if len(dish) > MAX_DISH_LENGTH:
            errors.append(f"Rad {number}: rätten är längre än {MAX_DISH_LENGTH} tecken.")
            continue
        found[(day, meal)].append(dish)
    for (day, meal), dishes in found.items():
        if len(dishes) > MAX_DISHES:
            errors.append(f"{day.isoformat()}: fler än {MAX_DISHES} rätter till {meal}.")
    return dict(found), errors


# --- the source ----------------------------------------------------------------------------------


def source_of(session: Session, preschool_id: int) -> MenuSource:
    row = session.get(MenuSource, preschool_id)
    if row is None:
        row = MenuSource(preschool_id=preschool_id, kind="manual", identifier="", failures=0)
        session.add(row)
        session.flush()
    return row


def set_source(session: Session, preschool_id: int, kind: str, identifier: str) -> MenuSource:
    identifier = identifier.strip()
    if kind not in SOURCE_KINDS:
        raise MenuError("Välj en matsedelskälla i listan.")
    if kind != "manual" and not identifier:
        raise MenuError("Ange skolans namn hos källan (till exempel solrosens-forskola-helsingborg).")
    if len(identifier) > 200 or any(ch in identifier for ch in "?#\\") or ".." in identifier:
        raise MenuError("Identifieraten får inte innehålla ?, #, \\ eller .. och högst 200 tecken.")
    row = source_of(session, preschool_id)
    if (row.kind, row.identifier) != (kind, identifier):
        row.kind, row.identifier = kind, identifier if kind != "manual" else ""
        row.failures, row.last_error, row.next_attempt_at = 0, None, None
    return row


# --- ratings -------------------------------------------------------------------------------------


def rate_meal(session: Session, preschool_id: int, day: dt.date, dish: str, rating: int) -> None:
    if rating not in (1, 2, 3, 4):
        raise MenuError("Betyget ska vara 1–4.")
    session.add(MealRating(preschool_id=preschool_id, day=day, dish=dish[:MAX_DISH_LENGTH], rating=rating))


def ratings_between(
    session: Session, preschool_id: int, first: dt.date, last: dt.date
) -> dict[dt.date, dict[int, int]]:
    """day → {rating: count} for the days with ratings."""
    rows = session.execute(
        select(MealRating.day, MealRating.rating, func.count())
        .where(MealRating.preschool_id == preschool_id, MealRating.day >= first, MealRating.day <= last)
        .group_by(MealRating.day, MealRating.rating)
    ).all()
    found: dict[dt.date, dict[int, int]] = defaultdict(dict)
    for day, rating, count in rows:
        found[day][rating] = count
    return dict(found)
