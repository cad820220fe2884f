"""Children's weekly schedules ("vistelseschema") from a CSV file of the municipality's attendance system.

Attendance systems (Tempus, Procapita, IST …) export the schedules as one row per child with a column per
weekday, and Swedish Excel saves CSV with `;` and often in Windows-1252. What is accepted:

- A file of at most `MAX_BYTES` (2 MB) with at most `MAX_ROWS` (2 000) children's rows.
- Encoding: UTF-8, with or without BOM; a file that is not valid UTF-8 is read as Windows-1252.
- Separator: `;`, `,` or tab, whichever the header line has most of.
- The first non-empty row is the header. Column names are matched ignoring case, spaces, punctuation and
  accents (so "Hämtas av", "HÄMTAS AV" and "hamtas_av" are the same):
  `Förnamn` (or `Namn`, `Barn`) — required;
  `Avdelning` — optional; the group, by its name at the preschool (case-insensitive);
  `Måndag`/`Mån`/`Må`, `Tisdag`/`Tis`/`Ti`, `Onsdag`/`Ons`/`On`, `Torsdag`/`Tor`/`To`,
  `Fredag`/`Fre`/`Fr` — at least one; a weekday without a column is a day the children do not come;
  `Hämtas av` — optional; who usually picks the child up, on every day they come.
  Any other column (`Personnummer`, `Efternamn` …) is ignored: its values are never kept, shown or
  stored; the preview names the ignored columns.
- A weekday cell is `07:30-16:15` (also `07.30–16.15`, `7:30 - 16:15`, `0730-1615`; hyphen, en or em
  dash), or empty, `-` or `Ledig`: the child does not come that day.
- Row numbers in messages are the spreadsheet's: the header is row 1 when it is the file's first row.

Each row is checked exactly as saving checks it (`check_child`, `clean_pickup_by`, `check_plan`), so a
clean preview saves. A row updates the week of the one active child with that first name (ignoring case)
in its group — in the whole preschool when there is no group — or adds a new child when there is none;
two or more such children is an error for that row (staff change that child's week on the child's page).
Errors are Swedish sentences naming the row and column, never a child's name.

Nothing here touches the database except `apply`, which the caller runs in the request's transaction
after a clean `parse` of the same text: all rows or none.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from laiban.store.children import (
    AVATARS,
    ChildError,
    Plan,
    add_child,
    check_child,
    check_plan,
    child_of,
    children_of,
    clean_pickup_by,
    set_week,
)
from laiban.store.tables import Child, Group, Preschool

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
WEEKDAYS = range(5)  # Monday … Friday
WEEKDAY_NAMES = ("måndag", "tisdag", "onsdag", "torsdag", "fredag")
OFF_WORDS = frozenset({"", "-", "–", "—", "ledig"})
SEPARATORS = (";", "\t", ",")  # on a tie, the first wins (Swedish Excel writes ";")
MAX_ECHO = 20  # how much of a bad cell a message repeats

# Normalised header name → what the column holds ("name", "group", "pickup" or a weekday 0–4).
HEADERS: dict[str, str | int] = {
    "fornamn": "name",
    "namn": "name",
    "barn": "name",
    "avdelning": "group",
    "hamtasav": "pickup",
    **{name: 0 for name in ("mandag", "man", "ma")},
    **{name: 1 for name in ("tisdag", "tis", "ti")},
    **{name: 2 for name in ("onsdag", "ons", "on")},
    **{name: 3 for name in ("torsdag", "tor", "to")},
    **{name: 4 for name in ("fredag", "fre", "fr")},
}
COLUMN_LABELS: dict[str | int, str] = {
    "name": "förnamn",
    "group": "avdelning",
    "pickup": "hämtas av",
    **dict(enumerate(WEEKDAY_NAMES)),
}
# The file's own header the preview re-posts (see `ScheduleImport.canonical_csv`).
CANONICAL_HEADER = ("Förnamn", "Avdelning", "Måndag", "Tisdag", "Onsdag", "Torsdag", "Fredag", "Hämtas av")

_CLOCK = re.compile(r"(\d{1,2})[:.](\d{2})|(\d{1,2})(\d{2})")
_DASHES = re.compile(r"\s*[-–—]\s*")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (size, encoding, header); one Swedish sentence for staff."""


