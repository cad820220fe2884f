"""Every text a person can type or a feed can bring is shown as text, never run: in the admin pages (as an
organisation's administrator and as a pedagogue), the guardian's page and the kiosk, in real Chromium.

Payloads go in through the real admin forms (a few, which the forms rightly refuse, straight into the
database: a child's name and who picks up, as from an old backup) and through a menu feed served by a local
fake skolmaten.se. Execution is detected three ways: `window.__xss` stays undefined, no dialog opens, and
no Content-Security-Policy violation is reported (a violation means something tried to run: the escaping
failed even though the policy stopped it). Each payload must also be visible literally somewhere, so that
the test cannot pass by a text being dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from laiban.config import Settings
from laiban.jobs.menus import refresh_menus
from laiban.store.db import make_engine, session_factory, transaction
from laiban.store.tables import Child, ChildWeekday, MenuSource

from ..localserver import LocalServer, Reply
from .conftest import DEMO_SLUG, KioskServer
from .test_staff_phone import demo_password

pytestmark = pytest.mark.e2e

# What a payload does when it runs: sets window.__xss. Each field gets its own, with a tag naming the field.
PAYLOADS = (
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '"><svg onload=window.__xss=1>',
    "'><img src=x onerror=window.__xss=1>",
    "</textarea><img src=x onerror=window.__xss=1>",
    "{{7*7}}${7*7}<b>fet</b>",
    "javascript:window.__xss=1//",
    "</title><script>window.__xss=1</script>",
    '<a href="javascript:window.__xss=1">länk</a>',
)
# A feed's dishes lose their tags on the way in (sources.skolmaten); what is left must still stay text.
FEED_PAYLOADS = (
    "{{7*7}} ${7*7} javascript:window.__xss=1 #feed1",
    '" onmouseover="window.__xss=1" x=" \' autofocus onfocus=\'window.__xss=1\' #feed2',
)

# Registered before any page script: reports every CSP violation and remembers it in the page too.
WATCH_SCRIPT = """
document.addEventListener('securitypolicyviolation', (event) => {
  const what = `${event.violatedDirective} ${event.blockedURI} ${event.sample || ''} at ${location.pathname}`;
  (window.__cspViolations = window.__cspViolations || []).push(what);
  if (window.__reportCsp) window.__reportCsp(what);
}, true);
"""
# Everything a person reads on the page: its text, and what stands in the form fields.
SHOWN = """
() => [document.title, document.body.innerText,
  ...[...document.querySelectorAll('input:not([type=hidden]), textarea')].map((field) => field.value),
  ...[...document.querySelectorAll('option')].map((option) => option.textContent)].join('\\n')
