"""The admin shell through the real app: first-run setup, sign-in, CSRF, roles and tenant isolation."""

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from laiban.store import accounts
from laiban.store.tables import Device, LoginSession, Organisation, Preschool, User

from .conftest import Browser, SignIn, csrf_from, sign_in
from .world import PASSWORD, World

SETUP = {
    "organisation": "Norrstads kommun",
    "preschool": "Förskolan Lärkan",
    "slug": "larkan",
    "name": "Eva Pedagog",
    "email": "eva@norrstad.example",
    "password": PASSWORD,
    "password_again": PASSWORD,
}


class TestFirstRun:
    def test_an_empty_server_asks_for_setup_and_signs_the_admin_in(
        self, client: TestClient, db: Session
    ) -> None:
        assert client.get("/admin", follow_redirects=False).headers["location"] == "/admin/setup"
        assert client.get("/admin/login", follow_redirects=False).headers["location"] == "/admin/setup"
        token = csrf_from(client.get("/admin/setup").text)
        response = client.post("/admin/setup", data={**SETUP, "csrf_token": token}, follow_redirects=False)
        assert response.status_code == 303
        dashboard = client.get("/admin")
        assert "Förskolan Lärkan" in dashboard.text
        user = db.scalar(select(User).where(User.email == "eva@norrstad.example"))
        assert user is not None and user.is_org_admin
        # Setup happens once: afterwards it sends people to the login page and creates nothing.
        token = csrf_from(client.get("/admin/account").text)
        again = client.post(
            "/admin/setup", data={**SETUP, "csrf_token": token, "slug": "x"}, follow_redirects=False
        )
        assert again.headers["location"] == "/admin/login"
        assert db.scalar(select(func.count()).select_from(Organisation)) == 1

    def test_setup_errors_keep_the_input_and_create_nothing(self, client: TestClient, db: Session) -> None:
        token = csrf_from(client.get("/admin/setup").text)
        response = client.post(
            "/admin/setup", data={**SETUP, "csrf_token": token, "slug": "Bad Slug", "password_again": "other"}
        )
        assert response.status_code == 400
        assert "Kortnamnet får bara" in response.text
        assert 'value="Förskolan Lärkan"' in response.text
        assert db.scalar(select(func.count()).select_from(Organisation)) == 0
        short = client.post(
            "/admin/setup", data={**SETUP, "csrf_token": token, "password": "kort", "password_again": "kort"}
        )
        assert short.status_code == 400 and "minst 10 tecken" in short.text
        assert db.scalar(select(func.count()).select_from(Preschool)) == 0

    def test_setup_without_the_csrf_token_is_refused(self, client: TestClient, db: Session) -> None:
        client.get("/admin/setup")
        response = client.post("/admin/setup", data=SETUP)
        assert response.status_code == 403
        assert db.scalar(select(func.count()).select_from(Organisation)) == 0

    @pytest.mark.parametrize("forged", ["å" * 64, "x", "0" * 64])
    def test_a_forged_csrf_token_is_refused_not_a_crash(
        self, client: TestClient, db: Session, forged: str
    ) -> None:
        client.get("/admin/setup")
        assert client.post("/admin/setup", data={**SETUP, "csrf_token": forged}).status_code == 403
        header = {"X-CSRF-Token": forged.encode()}  # the raw bytes, as a browser may send them
        assert client.post("/admin/setup", data=SETUP, headers=header).status_code == 403
        assert db.scalar(select(func.count()).select_from(Organisation)) == 0