@dataclass
class ImportRow:
    """One child's row of the file, as it will be saved (when `errors` is empty)."""

    line: int
    first_name: str
    group: str = ""  # the group's name as the preschool spells it; "" = no group
    group_id: int | None = None
    week: dict[int, Plan] = field(default_factory=dict)  # weekday → plan; missing = does not come
    pickup_by: str = ""
    child_id: int | None = None  # the child whose week is replaced; None = a new child
    errors: list[str] = field(default_factory=list)
    bad_columns: set[str | int] = field(default_factory=set)  # the cells the errors are about

    @property
    def new(self) -> bool:
        return self.child_id is None


@dataclass
class ScheduleImport:
    """The parsed file: its rows and what the preview tells about its columns."""

    rows: list[ImportRow]
    columns: list[str | int]  # the recognised columns, in the file's order
    ignored_columns: list[str]  # names of the columns that were ignored (never their values)
    missing_weekdays: list[int]
    header_line: int = 1  # the header's row number (blank rows before it count)

    @property
    def errors(self) -> list[str]:
        return [error for row in self.rows for error in row.errors]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors

    @property
    def new_count(self) -> int:
        return sum(1 for row in self.rows if row.new and not row.errors)

    @property
    def updated_count(self) -> int:
        return sum(1 for row in self.rows if not row.new and not row.errors)

    @property
    def has_group(self) -> bool:
        return "group" in self.columns

    def canonical_csv(self) -> str:
        """The file reduced to what is saved, for the preview's "Spara" form to post back: the recognised
        columns only (ignored columns' values never go back to the browser), every record kept so that
        row numbers stay the same when the save parses it again."""
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        by_line = {row.line: row for row in self.rows}
        writer.writerow(CANONICAL_HEADER)
        last = max(by_line, default=1)
        for line in range(self.header_line + 1, last + 1):
            row = by_line.get(line)
            if row is None:
                writer.writerow([""] * len(CANONICAL_HEADER))
                continue
            writer.writerow(
                [
                    row.first_name,
                    row.group,
                    *(_format_plan(row.week.get(day)) for day in WEEKDAYS),
                    row.pickup_by,
                ]
            )
        # Lines before the header: blank records so that numbering is unchanged.
        return "\r\n" * (self.header_line - 1) + out.getvalue()


def _format_plan(plan: Plan | None) -> str:
    if plan is None or plan.arrives_at is None or plan.leaves_at is None:
        return ""
    return f"{plan.arrives_at:%H:%M}-{plan.leaves_at:%H:%M}"


# --- reading the file ----------------------------------------------------------------------------


def decode(raw: bytes) -> str:
    """The file's text: UTF-8 (BOM or not), else Windows-1252; raises ImportFileError."""
    if len(raw) > MAX_BYTES:
        raise ImportFileError("Filen är för stor (högst 2 MB).")
    if not raw.strip():
        raise ImportFileError("Filen är tom.")
    if b"\x00" in raw or raw.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            "Filen är ingen CSV-fil. Spara den som CSV i Excel (Spara som → CSV) och försök igen."
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        raise ImportFileError("Filen är ingen textfil i UTF-8 eller Windows-1252.") from None


