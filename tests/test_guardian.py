"""A guardian's personal link through the real app: opening it (cookie, redirect, throttling), the page
for a phone, setting today's and tomorrow's pickup (what staff then see, the audit log), the errors, and
the boundaries: one child only, no admin, no kiosk API, revoked or expired links, CSRF, no token or name
in the database or the logs."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from laiban.store.accounts import token_hash
from laiban.store.audit import entries
from laiban.store.children import (
    Plan,
    add_child,
    changes_on,
    child_days,
    create_guardian_link,
    revoke_guardian_link,
    set_day,
    set_week,
)
from laiban.store.db import transaction
from laiban.store.tables import Base, Child, GuardianLink, Preschool, Presence, PresenceChange
from laiban.web import guardian

from .conftest import SECRET, csrf_from
from .world import World

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = dt.datetime(2025, 6, 3, 10, 0, tzinfo=STOCKHOLM)  # a Tuesday morning
TODAY = NOW.date()
TOMORROW = TODAY + dt.timedelta(days=1)
USUAL = Plan(dt.time(8, 0), dt.time(15, 30), "pappa")
BY = "Mamma (vårdnadshavare)"
OPEN_HOURS = "Förskolan är öppen 06:30–17:30; välj en tid då."


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now.astimezone(dt.UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moment = Clock()
    monkeypatch.setattr(guardian, "current_time", moment)
    return moment


@dataclass(frozen=True)
class Family:
    child_id: int
    link_id: int
    token: str
    other_child_id: int  # a classmate the link must never reach


def _child(session: Session, preschool: Preschool, name: str, week: dict[int, Plan]) -> Child:
    child = add_child(session, preschool, name, preschool.groups[0].id if preschool.groups else None)
    set_week(session, preschool, child, week)
    return child


@pytest.fixture
def family(world: World, sessions: sessionmaker[Session], clock: Clock) -> Family:
    with transaction(sessions) as session:
        preschool = session.get_one(Preschool, world.ekorren)
        alva = _child(session, preschool, "Alva", dict.fromkeys(range(5), USUAL))
        ture = _child(session, preschool, "Ture", dict.fromkeys(range(5), Plan(None, dt.time(16), "farmor")))
        link, token = create_guardian_link(session, alva, "Mamma", 90, None, NOW)
        return Family(alva.id, link.id, token, ture.id)


def open_link(client: TestClient, token: str) -> None:
    response = client.get("/guardian/open", params={"t": token}, follow_redirects=False)
    assert response.status_code == 303, response.text


def page_of(client: TestClient, family: Family) -> str:
    open_link(client, family.token)
    response = client.get("/guardian")
    assert response.status_code == 200, response.text
    return response.text


def form(day: str, pickup_by: str, leaves_at: str) -> dict[str, str]:
    return {"day": day, "pickup_by": pickup_by, "leaves_at": leaves_at}


def save(client: TestClient, csrf: str, **fields: str) -> object:
    return client.post("/guardian", data={"csrf_token": csrf, **fields}, follow_redirects=False)


def stored_days(db: Session, child_id: int) -> list[tuple[dt.date, dt.time | None, str]]:
    db.expire_all()
    rows = db.scalars(select(Presence).where(Presence.child_id == child_id).order_by(Presence.day))
    return [(row.day, row.leaves_at, row.pickup_by) for row in rows]


def change_count(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(PresenceChange)) or 0


# --- opening the link ----------------------------------------------------------------------------


class TestOpening:
    def test_the_token_moves_into_a_strict_cookie_and_out_of_the_address(
        self, client: TestClient, family: Family, db: Session
    ) -> None:
        response = client.get("/guardian/open", params={"t": family.token}, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/guardian"
        assert family.token not in response.headers["location"]
        assert response.headers["referrer-policy"] == "no-referrer"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"laiban_guardian={family.token};")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/guardian" in cookie
        assert f"Max-Age={90 * 24 * 3600}" in cookie  # until the link expires
        assert "Secure" not in cookie  # plain http (a test server): the browser would not send it back
        link = db.get_one(GuardianLink, family.link_id)
        assert link.last_used_at == NOW

    def test_the_cookie_is_secure_over_https_and_lives_only_as_long_as_the_link(
        self, app: FastAPI, world: World, sessions: sessionmaker[Session], clock: Clock
    ) -> None:
        with transaction(sessions) as session:
            preschool = session.get_one(Preschool, world.ekorren)
            child = _child(session, preschool, "Alva", {1: USUAL})
            _, token = create_guardian_link(session, child, "Pappa", 30, None, NOW - dt.timedelta(days=10))
        with TestClient(app, base_url="https://testserver") as https:
            response = https.get("/guardian/open", params={"t": token}, follow_redirects=False)
        cookie = response.headers["set-cookie"]
        assert "Secure" in cookie
        assert f"Max-Age={20 * 24 * 3600}" in cookie

    def test_an_unknown_link_says_so_in_swedish(self, client: TestClient, family: Family) -> None:
        response = client.get("/guardian/open", params={"t": family.token + "x"})
        assert response.status_code == 404
        assert "Länken fungerar inte" in response.text and "Be förskolan om en ny länk" in response.text
        assert "laiban_guardian" not in client.cookies

    def test_wrong_tokens_are_throttled_per_address(
        self, client: TestClient, family: Family, app: FastAPI
    ) -> None:
        allowed = app.state.settings.login_max_failures * 2
        for attempt in range(allowed):
            assert client.get("/guardian/open", params={"t": f"guess-{attempt}"}).status_code == 404
        blocked = client.get("/guardian/open", params={"t": family.token}, follow_redirects=False)
        assert blocked.status_code == 429
        assert "För många försök" in blocked.text
        assert "set-cookie" not in blocked.headers
        # A made-up cookie is a guess too, and is throttled the same way.
        client.cookies.set("laiban_guardian", family.token, path="/guardian")
        assert client.get("/guardian").status_code == 429

    def test_without_the_cookie_the_page_asks_to_open_the_link_again(
        self, client: TestClient, family: Family
    ) -> None:
        response = client.get("/guardian")
        assert response.status_code == 401
        assert "Öppna länken i meddelandet från förskolan igen." in response.text
        # Once, the page sends the browser back by itself: a strict cookie held back after a redirect
        # from another site (webmail) is sent on a navigation of our own.
        assert 'http-equiv="refresh"' in response.text
        again = client.get("/guardian?again=1")
        assert again.status_code == 401 and 'http-equiv="refresh"' not in again.text
        assert client.post("/guardian", data={"day": "today", "pickup_by": "mormor"}).status_code == 401


# --- the page ------------------------------------------------------------------------------------


class TestPage:
    def test_today_and_tomorrow_with_the_usual_pickup_on_a_phone(
        self, client: TestClient, family: Family, db: Session, clock: Clock
    ) -> None:
        open_link(client, family.token)
        clock.now = NOW + dt.timedelta(minutes=5)
        response = client.get("/guardian")
        html = response.text
        assert response.headers["referrer-policy"] == "no-referrer"
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert "Hämtning av Alva" in html and "Förskolan Ekorren" in html
        assert "I dag, tisdag 3 juni" in html and "I morgon, onsdag 4 juni" in html
        assert html.count("Som vanligt: hämtas ungefär 15:30 av pappa") == 2
        assert html.count("<form") == 2
        assert 'name="day" value="today"' in html and 'name="day" value="tomorrow"' in html
        assert 'type="time"' in html and 'min="10:05"' in html  # today: not before now
        assert '<datalist id="who">' in html and '<option value="mormor">' in html
        assert "Uppgifter om närvaro och hämtning raderas automatiskt när dagen är slut." in html
        assert "kan du bara säga vem som hämtar Alva och ungefär när, i dag och i morgon" in html
        assert "Personalen ser vem som ändrade vad och när." in html
        assert "<script" not in html and "style=" not in html  # CSP: no inline scripts or styles
        assert "Ture" not in html and "farmor" not in html.replace('<option value="farmor">', "")
        db.expire_all()
        assert db.get_one(GuardianLink, family.link_id).last_used_at == clock.now

    def test_a_closed_day_has_no_form(
        self, client: TestClient, family: Family, clock: Clock, db: Session
    ) -> None:
        clock.now = dt.datetime(2025, 6, 5, 9, 0, tzinfo=STOCKHOLM)  # Thursday; Friday is National Day
        html = page_of(client, family)
        assert "I morgon, fredag 6 juni" in html and "Förskolan är stängd." in html
        assert html.count("<form") == 1
        csrf = csrf_from(html)
        response = save(client, csrf, day="tomorrow", pickup_by="mormor", leaves_at="15:00")
        assert response.status_code == 400 and "Förskolan är stängd den dagen." in response.text
        assert stored_days(db, family.child_id) == []

    def test_a_day_the_child_does_not_come_has_no_form(
        self, client: TestClient, family: Family, world: World, sessions: sessionmaker[Session], db: Session
    ) -> None:
        with transaction(sessions) as session:
            preschool = session.get_one(Preschool, world.ekorren)
            child = session.get_one(Child, family.child_id)
            set_day(session, preschool, child, TOMORROW, absent=True, plan=Plan(), by="Anna Pedagog")
        html = page_of(client, family)
        assert "Kommer inte" in html and html.count("<form") == 1
        response = save(client, csrf_from(html), day="tomorrow", pickup_by="mormor")
        assert response.status_code == 400 and "kommer barnet inte den dagen" in response.text
        assert stored_days(db, family.child_id) == [(TOMORROW, None, "")]  # staff's entry, untouched

    def test_after_closing_time_today_has_no_form(
        self, client: TestClient, family: Family, clock: Clock
    ) -> None:
        clock.now = NOW.replace(hour=18)
        html = page_of(client, family)
        assert "Förskolan har stängt för i dag." in html and html.count("<form") == 1

    def test_only_this_childs_changes_are_shown(
        self, client: TestClient, family: Family, world: World, sessions: sessionmaker[Session]
    ) -> None:
        with transaction(sessions) as session:
            preschool = session.get_one(Preschool, world.ekorren)
            ture = session.get_one(Child, family.other_child_id)
            alva = session.get_one(Child, family.child_id)
            at = NOW.replace(hour=8).astimezone(dt.UTC)
            set_day(
                session, preschool, ture, TODAY, absent=False, plan=Plan(None, dt.time(12), "taxi"), by="X"
            )
            set_day(
                session, preschool, alva, TODAY, absent=False, plan=Plan(None, dt.time(14)), by="Eva", at=at
            )
        html = page_of(client, family)
        assert "Senaste ändringar" in html
        assert "i dag 08:00" in html and "Eva" in html and "Hämtas 14:00" in html
        assert "taxi" not in html and "12:00" not in html


# --- saving --------------------------------------------------------------------------------------


class TestSaving:
    def test_today_and_tomorrow_are_saved_and_staff_see_who_changed_what(
        self, client: TestClient, family: Family, world: World, db: Session
    ) -> None:
        csrf = csrf_from(page_of(client, family))
        today = save(client, csrf, day="today", pickup_by="mormor", leaves_at="16:00")
        assert today.status_code == 303 and today.headers["location"].startswith("/guardian?saved=1")
        assert today.headers["referrer-policy"] == "no-referrer"
        tomorrow = save(client, csrf, day="tomorrow", pickup_by=" Morfar  Sven ", leaves_at="14.30")
        assert tomorrow.status_code == 303
        assert stored_days(db, family.child_id) == [
            (TODAY, dt.time(16), "mormor"),
            (TOMORROW, dt.time(14, 30), "Morfar Sven"),
        ]
        preschool = db.get_one(Preschool, world.ekorren)
        staff_view = [(c.by, c.what) for c in changes_on(db, world.ekorren, TODAY)]
        assert staff_view == [(BY, "Hämtas 16:00 av mormor")]
        assert [(c.by, c.what) for c in changes_on(db, world.ekorren, TOMORROW)] == [
            (BY, "Hämtas 14:30 av Morfar Sven")
        ]
        days = child_days(db, preschool, [db.get_one(Child, family.child_id)], [TODAY], STOCKHOLM)
        assert days[family.child_id][TODAY].pickup_by == "mormor"
        assert days[family.child_id][TODAY].arrives_at == dt.time(8)  # arrival stays as it was
        logged, total = entries(db, world.org_a)
        assert total == 2
        assert {(e.actor, e.action, e.subject, e.child_id) for e in logged} == {
            (f"Vårdnadshavarlänk {family.link_id}", "update", "pickup", family.child_id)
        }
        html = client.get("/guardian?saved=1").text
        assert "Sparat." in html
        assert '<p class="status">Hämtas ungefär 16:00 av mormor</p>' in html
        assert '<p class="status">Hämtas ungefär 14:30 av Morfar Sven</p>' in html
        # Both days differ from the weekly schedule now: it is shown below each, for comparison.
        assert html.count('<p class="hint">Som vanligt: hämtas ungefär 15:30 av pappa</p>') == 2
        assert f"{BY}</span>: Hämtas 16:00 av mormor" in html

    def test_only_who_or_only_when_is_enough(self, client: TestClient, family: Family, db: Session) -> None:
        csrf = csrf_from(page_of(client, family))
        assert save(client, csrf, day="today", pickup_by="farfar", leaves_at="").status_code == 303
        assert save(client, csrf, day="tomorrow", pickup_by="", leaves_at="13:00").status_code == 303
        assert stored_days(db, family.child_id) == [(TODAY, None, "farfar"), (TOMORROW, dt.time(13), "")]

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            (form("today", "mormor", "09:30"), "Klockan är redan 10:00. Välj en senare tid i dag."),
            (form("tomorrow", "mormor", "18:00"), OPEN_HOURS),
            (form("tomorrow", "", "05:00"), OPEN_HOURS),
            (form("tomorrow", "mormor", "07:00"), "Hämtningen måste vara senare än lämningen (08:00)."),
            (form("today", "", ""), "Skriv vem som hämtar eller när."),
            (form("today", "  ", " "), "Skriv vem som hämtar eller när."),
            (form("today", "m" * 61, ""), "Vem som hämtar får vara högst 60 tecken."),
            (form("today", "<b>", ""), "Vem som hämtar får inte innehålla tecknen"),
            (form("today", "mormor", "25:99"), "är inget klockslag; skriv till exempel 15:30."),
            (form("yesterday", "mormor", "15:00"), "Välj i dag eller i morgon."),
            (form("", "mormor", "15:00"), "Välj i dag eller i morgon."),
        ],
    )
    def test_errors_are_clear_sentences_and_save_nothing(
        self,
        client: TestClient,
        family: Family,
        world: World,
        db: Session,
        fields: dict[str, str],
        message: str,
    ) -> None:
        csrf = csrf_from(page_of(client, family))
        response = save(client, csrf, **fields)
        assert response.status_code == 400
        assert message in response.text
        assert stored_days(db, family.child_id) == [] and change_count(db) == 0
        db.expire_all()
        assert db.scalar(select(func.count()).select_from(Presence)) == 0
        assert entries(db, world.org_a)[1] == 0  # nothing in the audit log either

    def test_an_error_keeps_what_was_written(self, client: TestClient, family: Family) -> None:
        csrf = csrf_from(page_of(client, family))
        response = save(client, csrf, day="tomorrow", pickup_by="moster Lisa", leaves_at="19:00")
        assert response.status_code == 400
        assert 'value="moster Lisa"' in response.text and 'value="19:00"' in response.text
        escaped = save(client, csrf, day="tomorrow", pickup_by='"><b>x', leaves_at="")
        assert escaped.status_code == 400 and 'value="&#34;&gt;&lt;b&gt;x"' in escaped.text

    def test_a_time_later_today_is_fine(self, client: TestClient, family: Family, db: Session) -> None:
        csrf = csrf_from(page_of(client, family))
        assert save(client, csrf, day="today", pickup_by="", leaves_at="10:00").status_code == 303
        assert stored_days(db, family.child_id) == [(TODAY, dt.time(10), "")]

    def test_missing_or_wrong_csrf_is_refused(self, client: TestClient, family: Family, db: Session) -> None:
        page_of(client, family)
        form = {"day": "today", "pickup_by": "mormor", "leaves_at": "16:00"}
        assert client.post("/guardian", data=form).status_code == 403
        forged = client.post("/guardian", data={**form, "csrf_token": "0" * 64})
        assert forged.status_code == 403 and "Formuläret har gått ut" in forged.text
        assert client.post("/guardian", data={**form, "csrf_token": "å" * 64}).status_code == 403
        # The token of another guardian's cookie is no good either.
        other = hmac.new(SECRET.encode(), b"guardian-csrf:another-token", hashlib.sha256).hexdigest()
        assert client.post("/guardian", data={**form, "csrf_token": other}).status_code == 403
        assert stored_days(db, family.child_id) == [] and change_count(db) == 0

    def test_the_link_decides_the_child(self, client: TestClient, family: Family, db: Session) -> None:
        csrf = csrf_from(page_of(client, family))
        response = save(
            client, csrf, day="today", pickup_by="mormor", child_id=str(family.other_child_id), child="Ture"
        )
        assert response.status_code == 303
        assert stored_days(db, family.other_child_id) == []
        assert stored_days(db, family.child_id) == [(TODAY, None, "mormor")]
        assert client.get(f"/guardian/{family.other_child_id}").status_code == 404


# --- boundaries ----------------------------------------------------------------------------------


class TestBoundaries:
    def test_a_revoked_link_stops_working_at_once(
        self, client: TestClient, family: Family, sessions: sessionmaker[Session], db: Session
    ) -> None:
        csrf = csrf_from(page_of(client, family))
        with transaction(sessions) as session:
            revoke_guardian_link(session.get_one(GuardianLink, family.link_id), NOW.astimezone(dt.UTC))
        response = client.get("/guardian")
        assert response.status_code == 404 and "Be förskolan om en ny länk." in response.text
        assert 'laiban_guardian=""' in response.headers["set-cookie"]  # the dead cookie is deleted
        client.cookies.set("laiban_guardian", family.token, path="/guardian")
        refused = save(client, csrf, day="today", pickup_by="mormor", leaves_at="16:00")
        assert refused.status_code == 404
        assert client.get("/guardian/open", params={"t": family.token}).status_code == 404
        assert stored_days(db, family.child_id) == []

    def test_an_expired_link_stops_working_with_its_cookie(
        self, client: TestClient, family: Family, clock: Clock
    ) -> None:
        page_of(client, family)
        clock.now = NOW + dt.timedelta(days=90)
        assert client.get("/guardian").status_code == 404
        client.cookies.set("laiban_guardian", family.token, path="/guardian")
        assert client.get("/guardian/open", params={"t": family.token}).status_code == 404
        clock.now = NOW + dt.timedelta(days=89)
        assert client.get("/guardian").status_code == 200

    def test_a_link_of_an_inactive_child_does_not_work(
        self, client: TestClient, family: Family, sessions: sessionmaker[Session]
    ) -> None:
        open_link(client, family.token)
        with transaction(sessions) as session:
            session.get_one(Child, family.child_id).active = False
        assert client.get("/guardian").status_code == 404
        assert client.get("/guardian/open", params={"t": family.token}).status_code == 404

    def test_the_token_opens_neither_the_admin_nor_the_kiosk_api(
        self, client: TestClient, family: Family
    ) -> None:
        open_link(client, family.token)
        client.cookies.set("laiban_guardian", family.token, path="/")
        client.cookies.set("laiban_session", family.token, path="/")
        for page in ("/admin", "/admin/account", "/admin/p/ekorren/settings"):
            response = client.get(page, follow_redirects=False)
            assert response.status_code in (303, 401), page
            assert response.status_code == 401 or response.headers["location"] == "/admin/login", page
        for headers in ({}, {"authorization": f"Bearer {family.token}"}):
            ask = client.post("/api/v1/ask", json={"text": "vem hämtar mig?"}, headers=headers)
            assert ask.status_code == 401
            assert client.get("/api/v1/kiosk", headers=headers).status_code == 401

    def test_the_token_is_only_stored_as_its_hash(
        self, client: TestClient, family: Family, engine: object, db: Session
    ) -> None:
        csrf = csrf_from(page_of(client, family))
        assert save(client, csrf, day="today", pickup_by="mormor").status_code == 303
        db.expire_all()
        seen = []
        for table in Base.metadata.sorted_tables:
            for row in db.execute(select(table)):
                seen.extend(str(value) for value in row)
        assert token_hash(family.token) in seen
        assert not [value for value in seen if family.token in value]

    def test_neither_the_token_nor_the_childs_name_is_logged(
        self, client: TestClient, family: Family, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        csrf = csrf_from(page_of(client, family))
        save(client, csrf, day="today", pickup_by="mormor", leaves_at="16:00")
        save(client, csrf, day="today", pickup_by="mormor", leaves_at="01:00")
        client.get("/guardian/open", params={"t": "wrong"})
        ours = [record for record in caplog.records if record.name.startswith("laiban")]
        lines = [record.getMessage() for record in ours]
        assert any("/guardian/open" in line for line in lines)  # the access log did see the requests
        assert any("POST /guardian 400" in line for line in lines)
        for line in lines:
            assert family.token not in line and "Alva" not in line and "?t=" not in line