class TestSignIn:
    def test_wrong_password_is_refused_kindly(self, client: TestClient, world: World) -> None:
        token = csrf_from(client.get("/admin/login").text)
        response = client.post(
            "/admin/login", data={"csrf_token": token, "email": world.org_admin_a, "password": "fel lösenord"}
        )
        assert response.status_code == 401
        assert "Fel e-postadress eller lösenord." in response.text
        assert "laiban_session" not in response.cookies

    def test_repeated_failures_are_throttled(self, client: TestClient, world: World) -> None:
        token = csrf_from(client.get("/admin/login").text)
        form = {"csrf_token": token, "email": world.org_admin_a, "password": "fel lösenord"}
        assert [client.post("/admin/login", data=form).status_code for _ in range(5)] == [401] * 5
        blocked = client.post("/admin/login", data={**form, "password": PASSWORD})
        assert blocked.status_code == 429
        assert "För många misslyckade försök" in blocked.text

    def test_signing_in_issues_a_fresh_session_token(self, client: TestClient, world: World) -> None:
        first = sign_in(client, world.org_admin_a, PASSWORD).client.cookies.get("laiban_session")
        token = csrf_from(client.get("/admin/login").text)
        response = client.post(
            "/admin/login",
            data={"csrf_token": token, "email": world.org_admin_a, "password": PASSWORD},
            follow_redirects=False,
        )
        second = response.cookies.get("laiban_session")
        assert second and second != first  # no session fixation: a sign-in never keeps a known token
        client.cookies.clear()
        client.cookies.set("laiban_session", first)
        assert client.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"

    def test_session_cookie_is_httponly_and_samesite(self, client: TestClient, world: World) -> None:
        token = csrf_from(client.get("/admin/login").text)
        response = client.post(
            "/admin/login",
            data={"csrf_token": token, "email": world.org_admin_a, "password": PASSWORD},
            follow_redirects=False,
        )
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie

    def test_expired_sessions_go_back_to_the_login(
        self, world: World, browser_for: SignIn, db: Session
    ) -> None:
        browser: Browser = browser_for(world.org_admin_a, PASSWORD)
        assert browser.get("/admin", follow_redirects=False).status_code == 200
        db.execute(update(LoginSession).values(expires_at=accounts.utcnow() - dt.timedelta(minutes=1)))
        db.commit()
        assert browser.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"

    def test_logout_ends_the_session_on_the_server(self, world: World, browser_for: SignIn) -> None:
        browser: Browser = browser_for(world.org_admin_a, PASSWORD)
        token = browser.client.cookies.get("laiban_session")
        assert browser.post("/admin/logout", follow_redirects=False).status_code == 303
        browser.client.cookies.set("laiban_session", token)  # a copied cookie must not come back to life
        assert browser.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"

    def test_changing_the_password_signs_out_other_browsers(self, world: World, browser_for: SignIn) -> None:
        here: Browser = browser_for(world.admin_ekorren, PASSWORD)
        elsewhere: Browser = browser_for(world.admin_ekorren, PASSWORD)
        wrong = here.post(
            "/admin/account",
            {"current": "fel", "new": "ett nytt långt lösenord", "new_again": "ett nytt långt lösenord"},
        )
        assert wrong.status_code == 400
        ok = here.post(
            "/admin/account",
            {"current": PASSWORD, "new": "ett nytt långt lösenord", "new_again": "ett nytt långt lösenord"},
        )
        assert ok.status_code == 200 and "Lösenordet är bytt" in ok.text
        assert here.get("/admin", follow_redirects=False).status_code == 200
        assert elsewhere.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"


class TestCsrf:
    def test_a_post_without_the_token_changes_nothing(
        self, world: World, browser_for: SignIn, db: Session
    ) -> None:
        browser: Browser = browser_for(world.admin_ekorren, PASSWORD)
        response = browser.client.post("/admin/p/ekorren/devices", data={"name": "Smygplatta"})
        assert response.status_code == 403
        response = browser.client.post(
            "/admin/p/ekorren/devices", data={"name": "Smygplatta", "csrf_token": "0" * 64}
        )
        assert response.status_code == 403
        assert db.scalar(select(Device).where(Device.name == "Smygplatta")) is None

    def test_a_token_from_another_session_is_refused(self, world: World, browser_for: SignIn) -> None:
        mine: Browser = browser_for(world.admin_ekorren, PASSWORD)
        other: Browser = browser_for(world.org_admin_a, PASSWORD)
        response = mine.client.post("/admin/p/ekorren/devices", data={"name": "X", "csrf_token": other.csrf})
        assert response.status_code == 403

    def test_htmx_requests_may_send_the_token_as_a_header(self, world: World, browser_for: SignIn) -> None:
        browser: Browser = browser_for(world.admin_ekorren, PASSWORD)
        response = browser.client.post(
            "/admin/p/ekorren/devices", data={"name": "Hallen 2"}, headers={"X-CSRF-Token": browser.csrf}
        )
        assert response.status_code == 200