def normalise_header(name: str) -> str:
    """ "Hämtas av" → "hamtasav": lower case, without accents, spaces or punctuation."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in folded if ch.isalnum())


def _separator(text: str) -> str:
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    return max(SEPARATORS, key=lambda sep: counts[sep])  # max keeps the first of equal counts


def _records(text: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text)))
    except csv.Error:
        raise ImportFileError("Filen kunde inte läsas som CSV; spara den som CSV i Excel igen.") from None


def _columns(header: list[str]) -> tuple[dict[str | int, int], list[str]]:
    """What each recognised column holds → its index, and the names of the ignored columns."""
    found: dict[str | int, int] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        kind = HEADERS.get(normalise_header(name))
        if kind is None:
            if name.strip():
                ignored.append(" ".join(name.split())[:40])
            continue
        if kind in found:
            raise ImportFileError(
                f"Filen har två kolumner för {COLUMN_LABELS[kind]} (kolumn {found[kind] + 1} och "
                f"{index + 1}); ta bort den ena."
            )
        found[kind] = index
    if "name" not in found:
        raise ImportFileError(
            "Filen saknar en kolumn med barnens förnamn. Första raden ska ha rubriker, till exempel "
            "Förnamn;Avdelning;Måndag;Tisdag;Onsdag;Torsdag;Fredag."
        )
    if not any(day in found for day in WEEKDAYS):
        raise ImportFileError(
            "Filen saknar kolumner för veckodagarna. Första raden ska ha rubriker, till exempel "
            "Förnamn;Avdelning;Måndag;Tisdag;Onsdag;Torsdag;Fredag."
        )
    return found, ignored


# --- one cell ------------------------------------------------------------------------------------


def _clock(text: str) -> dt.time:
    match = _CLOCK.fullmatch(text)
    if match is None:
        raise ValueError(text)
    hours, minutes = (match[1], match[2]) if match[1] is not None else (match[3], match[4])
    return dt.time(int(hours), int(minutes))  # ValueError for 25:00 or 07:75


def parse_day(cell: str) -> tuple[dt.time, dt.time] | None:
    """ "07:30-16:15" → (07:30, 16:15); "", "-" or "Ledig" → None; raises ValueError otherwise."""
    text = " ".join(cell.split())
    if text.casefold() in OFF_WORDS:
        return None
    parts = _DASHES.split(text)
    if len(parts) != 2:
        raise ValueError(text)
    return _clock(parts[0]), _clock(parts[1])


# --- the rows ------------------------------------------------------------------------------------


def _cell(record: list[str], index: int | None) -> str:
    return record[index].strip() if index is not None and index < len(record) else ""


def _echo(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ECHO else text[: MAX_ECHO - 1] + "…"


def parse(text: str, preschool: Preschool, children: Iterable[Child]) -> ScheduleImport:
    """The file's rows, each checked against the preschool (groups, opening hours) and matched to its
    active `children`; raises ImportFileError when the file as a whole cannot be read."""
    if len(text) > MAX_BYTES:
        raise ImportFileError("Filen är för stor (högst 2 MB).")
    records = _records(text)
    header_index = next((i for i, record in enumerate(records) if any(c.strip() for c in record)), None)
    if header_index is None:
        raise ImportFileError("Filen är tom.")
    columns, ignored = _columns(records[header_index])
    body = [
        (number, record)
        for number, record in enumerate(records[header_index + 1 :], start=header_index + 2)
        if any(cell.strip() for cell in record)
    ]
    if not body:
        raise ImportFileError("Filen har rubriker men inga barn.")
    if len(body) > MAX_ROWS:
        raise ImportFileError(
            f"Filen har {len(body)} rader med barn; högst {MAX_ROWS} går att läsa in på en gång. "
            "Dela upp filen, till exempel per avdelning."
        )
    matcher = _Matcher(preschool, children)
    return ScheduleImport(
        rows=[_row(number, record, columns, preschool, matcher) for number, record in body],
        columns=sorted(columns, key=columns.__getitem__),
        ignored_columns=ignored,
        missing_weekdays=[day for day in WEEKDAYS if day not in columns],
        header_line=header_index + 1,
    )


class _Matcher:
    """Finds each row's group and child, and remembers which rows already had which child."""

    def __init__(self, preschool: Preschool, children: Iterable[Child]) -> None:
        self.groups = {group.name.casefold(): group for group in preschool.groups}
        self.active = [c for c in children if c.active and c.preschool_id == preschool.id]
        self.names: dict[tuple[int | None, str], int] = {}  # (group, name) → the first row with it
        self.children: dict[int, int] = {}  # child id → the first row that changes that child

    def group(self, name: str) -> Group | None:
        return self.groups.get(name.casefold())

    def child(self, row: ImportRow) -> str | None:
        """Sets `row.child_id` (None: a new child); the error sentence's end when it cannot."""
        name = row.first_name.casefold()
        key = (row.group_id, name)
        if key in self.names:
            return f"samma förnamn som på rad {self.names[key]}; ett barn kan bara ha en rad."
        self.names[key] = row.line
        same = [
            child
            for child in self.active
            if child.first_name.casefold() == name
            and (row.group_id is None or child.group_id == row.group_id)
        ]
        if len(same) > 1:
            where = "i avdelningen" if row.group_id is not None else "på förskolan"
            return f"flera barn heter så {where}; ändra schemat på barnets sida."
        if same:
            if same[0].id in self.children:
                return f"samma barn som på rad {self.children[same[0].id]}; ett barn kan bara ha en rad."
            self.children[same[0].id] = row.line
            row.child_id = same[0].id
        return None


