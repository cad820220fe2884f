"""Children's weekly schedules from the attendance system's CSV: the parser (separators, encodings, header
names, cells, every row error, limits, matching children), and the admin page (upload → preview → save,
all or nothing, ignored columns never stored, audit, CSRF and tenancy)."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import String, Text, func, select
from sqlalchemy.orm import Session

from laiban.store import schedule_import
from laiban.store.children import AVATARS, ChildError, Plan, add_child, children_of, set_week, week_of
from laiban.store.schedule_import import (
    MAX_BYTES,
    MAX_ROWS,
    ImportFileError,
    ScheduleImport,
    decode,
    parse,
    parse_day,
)
from laiban.store.tables import AuditEntry, Base, Child, Group, Preschool

from .conftest import Browser, SignIn
from .world import PASSWORD, World

FIXTURES = Path(__file__).with_name("fixtures")
PAGE = "/admin/p/ekorren/children/import"
HEADER = "Förnamn;Avdelning;Måndag;Tisdag;Onsdag;Torsdag;Fredag;Hämtas av"
PERSONNUMMER = ("20210314-1234", "20200102-4321", "20220505-1111")  # in schedules-semicolon.csv
SURNAMES = ("Lindqvist", "Haddad", "Bergström")


def t(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def school(*groups: str) -> Preschool:
    """A preschool that is not in any database (the parser needs none), open 06:30–17:30."""
    preschool = Preschool(
        id=1,
        organisation_id=1,
        slug="ekorren",
        name="Ekorren",
        day_starts_at=t("06:30"),
        day_ends_at=t("17:30"),
        child_photos=False,
    )
    preschool.groups = [Group(id=10 + i, preschool_id=1, name=name) for i, name in enumerate(groups)]
    return preschool


def kid(child_id: int, name: str, group_id: int | None = 10, *, active: bool = True) -> Child:
    return Child(id=child_id, preschool_id=1, group_id=group_id, first_name=name, avatar="cat", active=active)


def parsed(text: str, *children: Child, groups: tuple[str, ...] = ("Svamp", "Blåbär")) -> ScheduleImport:
    return parse(text, school(*groups), children)


def one_row(cells: str, header: str = HEADER) -> schedule_import.ImportRow:
    (row,) = parsed(f"{header}\n{cells}\n").rows
    return row


# --- reading files ---------------------------------------------------------------------------------


def test_semicolon_utf8_with_bom_and_ignored_columns() -> None:
    raw = (FIXTURES / "schedules-semicolon.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    found = parsed(decode(raw), kid(5, "omar"))
    assert found.ok and found.ignored_columns == ["Efternamn", "Personnummer"]
    assert found.missing_weekdays == [] and found.has_group
    asa, omar, kim = found.rows
    assert (asa.line, asa.first_name, asa.group, asa.group_id, asa.pickup_by) == (
        2,
        "Åsa",
        "Svamp",
        10,
        "Mormor",
    )
    assert asa.week == {day: Plan(t("07:30"), t("16:15"), "Mormor") for day in (0, 1, 2)}  # Ledig, "-" = off
    assert (omar.group, omar.child_id, omar.new) == ("Svamp", 5, False)  # "svamp", "Omar" ~ "omar"
    assert sorted(omar.week) == [0, 1, 2, 3, 4]
    assert (kim.group_id, kim.new, kim.week) == (None, True, {0: Plan(t("06:30"), t("17:30"), "Pappa")})
    assert (found.new_count, found.updated_count) == (2, 1)
    # Nothing of the ignored columns is kept anywhere in the result, nor in what the preview posts back.
    kept = repr(found) + found.canonical_csv()
    assert not any(value in kept for value in PERSONNUMMER + SURNAMES)


@pytest.mark.parametrize("separator", [",", "\t", ";"])
def test_comma_tab_and_semicolon_are_sniffed(separator: str) -> None:
    text = (
        separator.join(["Förnamn", "Avdelning", "Måndag", "Tisdag", "Hämtas av"])
        + "\r\n"
        + separator.join(["Åsa", "Svamp", "07:30-16:15", "Ledig", "Moster Eva"])
        + "\r\n"
    )
    found = parsed(text)
    assert found.ok and found.missing_weekdays == [2, 3, 4]
    (row,) = found.rows
    assert (row.first_name, row.group, row.pickup_by) == ("Åsa", "Svamp", "Moster Eva")
    assert row.week == {0: Plan(t("07:30"), t("16:15"), "Moster Eva")}


def test_cp1252_file_is_read_when_not_utf8() -> None:
    raw = (FIXTURES / "schedules-cp1252.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    found = parsed(decode(raw))
    assert found.ok and found.columns == ["name", "group", 0, 1, 2, 3, 4, "pickup"]
    asa, orjan = found.rows
    assert (asa.first_name, asa.pickup_by, asa.week[4]) == (
        "Åsa",
        "Farmor Märta",
        Plan(t("07:30"), t("15:00"), "Farmor Märta"),
    )
    assert orjan.first_name == "Örjan"
    assert orjan.week == {day: Plan(t("08:00"), t("16:00"), "") for day in (0, 2, 4)}  # cp1252's en dash


def test_decode_rejects_what_is_not_a_csv_text() -> None:
    assert decode("Förnamn;Måndag\n".encode()) == "Förnamn;Måndag\n"
    assert decode(b"\xef\xbb\xbfF\xc3\xb6rnamn") == "Förnamn"
    for raw, message in [
        (b"", "tom"),
        (b"  \r\n", "tom"),
        (b"PK\x03\x04 an xlsx file", "ingen CSV-fil"),
        (b"F\x00r\x00n\x00", "ingen CSV-fil"),
        (b"Namn;M\x81ndag", "UTF-8 eller Windows-1252"),  # 0x81 is no character in Windows-1252
        (b"x" * (MAX_BYTES + 1), "högst 2 MB"),
    ]:
        with pytest.raises(ImportFileError, match=message):
            decode(raw)


@pytest.mark.parametrize(
    "header",
    [
        "Förnamn;Avdelning;Måndag;Tisdag;Onsdag;Torsdag;Fredag;Hämtas av",
        "FÖRNAMN;avdelning;MÅN;tis;Ons.;Tor;Fre;HÄMTAS AV",
        "Namn;Avdelning:;Må;Ti;On;To;Fr;hämtas_av",
        "Barn;Avdelning;Mandag;Tisdag;Onsdag;Torsdag;Fredag;Hamtas av",
    ],
)
def test_header_names_ignore_case_spaces_punctuation_and_accents(header: str) -> None:
    row = one_row("Åsa;Svamp;07:30-16:15;07:30-16:15;07:30-16:15;07:30-16:15;07:30-16:15;Mormor", header)
    assert (row.first_name, row.group_id, row.pickup_by, sorted(row.week)) == (
        "Åsa",
        10,
        "Mormor",
        [0, 1, 2, 3, 4],
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "tom"),
        ("\n;;\n", "tom"),
        ("Efternamn;Måndag\nLind;07:30-16:15\n", "saknar en kolumn med barnens förnamn"),
        ("Förnamn;Personnummer;Lördag\nÅsa;20210314-1234;\n", "saknar kolumner för veckodagarna"),
        ("Förnamn;Måndag;Namn\nÅsa;07:30-16:15;Åsa\n", "två kolumner för förnamn"),
        (f"{HEADER}\n\n", "inga barn"),
        ('Förnamn;Måndag\n"Åsa;07:30-16:15\n' + "x" * 200_000 + '"\n', "kunde inte läsas som CSV"),
    ],
)
def test_file_errors(text: str, message: str) -> None:
    with pytest.raises(ImportFileError, match=message):
        parsed(text)


def letters(number: int) -> str:
    """0 → "aaa", 1 → "aab" …: distinct names that are valid first names."""
    return "".join(chr(0x61 + number // 26**k % 26) for k in (2, 1, 0))


def test_at_most_max_rows_children() -> None:
    names = [f"Barn{letters(i)}" for i in range(MAX_ROWS + 1)]
    exactly = "Förnamn;Måndag\n" + "".join(f"{name};07:30-16:15\n" for name in names[:MAX_ROWS])
    found = parsed(exactly)
    assert found.ok and len(found.rows) == MAX_ROWS
    too_many = exactly + f"{names[-1]};07:30-16:15\n"
    with pytest.raises(ImportFileError, match=f"högst {MAX_ROWS}"):
        parsed(too_many)
    with pytest.raises(ImportFileError, match="högst 2 MB"):
        parsed("Förnamn;Måndag\n" + "x" * MAX_BYTES)


# --- cells and rows -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    ["07:30-16:15", "07.30–16.15", "7:30 - 16:15", "7.30—16.15", " 07:30 –16:15 ", "0730-1615"],
)
def test_a_day_is_written_in_many_ways(cell: str) -> None:
    assert parse_day(cell) == (t("07:30"), t("16:15"))


@pytest.mark.parametrize("cell", ["", "  ", "-", "–", "Ledig", "LEDIG", " ledig "])
def test_empty_dash_and_ledig_mean_not_coming(cell: str) -> None:
    assert parse_day(cell) is None
    row = one_row(f"Åsa;Svamp;{cell};07:30-16:15;;;;")
    assert row.errors == [] and row.week == {1: Plan(t("07:30"), t("16:15"), "")}


@pytest.mark.parametrize(
    ("cell", "echo"),
    [
        ("7:3O-16", "7:3O-16"),
        ("07:30", "07:30"),
        ("07:30-", "07:30-"),
        ("25:00-26:00", "25:00-26:00"),
        ("07:75-16:00", "07:75-16:00"),
        ("07:30-12:00-16:00", "07:30-12:00-16:00"),
        ("hela dagen utom när det regnar", "hela dagen utom när…"),
    ],
)
def test_a_bad_time_names_row_column_and_cell(cell: str, echo: str) -> None:
    row = one_row(f"Åsa;Svamp;07:30-16:15;{cell};;;;")
    assert row.errors == [f"Rad 2, tisdag: ”{echo}” är ingen tid; skriv till exempel 07:30-16:15."]
    assert row.bad_columns == {1}
    assert row.week == {0: Plan(t("07:30"), t("16:15"), "")}


def test_leaving_before_arriving_and_outside_opening_hours() -> None:
    found = parsed(
        f"{HEADER}\n"
        "Åsa;Svamp;16:15-07:30;07:30-07:30;;;;\n"
        "Omar;Svamp;05:45-16:00;07:00-18:00;06:30-17:30;;;\n"
    )
    asa, omar = found.rows
    assert asa.errors == [
        "Rad 2, måndag: hämtningen måste vara senare än lämningen.",
        "Rad 2, tisdag: hämtningen måste vara senare än lämningen.",
    ]
    assert omar.errors == [
        "Rad 3, måndag: förskolan är öppen 06:30–17:30; välj en tid då.",
        "Rad 3, tisdag: förskolan är öppen 06:30–17:30; välj en tid då.",
    ]
    assert omar.week == {2: Plan(t("06:30"), t("17:30"), "")}  # the right day is still read
    assert not found.ok and found.errors == asa.errors + omar.errors


def test_names_groups_and_pickup_are_checked_like_the_children_page() -> None:
    found = parsed(
        f"{HEADER}\n"
        ";Svamp;07:30-16:15;;;;;\n"
        "Åsa2;Svamp;07:30-16:15;;;;;\n"
        f"{'A' * 41};Svamp;07:30-16:15;;;;;\n"
        "Omar;Humlorna;07:30-16:15;;;;;\n"
        "Kim;blåbär;07:30-16:15;;;;;<script>\n"
        "Ella;;07:30-16:15;;;;;" + "x" * 61 + "\n"
    )
    assert [row.errors for row in found.rows] == [
        ["Rad 2, förnamn: skriv barnets förnamn."],
        ["Rad 3, förnamn: förnamnet får bara innehålla bokstäver, mellanslag, bindestreck och apostrof."],
        ["Rad 4, förnamn: förnamnet får vara högst 40 tecken."],
        ["Rad 5, avdelning: förskolan har ingen avdelning som heter ”Humlorna”."],
        ["Rad 6, hämtas av: vem som hämtar får inte innehålla tecknen < > { }."],
        ["Rad 7, hämtas av: vem som hämtar får vara högst 60 tecken."],
    ]
    assert found.rows[4].group == "Blåbär"  # matched ignoring case, spelled as the preschool does


def test_matching_children_by_first_name_in_the_group() -> None:
    children = (
        kid(1, "Åsa", 10),
        kid(2, "ÅSA", 11),  # same name, other group
        kid(3, "Omar", 10),
        kid(4, "Omar", 10),  # two Omar in Svamp
        kid(5, "Kim", 10, active=False),  # inactive children are not matched
        kid(6, "Ella", None),
    )
    found = parsed(
        f"{HEADER}\n"
        "åsa;Svamp;07:30-16:15;;;;;\n"
        "Åsa;Blåbär;07:30-16:15;;;;;\n"
        "Omar;Svamp;07:30-16:15;;;;;\n"
        "Kim;Svamp;07:30-16:15;;;;;\n"
        "Ella;;07:30-16:15;;;;;\n",
        *children,
    )
    assert [(row.child_id, row.errors) for row in found.rows] == [
        (1, []),
        (2, []),
        (None, ["Rad 4: flera barn heter så i avdelningen; ändra schemat på barnets sida."]),
        (None, []),  # a new Kim
        (6, []),
    ]
    # Without a group the whole preschool is searched.
    (row,) = parsed("Förnamn;Måndag\nÅsa;07:30-16:15\n", *children).rows
    assert row.errors == ["Rad 2: flera barn heter så på förskolan; ändra schemat på barnets sida."]
    (row,) = parsed("Förnamn;Måndag\nOmar;07:30-16:15\n", kid(3, "Omar", 10)).rows
    assert (row.child_id, row.errors) == (3, [])


def test_one_row_per_child() -> None:
    found = parsed(
        f"{HEADER}\nÅsa;Svamp;07:30-16:15;;;;;\nÅsa;Blåbär;07:30-16:15;;;;;\nasa;Svamp;;;;;;\nÅSA;Svamp;-;;;;;\n"
    )
    assert [row.errors for row in found.rows] == [
        [],
        [],
        [],  # "asa" is another name than "Åsa"
        ["Rad 5: samma förnamn som på rad 2; ett barn kan bara ha en rad."],
    ]
    # One existing child reached from two rows (with and without the group).
    found = parsed(f"{HEADER}\nOmar;Svamp;07:30-16:15;;;;;\nOmar;;08:00-16:15;;;;;\n", kid(3, "Omar", 10))
    assert [row.errors for row in found.rows] == [
        [],
        ["Rad 3: samma barn som på rad 2; ett barn kan bara ha en rad."],
    ]


def test_errors_never_hold_a_childs_name() -> None:
    found = parsed(
        f"{HEADER}\n"
        "Wilhelmina;Humlorna;7:3O-16;16:00-08:00;05:00-06:00;;;" + "<" * 3 + "\n"
        "Wilhelmina;Svamp;x;;;;;\n"
        "Theodor;Svamp;07:30-16:15;;;;;\n",
        kid(1, "Theodor", 10),
        kid(2, "theodor", 10),
    )
    assert len(found.errors) == 7
    assert not any("Wilhelmina" in error or "heodor" in error for error in found.errors)
    assert all(error.startswith("Rad ") for error in found.errors)


def test_rows_are_numbered_like_the_spreadsheet_and_kept_in_the_saved_text() -> None:
    text = (
        "\r\n"
        "Förnamn;Efternamn;Personnummer;Måndag;Tisdag\r\n"
        "Åsa;Lind;20210314-1234;07:30-16:15;-\r\n"
        ";;;;\r\n"
        '"Omar";"Haddad; Jr";"20200102-4321";"08:00-15:00";Ledig\r\n'
        "Kim;Berg;20220505-1111;8-15;\r\n"
    )
    found = parsed(text)
    assert [row.line for row in found.rows] == [3, 5, 6]
    assert found.errors == ["Rad 6, måndag: ”8-15” är ingen tid; skriv till exempel 07:30-16:15."]
    clean = parsed(text.replace("8-15", "08:00-15:00"))
    again = parsed(clean.canonical_csv())
    assert [(r.line, r.first_name, r.group_id, r.week, r.pickup_by) for r in again.rows] == [
        (r.line, r.first_name, r.group_id, r.week, r.pickup_by) for r in clean.rows
    ]
    assert again.ok and not any(
        value in clean.canonical_csv() for value in ("Lind", "Haddad", "2021", "2020")
    )


def test_all_days_off_leaves_an_empty_week() -> None:
    row = one_row("Åsa;Svamp;;-;Ledig;;;Mormor")
    assert (row.errors, row.week, row.pickup_by) == ([], {}, "Mormor")


# --- the page ---------------------------------------------------------------------------------------


def svamp_of(preschool: Preschool) -> int:
    return next(group.id for group in preschool.groups if group.name == "Svamp")


@pytest.fixture
def pedagogue(world: World, browser_for: SignIn, db: Session) -> Browser:
    preschool = db.get_one(Preschool, world.ekorren)
    preschool.groups.append(Group(name="Blåbär"))
    db.commit()
    return browser_for(world.pedagogue_ekorren, PASSWORD)


def upload(browser: Browser, content: bytes, *, slug: str = "ekorren", csrf: bool = True) -> httpx.Response:
    return browser.client.post(
        f"/admin/p/{slug}/children/import",
        data={"csrf_token": browser.csrf} if csrf else {},
        files={"file": ("vistelse.csv", content, "text/csv")},
    )


def text_of(response: httpx.Response) -> str:
    """The page as a reader sees it: entities decoded, runs of white space as one space."""
    return " ".join(html.unescape(response.text).split())


def posted_back(page: str) -> str:
    match = re.search(r'<textarea name="csv"[^>]*>\n(.*?)</textarea>', page, re.DOTALL)
    assert match, "no Spara form"
    return html.unescape(match.group(1))


def names_and_weeks(db: Session, preschool_id: int) -> dict[str, dict[int, Plan]]:
    db.expire_all()
    return {child.first_name: week_of(db, child.id) for child in children_of(db, preschool_id)}


def all_stored_text(db: Session) -> str:
    """Every text value of every table, to prove something is stored nowhere."""
    db.expire_all()
    values: list[str] = []
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text)]
        if columns:
            values.extend(str(v) for row in db.execute(select(*columns)) for v in row if v is not None)
    return "\n".join(values)


def test_the_page_explains_the_format(pedagogue: Browser, world: World, browser_for: SignIn) -> None:
    page = pedagogue.get(PAGE)
    assert page.status_code == 200
    for text in (
        "Förnamn",
        "Hämtas av",
        "07:30-16:15",
        "Ledig",
        "Windows-1252",
        "Personnummer",
        "2 000 barn",
    ):
        assert text in page.text
    assert 'enctype="multipart/form-data"' in page.text and "(Blåbär, Svamp)" in page.text


def test_preview_shows_the_rows_and_stores_nothing(pedagogue: Browser, db: Session, world: World) -> None:
    preschool = db.get_one(Preschool, world.ekorren)
    add_child(db, preschool, "Omar", svamp_of(preschool))
    db.commit()
    before = names_and_weeks(db, world.ekorren)
    response = upload(pedagogue, (FIXTURES / "schedules-semicolon.csv").read_bytes())
    assert response.status_code == 200, response.text
    page = text_of(response)
    assert "3 rader med barn: 2 nya barn, 1 barn som får nytt veckoschema." in page
    assert re.search(r"<td>2</td>\s*<td>Åsa</td>\s*<td>Svamp</td>\s*<td>07:30–16:15</td>", page)
    assert page.count("<strong>ny</strong>") == 2 and page.count("uppdateras") == 1
    assert "Kolumnerna Efternamn, Personnummer lästes inte in" in page
    assert not any(value in page for value in PERSONNUMMER + SURNAMES)
    assert "Åsa;Svamp;07:30-16:15;07:30-16:15;07:30-16:15;;;Mormor" in posted_back(response.text)
    assert names_and_weeks(db, world.ekorren) == before == {"Omar": {}}


def test_save_creates_and_updates_children_and_their_weeks(
    pedagogue: Browser, db: Session, world: World
) -> None:
    preschool = db.get_one(Preschool, world.ekorren)
    svamp = svamp_of(preschool)
    omar = add_child(db, preschool, "Omar", svamp, "lion")
    set_week(db, preschool, omar, {4: Plan(t("09:00"), t("12:00"), "Farfar")})
    add_child(db, preschool, "Leo", svamp, AVATARS[0])  # Leo has the first picture already
    db.commit()
    preview = upload(pedagogue, (FIXTURES / "schedules-semicolon.csv").read_bytes())
    assert preview.status_code == 200
    saved = pedagogue.post(f"{PAGE}/save", {"csv": posted_back(preview.text)}, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == "/admin/p/ekorren/children?imported=3"
    weeks = names_and_weeks(db, world.ekorren)
    assert weeks["Åsa"] == {day: Plan(t("07:30"), t("16:15"), "Mormor") for day in (0, 1, 2)}
    assert weeks["Omar"] == {day: Plan(t("08:00"), t("15:00"), "") for day in range(5)}  # replaced
    assert weeks["Kim"] == {0: Plan(t("06:30"), t("17:30"), "Pappa")}
    children = {c.first_name: c for c in children_of(db, world.ekorren)}
    assert children["Omar"].id == omar.id and children["Omar"].avatar == "lion"
    assert (children["Åsa"].group_id, children["Kim"].group_id) == (svamp, None)
    assert children["Åsa"].avatar == AVATARS[1]  # the first picture nobody in Svamp has
    assert children["Kim"].avatar == AVATARS[0]  # nobody without a group has one yet
    stored = all_stored_text(db)
    assert not any(value in stored for value in PERSONNUMMER + SURNAMES)
    entries = db.scalars(select(AuditEntry).where(AuditEntry.preschool_id == world.ekorren)).all()
    assert sorted((e.action, e.subject, e.child_id, e.actor) for e in entries) == sorted(
        ("import", "week", children[name].id, "pedagog") for name in ("Åsa", "Omar", "Kim")
    )
    assert "Importerat: 3 barns veckoschema är sparat." in pedagogue.get(saved.headers["location"]).text
    # The same file again updates the three children; no new ones.
    again = upload(pedagogue, (FIXTURES / "schedules-semicolon.csv").read_bytes())
    assert "0 nya barn, 3 barn som får nytt veckoschema" in text_of(again)
    pedagogue.post(f"{PAGE}/save", {"csv": posted_back(again.text)}, follow_redirects=False)
    assert sorted(names_and_weeks(db, world.ekorren)) == ["Kim", "Leo", "Omar", "Åsa"]


def test_cp1252_file_saves_its_names(pedagogue: Browser, db: Session, world: World) -> None:
    preview = upload(pedagogue, (FIXTURES / "schedules-cp1252.csv").read_bytes())
    assert preview.status_code == 200 and "Örjan" in preview.text
    saved = pedagogue.post(f"{PAGE}/save", {"csv": posted_back(preview.text)}, follow_redirects=False)
    assert saved.status_code == 303
    weeks = names_and_weeks(db, world.ekorren)
    assert sorted(weeks) == ["Åsa", "Örjan"] and weeks["Åsa"][4].pickup_by == "Farmor Märta"


def test_a_file_with_errors_cannot_be_saved(pedagogue: Browser, db: Session, world: World) -> None:
    content = f"{HEADER}\nÅsa;Svamp;07:30-16:15;;;;;\nOmar;Svamp;7:3O-16;;;;;\n".encode()
    response = upload(pedagogue, content)
    assert response.status_code == 400
    page = text_of(response)
    assert "Inget kan sparas förrän alla rader är rätt. Rätta rad 3 i filen" in page
    assert "Rad 3, måndag: ”7:3O-16” är ingen tid; skriv till exempel 07:30-16:15." in page
    assert re.search(
        r"<td>3</td>\s*<td>Omar</td>\s*<td>Svamp</td>\s*<td><span class=\"error\">fel</span></td>",
        response.text,
    )
    assert 'name="csv"' not in page and names_and_weeks(db, world.ekorren) == {}
    for content, message in [
        (b"", "Välj en CSV-fil"),
        (b"Efternamn;Personnummer\nLind;20210314-1234\n", "saknar en kolumn med barnens förnamn"),
        (b"F\xc3\xb6rnamn;Personnummer\n\xc3\x85sa;20210314-1234\n", "saknar kolumner för veckodagarna"),
        (b"PK\x03\x04rest of an xlsx", "ingen CSV-fil"),
    ]:
        response = upload(pedagogue, content)
        assert response.status_code == 400 and message in text_of(response)
        assert "20210314-1234" not in response.text


def test_save_parses_again_and_stores_all_or_nothing(
    pedagogue: Browser, db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    preschool = db.get_one(Preschool, world.ekorren)
    svamp = svamp_of(preschool)
    omar = add_child(db, preschool, "Omar", svamp)
    set_week(db, preschool, omar, {4: Plan(t("09:00"), t("12:00"), "")})
    db.commit()
    before = names_and_weeks(db, world.ekorren)
    tampered = (
        f"{HEADER}\nÅsa;Svamp;07:30-16:15;;;;;\nOmar;Svamp;08:00-16:00;;;;;\nKim;Svamp;05:00-16:00;;;;;\n"
    )
    response = pedagogue.post(f"{PAGE}/save", {"csv": tampered})
    assert response.status_code == 400
    page = text_of(response)
    assert "Inget sparades" in page and "Rad 4, måndag: förskolan är öppen 06:30–17:30" in page
    assert names_and_weeks(db, world.ekorren) == before
    # A failure while saving (after some rows were written) rolls every row back.
    calls = []

    def failing_set_week(*args: object) -> None:
        calls.append(args)
        if len(calls) == 2:
            raise ChildError("Okänd veckodag.")
        schedule_import_set_week(*args)  # type: ignore[arg-type]

    schedule_import_set_week = schedule_import.set_week
    monkeypatch.setattr(schedule_import, "set_week", failing_set_week)
    clean = f"{HEADER}\nÅsa;Svamp;07:30-16:15;;;;;\nOmar;Svamp;08:00-16:00;;;;;\n"
    response = pedagogue.post(f"{PAGE}/save", {"csv": clean})
    assert response.status_code == 400 and "Okänd veckodag." in response.text and len(calls) == 2
    assert names_and_weeks(db, world.ekorren) == before
    assert db.scalar(select(func.count()).where(AuditEntry.action == "import")) == 0
    assert pedagogue.post(f"{PAGE}/save", {"csv": ""}).status_code == 400


def test_only_staff_of_the_preschool(
    world: World, browser_for: SignIn, client: TestClient, db: Session
) -> None:
    myran = db.get_one(Preschool, world.myran)
    other = add_child(db, myran, "Åsa", None)
    db.commit()
    content = b"Fornamn;Mandag\nAsa;07:30-16:15\n"
    stranger = browser_for(world.org_admin_b, PASSWORD)
    assert stranger.get(PAGE).status_code == 404
    assert upload(stranger, content).status_code == 404
    assert stranger.post(f"{PAGE}/save", {"csv": content.decode()}).status_code == 404
    pedagogue = browser_for(world.pedagogue_ekorren, PASSWORD)
    assert pedagogue.get("/admin/p/humlan/children/import").status_code == 403
    assert upload(pedagogue, content, slug="humlan").status_code == 403
    assert (
        pedagogue.post("/admin/p/humlan/children/import/save", {"csv": content.decode()}).status_code == 403
    )
    assert client.get(PAGE, follow_redirects=False).status_code in (302, 303)  # to the login page
    # Myran's children are neither matched nor changed by Ekorren's import.
    own = stranger.post(
        "/admin/p/myran/children/import/save",
        {"csv": "Förnamn;Måndag\nÅsa;07:30-16:15\n"},
        follow_redirects=False,
    )
    assert own.status_code == 303
    admin = browser_for(world.admin_ekorren, PASSWORD)
    preview = upload(admin, "Förnamn;Måndag\nÅsa;08:00-16:00\n".encode())
    assert "<strong>ny</strong>" in preview.text
    admin.post(f"{PAGE}/save", {"csv": posted_back(preview.text)}, follow_redirects=False)
    db.expire_all()
    assert week_of(db, other.id) == {0: Plan(t("07:30"), t("16:15"), "")}
    assert names_and_weeks(db, world.ekorren) == {"Åsa": {0: Plan(t("08:00"), t("16:00"), "")}}


def test_csrf_is_required(pedagogue: Browser, db: Session, world: World) -> None:
    content = (FIXTURES / "schedules-semicolon.csv").read_bytes()
    assert upload(pedagogue, content, csrf=False).status_code == 403
    no_token = pedagogue.client.post(f"{PAGE}/save", data={"csv": content.decode("utf-8-sig")})
    assert no_token.status_code == 403
    wrong = pedagogue.client.post(
        f"{PAGE}/save", data={"csv": content.decode("utf-8-sig"), "csrf_token": "x"}
    )
    assert wrong.status_code == 403
    assert names_and_weeks(db, world.ekorren) == {}