class TestPreschoolSettings:
    def test_an_admin_saves_settings(self, world: World, browser_for: SignIn, db: Session) -> None:
        browser: Browser = browser_for(world.admin_ekorren, PASSWORD)
        response = browser.post(
            "/admin/p/ekorren/settings",
            {
                "name": "Förskolan Ekorren",
                "address": "Ekvägen 2",
                "latitude": "59.33",
                "longitude": "18.06",
                "timezone": "Europe/Stockholm",
                "day_starts_at": "07:00",
                "day_ends_at": "17:00",
                "modules": ["lunch", "clock"],
                "languages": ["ar", "en"],
                "groups": "Svamp\nMossa",
            },
        )
        assert response.status_code == 200 and "Sparat." in response.text
        preschool = db.get_one(Preschool, world.ekorren)
        assert (preschool.latitude, preschool.longitude, preschool.address) == (59.33, 18.06, "Ekvägen 2")
        assert preschool.modules == ["lunch", "clock"]
        assert preschool.languages == ["sv", "en", "ar"]
        assert [g.name for g in preschool.groups] == ["Mossa", "Svamp"]

    def test_bad_input_is_explained_and_nothing_is_lost(
        self, world: World, browser_for: SignIn, db: Session
    ) -> None:
        browser: Browser = browser_for(world.admin_ekorren, PASSWORD)
        response = browser.post(
            "/admin/p/ekorren/settings",
            {
                "name": "Nytt namn",
                "latitude": "norr",
                "longitude": "18",
                "timezone": "Europe/Stockholm",
                "day_starts_at": "07:00",
                "day_ends_at": "17:00",
                "groups": "Svamp",
            },
        )
        assert response.status_code == 400
        assert "Latitud måste vara ett tal" in response.text
        assert 'value="Nytt namn"' in response.text and 'value="norr"' in response.text  # the input stays
        assert db.get_one(Preschool, world.ekorren).name == "Förskolan Ekorren"  # the stored data too

    def test_a_pedagogue_sees_but_cannot_change_settings(
        self, world: World, browser_for: SignIn, db: Session
    ) -> None:
        browser: Browser = browser_for(world.pedagogue_ekorren, PASSWORD)
        page = browser.get("/admin/p/ekorren/settings")
        assert page.status_code == 200 and "<fieldset disabled>" in page.text
        assert browser.post("/admin/p/ekorren/settings", {"name": "Hackad"}).status_code == 403
        assert db.get_one(Preschool, world.ekorren).name == "Förskolan Ekorren"

    def test_text_is_escaped(self, world: World, browser_for: SignIn) -> None:
        browser: Browser = browser_for(world.admin_ekorren, PASSWORD)
        browser.post(
            "/admin/p/ekorren/settings",
            {
                "name": "<script>alert(1)</script>",
                "address": '"><img src=x onerror=alert(1)>',
                "timezone": "Europe/Stockholm",
                "day_starts_at": "07:00",
                "day_ends_at": "17:00",
            },
        )
        page = browser.get("/admin/p/ekorren/settings").text
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<img src=x" not in page

    def test_an_org_admin_adds_a_preschool(self, world: World, browser_for: SignIn, db: Session) -> None:
        browser: Browser = browser_for(world.org_admin_a, PASSWORD)
        response = browser.post(
            "/admin/preschools/new",
            {
                "slug": "lärkan",
                "name": "Lärkan",
                "timezone": "Europe/Stockholm",
                "day_starts_at": "07:00",
                "day_ends_at": "17:00",
            },
        )
        assert response.status_code == 400 and "Kortnamnet" in response.text
        response = browser.post(
            "/admin/preschools/new",
            {
                "slug": "larkan",
                "name": "Lärkan",
                "timezone": "Europe/Stockholm",
                "day_starts_at": "07:00",
                "day_ends_at": "17:00",
                "modules": ["lunch"],
                "groups": "Ett\nTvå",
            },
        )
        assert response.status_code == 200
        preschool = db.scalar(select(Preschool).where(Preschool.slug == "larkan"))
        assert preschool is not None and preschool.organisation_id == world.org_a
        assert browser_for(world.admin_ekorren, PASSWORD).get("/admin/preschools/new").status_code == 403