def _row(
    number: int, record: list[str], columns: dict[str | int, int], preschool: Preschool, matcher: _Matcher
) -> ImportRow:
    row = ImportRow(line=number, first_name="")

    def error(column: str | int | None, message: str) -> None:
        where = f"Rad {number}" if column is None else f"Rad {number}, {COLUMN_LABELS[column]}"
        if column is not None:
            row.bad_columns.add(column)
        row.errors.append(f"{where}: {message}")

    group_text = " ".join(_cell(record, columns.get("group")).split())
    group_ok = True
    if group_text:
        group = matcher.group(group_text)
        if group is None:
            group_ok = False
            error("group", f"förskolan har ingen avdelning som heter ”{_echo(group_text)}”.")
        else:
            row.group, row.group_id = group.name, group.id

    name_ok = False
    try:
        row.first_name, _, _ = check_child(preschool, _cell(record, columns["name"]), row.group_id, "")
        name_ok = True
    except ChildError as exc:
        error("name", _continued(exc))

    try:
        row.pickup_by = clean_pickup_by(_cell(record, columns.get("pickup")))
    except ChildError as exc:
        error("pickup", _continued(exc))

    for day in WEEKDAYS:
        if day not in columns:
            continue
        cell = _cell(record, columns[day])
        try:
            times = parse_day(cell)
        except ValueError:
            error(day, f"”{_echo(cell)}” är ingen tid; skriv till exempel 07:30-16:15.")
            continue
        if times is not None:
            try:
                row.week[day] = check_plan(preschool, Plan(times[0], times[1], row.pickup_by))
            except ChildError as exc:
                error(day, _continued(exc))

    if name_ok and group_ok:
        problem = matcher.child(row)
        if problem:
            error(None, problem)
    return row


def _continued(exc: ChildError) -> str:
    """A store sentence continued after "Rad 4, tisdag: " ("Förskolan är …" → "förskolan är …")."""
    text = str(exc)
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


# --- saving --------------------------------------------------------------------------------------


def apply(session: Session, preschool: Preschool, found: ScheduleImport) -> list[Child]:
    """Saves a clean import: each row's week replaces its child's (a new child first where there is none,
    with the picture least used in their group). Raises ChildError on anything `parse` did not catch; the
    caller rolls the transaction back, so it is all rows or none."""
    if not found.ok:
        raise ChildError("Filen har fel; inget sparades.")
    used: dict[int | None, Counter[str]] = {}
    for child in children_of(session, preschool.id):
        used.setdefault(child.group_id, Counter())[child.avatar] += 1
    saved: list[Child] = []
    for row in found.rows:
        if row.child_id is None:
            counts = used.setdefault(row.group_id, Counter())
            avatar = min(AVATARS, key=lambda name: (counts[name], AVATARS.index(name)))
            counts[avatar] += 1
            child = add_child(session, preschool, row.first_name, row.group_id, avatar)
        else:
            existing = child_of(session, preschool.id, row.child_id)
            if existing is None or not existing.active:
                raise ChildError("Ett barn i filen finns inte längre; läs in filen igen.")
            child = existing
        set_week(session, preschool, child, row.week)
        saved.append(child)
    return saved
