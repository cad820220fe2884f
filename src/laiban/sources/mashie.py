"""Mashie's public menu page (many municipal kitchens) -> MenuDay.

`GET {base}/public/menu/{Kommun}/{id}` (base e.g. https://mpi.mashie.com, sodexo.mashie.com, moving to
mashie.matildaplatform.com). There is no official API: the page's script assigns
`weekMenues = {...}`, JSON except for `new Date(<ms>)` literals, shaped
`Weeks[].Days[]` with `DayMenuDate` (ms since the epoch) and `DayMenus[]` of
`{MenuAlternativeName: "Lunch" | "Vegetarisk" | …, DayMenuName: <the dish>}`. The page wants a
browser-like User-Agent.

Dishes keep the page's order and go through the same cleaning as skolmaten.se's. Alternatives named
for another meal ("Frukost", "Mellanmål") become their own MenuDay with meal "breakfast" / "snack";
everything else is lunch. The text is read, never run: no eval.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import httpx

from laiban.model.menu import MenuDay
from laiban.sources import DEADLINE, SourceError, get
from laiban.sources.skolmaten import MENU_ZONE, clean_dish, keep_dishes, raise_for_status, sort_key

SOURCE = "mashie"
NAME = "Mashie"
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
_MEALS_BY_WORD = (("frukost", "breakfast"), ("mellanmål", "snack"), ("mellanmal", "snack"))

_ASSIGNMENT = re.compile(r"\bweekMenues\s*=\s*(?=\{)")
_NEW_DATE = re.compile(r"new\s+Date\s*\(\s*(-?\d+(?:\.\d+)?)\s*\)")
_NO_DATA = f"The {NAME} page has no menu data."
_BROKEN = f"The {NAME} page has menu data that is not valid JSON."


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._inside = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.scripts[-1] += data


def parse(html: str) -> list[MenuDay]:
    """The public menu page -> MenuDays sorted by date (then breakfast, lunch, snack).

    Days without a readable `DayMenuDate` (read as a date in Europe/Stockholm) or without dishes are
    skipped, as are repeats of a date and meal (the first wins); unknown fields are ignored.

    Raises SourceError when no script assigns `weekMenues` or its object is not valid JSON (after the
    `new Date(ms)` literals are read as numbers).
    """
    data = _menu_data(html)
    found: dict[tuple[dt.date, str], list[str]] = {}
    for week in _list(data, "Weeks"):
        for day_data in _list(week, "Days"):
            day = _day(day_data.get("DayMenuDate"))
            if day is None:
                continue
            dishes: dict[str, list[str]] = {}
            for menu in _list(day_data, "DayMenus"):
                name = menu.get("DayMenuName")
                if isinstance(name, str):
                    meal = _meal(menu.get("MenuAlternativeName"))
                    dishes.setdefault(meal, []).append(clean_dish(name))
            for meal, texts in dishes.items():
                kept = keep_dishes(texts)
                if kept and (day, meal) not in found:
                    found[(day, meal)] = list(kept)
    menus = [MenuDay(day, meal, tuple(texts)) for (day, meal), texts in found.items()]
    return sorted(menus, key=sort_key)


def _menu_data(html: str) -> Mapping[str, Any]:
    text = _object_text(html)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SourceError(_BROKEN) from exc
    if not isinstance(data, dict):
        raise SourceError(_BROKEN)
    return data


def _object_text(html: str) -> str:
    """The `weekMenues` object of the first script that assigns it, as JSON text."""
    scripts = _Scripts()
    scripts.feed(html)
    scripts.close()
    for script in scripts.scripts:
        assignment = _ASSIGNMENT.search(script)
        if assignment is not None:
            return _to_json(script, assignment.end())
    raise SourceError(_NO_DATA)


def _to_json(script: str, start: int) -> str:
    """The object literal starting at `start` (a "{"), up to its matching "}", with each `new Date(ms)`
    outside strings replaced by ms. Only double-quoted strings are known (Mashie writes JSON)."""
    out: list[str] = []
    depth = 0
    position = start
    end = len(script)
    while position < end:
        char = script[position]
        if char == '"':
            closing = position + 1
            while closing < end and script[closing] != '"':
                closing += 2 if script[closing] == "\\" else 1
            if closing >= end:
                break
            out.append(script[position : closing + 1])
            position = closing + 1
            continue
        if char == "n" and (date := _NEW_DATE.match(script, position)) is not None:
            out.append(date.group(1))
            position = date.end()
            continue
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
        out.append(char)
        position += 1
        if depth == 0:
            return "".join(out)
    raise SourceError(_BROKEN)


def _list(data: Any, key: str) -> list[Mapping[str, Any]]:
    value = data.get(key) if isinstance(data, Mapping) else None
    return [entry for entry in value if isinstance(entry, Mapping)] if isinstance(value, list) else []


def _day(value: Any) -> dt.date | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return dt.datetime.fromtimestamp(value / 1000, MENU_ZONE).date()
    except (OverflowError, OSError, ValueError):
        return None


def _meal(alternative: Any) -> str:
    name = alternative.casefold() if isinstance(alternative, str) else ""
    return next((meal for word, meal in _MEALS_BY_WORD if word in name), "lunch")


def menu_url(base_url: str, menu_path: str) -> str:
    segments = [segment for segment in menu_path.strip().split("/") if segment.strip()]
    if not segments or any(segment.strip() in (".", "..") for segment in segments):
        raise SourceError(f"The {NAME} menu address {menu_path!r} is not a valid menu path.")
    quoted = "/".join(quote(segment.strip(), safe="") for segment in segments)
    return f"{base_url.rstrip('/')}/public/menu/{quoted}"


def fetch(
    client: httpx.Client,
    base_url: str,
    menu_path: str,
    *,
    user_agent: str = USER_AGENT,
    deadline: float = DEADLINE,
) -> list[MenuDay]:
    """Fetch and parse a public menu page; `menu_path` is like "Helsingborg/1234abcd" (each segment is
    quoted). Sends a browser-like User-Agent; uses the client's timeout, the whole reply within
    `deadline` seconds and at most MAX_BYTES (see `sources.get`). A page with `weekMenues` but no days
    gives [].

    Raises SourceError on an empty menu path, HTTP errors (404: unknown menu), timeouts, connection
    errors and pages without readable menu data.
    """
    url = menu_url(base_url, menu_path)
    response = get(
        client,
        url,
        NAME,
        {"User-Agent": user_agent, "Accept": "text/html,application/xhtml+xml;q=0.9"},
        deadline=deadline,
    )
    status = response.status_code
    if status == 404:
        raise SourceError(f"{NAME} does not know the menu {menu_path.strip()!r}.", status=status)
    raise_for_status(NAME, status, "a menu page")
    try:
        return parse(response.text)
    except SourceError as exc:
        raise SourceError(str(exc), status=status) from exc