class TestTenancy:
    def test_other_preschools_are_hidden_or_forbidden(self, world: World, browser_for: SignIn) -> None:
        browser: Browser = browser_for(world.admin_ekorren, PASSWORD)
        assert browser.get("/admin/p/myran/settings").status_code == 404  # another organisation
        assert browser.get("/admin/p/myran/devices").status_code == 404
        assert browser.get("/admin/p/humlan/settings").status_code == 403  # own organisation, no role
        assert browser.post("/admin/p/myran/devices", {"name": "X"}).status_code == 404
        dashboard = browser.get("/admin").text
        assert "Förskolan Ekorren" in dashboard and "Humlan" not in dashboard and "Myran" not in dashboard

    def test_a_device_of_another_preschool_cannot_be_revoked(
        self, world: World, browser_for: SignIn, db: Session
    ) -> None:
        browser: Browser = browser_for(world.admin_ekorren, PASSWORD)
        response = browser.post(f"/admin/p/ekorren/devices/{world.device_myran_id}/revoke")
        assert response.status_code == 404
        assert db.get_one(Device, world.device_myran_id).revoked_at is None

    def test_org_admins_only_manage_their_own_users(
        self, world: World, browser_for: SignIn, db: Session
    ) -> None:
        other_org: Browser = browser_for(world.org_admin_b, PASSWORD)
        users_page = other_org.get("/admin/users").text
        assert "chef@soderby.example" in users_page and "norrstad" not in users_page
        victim = db.scalar(select(User).where(User.email == world.pedagogue_ekorren))
        assert victim is not None
        assert other_org.get(f"/admin/users/{victim.id}").status_code == 404
        assert other_org.post(f"/admin/users/{victim.id}", {"name": "X", "active": "on"}).status_code == 404

    def test_pedagogues_cannot_manage_users_or_devices(self, world: World, browser_for: SignIn) -> None:
        browser: Browser = browser_for(world.pedagogue_ekorren, PASSWORD)
        assert browser.get("/admin/users").status_code == 403
        assert browser.get("/admin/p/ekorren/devices").status_code == 403


class TestUsersAndDevices:
    def test_an_org_admin_adds_and_edits_a_user(self, world: World, browser_for: SignIn, db: Session) -> None:
        admin: Browser = browser_for(world.org_admin_a, PASSWORD)
        response = admin.post(
            "/admin/users",
            {
                "name": "Ny Pedagog",
                "email": "ny@norrstad.example",
                "password": "kort",
                f"role_{world.humlan}": "pedagogue",
            },
        )
        assert response.status_code == 400 and "minst 10 tecken" in response.text
        assert 'value="ny@norrstad.example"' in response.text
        response = admin.post(
            "/admin/users",
            {
                "name": "Ny Pedagog",
                "email": "ny@norrstad.example",
                "password": "ett bra lösenord",
                f"role_{world.humlan}": "pedagogue",
            },
        )
        assert response.status_code == 200
        newcomer: Browser = browser_for("ny@norrstad.example", "ett bra lösenord")
        assert newcomer.get("/admin/p/humlan/settings").status_code == 200
        assert newcomer.get("/admin/p/ekorren/settings").status_code == 403
        user = db.scalar(select(User).where(User.email == "ny@norrstad.example"))
        assert user is not None
        admin.post(f"/admin/users/{user.id}", {"name": "Ny Pedagog"})  # unchecked "active": switched off
        assert newcomer.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"

    def test_an_admin_cannot_lock_themselves_out(
        self, world: World, browser_for: SignIn, db: Session
    ) -> None:
        admin: Browser = browser_for(world.org_admin_a, PASSWORD)
        me = db.scalar(select(User).where(User.email == world.org_admin_a))
        assert me is not None
        response = admin.post(f"/admin/users/{me.id}", {"name": "Chefen", "active": "on"})  # not org admin
        assert response.status_code == 400
        db.expire_all()
        assert db.get_one(User, me.id).is_org_admin

    def test_a_revoked_kiosk_loses_access_at_once(
        self, world: World, browser_for: SignIn, client: TestClient
    ) -> None:
        headers = {"Authorization": f"Bearer {world.device_ekorren}"}
        assert client.get("/api/v1/kiosk", headers=headers).status_code == 200
        admin: Browser = browser_for(world.admin_ekorren, PASSWORD)
        page = admin.get("/admin/p/ekorren/devices").text
        assert "Kopplad" in page
        assert admin.post(f"/admin/p/ekorren/devices/{world.device_ekorren_id}/revoke").status_code == 200
        assert client.get("/api/v1/kiosk", headers=headers).status_code == 401
        assert "Bortkopplad" in admin.get("/admin/p/ekorren/devices").text

    def test_the_pairing_code_is_shown_once_with_its_url(self, world: World, browser_for: SignIn) -> None:
        admin: Browser = browser_for(world.admin_ekorren, PASSWORD)
        created = admin.post("/admin/p/ekorren/devices", {"name": "Tamburen"}).text
        code = created.split('<p class="code">')[1].split("<")[0]
        assert f"http://testserver/kiosk/pair?code={code}" in created
        assert code not in admin.get("/admin/p/ekorren/devices").text
        assert "Väntar på koppling" in admin.get("/admin/p/ekorren/devices").text


def test_times_are_shown_in_the_preschools_timezone() -> None:
    import datetime as dt

    from laiban.web.admin.render import local_time

    moment = dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC)
    assert local_time(moment, "Europe/Stockholm") == "2026-07-01 12:00"