"""
STOCKHOLM = ZoneInfo("Europe/Stockholm")
PEDAGOGUE_EMAIL = "pedagog@solrosen.example"
PEDAGOGUE_PASSWORD = "en lång och säker lösenfras 42"
RSS_TYPE = {"Content-Type": "application/rss+xml; charset=utf-8"}


def payload(tag: str, index: int) -> str:
    return f"{PAYLOADS[index % len(PAYLOADS)]} #{tag}"


@dataclass
class Watch:
    """One browser context with the three detectors; `check(page)` after every page."""

    context: Any
    violations: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)

    def page(self) -> Any:
        page = self.context.new_page()
        page.set_default_timeout(15_000)
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    def check(self, page: Any, where: str) -> str:
        """Asserts nothing ran on this page; returns (and remembers) what it shows."""
        page.wait_for_load_state("load")
        ran = page.evaluate("() => [window.__xss, window.__cspViolations || []]")
        assert ran[0] is None, f"a payload ran on {where}"
        assert not ran[1], f"CSP violations on {where}: {ran[1]}"
        assert not self.violations, f"CSP violations (on {where} or before): {self.violations}"
        assert not self.dialogs, f"a dialog opened on {where}: {self.dialogs}"
        assert not self.errors, f"page errors on {where}: {self.errors}"
        text = page.evaluate(SHOWN)
        self.shown.append(text)
        return text

    def visit(self, page: Any, url: str) -> str:
        page.goto(url)
        return self.check(page, url)


def watched(browser: Any, **options: Any) -> Watch:
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm", **options)
    watch = Watch(context)
    context.expose_function("__reportCsp", lambda what: watch.violations.append(what))
    context.add_init_script(WATCH_SCRIPT)
    return watch


def sign_in(watch: Watch, base: str, email: str, password: str) -> Any:
    page = watch.page()
    page.goto(f"{base}/admin/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form[action='/admin/login'] button[type=submit]")
    page.wait_for_url(f"{base}/admin")
    return page


def submit(watch: Watch, page: Any, form: str, fields: dict[str, str], where: str) -> str:
    """Fills `fields` (selector inside the form → value) of `form` and submits it without the browser's
    own checks (maxlength, type=email …): the server decides. Returns what the answer page shows."""
    scope = page.locator(form).first
    for selector, value in fields.items():
        scope.locator(selector).first.fill(value)
    scope.evaluate("(form) => { form.noValidate = true; }")
    with page.expect_navigation():
        scope.locator("button[type=submit]").first.click()
    return watch.check(page, where)


@dataclass(frozen=True)
class Stored:
    payloads: dict[str, str]  # where → the text stored
    child_id: int
    guardian_link: str
    today: dt.date
    monday: dt.date


def database(server: KioskServer) -> Any:
    return make_engine(f"sqlite:///{server.data_dir / 'laiban.db'}")


@pytest.fixture(scope="module")
def stored(browser: Any, kiosk_server: KioskServer) -> Iterator[Stored]:
    """Stores the payloads, through the admin forms as the demo's administrator where the forms take them."""
    base = kiosk_server.base_url
    admin = f"{base}/admin/p/{DEMO_SLUG}"
    today = dt.datetime.now(STOCKHOLM).date()
    monday = today - dt.timedelta(days=today.weekday())
    texts: dict[str, str] = {}
    tags = iter(range(100))

    def text(tag: str) -> str:
        texts[tag] = payload(tag, next(tags))
        return texts[tag]

    # A child's name and who picks up are refused by the forms (letters only; no < > { }): put straight
    # into the database, as data from before those checks. Saga (Blåbär, Monday–Friday) becomes the child.
    engine = database(kiosk_server)
    try:
        with transaction(session_factory(engine)) as session:
            child = session.scalars(select(Child).where(Child.first_name == "Saga")).one()
            child.first_name = text("child")
            texts["pickup"] = payload("pickup", 1)
            for row in session.scalars(select(ChildWeekday).where(ChildWeekday.child_id == child.id)):
                row.pickup_by = texts["pickup"]
            child_id = child.id
    finally:
        engine.dispose()

    watch = watched(browser)
    try:
        page = sign_in(watch, base, "demo@solrosen.example", demo_password(kiosk_server))
        page.goto(f"{admin}/settings")
        groups = page.locator("textarea[name=groups]").input_value()
        submit(
            watch,
            page,
            f"form[action='/admin/p/{DEMO_SLUG}/settings']",
            {
                "input[name=name]": text("preschool"),
                "input[name=address]": text("address"),
                "textarea[name=groups]": f"{groups.strip()}\n{text('group')}",
            },
            "settings",
        )
        page.goto(f"{admin}/calendar")
        page.locator("input[name=show_child_names]").check()  # the kiosk names an activity's children
        submit(watch, page, "form[action$='/calendar/names']", {}, "show names")
        page.goto(f"{admin}/calendar")
        submit(
            watch,
            page,
            "form[action$='/calendar/events']",
            {"input[name=day]": today.isoformat(), "input[name=title]": text("event")},
            "calendar event",
        )
        submit(
            watch,
            page,
            "form[action$='/calendar/closed']",
            {
                "input[name=day]": (today + dt.timedelta(days=20)).isoformat(),
                "input[name=reason]": text("closed"),
            },
            "closed day",
        )
        activity = page.locator("form[action$='/calendar/activities']")
        for box in activity.locator("input[name=participants]").all():
            box.check()
        submit(
            watch,
            page,
            "form[action$='/calendar/activities']",
            {
                "input[name=day]": today.isoformat(),
                "input[name=title]": text("activity"),
                "input[name=future_text]": text("activity-before"),
                "input[name=past_text]": text("activity-after"),
            },
            "activity",
        )

        page.goto(f"{admin}/menu?week={monday.isoformat()}")
        lunch_day = today if today.weekday() < 5 else monday
        field = f"{lunch_day.isoformat()}_lunch"
        dishes = f"{text('dish')}\n{text('dish2')}"
        submit(
            watch,
            page,
            f"form[action^='/admin/p/{DEMO_SLUG}/menu?']",
            {f"textarea[name='{field}']": dishes},
            "menu",
        )
        # The wording children hear instead of a dish (kept while the dish's text stays the same).
        wording = {f"input[name='override_{field}']": text("dish-wording")}
        submit(watch, page, f"form[action^='/admin/p/{DEMO_SLUG}/menu?']", wording, "menu wording")
        csv_day = (monday + dt.timedelta(days=14)).isoformat()
        csv_text = f'datum,måltid,rätt\n{csv_day},lunch,"{text("csv").replace(chr(34), chr(34) * 2)}"\n'
        page.goto(f"{admin}/menu?week={monday.isoformat()}")
        page.locator("form[action*='/menu/import'] input[name=file]").set_input_files(
            {"name": "meny.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}
        )
        submit(watch, page, "form[action*='/menu/import']", {}, "menu import")
        texts["source"] = "<svg onload=window.__xss=1>-source"  # no # here: not allowed
        page.select_option("form[action*='/menu/source'] select[name=kind]", "skolmaten")
        submit(
            watch, page, "form[action*='/menu/source']", {"input[name=identifier]": texts["source"]}, "source"
        )

        page.goto(f"{admin}/schedule")
        submit(
            watch,
            page,
            f"form[action^='/admin/p/{DEMO_SLUG}/schedule?']",
            {"input[name=title]": text("schedule")},
            "schedule",
        )
        page.goto(f"{admin}/voice")
        submit(
            watch,
            page,
            "form[action$='/voice/pronunciations']",
            {"input[name=written]": text("written"), "input[name=spoken]": text("spoken")},
            "pronunciation",
        )
        page.goto(f"{admin}/devices")
        submit(
            watch,
            page,
            f"form[action='/admin/p/{DEMO_SLUG}/devices']",
            {"input[name=name]": text("device")},
            "device",
        )
        page.goto(f"{base}/admin/users")
        page.locator("form[action='/admin/users'] select[name^=role_]").first.select_option("pedagogue")
        submit(
            watch,
            page,
            "form[action='/admin/users']",
            {
                "input[name=name]": text("user"),
                "input[name=email]": PEDAGOGUE_EMAIL,
                "input[name=password]": PEDAGOGUE_PASSWORD,
            },
            "user",
        )
        page.goto(f"{admin}/children/{child_id}")
        shown = submit(
            watch, page, "form[action$='/links']", {"input[name=label]": text("link")}, "guardian link"
        )
        link = re.search(r"http://[^\s\"<]+/guardian/open\?t=[\w-]+", shown)
        assert link, "the new guardian link is shown once"
    finally:
        watch.context.close()

    # The menu feed: a local fake skolmaten.se for next week, fetched by the real job into the database.
    feed = LocalServer()
    try:
        identifier = texts["source"]
        items = "".join(
            f"<item><title>Dag</title><description>{dish.replace('&', '&amp;').replace('<', '&lt;')}"
            f"</description><pubDate>{monday + dt.timedelta(days=7 + n):%a, %d %b %Y} 00:00:00 GMT"
            "</pubDate></item>"
            for n, dish in enumerate(FEED_PAYLOADS)
        )
        rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'
        feed.routes[f"/api/4/rss/week/{quote(identifier, safe='')}"] = Reply(200, rss.encode(), RSS_TYPE)
        engine = database(kiosk_server)
        try:
            with transaction(session_factory(engine)) as session:  # due now, whatever the server tried
                session.execute(update(MenuSource).values(next_attempt_at=None, last_success_at=None))
            settings = Settings(
                data_dir=kiosk_server.data_dir,
                database_url=f"sqlite:///{kiosk_server.data_dir / 'laiban.db'}",
                secret_key="x" * 48,
                skolmaten_base_url=feed.url,
            )
            done = refresh_menus(engine, settings)
        finally:
            engine.dispose()
        assert "2 day(s)" in done, done
    finally:
        feed.close()
    for number, dish in enumerate(FEED_PAYLOADS, start=1):
        texts[f"feed{number}"] = dish
    yield Stored(texts, child_id, link.group(0), today, monday)


def admin_pages(base: str, stored: Stored) -> list[str]:
    admin = f"{base}/admin/p/{DEMO_SLUG}"
    next_week = (stored.monday + dt.timedelta(days=7)).isoformat()
    later = (stored.monday + dt.timedelta(days=14)).isoformat()
    return [
        f"{base}/admin",
        f"{admin}/day?group=all",
        f"{admin}/children",
        f"{admin}/children/{stored.child_id}",
        f"{admin}/children/import",
        f"{admin}/menu?week={stored.monday.isoformat()}",
        f"{admin}/menu?week={next_week}",
        f"{admin}/menu?week={later}",
        f"{admin}/schedule",
        f"{admin}/calendar",
        f"{admin}/voice",
        f"{admin}/weather",
        f"{admin}/settings",
        f"{admin}/devices",
        f"{base}/admin/users",
        f"{base}/admin/audit",
        f"{base}/admin/account",
        f"{base}/admin/preschools/new",
    ]


def reflected(base: str) -> list[str]:
    """Pages that echo what is in the address."""
    evil = '"><svg onload=window.__xss=1>'
    admin = f"{base}/admin/p/{DEMO_SLUG}"
    return [
        f"{admin}/day?{urlencode({'date': evil, 'group': evil})}",
        f"{admin}/menu?{urlencode({'week': evil})}",
        f"{admin}/schedule?{urlencode({'day': evil, 'group': evil})}",
        f"{base}/admin/audit?{urlencode({'preschool': evil, 'child': evil})}",
        f"{base}/admin/p/{quote(evil, safe='')}/children",
        f"{admin}/children/{quote(evil, safe='')}",
    ]


def test_admin_pages_show_every_payload_as_text(
    browser: Any, kiosk_server: KioskServer, stored: Stored
) -> None:
    base = kiosk_server.base_url
    watch = watched(browser)
    try:
        page = sign_in(watch, base, "demo@solrosen.example", demo_password(kiosk_server))
        for url in admin_pages(base, stored) + reflected(base):
            watch.visit(page, url)
        page.goto(f"{base}/admin/users")
        users = page.locator("a[href^='/admin/users/']")
        watch.visit(page, f"{base}{users.last.get_attribute('href')}")
        # The pronunciation tried aloud, and forms refused with the payload typed: shown again, escaped.
        page.goto(f"{base}/admin/p/{DEMO_SLUG}/voice")
        submit(watch, page, "form[action*='/voice/try']", {"input[name=prova]": payload("try", 2)}, "try")
        page.goto(f"{base}/admin/p/{DEMO_SLUG}/children")
        refused = submit(
            watch,
            page,
            f"form[action='/admin/p/{DEMO_SLUG}/children']",
            {"input[name=first_name]": payload("new-child", 2)},
            "new child",
        )
        assert payload("new-child", 2) in refused
        page.goto(f"{base}/admin/p/{DEMO_SLUG}/children/{stored.child_id}")
        refused = submit(
            watch, page, "form[action$='/week']", {"input[name=pickup_by_0]": payload("week", 3)}, "week"
        )
        assert payload("week", 3) in refused
        # A refused change of a child's day comes back through htmx (admin-day.js swaps the 400 row in).
        page.goto(f"{base}/admin/p/{DEMO_SLUG}/day?group=all")
        row = page.locator(f"#child-{stored.child_id}")
        row.locator("summary").click()
        row.locator("input[name=pickup_by]").fill(payload("day", 4))
        row.locator("button[value=save]").click()
        page.wait_for_selector(f"#child-{stored.child_id}.has-error")
        assert payload("day", 4) in watch.check(page, "day row")
    finally:
        watch.context.close()
    everything = "\n".join(watch.shown)
    missing = {where: text for where, text in stored.payloads.items() if text not in everything}
    assert not missing, f"not shown literally anywhere: {missing}"


def test_admin_pages_as_a_pedagogue(browser: Any, kiosk_server: KioskServer, stored: Stored) -> None:
    base = kiosk_server.base_url
    watch = watched(browser)
    try:
        page = sign_in(watch, base, PEDAGOGUE_EMAIL, PEDAGOGUE_PASSWORD)
        for url in admin_pages(base, stored):
            watch.visit(page, url)
        everything = "\n".join(watch.shown)
        for where in ("preschool", "child", "event", "activity", "schedule", "user"):
            assert stored.payloads[where] in everything, where
    finally:
        watch.context.close()


def test_the_guardian_page_and_the_login_page(
    browser: Any, kiosk_server: KioskServer, stored: Stored
) -> None:
    base = kiosk_server.base_url
    watch = watched(browser)
    try:
        page = watch.page()
        page.goto(stored.guardian_link)
        page.wait_for_url(f"{base}/guardian")
        shown = watch.check(page, "guardian")
        assert stored.payloads["child"] in shown
        forms = page.locator("form[action='/guardian']")
        if forms.count():  # a day the child comes
            last = f"form[action='/guardian'] >> nth={forms.count() - 1}"
            refused = submit(
                watch, page, last, {"input[name=pickup_by]": payload("guardian", 1)}, "guardian form"
            )
            assert payload("guardian", 1) in refused
        watch.visit(page, f"{base}/guardian/open?t={quote(PAYLOADS[2], safe='')}")
        page.goto(f"{base}/admin/login")
        refused = submit(
            watch,
            page,
            "form[action='/admin/login']",
            {"input[name=email]": payload("login", 2), "input[name=password]": "fel"},
            "login",
        )
        assert payload("login", 2) in refused
    finally:
        watch.context.close()


def test_the_kiosk_shows_the_payloads_as_text(
    browser: Any, kiosk_server: KioskServer, stored: Stored
) -> None:
    base = kiosk_server.base_url
    watch = watched(browser, viewport={"width": 1280, "height": 800}, has_touch=True, service_workers="block")
    try:
        page = watch.page()
        page.goto(f"{base}/kiosk/pair?code={kiosk_server.pairing_code()}")
        page.wait_for_url(f"{base}/kiosk")
        page.wait_for_selector("body[data-screen='home']")
        seen: list[str] = []

        def tap(selector: str) -> str:
            if page.locator("body[data-screen='answer']").count():
                page.locator("#home-button").click()
                page.wait_for_selector("body[data-screen='home']")
            page.locator(selector).click()
            page.wait_for_selector("body[data-screen='answer']")
            page.wait_for_function("() => document.querySelectorAll('#captions .caption').length > 0")
            shown = watch.check(page, selector)
            seen.append(shown)
            return shown

        lunch = tap("#modules [data-module='lunch']")
        calendar = tap("#modules [data-module='calendar']")
        activities = tap("#modules [data-module='activities']")
        tap("#modules [data-module='clock']")
        page.locator("#actions [data-intent='schedule']").click()
        page.wait_for_selector("#answer[data-intent='schedule']")
        seen.append(watch.check(page, "schedule"))
        tap("#laiban")  # "who are you?"
        tap("#modules [data-module='pickup']")
        page.wait_for_selector("#children .child")
        names = page.locator("#children .child-name").all_inner_texts()
        assert stored.payloads["child"] in names, names
        page.locator(f"#children .child[data-child='{stored.child_id}']").click()
        page.wait_for_selector("#children", state="hidden")
        pickup = watch.check(page, "pickup")

        assert stored.payloads["event"] in calendar, calendar
        assert (
            stored.payloads["activity"] in activities or stored.payloads["activity-before"] in activities
        ), activities
        if stored.today.weekday() < 5:
            assert stored.payloads["dish-wording"] in lunch, lunch
            assert stored.payloads["pickup"] in pickup, pickup
    finally:
        watch.context.close()


def test_the_detectors_see_a_payload_that_does_run(browser: Any, kiosk_server: KioskServer) -> None:
    """The control: markup put into a page as HTML (what escaping prevents) is reported by the CSP
    listener, and a dialog is seen; so the tests above would notice a payload that ran."""
    watch = watched(browser)
    try:
        page = watch.page()
        page.goto(f"{kiosk_server.base_url}/admin/login")
        page.evaluate("(html) => document.body.insertAdjacentHTML('beforeend', html)", PAYLOADS[1])
        page.wait_for_function("() => (window.__cspViolations || []).length > 0")
        assert any("script-src" in violation for violation in watch.violations), watch.violations
        page.evaluate("() => { alert('x'); }")
        assert watch.dialogs == ["x"]
    finally:
        watch.context.close()
