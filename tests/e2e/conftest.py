"""The kiosk in a real browser: Playwright drives Debian's Chromium (no browser download) against a real
`laiban serve --demo` subprocess with its own data folder.

Without /usr/bin/chromium (or without the playwright package) these tests are skipped, unless
LAIBAN_TEST_REQUIRE_CHROMIUM=1 (set by scripts/test and CI), which turns the absence into a failure.
Screenshots go to tests/e2e/artifacts/ (not committed): look at them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from laiban.store import accounts
from laiban.store.db import make_engine, session_factory, transaction
from laiban.store.preschools import preschool_by_slug

from ..test_cli import clean_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).with_name("artifacts")
IDLE_SECONDS = 3
STARTUP_DEADLINE = 60.0
DEMO_SLUG = "solrosen"

# Every visible <img> has loaded (with a size) and no drawn clock still waits for its event pictures.
ALL_IMAGES_LOADED = """
() => [...document.querySelectorAll('img')].filter((img) => img.offsetParent !== null)
  .every((img) => img.complete && img.naturalWidth > 0)
  && document.querySelector('svg[data-loading]') === null
"""

TABLET = {"width": 1280, "height": 800}  # a 10–13" tablet in landscape
PHONE = {"width": 390, "height": 844}  # a phone in portrait
VIEWPORTS = {"tablet": TABLET, "phone": PHONE}


def _require_chromium() -> None:
    if os.environ.get("LAIBAN_TEST_REQUIRE_CHROMIUM") == "1":
        return
    pytest.skip("no Chromium for the kiosk tests (apt install chromium, pip install playwright)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class KioskServer:
    """A running `laiban serve --demo`; creates kiosk devices straight in its database."""

    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return "(no output)"

    def pairing_code(self, name: str = "Hallen", group: str | None = "Blåbär") -> str:
        """A fresh one-time pairing code for a new device of the demo preschool (in `group`)."""
        engine = make_engine(f"sqlite:///{self.data_dir / 'laiban.db'}")
        try:
            with transaction(session_factory(engine)) as session:
                preschool = preschool_by_slug(session, DEMO_SLUG)
                assert preschool is not None, "the demo preschool is missing"
                group_id = next((g.id for g in preschool.groups if g.name == group), None)
                _, code = accounts.create_device(session, preschool, name, group_id)
        finally:
            engine.dispose()
        return code

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def start_server(data_dir: Path, **extra_env: str) -> KioskServer:
    """`laiban serve --demo` on a free port, with a clean environment; waits for /healthz."""
    port = free_port()
    env = clean_env(data_dir, LAIBAN_KIOSK_IDLE_SECONDS=str(IDLE_SECONDS), **extra_env)
    log = data_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "laiban.cli", "serve", "--demo", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = KioskServer(process, port, data_dir, log)
    started = time.monotonic()
    while time.monotonic() - started < STARTUP_DEADLINE:
        if process.poll() is not None:
            raise RuntimeError(f"laiban serve exited with {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=2.0).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"laiban serve did not become healthy in {STARTUP_DEADLINE} s:\n{server.output()}")


@pytest.fixture(scope="module")
def kiosk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KioskServer]:
    server = start_server(tmp_path_factory.mktemp("kiosk-server"))
    try:
        yield server
    finally:
        server.stop()
    assert "Traceback" not in server.output(), server.output()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require_chromium()
        pytest.fail("LAIBAN_TEST_REQUIRE_CHROMIUM=1 but the playwright package is not installed")
    if not CHROMIUM.exists():
        _require_chromium()
        pytest.fail(f"LAIBAN_TEST_REQUIRE_CHROMIUM=1 but {CHROMIUM} does not exist")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@dataclass
class Kiosk:
    """One paired tablet: its browser context and page, and what went wrong in the page."""

    context: Any
    page: Any
    server: KioskServer
    viewport_name: str
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        """Saves the screen once every visible picture has loaded."""
        self.page.wait_for_function(ALL_IMAGES_LOADED)
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}-{self.viewport_name}.png"
        self.page.screenshot(path=str(path))
        return path


OpenKiosk = Callable[..., Kiosk]


@pytest.fixture
def open_kiosk(browser: Any, kiosk_server: KioskServer) -> Iterator[OpenKiosk]:
    """Opens a new tablet (fresh browser context, empty caches), pairs it and waits for its home screen."""
    opened: list[Kiosk] = []

    def open_one(viewport: str = "tablet", pair: bool = True) -> Kiosk:
        context = browser.new_context(
            viewport=VIEWPORTS[viewport],
            device_scale_factor=1,
            has_touch=True,
            locale="sv-SE",
            timezone_id="Europe/Stockholm",
            reduced_motion="reduce",
            service_workers="allow",
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        kiosk = Kiosk(context, page, kiosk_server, viewport)
        page.on("pageerror", lambda error: kiosk.page_errors.append(str(error)))
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text and kiosk.csp_violations.append(message.text)
            ),
        )
        opened.append(kiosk)
        if pair:
            page.goto(f"{kiosk_server.base_url}/kiosk/pair?code={kiosk_server.pairing_code()}")
            page.wait_for_url(f"{kiosk_server.base_url}/kiosk")
            page.wait_for_selector("html[data-ready='true']")
            page.wait_for_selector("body[data-screen='home']")
        return kiosk

    yield open_one
    for kiosk in opened:
        kiosk.context.close()
    for kiosk in opened:
        assert not kiosk.page_errors, kiosk.page_errors
        assert not kiosk.csp_violations, kiosk.csp_violations
