"""skolmaten.se's public week feed -> MenuDay (meal "lunch").

`GET {base}/api/4/rss/week/{school-slug}?locale=sv`, no key; RSS 2.0 for the current week only (the old
`/{school}/rss/...` feeds are gone since Feb 2025; the JSON API needs a client token). Each `<item>` is a
day: `title` like "Måndag - Vecka 48", `pubDate` (RFC 822, midnight of the day), a `guid` ending in the
ISO date, and a `description` holding the dishes as HTML-escaped text joined by `<br/>`.

The dish cleaning here (`dishes_of`, `clean_dish`) is shared with the other menu sources: whatever a
kitchen types, what comes out is plain text — no tags, entities resolved, whitespace collapsed, capped.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from laiban.model.menu import MEALS, MenuDay
from laiban.sources import DEADLINE, SourceError, get

SOURCE = "skolmaten"
NAME = "skolmaten.se"
MEAL = "lunch"
MAX_DISH_CHARS = 300
MAX_DISHES = 10
MENU_ZONE = ZoneInfo("Europe/Stockholm")

_NOT_A_FEED = f"{NAME} sent a reply that is not a valid menu feed."
_DECLARATION = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
# A `&` that does not start one of XML's own references: kitchens' feeds contain "ris & sallad" raw.
_STRAY_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#[xX][0-9a-fA-F]+);)")
_GUID_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})\s*$")


# --- parsing -------------------------------------------------------------------------------------------


def parse(xml_text: str) -> list[MenuDay]:
    """The week RSS -> one MenuDay per day, sorted by date.

    The date is the day of `pubDate` in Swedish time (midnight GMT and midnight Stockholm both give the
    right day), else the ISO date that ends `guid`. Items without a usable date or without dishes are
    skipped, as are repeats of a date (the first wins). A feed without items gives [].

    Raises SourceError for XML that is not well-formed, that declares a DOCTYPE or entities (refused
    before parsing: no entity expansion, no external resources), or that has no RSS channel.
    """
    xml_text = xml_text.lstrip("\ufeff \t\r\n")
    if _DECLARATION.search(xml_text):
        raise SourceError(f"{NAME} sent a reply that is not a valid menu feed: it declares a DOCTYPE.")
    try:
        root = ET.fromstring(_STRAY_AMPERSAND.sub("&amp;", xml_text))
    except ET.ParseError as exc:
        raise SourceError(_NOT_A_FEED) from exc
    channel = root if root.tag == "channel" else root.find("channel")
    if channel is None:
        raise SourceError(_NOT_A_FEED)
    days: dict[dt.date, MenuDay] = {}
    for item in channel.iter("item"):
        day = _pub_date(item.findtext("pubDate")) or _guid_date(item.findtext("guid"))
        if day is None or day in days:
            continue
        dishes = dishes_of(item.findtext("description") or "")
        if dishes:
            days[day] = MenuDay(day, MEAL, dishes)
    return [days[day] for day in sorted(days)]


def _pub_date(value: str | None) -> dt.date | None:
    if not value or not value.strip():
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value.strip())
        if moment.tzinfo is None:  # "-0000": UTC without a known zone
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(MENU_ZONE).date()
    except (TypeError, ValueError, IndexError, OverflowError):  # OverflowError: beyond year 9999 here
        return None


def _guid_date(value: str | None) -> dt.date | None:
    found = _GUID_DATE.search(value or "")
    if found is None:
        return None
    try:
        return dt.date.fromisoformat(found.group(1))
    except ValueError:
        return None


# --- dish cleaning (shared with the other menu sources) ------------------------------------------------

_BREAKS = frozenset({"br", "p", "div", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6"})
_TAG = re.compile(r"<[^<>]*>")
_OPEN_TAG_AT_END = re.compile(r"<[A-Za-z/!?][^<>]*$")


class _Text(HTMLParser):
    """HTML -> lines of text: tags dropped (their text kept), entities resolved, line breaks at <br> and
    block tags as well as at newlines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKS:
            self.lines.append("")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _BREAKS:
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        first, *rest = data.splitlines() or [""]
        self.lines[-1] += first
        self.lines.extend(rest)
        if data.endswith(("\n", "\r")):
            self.lines.append("")


