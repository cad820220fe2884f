"""Menu sources against a real HTTP server on 127.0.0.1: skolmaten.se's week RSS and Mashie's public page.

Both fixtures in tests/fixtures/ are hand-made from the documented shapes (not recorded): week 48 of
2026 (Mon 23 – Fri 27 Nov) at a Helsingborg preschool. The RSS fixture keeps one raw "&" in a
description, as kitchens' feeds do.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from laiban.model.menu import MenuDay
from laiban.sources import SourceError, mashie, skolmaten

from .localserver import LocalServer, Reply, Seen

FIXTURES = Path(__file__).parent / "fixtures"
SLUG = "solrosens-forskola-helsingborg"
RSS_PATH = f"/api/4/rss/week/{SLUG}"
MENU_PATH = "Helsingborg/1234abcd"
MASHIE_PATH = "/public/menu/Helsingborg/1234abcd"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
WEEK = [dt.date(2026, 11, day) for day in range(23, 28)]
RSS_TYPE = {"Content-Type": "application/rss+xml; charset=utf-8"}
HTML_TYPE = {"Content-Type": "text/html; charset=utf-8"}


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0, trust_env=False) as http:  # trust_env: no proxy for 127.0.0.1
        yield http


@pytest.fixture
def quick_client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=0.5, trust_env=False) as http:
        yield http


@pytest.fixture
def rss_text() -> str:
    return (FIXTURES / "skolmaten-week-rss.xml").read_text(encoding="utf-8")


@pytest.fixture
def mashie_html() -> str:
    return (FIXTURES / "mashie-menu.html").read_text(encoding="utf-8")


def rss(*items: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title>'
        + "".join(items)
        + "</channel></rss>"
    )


def item(description: str | None, pub_date: str | None = None, guid: str | None = None) -> str:
    parts = ["<item><title>Dag</title>"]
    if description is not None:
        parts.append(f"<description>{description}</description>")
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{guid}</guid>')
    if pub_date is not None:
        parts.append(f"<pubDate>{pub_date}</pubDate>")
    return "".join(parts) + "</item>"


def rss_dishes(description: str) -> tuple[str, ...]:
    (day,) = skolmaten.parse(rss(item(description, "Mon, 23 Nov 2026 00:00:00 GMT")))
    return day.dishes


def page(script: str) -> str:
    return f"<!DOCTYPE html><html><head><script>{script}</script></head><body><p>Meny</p></body></html>"


def week_menues(*days: dict[str, object], var: str = "var weekMenues = ", tail: str = ";") -> str:
    data = json.dumps({"Weeks": [{"WeekNumber": 48, "Days": list(days)}]})
    return page(var + data.replace("</", "<\\/") + tail)  # as servers write "</script>" inside a script


def ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=STOCKHOLM).timestamp() * 1000)


def skolmaten_fetch(server: LocalServer, http: httpx.Client, reply: Reply, slug: str = SLUG) -> list[MenuDay]:
    server.routes[RSS_PATH] = reply
    return skolmaten.fetch(http, server.url, slug)


def mashie_fetch(server: LocalServer, http: httpx.Client, reply: Reply) -> list[MenuDay]:
    server.routes[MASHIE_PATH] = reply
    return mashie.fetch(http, server.url, MENU_PATH)


# --- skolmaten.se: the fixture -------------------------------------------------------------------------


def test_skolmaten_fetch_parses_the_fixture(server: LocalServer, client: httpx.Client, rss_text: str) -> None:
    days = skolmaten_fetch(server, client, Reply(200, rss_text.encode(), RSS_TYPE))

    assert [day.day for day in days] == WEEK
    assert {day.meal for day in days} == {"lunch"}
    assert days[0].dishes == ("Köttbullar med potatismos och lingonsylt", "Vegetariska bullar med potatismos")
    assert days[1].dishes[0] == "Krämig fiskgratäng med dill, serveras med kokt potatis"
    assert days[-1].dishes == ("Kycklinggryta med ris & sallad", "Quornfilé med ris")  # a raw "&" in the feed
    assert days == skolmaten.parse(rss_text)


def test_skolmaten_request_path_query_and_quoting(
    server: LocalServer, client: httpx.Client, rss_text: str
) -> None:
    skolmaten_fetch(server, client, Reply(200, rss_text.encode(), RSS_TYPE))
    assert server.seen[-1].path == f"{RSS_PATH}?locale=sv"
    assert "xml" in server.seen[-1].headers["accept"]

    server.routes["/api/4/rss/week/a%2Fb%20c"] = Reply(200, rss().encode(), RSS_TYPE)
    assert skolmaten.fetch(client, server.url + "/", "a/b c") == []
    assert server.seen[-1].path == "/api/4/rss/week/a%2Fb%20c?locale=sv"


def test_skolmaten_empty_week_is_not_an_error(server: LocalServer, client: httpx.Client) -> None:
    assert skolmaten_fetch(server, client, Reply(200, rss().encode(), RSS_TYPE)) == []


def test_skolmaten_without_a_charset_reads_the_xml_declaration(
    server: LocalServer, client: httpx.Client
) -> None:
    body = rss(item("Fiskgratäng", "Mon, 23 Nov 2026 00:00:00 GMT")).replace("UTF-8", "ISO-8859-1")
    days = skolmaten_fetch(
        server, client, Reply(200, body.encode("iso-8859-1"), {"Content-Type": "text/xml"})
    )
    assert days[0].dishes == ("Fiskgratäng",)


# --- skolmaten.se: dishes ------------------------------------------------------------------------------


def test_skolmaten_html_and_script_come_out_as_plain_text() -> None:
    dishes = rss_dishes(
        "&lt;script&gt;alert(1)&lt;/script&gt;Fisk &lt;b&gt;med&lt;/b&gt; potatis"
        "&lt;br/&gt;&lt;img src=x onerror=alert(2)&gt;Soppa &amp;amp; bröd"
        "&lt;br/&gt;&amp;lt;i&amp;gt;Pasta&amp;lt;/i&amp;gt;"  # escaped twice
        '&lt;br/&gt;&lt;a href="x" title="&gt;"&gt;Gröt&lt;/a&gt; &amp;nbsp; med sylt'
        "&lt;br/&gt;Sallad &lt;scr"
    )
    assert dishes == ("alert(1)Fisk med potatis", "Soppa & bröd", "Pasta", "Gröt med sylt", "Sallad")
    for dish in dishes:
        assert "<" not in dish and ">" not in dish


@pytest.mark.parametrize(
    "separator",
    [
        "&lt;br/&gt;",
        "&lt;br&gt;",
        "&lt;br /&gt;",
        "&lt;BR&gt;",
        "&lt;br\t/&gt;",
        "\n",
        "\r\n",
        "&lt;/p&gt;&lt;p&gt;",
    ],
)
def test_skolmaten_line_break_variants(separator: str) -> None:
    assert rss_dishes(f"Fisk med potatis{separator}Grönsaksbiffar") == ("Fisk med potatis", "Grönsaksbiffar")


def test_skolmaten_cleaning_collapses_caps_and_drops_empties() -> None:
    long = "ä" * 400
    many = "&lt;br/&gt;".join(f"Rätt {n}" for n in range(15))
    assert rss_dishes(
        "  Fisk\t med\u00a0 potatis \u200b &lt;br/&gt; &lt;br/&gt;&lt;br&gt;  &lt;br/&gt;Soppa"
    ) == (
        "Fisk med potatis",
        "Soppa",
    )
    (capped,) = rss_dishes(long)
    assert len(capped) == 300 and capped.endswith("…")
    assert rss_dishes(many) == tuple(f"Rätt {n}" for n in range(10))
    assert rss_dishes("Soppa&lt;br/&gt;Soppa&lt;br/&gt;Bröd") == ("Soppa", "Bröd")


# --- skolmaten.se: dates and items ---------------------------------------------------------------------


def test_skolmaten_missing_or_unreadable_pub_date_uses_the_guid() -> None:
    days = skolmaten.parse(
        rss(
            item("Onsdag", None, f"{SLUG}-2026-11-25"),
            item("Tisdag", "inte ett datum", f"{SLUG}-2026-11-24"),
            item("Måndag", "", f"{SLUG}-2026-11-23 "),
            item("Ingen dag", None, f"{SLUG}-2026-13-40"),
            item("Ingen dag heller", None, None),
            item("Torsdag", "Thu, 26 Nov 2026 00:00:00 GMT", f"{SLUG}-2026-01-01"),  # pubDate wins
        )
    )
    assert [(day.day, day.dishes) for day in days] == [
        (WEEK[0], ("Måndag",)),
        (WEEK[1], ("Tisdag",)),
        (WEEK[2], ("Onsdag",)),
        (WEEK[3], ("Torsdag",)),
    ]


@pytest.mark.parametrize(
    "pub_date",
    [
        "Mon, 23 Nov 2026 00:00:00 GMT",
        "Sun, 22 Nov 2026 23:00:00 GMT",  # midnight in Stockholm, written in GMT
        "Mon, 23 Nov 2026 00:00:00 +0100",
        "Mon, 23 Nov 2026 00:00:00 -0000",
        "23 Nov 2026 11:30:00 +0100",
    ],
)
def test_skolmaten_pub_date_is_the_swedish_day(pub_date: str) -> None:
    (day,) = skolmaten.parse(rss(item("Fisk", pub_date)))
    assert day.day == WEEK[0]


def test_skolmaten_skips_items_without_dishes_or_date_and_keeps_the_first_of_a_day() -> None:
    days = skolmaten.parse(
        rss(
            item("Torsdag", "Thu, 26 Nov 2026 00:00:00 GMT"),
            item("Måndag", "Mon, 23 Nov 2026 00:00:00 GMT"),
            item("Måndag igen", "Mon, 23 Nov 2026 00:00:00 GMT"),
            item(None, "Tue, 24 Nov 2026 00:00:00 GMT"),
            item(" &lt;br/&gt; &lt;p&gt;&lt;/p&gt; ", "Wed, 25 Nov 2026 00:00:00 GMT"),
            item("Ingen dag"),
        )
    )
    assert [(day.day, day.dishes) for day in days] == [(WEEK[0], ("Måndag",)), (WEEK[3], ("Torsdag",))]


def test_skolmaten_an_item_without_dishes_does_not_hide_a_later_one_of_its_day() -> None:
    days = skolmaten.parse(
        rss(item("", "Mon, 23 Nov 2026 00:00:00 GMT"), item("Fisk", "Mon, 23 Nov 2026 00:00:00 GMT"))
    )
    assert [day.dishes for day in days] == [("Fisk",)]


# --- skolmaten.se: refused and broken feeds ------------------------------------------------------------

BOMB = """<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<rss><channel><item><description>&d;</description><pubDate>Mon, 23 Nov 2026 00:00:00 GMT</pubDate></item>
</channel></rss>"""

EXTERNAL = """<?xml version="1.0"?>
<!doctype rss SYSTEM "http://127.0.0.1:9/evil.dtd">
<rss><channel></channel></rss>"""


@pytest.mark.parametrize("body", [BOMB, EXTERNAL, '<rss><!ENTITY x "y"><channel/></rss>'])
def test_skolmaten_refuses_doctype_and_entities(body: str) -> None:
    with pytest.raises(SourceError, match=r"^skolmaten\.se sent a reply that is not a valid menu feed"):
        skolmaten.parse(body)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><body>Not found</body>",
        b"<rss><channel><item></channel></rss>",
        b'{"menu": []}',
        b"<feed xmlns='http://www.w3.org/2005/Atom'></feed>",
        b"\xff\xfe<rss>",
    ],
)
def test_skolmaten_garbage_is_a_source_error(server: LocalServer, client: httpx.Client, body: bytes) -> None:
    with pytest.raises(
        SourceError, match=r"^skolmaten\.se sent a reply that is not a valid menu feed\.$"
    ) as caught:
        skolmaten_fetch(server, client, Reply(200, body, RSS_TYPE))
    assert caught.value.status == 200


def test_skolmaten_bomb_over_http(server: LocalServer, client: httpx.Client) -> None:
    with pytest.raises(SourceError, match=r"declares a DOCTYPE\.$"):
        skolmaten_fetch(server, client, Reply(200, BOMB.encode(), RSS_TYPE))


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(404, b"Not found"), rf"^skolmaten\.se does not know the school '{SLUG}'\.$"),
        (
            Reply(500, b"oops"),
            r"^skolmaten\.se answered 500: the service has a problem, so try again later\.$",
        ),
        (Reply(503), r"^skolmaten\.se answered 503: the service has a problem"),
        (Reply(429), r"^skolmaten\.se answered 429: too many requests, so fetch less often\.$"),
        (Reply(403), r"^skolmaten\.se answered 403 instead of a menu feed\.$"),
        (
            Reply(301, b"", {"Location": "/elsewhere"}),
            r"^skolmaten\.se answered 301 instead of a menu feed\.$",
        ),
    ],
)
def test_skolmaten_http_errors(server: LocalServer, client: httpx.Client, reply: Reply, message: str) -> None:
    with pytest.raises(SourceError, match=message) as caught:
        skolmaten_fetch(server, client, reply)
    assert caught.value.status == reply.status


def test_skolmaten_timeout(server: LocalServer, quick_client: httpx.Client) -> None:
    with pytest.raises(
        SourceError, match=r"^skolmaten\.se did not answer in time \(within 0\.5 seconds\)\.$"
    ):
        skolmaten_fetch(server, quick_client, Reply(200, rss().encode(), delay=10))


def test_skolmaten_connection_refused_and_empty_slug(client: httpx.Client) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceError, match=r"^skolmaten\.se could not be reached \(.+\)\.$"):
        skolmaten.fetch(client, f"http://127.0.0.1:{port}", SLUG)
    with pytest.raises(SourceError, match=r"^The skolmaten\.se school name is empty\.$"):
        skolmaten.fetch(client, f"http://127.0.0.1:{port}", "  ")


# --- Mashie: the fixture -------------------------------------------------------------------------------


def test_mashie_fixture_milliseconds_are_midnight_in_stockholm() -> None:
    assert [ms(day) for day in WEEK] == [
        1795388400000,
        1795474800000,
        1795561200000,
        1795647600000,
        1795734000000,
    ]


def test_mashie_fetch_parses_the_fixture(server: LocalServer, client: httpx.Client, mashie_html: str) -> None:
    days = mashie_fetch(server, client, Reply(200, mashie_html.encode(), HTML_TYPE))

    assert [(day.day, day.meal) for day in days] == [
        (WEEK[0], "lunch"),
        (WEEK[1], "lunch"),
        (WEEK[2], "lunch"),
        (WEEK[3], "lunch"),
        (WEEK[3], "snack"),  # "Mellanmål" is its own meal
        (WEEK[4], "lunch"),
    ]
    assert days[0].dishes == ("Köttbullar med potatismos och lingonsylt", "Vegetariska bullar med potatismos")
    assert days[3].dishes == ("Kycklinggryta med ris", "Kikärtsgryta med ris")  # Lunch, then Vegetarisk
    assert days[4].dishes == ("Fralla med ost och gurka",)
    assert days[-1].dishes == ("Pannkakor med sylt och grädde", "Pannkakor med sylt (vegansk)")
    assert days == mashie.parse(mashie_html)


def test_mashie_request_path_and_browser_user_agent(
    server: LocalServer, client: httpx.Client, mashie_html: str
) -> None:
    mashie_fetch(server, client, Reply(200, mashie_html.encode(), HTML_TYPE))
    seen = server.seen[-1]
    assert seen.path == MASHIE_PATH
    assert seen.headers["user-agent"] == mashie.USER_AGENT
    assert seen.headers["user-agent"].startswith("Mozilla/5.0 ")
    assert "text/html" in seen.headers["accept"]

    server.routes["/public/menu/G%C3%B6teborg/a%20b"] = Reply(
        200, page("weekMenues = {}").encode(), HTML_TYPE
    )
    assert mashie.fetch(client, server.url + "/", "/Göteborg/a b/") == []
    assert server.seen[-1].path == "/public/menu/G%C3%B6teborg/a%20b"


def test_mashie_refuses_a_plain_client_in_the_test_and_passes_with_the_ua(
    server: LocalServer, client: httpx.Client, mashie_html: str
) -> None:
    def guard(seen: Seen) -> Reply:
        if not seen.headers.get("user-agent", "").startswith("Mozilla/"):
            return Reply(403, b"Forbidden")
        return Reply(200, mashie_html.encode(), HTML_TYPE)

    server.routes[MASHIE_PATH] = guard
    with pytest.raises(SourceError, match=r"^Mashie answered 403 instead of a menu page\.$"):
        mashie.fetch(client, server.url, MENU_PATH, user_agent="python-httpx/0.28")
    assert len(mashie.fetch(client, server.url, MENU_PATH)) == 6


# --- Mashie: shapes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("var", "tail"),
    [
        ("var weekMenues = ", ";"),
        ("weekMenues=", ""),
        ("window.weekMenues =\n  ", " ;\n"),
        ("let weekMenues\t=\t", ";var other = {};"),
    ],
)
def test_mashie_assignment_variants(var: str, tail: str) -> None:
    html = week_menues(
        {"DayMenuDate": 0, "DayMenus": [{"MenuAlternativeName": "Lunch", "DayMenuName": "Fisk"}]},
        var=var,
        tail=tail,
    ).replace('"DayMenuDate": 0', f'"DayMenuDate": new Date({ms(WEEK[0])})')
    assert mashie.parse(html) == [MenuDay(WEEK[0], "lunch", ("Fisk",))]


def test_mashie_extra_fields_strings_with_braces_and_dates_in_strings() -> None:
    html = page(
        "var weekMenues = {"
        '"Culture": "sv-SE", "Note": "} not the end { \\" new Date(5) ]",'
        '"Weeks": [{"Extra": {"deep": [1, {"x": null}]}, "Days": ['
        f'{{"DayMenuDate": new Date( {ms(WEEK[1])} ), "Color": "#fff", "DayMenus": ['
        '{"MenuAlternativeName": "Lunch", "DayMenuName": "Soppa \\"klassisk\\" med new Date(1)",'
        ' "Allergens": ["Selleri"], "Nutrition": {"kcal": 420}}]}]}]};'
    )
    assert mashie.parse(html) == [MenuDay(WEEK[1], "lunch", ('Soppa "klassisk" med new Date(1)',))]


def test_mashie_cleans_dishes_and_maps_meals() -> None:
    date = ms(WEEK[0])
    html = week_menues(
        {
            "DayMenuDate": date,
            "DayMenus": [
                {"MenuAlternativeName": "Frukost", "DayMenuName": "Gröt med äpple"},
                {
                    "MenuAlternativeName": "Lunch",
                    "DayMenuName": "<b>Fisk</b> &amp; potatis<script>x</script>",
                },
                {"MenuAlternativeName": "Vegetarisk", "DayMenuName": "Linsbiffar<br>med\n potatis"},
                {"MenuAlternativeName": "Alternativ", "DayMenuName": "   "},
                {
                    "MenuAlternativeName": "Lunch",
                    "DayMenuName": "<b>Fisk</b> &amp; potatis<script>x</script>",
                },
                {"DayMenuName": "Sallad"},
                {"MenuAlternativeName": "MELLANMÅL", "DayMenuName": "Smörgås " + "ä" * 400},
            ],
        }
    )
    breakfast, lunch, snack = mashie.parse(html)
    assert breakfast == MenuDay(WEEK[0], "breakfast", ("Gröt med äpple",))
    assert lunch == MenuDay(WEEK[0], "lunch", ("Fisk & potatisx", "Linsbiffar med potatis", "Sallad"))
    assert snack.meal == "snack" and len(snack.dishes[0]) == 300


def test_mashie_skips_missing_pieces_and_keeps_the_first_of_a_day() -> None:
    lunch = [{"MenuAlternativeName": "Lunch", "DayMenuName": "Fisk"}]
    html = page(
        "weekMenues = "
        + json.dumps(
            {
                "Weeks": [
                    {"Days": [{"DayMenuDate": ms(WEEK[2]), "DayMenus": lunch}]},
                    {"Days": "none"},
                    "junk",
                    {
                        "Days": [
                            {"DayMenuDate": "2026-11-23", "DayMenus": lunch},
                            {"DayMenuDate": None, "DayMenus": lunch},
                            {"DayMenuDate": True, "DayMenus": lunch},
                            {"DayMenuDate": 1e300, "DayMenus": lunch},
                            {"DayMenus": lunch},
                            {"DayMenuDate": ms(WEEK[1])},
                            {"DayMenuDate": ms(WEEK[3]), "DayMenus": [{"MenuAlternativeName": "Lunch"}, 7]},
                            {"DayMenuDate": ms(WEEK[0]), "DayMenus": [{"DayMenuName": 12}]},
                            {"DayMenuDate": ms(WEEK[2]), "DayMenus": [{"DayMenuName": "Soppa"}]},
                            {"DayMenuDate": ms(WEEK[4]), "DayMenus": lunch},
                        ]
                    },
                ]
            }
        )
    )
    assert mashie.parse(html) == [MenuDay(WEEK[2], "lunch", ("Fisk",)), MenuDay(WEEK[4], "lunch", ("Fisk",))]


@pytest.mark.parametrize(
    "script", ["weekMenues = {}", 'weekMenues = {"Weeks": null}', 'weekMenues = {"Weeks": []};']
)
def test_mashie_no_weeks_is_an_empty_menu(script: str) -> None:
    assert mashie.parse(page(script)) == []


@pytest.mark.parametrize(
    "html",
    [
        "<html><body><p>Menyn hittades inte</p></body></html>",
        "",
        page("var menus = {};"),
        '<html><body><p>var weekMenues = {"Weeks": []};</p></body></html>',  # not in a script
        page('weekMenues == {"Weeks": []}'),
        page("weekMenues = null;"),
    ],
)
def test_mashie_page_without_week_menues(html: str) -> None:
    with pytest.raises(SourceError, match=r"^The Mashie page has no menu data\.$"):
        mashie.parse(html)


@pytest.mark.parametrize(
    "script",
    [
        'weekMenues = {"Weeks": [ {"Days": [] ]};',
        'weekMenues = {"Weeks": [],};',
        "weekMenues = {Weeks: []};",  # unquoted keys: not what Mashie writes
        'weekMenues = {"Weeks": [{"Days": [{"DayMenuDate": new Date("2026-11-23")}]}]};',
        'weekMenues = {"Weeks": [{"Days": [',
        'weekMenues = {"Note": "never closed',
        "weekMenues = {'Weeks': []};",
        'weekMenues = {"Weeks": alert(1)};',
    ],
)
def test_mashie_broken_json(script: str) -> None:
    with pytest.raises(SourceError, match=r"^The Mashie page has menu data that is not valid JSON\.$"):
        mashie.parse(page(script))


# --- Mashie: errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(404, b"Not found"), rf"^Mashie does not know the menu '{MENU_PATH}'\.$"),
        (Reply(500, b"oops"), r"^Mashie answered 500: the service has a problem, so try again later\.$"),
        (Reply(429), r"^Mashie answered 429: too many requests, so fetch less often\.$"),
        (
            Reply(200, b"<html><body>Ny adress</body></html>", HTML_TYPE),
            r"^The Mashie page has no menu data\.$",
        ),
        (
            Reply(200, page("weekMenues = {oops};").encode(), HTML_TYPE),
            r"^The Mashie page has menu data that is not valid JSON\.$",
        ),
    ],
)
def test_mashie_errors(server: LocalServer, client: httpx.Client, reply: Reply, message: str) -> None:
    with pytest.raises(SourceError, match=message) as caught:
        mashie_fetch(server, client, reply)
    assert caught.value.status == reply.status


def test_mashie_timeout(server: LocalServer, quick_client: httpx.Client) -> None:
    with pytest.raises(SourceError, match=r"^Mashie did not answer in time \(within 0\.5 seconds\)\.$"):
        mashie_fetch(server, quick_client, Reply(200, b"", delay=10))


@pytest.mark.parametrize("menu_path", ["", " / ", "Helsingborg/../admin", "./x"])
def test_mashie_bad_menu_path(client: httpx.Client, menu_path: str) -> None:
    with pytest.raises(SourceError, match=r"^The Mashie menu address .* is not a valid menu path\.$"):
        mashie.fetch(client, "http://127.0.0.1:9", menu_path)


# --- replies that are too slow or too large (sources.get; the weather tests have the rest) ---------------

DEADLINE = 1.0  # seconds: the deadline these tests give (the jobs use sources.DEADLINE, 30 s)


def test_the_fixtures_still_parse_within_the_tests_deadline(
    server: LocalServer, client: httpx.Client, rss_text: str, mashie_html: str
) -> None:
    server.routes[RSS_PATH] = Reply(200, rss_text.encode(), RSS_TYPE)
    assert skolmaten.fetch(client, server.url, SLUG, deadline=DEADLINE) == skolmaten.parse(rss_text)
    server.routes[MASHIE_PATH] = Reply(200, mashie_html.encode(), HTML_TYPE)
    assert mashie.fetch(client, server.url, MENU_PATH, deadline=DEADLINE) == mashie.parse(mashie_html)


def test_a_trickling_mashie_page_is_given_up_at_the_deadline(
    server: LocalServer, client: httpx.Client, mashie_html: str
) -> None:
    body = mashie_html.encode()
    server.routes[MASHIE_PATH] = Reply(200, body, HTML_TYPE, pace=0.05, piece=10)  # some 14 s in all
    with pytest.raises(SourceError, match=r"^Mashie did not finish its reply within 1 second\.$") as caught:
        mashie.fetch(client, server.url, MENU_PATH, deadline=DEADLINE)
    assert caught.value.kind == "timeout"
    seen = server.seen[-1]
    assert seen.ended.wait(10) and seen.hung_up and 0 < seen.sent < len(body)


def test_an_endless_skolmaten_feed_is_cut_at_the_size_cap(server: LocalServer, client: httpx.Client) -> None:
    item = b"<item><description>Fisk</description><guid>x-2026-11-23</guid></item>"
    server.routes[RSS_PATH] = Reply(200, item * 1000, RSS_TYPE, endless=True)  # a channel that never closes
    with pytest.raises(SourceError, match=r"^skolmaten\.se sent more than 5 MB\.$") as caught:
        skolmaten.fetch(client, server.url, SLUG)
    assert (caught.value.kind, caught.value.status) == ("too_large", 200)
    seen = server.seen[-1]
    assert seen.ended.wait(10) and seen.hung_up  # the client stopped reading and hung up
