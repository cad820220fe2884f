"""Web hardening (issue #11): HSTS behind TLS, the password policy, sign-in codes (TOTP), and sessions that
cannot be fixed, that expire (absolute and idle) and that end at logout and password change.

Real parts throughout: the app through TestClient, SQLite and PostgreSQL, argon2, a real `laiban serve` for
the proxy case and the real `laiban` command. Time is set by passing `now` to the store's functions, or by
moving the stored session times, as the other session tests do.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from laiban.config import Settings
from laiban.store import accounts, password_policy, totp
from laiban.store.tables import AuditEntry, LoginSession, User
from laiban.web.app import create_app

from .conftest import SECRET, Browser, SignIn, csrf_from, sign_in
from .serving import Launch
from .world import PASSWORD, World

HSTS = "max-age=31536000; includeSubDomains"


def login_form(client: TestClient, email: str, password: str) -> httpx.Response:
    token = csrf_from(client.get("/admin/login").text)
    return client.post(
        "/admin/login",
        data={"csrf_token": token, "email": email, "password": password},
        follow_redirects=False,
    )


def session_count(db: Session, email: str) -> int:
    db.expire_all()
    user_id = db.scalar(select(User.id).where(User.email == email))
    return db.scalar(select(func.count()).where(LoginSession.user_id == user_id)) or 0


# --- 1. HSTS and Secure cookies ---------------------------------------------------------------------------


class TestTransportSecurity:
    def test_hsts_is_sent_over_https_and_never_over_http(self, app: FastAPI, world: World) -> None:
        with TestClient(app, base_url="https://testserver") as https:
            for path in ("/healthz", "/admin/login", "/admin", "/api/v1/kiosk", "/static/admin.css"):
                assert (
                    https.get(path, follow_redirects=False).headers.get("strict-transport-security") == HSTS
                )
        with TestClient(app, base_url="http://testserver") as http:
            for path in ("/healthz", "/admin/login", "/admin", "/api/v1/kiosk"):
                assert "strict-transport-security" not in http.get(path, follow_redirects=False).headers

    def test_cookies_are_secure_under_https_only(self, app: FastAPI, world: World) -> None:
        with TestClient(app, base_url="https://testserver") as https:
            seed = https.get("/admin/login").headers["set-cookie"]
            assert "laiban_csrf=" in seed and "Secure" in seed
            signed_in = login_form(https, world.org_admin_a, PASSWORD)
            assert signed_in.status_code == 303
            cookie = signed_in.headers["set-cookie"]
            assert "laiban_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
        with TestClient(app, base_url="http://testserver") as http:
            cookie = login_form(http, world.org_admin_a, PASSWORD).headers["set-cookie"]
            assert "laiban_session=" in cookie and "Secure" not in cookie

    def test_secure_cookies_setting_marks_cookies_but_adds_no_hsts_over_http(
        self, settings: Settings, engine: Engine, world: World
    ) -> None:
        """Decision: browsers ignore HSTS over http, and a LAN install must not be locked to https by a
        setting; LAIBAN_SECURE_COOKIES only marks the cookies."""
        app = create_app(replace(settings, secure_cookies=True), engine)
        with TestClient(app, base_url="http://testserver") as http:
            response = login_form(http, world.org_admin_a, PASSWORD)
            assert "Secure" in response.headers["set-cookie"]
            assert "strict-transport-security" not in response.headers


@pytest.mark.parametrize("backend", ["sqlite"])
def test_hsts_behind_a_trusted_proxy_only(launch: Launch, server_env: dict[str, str]) -> None:
    """uvicorn believes X-Forwarded-Proto from LAIBAN_FORWARDED_ALLOW_IPS only; so does HSTS."""
    trusted = launch()
    proxied = httpx.get(f"{trusted.base_url}/healthz", headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert proxied.headers.get("strict-transport-security") == HSTS
    plain = httpx.get(f"{trusted.base_url}/healthz", timeout=10)
    assert "strict-transport-security" not in plain.headers
    trusted.stop()
    untrusted = launch(env={**server_env, "LAIBAN_FORWARDED_ALLOW_IPS": "192.0.2.1"})
    forged = httpx.get(f"{untrusted.base_url}/healthz", headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert forged.status_code == 200
    assert "strict-transport-security" not in forged.headers


# --- 2. the password policy -------------------------------------------------------------------------------


REFUSED_AS_COMMON = [
    "qwertyuiop",
    "1234567890",
    "Sommar2024!",  # a season and a year
    "S0mmar 2024",  # leetspeak and a space
    "januari2025",  # a month and a year
    "lösenord123!",
    "L0SENORD!!!!",  # ö typed as o, 0 for o
    "Förskolan2023",
    "Laiban 2025",
    "P@ssw0rd2024",  # from the zxcvbn list, through leetspeak
    "iloveyou2024",
    "sommarsommar",  # a common word twice
    "aaaaaaaaaaaa",
    "abababababab",
    "hösten!!2026",
]
ACCEPTED = [
    "korrekt häst batteri",
    "ett nytt långt lösenord",
    "fyra ord som inte hör ihop",
    "Tr4ns-Atlantic 99",
    "blåbär-cykel-tornado",
    "correct horse battery staple",
]


class TestPasswordPolicy:
    @pytest.mark.parametrize("password", REFUSED_AS_COMMON)
    def test_common_passwords_and_their_variants_are_refused(self, password: str) -> None:
        assert accounts.password_problem(password) == password_policy.TOO_COMMON

    @pytest.mark.parametrize("password", ACCEPTED)
    def test_uncommon_passwords_pass(self, password: str) -> None:
        assert accounts.password_problem(password, email="eva.pedagog@norrstad.example", name="Eva") is None

    @pytest.mark.parametrize(
        "password",
        ["evapedagog-har-ett-lösen", "Norrstad 2024 blåbär", "sven-svensson-tornado", "SVENSSON blåbär"],
    )
    def test_the_users_own_email_or_name_is_refused(self, password: str) -> None:
        problem = accounts.password_problem(
            password, email="evapedagog@norrstad.example", name="Sven Svensson"
        )
        assert problem == password_policy.TOO_PERSONAL, password

    def test_mostly_digits_is_refused(self) -> None:
        assert accounts.password_problem("197805121234") == password_policy.TOO_FEW_LETTERS
        assert accounts.password_problem("ab-19780512") == password_policy.TOO_FEW_LETTERS
        assert accounts.password_problem("5827-1938-4471-2094") is None  # long enough

    def test_length_is_still_checked(self) -> None:
        assert accounts.password_problem("kort") == password_policy.TOO_SHORT
        assert accounts.password_problem("x" * 1001) == password_policy.TOO_LONG

    def test_the_shipped_list_is_modest_attributed_and_read_once(self) -> None:
        text = (Path(password_policy.__file__).with_name("common_passwords.txt")).read_text(encoding="utf-8")
        lines = text.splitlines()
        assert len(lines) <= 30_000
        assert "MIT" in text and "zxcvbn" in text  # the licence of part 2 travels with it
        assert {"lösenord", "sommar", "förskola", "laiban", "qwerty"} <= set(lines)
        assert password_policy.common_passwords() is password_policy.common_passwords()

    def test_setup_refuses_a_common_password(self, client: TestClient, db: Session) -> None:
        token = csrf_from(client.get("/admin/setup").text)
        form = {
            "csrf_token": token,
            "organisation": "Norrstads kommun",
            "preschool": "Förskolan Lärkan",
            "slug": "larkan",
            "name": "Eva Pedagog",
            "email": "eva@norrstad.example",
            "password": "Sommar2024!",
            "password_again": "Sommar2024!",
        }
        response = client.post("/admin/setup", data=form)
        assert response.status_code == 400
        assert "Lösenordet är för vanligt" in response.text
        assert db.scalar(select(func.count()).select_from(User)) == 0

    def test_changing_ones_own_password_follows_the_policy(
        self, world: World, browser_for: SignIn, db: Session
    ) -> None:
        browser: Browser = browser_for(world.admin_ekorren, PASSWORD)
        for new, message in (("Lösenord2025!", "för vanligt"), ("admin-ekorren-blåbär", "ditt namn")):
            response = browser.post("/admin/account", {"current": PASSWORD, "new": new, "new_again": new})
            assert response.status_code == 400 and message in response.text, new
        # Nothing changed: the old password still signs in.
        with TestClient(browser.client.app) as other:
            assert login_form(other, world.admin_ekorren, PASSWORD).status_code == 303

    def test_guessing_the_current_password_is_throttled_not_a_crash(
        self, world: World, browser_for: SignIn, db: Session
    ) -> None:
        # Found by the access matrix: the sixth wrong guess raised TooManyAttempts through the page (500).
        browser: Browser = browser_for(world.admin_ekorren, PASSWORD)
        stored = db.scalar(select(User.password_hash).where(User.email == world.admin_ekorren))
        new = "en helt ny och lång mening"
        for _ in range(5):
            wrong = browser.post("/admin/account", {"current": "fel lösenord", "new": new, "new_again": new})
            assert wrong.status_code == 400 and "stämmer inte" in wrong.text
        for path, form in (
            ("/admin/account", {"current": PASSWORD, "new": new, "new_again": new}),
            ("/admin/account/totp/off", {"current": PASSWORD}),
        ):
            blocked = browser.post(path, form)
            assert blocked.status_code == 429 and "För många misslyckade försök" in blocked.text, path
        db.expire_all()
        assert db.scalar(select(User.password_hash).where(User.email == world.admin_ekorren)) == stored

    def test_org_admins_cannot_give_users_common_passwords(
        self, world: World, browser_for: SignIn, db: Session
    ) -> None:
        admin: Browser = browser_for(world.org_admin_a, PASSWORD)
        new_user = {"name": "Nils Nilsson", "email": "nils@norrstad.example", "password": "qwerty12345"}
        response = admin.post("/admin/users", new_user)
        assert response.status_code == 400 and "för vanligt" in response.text
        response = admin.post("/admin/users", {**new_user, "password": "nils-nilsson-2024!"})
        assert response.status_code == 400 and "ditt namn eller din e-postadress" in response.text
        assert db.scalar(select(User).where(User.email == "nils@norrstad.example")) is None

        pedagogue_id = db.scalar(select(User.id).where(User.email == world.pedagogue_ekorren))
        edit = {"name": "pedagog", "active": "on", "password": "vinter2024"}
        response = admin.post(f"/admin/users/{pedagogue_id}", edit)
        assert response.status_code == 400 and "för vanligt" in response.text

    def test_the_users_command_follows_the_policy(
        self, settings: Settings, world: World, db: Session
    ) -> None:
        common = run_laiban(
            settings, "users", "passwd", world.pedagogue_ekorren, "--password-stdin", stdin="Sommar2024!\n"
        )
        assert common.returncode != 0 and "för vanligt" in common.stderr, common
        personal = run_laiban(
            settings,
            "users",
            "add",
            "nora@norrstad.example",
            "--name",
            "Nora Pedagog",
            "--preschool",
            "ekorren",
            "--password-stdin",
            stdin="nora-har-ett-lösen\n",
        )
        assert personal.returncode != 0 and "ditt namn" in personal.stderr, personal
        assert db.scalar(select(User).where(User.email == "nora@norrstad.example")) is None


def run_laiban(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The real `laiban` command on the test's database."""
    import os

    env = {key: value for key, value in os.environ.items() if not key.startswith("LAIBAN_")}
    env.update(
        LAIBAN_DATA_DIR=str(settings.data_dir / "cli"),
        LAIBAN_DATABASE_URL=settings.database_url,
        LAIBAN_SECRET_KEY=SECRET,
        PYTHONIOENCODING="utf-8",
    )
    return subprocess.run(
        [sys.executable, "-m", "laiban.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


# --- 3. sign-in codes (TOTP) ------------------------------------------------------------------------------


def next_code(secret: str, last_step: int | None) -> str:
    """A code the server takes now: the current step's, or the next one's if the current was used."""
    step = totp.step_at(time.time())
    if last_step is not None and step <= last_step:
        step = last_step + 1
    return totp.code_at(secret, step)


def switch_on_codes(db: Session, email: str, secret_key: str = SECRET) -> str:
    """Codes on for `email`, through the store (the web flow has its own test); the secret."""
    user = db.scalar(select(User).where(User.email == email))
    assert user is not None
    secret, sealed = accounts.start_totp_enrolment(user, secret_key)
    assert accounts.confirm_totp(
        db, user, sealed, totp.code_at(secret, totp.step_at(time.time())), secret_key
    )
    db.commit()
    return secret


def last_step_of(db: Session, email: str) -> int | None:
    db.expire_all()
    return db.scalar(select(User.totp_last_step).where(User.email == email))


def wrong_code(secret: str) -> str:
    """A code that is none of the codes the server would take now."""
    now = totp.step_at(time.time())
    taken = {totp.code_at(secret, step) for step in range(now - 2, now + 3)}
    return next(
        code for code in ("000000", "111111", "222222", "333333", "444444", "555555") if code not in taken
    )


def send_code(client: TestClient, code: str) -> httpx.Response:
    page = client.get("/admin/login/code")
    assert page.status_code == 200, page.text
    return client.post(
        "/admin/login/code", data={"csrf_token": csrf_from(page.text), "code": code}, follow_redirects=False
    )


class TestCodes:
    def test_rfc_6238_test_vectors(self) -> None:
        secret = base64.b32encode(b"12345678901234567890").decode()
        for moment, expected in ((59, "94287082"), (1111111109, "07081804"), (2000000000, "69279037")):
            assert totp.code_at(secret, totp.step_at(moment), digits=8) == expected
        code = totp.code_at(secret, totp.step_at(59))
        assert totp.matching_step(secret, code, now=59) == 1
        assert totp.matching_step(secret, code[:3] + " " + code[3:], now=59) == 1  # as the app shows it
        assert totp.matching_step(secret, code, now=59, after=1) is None  # that step was used
        assert totp.matching_step(secret, code, now=59 + 3 * 30) is None  # too old

    def test_one_step_either_side_is_accepted_and_no_more(self, db: Session, world: World) -> None:
        secret = switch_on_codes(db, world.admin_ekorren)
        user = db.scalar(select(User).where(User.email == world.admin_ekorren))
        assert user is not None
        later = time.time() + 3600  # after the enrolment's step
        step = totp.step_at(later)
        assert not accounts.use_code(db, user, totp.code_at(secret, step - 2), SECRET, now=later)
        assert not accounts.use_code(db, user, totp.code_at(secret, step + 2), SECRET, now=later)
        assert accounts.use_code(db, user, totp.code_at(secret, step - 1), SECRET, now=later)
        assert accounts.use_code(db, user, totp.code_at(secret, step + 1), SECRET, now=later)
        # Used steps, and every step before the last used one, never work again.
        assert not accounts.use_code(db, user, totp.code_at(secret, step + 1), SECRET, now=later)
        assert not accounts.use_code(db, user, totp.code_at(secret, step), SECRET, now=later)
        assert not accounts.use_code(db, user, "12 34 5x", SECRET, now=later)

    def test_the_secret_is_stored_sealed_under_the_servers_key(self, db: Session, world: World) -> None:
        secret = switch_on_codes(db, world.admin_ekorren)
        user = db.scalar(select(User).where(User.email == world.admin_ekorren))
        assert user is not None and user.totp_secret
        assert secret not in user.totp_secret and secret.lower() not in user.totp_secret.lower()
        code = totp.code_at(secret, totp.step_at(time.time() + 3600))
        # Another server's key opens nothing; it does not crash either.
        assert not accounts.use_code(
            db, user, code, "another-secret-key-of-enough-length-0123", now=time.time() + 3600
        )
        assert accounts.use_code(db, user, code, SECRET, now=time.time() + 3600)

    def test_switching_codes_on_in_my_account(self, world: World, browser_for: SignIn, db: Session) -> None:
        browser: Browser = browser_for(world.admin_ekorren, PASSWORD)
        page = browser.post("/admin/account/totp")
        assert page.status_code == 200
        assert "<script" not in page.text.split("</head>")[1]  # the QR code works under the CSP
        qr = re.search(r'<img class="qr" src="([^"]+)"', page.text)
        assert qr and qr.group(1).startswith("data:image/svg+xml")
        uri = html.unescape(re.search(r'href="(otpauth://totp/[^"]+)"', page.text).group(1))  # type: ignore[union-attr]
        assert uri.startswith("otpauth://totp/Laiban:admin@ekorren.example?")
        secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)  # type: ignore[union-attr]
        pending = re.search(r'name="pending" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        assert secret not in pending

        wrong = browser.post("/admin/account/totp/confirm", {"pending": pending, "code": wrong_code(secret)})
        assert wrong.status_code == 400 and "Koden stämmer inte" in wrong.text
        assert last_step_of(db, world.admin_ekorren) is None  # not on until a code proves the app has it
        forged = browser.post("/admin/account/totp/confirm", {"pending": pending[:-4] + "AAAA", "code": "1"})
        assert forged.status_code == 400 and "Börja om" in forged.text

        code = totp.code_at(secret, totp.step_at(time.time()))
        done = browser.post("/admin/account/totp/confirm", {"pending": pending, "code": code})
        assert done.status_code == 200 and "Tvåstegsverifiering är påslagen" in done.text
        assert last_step_of(db, world.admin_ekorren) is not None
        assert "Stäng av tvåstegsverifiering" in browser.get("/admin/account").text

        # The next sign-in asks for a code; the one used to switch on does not work.
        other = TestClient(browser.client.app, base_url="http://testserver")
        assert login_form(other, world.admin_ekorren, PASSWORD).headers["location"] == "/admin/login/code"
        assert send_code(other, code).status_code == 401
        assert send_code(other, next_code(secret, last_step_of(db, world.admin_ekorren))).status_code == 303

    def test_a_pending_enrolment_belongs_to_its_user_and_expires(self, db: Session, world: World) -> None:
        admin = db.scalar(select(User).where(User.email == world.admin_ekorren))
        other = db.scalar(select(User).where(User.email == world.pedagogue_ekorren))
        assert admin is not None and other is not None
        secret, sealed = accounts.start_totp_enrolment(admin, SECRET, now=1_000_000)
        assert accounts.enrolment_secret(admin, sealed, SECRET, now=1_000_000 + 60) == secret
        assert accounts.enrolment_secret(other, sealed, SECRET, now=1_000_000 + 60) is None
        too_late = 1_000_000 + accounts.PENDING_ENROLMENT_SECONDS + 1
        assert accounts.enrolment_secret(admin, sealed, SECRET, now=too_late) is None

    def test_sign_in_with_a_code_creates_no_session_before_the_code(
        self, client: TestClient, db: Session, world: World
    ) -> None:
        secret = switch_on_codes(db, world.admin_ekorren)
        first = login_form(client, world.admin_ekorren, PASSWORD)
        assert first.status_code == 303 and first.headers["location"] == "/admin/login/code"
        assert "laiban_session" not in first.cookies
        pending = first.headers["set-cookie"]
        assert "laiban_pending=" in pending and "HttpOnly" in pending and "Max-Age=300" in pending
        assert session_count(db, world.admin_ekorren) == 0
        assert client.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"
        assert client.get("/admin/account", follow_redirects=False).headers["location"] == "/admin/login"

        wrong = send_code(client, wrong_code(secret))
        assert wrong.status_code == 401 and "Koden stämmer inte" in wrong.text
        assert session_count(db, world.admin_ekorren) == 0

        done = send_code(client, next_code(secret, last_step_of(db, world.admin_ekorren)))
        assert done.status_code == 303 and done.headers["location"] == "/admin"
        assert "laiban_session" in done.cookies
        assert session_count(db, world.admin_ekorren) == 1
        assert client.get("/admin", follow_redirects=False).status_code == 200
        # The pending state is gone: the code step cannot be repeated without the password.
        assert client.get("/admin/login/code", follow_redirects=False).headers["location"] == "/admin/login"

    def test_a_wrong_password_never_reaches_the_code_step(
        self, client: TestClient, db: Session, world: World
    ) -> None:
        switch_on_codes(db, world.admin_ekorren)
        response = login_form(client, world.admin_ekorren, "fel lösenord igen")
        assert response.status_code == 401 and "laiban_pending" not in response.cookies
        assert client.get("/admin/login/code", follow_redirects=False).headers["location"] == "/admin/login"

    def test_a_code_works_once_even_in_two_browsers(self, app: FastAPI, db: Session, world: World) -> None:
        secret = switch_on_codes(db, world.admin_ekorren)
        code = next_code(secret, last_step_of(db, world.admin_ekorren))
        with TestClient(app) as one, TestClient(app) as two:
            login_form(one, world.admin_ekorren, PASSWORD)
            login_form(two, world.admin_ekorren, PASSWORD)
            assert send_code(one, code).status_code == 303
            assert send_code(two, code).status_code == 401  # seen over someone's shoulder: too late

    def test_wrong_codes_are_throttled(self, client: TestClient, db: Session, world: World) -> None:
        secret = switch_on_codes(db, world.admin_ekorren)
        login_form(client, world.admin_ekorren, PASSWORD)
        right = next_code(secret, last_step_of(db, world.admin_ekorren))
        wrong = wrong_code(secret)
        assert [send_code(client, wrong).status_code for _ in range(5)] == [401] * 5
        blocked = send_code(client, right)
        assert blocked.status_code == 429 and "För många misslyckade försök" in blocked.text
        assert session_count(db, world.admin_ekorren) == 0

    def test_the_pending_sign_in_expires_and_cannot_be_forged(
        self, client: TestClient, db: Session, world: World
    ) -> None:
        switch_on_codes(db, world.admin_ekorren)
        user = db.scalar(select(User).where(User.email == world.admin_ekorren))
        assert user is not None
        sealed = accounts.pending_sign_in(user, SECRET, now=1_000_000)
        assert accounts.pending_user(db, sealed, SECRET, now=1_000_000 + 299) is user
        assert accounts.pending_user(db, sealed, SECRET, now=1_000_000 + 301) is None
        assert (
            accounts.pending_user(db, sealed, "another-secret-key-of-enough-length-0123", now=1_000_000)
            is None
        )
        # A pending sign-in made before a password change is void after it.
        fresh = accounts.pending_sign_in(user, SECRET)
        accounts.set_password(db, user, "ett helt nytt långt lösen")
        assert accounts.pending_user(db, fresh, SECRET) is None
        db.rollback()
        # Through the web: a made-up cookie does not lead to the code step.
        client.cookies.set("laiban_pending", "bm90IGEgcmVhbCBzdGF0ZQ", path="/admin/login")
        assert client.get("/admin/login/code", follow_redirects=False).headers["location"] == "/admin/login"

    def test_org_admins_see_and_switch_off_codes_for_a_lost_phone(
        self, world: World, browser_for: SignIn, db: Session, client: TestClient
    ) -> None:
        switch_on_codes(db, world.pedagogue_ekorren)
        user_id = db.scalar(select(User.id).where(User.email == world.pedagogue_ekorren))
        admin: Browser = browser_for(world.org_admin_a, PASSWORD)
        users = admin.get("/admin/users").text
        row = next(r for r in users.split("<tr>") if world.pedagogue_ekorren in r)
        assert "<td>På</td>" in row
        assert "Stäng av tvåstegsverifiering" in admin.get(f"/admin/users/{user_id}").text

        # Not for admins of one preschool, nor without the CSRF token, nor across organisations.
        preschool_admin: Browser = browser_for(world.admin_ekorren, PASSWORD)
        assert preschool_admin.post(f"/admin/users/{user_id}/totp/off").status_code == 403
        assert admin.client.post(f"/admin/users/{user_id}/totp/off").status_code == 403
        other_org: Browser = browser_for(world.org_admin_b, PASSWORD)
        assert other_org.post(f"/admin/users/{user_id}/totp/off").status_code == 404
        assert last_step_of(db, world.pedagogue_ekorren) is not None

        done = admin.post(f"/admin/users/{user_id}/totp/off")
        assert done.status_code == 200 and "Tvåstegsverifiering är avstängd" in done.text
        assert last_step_of(db, world.pedagogue_ekorren) is None
        entry = db.scalar(select(AuditEntry).where(AuditEntry.subject == f"totp:{user_id}"))
        assert entry is not None and entry.action == "delete" and entry.actor == "chef"
        assert f"Stängde av tvåstegsverifiering för användare {user_id}" in admin.get("/admin/audit").text
        # The password alone signs in again.
        assert login_form(client, world.pedagogue_ekorren, PASSWORD).headers["location"] == "/admin"

    def test_a_user_switches_codes_off_with_the_password(
        self, world: World, db: Session, app: FastAPI
    ) -> None:
        secret = switch_on_codes(db, world.admin_ekorren)
        with TestClient(app) as client:
            login_form(client, world.admin_ekorren, PASSWORD)
            send_code(client, next_code(secret, last_step_of(db, world.admin_ekorren)))
            browser = Browser(client, csrf_from(client.get("/admin/account").text))
            refused = browser.post("/admin/account/totp/off", {"current": "fel lösenord"})
            assert refused.status_code == 400 and last_step_of(db, world.admin_ekorren) is not None
            done = browser.post("/admin/account/totp/off", {"current": PASSWORD})
            assert done.status_code == 200 and "Tvåstegsverifiering är avstängd" in done.text
            assert last_step_of(db, world.admin_ekorren) is None

    def test_the_users_command_switches_codes_off_and_audits_it(
        self, settings: Settings, db: Session, world: World
    ) -> None:
        switch_on_codes(db, world.pedagogue_ekorren)
        run = run_laiban(settings, "users", "totp-off", world.pedagogue_ekorren)
        assert run.returncode == 0, run
        assert "Switched off sign-in codes" in run.stdout
        assert last_step_of(db, world.pedagogue_ekorren) is None
        user_id = db.scalar(select(User.id).where(User.email == world.pedagogue_ekorren))
        entry = db.scalar(select(AuditEntry).where(AuditEntry.subject == f"totp:{user_id}"))
        assert entry is not None and entry.actor == "Kommandoraden" and entry.organisation_id == world.org_a
        again = run_laiban(settings, "users", "totp-off", world.pedagogue_ekorren)
        assert again.returncode == 0 and "nothing was changed" in again.stdout
        missing = run_laiban(settings, "users", "totp-off", "nobody@example.org")
        assert missing.returncode != 0 and "no user" in missing.stderr


# --- 4. session fixation and expiry -----------------------------------------------------------------------


class TestSessions:
    def test_a_planted_cookie_is_never_promoted(self, client: TestClient, db: Session, world: World) -> None:
        client.cookies.set("laiban_session", "planted-by-someone-else")
        response = login_form(client, world.org_admin_a, PASSWORD)
        assert response.cookies.get("laiban_session") not in (None, "planted-by-someone-else")
        assert accounts.user_for_session(db, "planted-by-someone-else") is None

    def test_a_planted_cookie_is_never_promoted_through_the_code_step(
        self, app: FastAPI, db: Session, world: World, browser_for: SignIn
    ) -> None:
        secret = switch_on_codes(db, world.admin_ekorren)
        # The planted cookie is even a real session (the attacker's own, in another account).
        planted = browser_for(world.pedagogue_ekorren, PASSWORD).client.cookies["laiban_session"]
        with TestClient(app) as victim:
            victim.cookies.set("laiban_session", planted)
            login_form(victim, world.admin_ekorren, PASSWORD)
            # After the password, the planted session is still only the attacker's: no admin rights.
            assert victim.get("/admin/p/ekorren/devices").status_code == 403
            done = send_code(victim, next_code(secret, last_step_of(db, world.admin_ekorren)))
            fresh = done.cookies.get("laiban_session")
            assert fresh and fresh != planted
            assert accounts.user_for_session(db, planted) is None  # the old one ended at sign-in
            user = accounts.user_for_session(db, fresh)
            assert user is not None and user.email == world.admin_ekorren

    def test_sessions_end_after_being_idle(self, world: World, browser_for: SignIn, db: Session) -> None:
        browser: Browser = browser_for(world.org_admin_a, PASSWORD)
        now = accounts.utcnow()
        db.execute(update(LoginSession).values(last_seen_at=now - dt.timedelta(minutes=119)))
        db.commit()
        assert browser.get("/admin", follow_redirects=False).status_code == 200  # and that counts as use
        db.expire_all()
        assert db.scalar(select(LoginSession.last_seen_at)) >= now - dt.timedelta(seconds=5)
        db.execute(update(LoginSession).values(last_seen_at=now - dt.timedelta(minutes=121)))
        db.commit()
        assert browser.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"
        assert session_count(db, world.org_admin_a) == 0  # gone, not only refused

    def test_the_idle_limit_is_a_setting(
        self, settings: Settings, engine: Engine, world: World, db: Session
    ) -> None:
        assert Settings.load({"LAIBAN_SESSION_IDLE_MINUTES": "30"}).session_idle_minutes == 30
        assert Settings.session_idle_minutes == 120  # the default: two hours
        app = create_app(replace(settings, session_idle_minutes=30), engine)
        with TestClient(app) as client:
            browser = sign_in(client, world.org_admin_a, PASSWORD)
            db.execute(update(LoginSession).values(last_seen_at=accounts.utcnow() - dt.timedelta(minutes=31)))
            db.commit()
            assert browser.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"

    def test_idle_and_absolute_ends_in_the_store(self, db: Session, world: World) -> None:
        user = db.scalar(select(User).where(User.email == world.admin_ekorren))
        assert user is not None
        token = accounts.start_session(db, user, hours=12)
        start = accounts.utcnow()
        idle = dt.timedelta(hours=2)
        # Used every hour, the session lives until its absolute end and not a minute longer.
        for hour in range(1, 12):
            assert (
                accounts.user_for_session(db, token, idle=idle, now=start + dt.timedelta(hours=hour)) is user
            )
        assert (
            accounts.user_for_session(db, token, idle=idle, now=start + dt.timedelta(hours=12, minutes=1))
            is None
        )
        other = accounts.start_session(db, user, hours=12)
        assert accounts.user_for_session(db, other, idle=idle, now=start + dt.timedelta(minutes=119)) is user
        assert accounts.user_for_session(db, other, idle=idle, now=start + dt.timedelta(minutes=240)) is None

    def test_sessions_expire_even_when_in_use(self, world: World, browser_for: SignIn, db: Session) -> None:
        browser: Browser = browser_for(world.org_admin_a, PASSWORD)
        db.execute(
            update(LoginSession).values(
                expires_at=accounts.utcnow() - dt.timedelta(seconds=1), last_seen_at=accounts.utcnow()
            )
        )
        db.commit()
        assert browser.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"

    def test_the_session_cookie_lives_no_longer_than_the_session(
        self, client: TestClient, world: World
    ) -> None:
        cookie = login_form(client, world.org_admin_a, PASSWORD).headers["set-cookie"]
        assert "Max-Age=43200" in cookie  # 12 hours: the browser forgets it when the server would

    def test_logout_after_a_code_sign_in_ends_the_session(
        self, app: FastAPI, db: Session, world: World
    ) -> None:
        secret = switch_on_codes(db, world.admin_ekorren)
        with TestClient(app) as client:
            login_form(client, world.admin_ekorren, PASSWORD)
            send_code(client, next_code(secret, last_step_of(db, world.admin_ekorren)))
            token = client.cookies["laiban_session"]
            csrf = csrf_from(client.get("/admin/account").text)
            assert (
                client.post("/admin/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code
                == 303
            )
            assert accounts.user_for_session(db, token) is None
            client.cookies.set("laiban_session", token)
            assert client.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"

    def test_a_password_change_ends_every_other_session(
        self, world: World, browser_for: SignIn, db: Session
    ) -> None:
        here: Browser = browser_for(world.admin_ekorren, PASSWORD)
        elsewhere: Browser = browser_for(world.admin_ekorren, PASSWORD)
        old = here.client.cookies["laiban_session"]
        new = "blåbär cykel tornado"
        changed = here.post("/admin/account", {"current": PASSWORD, "new": new, "new_again": new})
        assert changed.status_code == 200
        assert here.client.cookies["laiban_session"] != old  # this browser got a fresh session
        assert accounts.user_for_session(db, old) is None
        assert elsewhere.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"
        assert session_count(db, world.admin_ekorren) == 1