def _lines(text: str) -> list[str]:
    parser = _Text()
    parser.feed(text)
    parser.close()
    return parser.lines


def dishes_of(text: str) -> tuple[str, ...]:
    """A kitchen's dish text (HTML, possibly escaped once more) -> the dishes, in order: split at `<br>`
    (any spelling), block tags and newlines; cleaned as `clean_dish`; empty and repeated entries dropped;
    at most MAX_DISHES."""
    return keep_dishes(clean_dish(line, split=False) for line in _lines(html.unescape(text)))


def clean_dish(text: str, *, split: bool = True) -> str:
    """One dish as plain text: entities resolved, tags removed (their text kept; line breaks become
    spaces), control characters dropped, whitespace collapsed, at most MAX_DISH_CHARS characters."""
    if split:
        text = " ".join(_lines(html.unescape(text)))
    while True:  # text the parser left (escaped twice, or inside <script>) must not keep a tag either
        stripped = _OPEN_TAG_AT_END.sub("", _TAG.sub("", text))
        if stripped == text:
            break
        text = stripped
    text = "".join(char for char in text if unicodedata.category(char) not in ("Cc", "Cf") or char.isspace())
    text = " ".join(text.split())
    if len(text) > MAX_DISH_CHARS:
        text = text[: MAX_DISH_CHARS - 1].rstrip() + "…"
    return text


def keep_dishes(dishes: Iterable[str]) -> tuple[str, ...]:
    """The non-empty dishes, each once, in order; at most MAX_DISHES."""
    kept: list[str] = []
    for dish in dishes:
        if dish and dish not in kept:
            kept.append(dish)
            if len(kept) == MAX_DISHES:
                break
    return tuple(kept)


def sort_key(menu: MenuDay) -> tuple[dt.date, int]:
    return menu.day, MEALS.index(menu.meal) if menu.meal in MEALS else len(MEALS)


# --- fetching ------------------------------------------------------------------------------------------


def week_url(base_url: str, slug: str) -> str:
    return f"{base_url.rstrip('/')}/api/4/rss/week/{quote(slug, safe='')}?locale=sv"


def fetch(client: httpx.Client, base_url: str, slug: str, *, deadline: float = DEADLINE) -> list[MenuDay]:
    """Fetch and parse this week's menu of the school `slug` (as in its skolmaten.se address). Uses the
    client's timeout, the whole reply within `deadline` seconds and at most MAX_BYTES (see
    `sources.get`). An empty week gives [].

    Raises SourceError on an empty slug, HTTP errors (404: unknown school), timeouts, connection errors
    and replies that are not a valid menu feed.
    """
    if not slug.strip():
        raise SourceError(f"The {NAME} school name is empty.")
    response = get(
        client,
        week_url(base_url, slug.strip()),
        NAME,
        {"Accept": "application/rss+xml, application/xml;q=0.9, text/xml;q=0.8"},
        deadline=deadline,
    )
    status = response.status_code
    if status == 404:
        raise SourceError(f"{NAME} does not know the school {slug.strip()!r}.", status=status)
    raise_for_status(NAME, status, "a menu feed")
    try:
        return parse(_text_of(response))
    except SourceError as exc:
        raise SourceError(str(exc), status=status) from exc


def raise_for_status(name: str, status: int, wanted: str) -> None:
    """The plain sentence for a status other than 2xx (404 is the caller's, it knows what was missing)."""
    if 200 <= status < 300:
        return
    if status == 429:
        raise SourceError(f"{name} answered 429: too many requests, so fetch less often.", status=status)
    if status >= 500:
        raise SourceError(
            f"{name} answered {status}: the service has a problem, so try again later.", status=status
        )
    raise SourceError(f"{name} answered {status} instead of {wanted}.", status=status)


_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _text_of(response: httpx.Response) -> str:
    """The body as text: the charset of Content-Type, else the XML declaration's, else UTF-8."""
    content = response.content
    declared = _DECLARED_ENCODING.match(content[:200])
    for encoding in (response.charset_encoding, declared and declared.group(1).decode(), "utf-8"):
        if encoding:
            try:
                return content.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                continue
    return content.decode("utf-8", errors="replace")
