"""The kiosk's first load in Chromium: bytes over the wire and time until a child can tap.

Starts `laiban serve --demo` on a free port with a fresh data folder, pairs a kiosk device, then opens
/kiosk in a fresh browser context each run (empty HTTP cache, no service worker, the device token already
in localStorage) and measures with Chromium's own timing:

- bytes of everything the browser fetched until the kiosk was ready and the load event had fired (the
  page, scripts, styles, pictures, API answers; audio excluded), and separately what the kiosk fetches in
  the background afterwards to work offline for the day (the service worker's copy of the app, today's
  answers in every language and their pictures);
- time to interactive: `performance.now()` when the kiosk fires `kiosk-ready` (the module buttons are
  on screen and take taps), DOMContentLoaded and load, in ms from navigation start (median of the runs).

    python bench/kiosk.py [--runs 5]

Needs /usr/bin/chromium and the playwright package. Talks only to 127.0.0.1. Prints one `name value` line
per figure. Targets (issue 8): first load < 500 KB, interactive < 1 s.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DEADLINE_S = 60.0
SETTLE_S = 1.5  # the background prefetch is done when nothing was fetched for this long
VIEWPORT = {"width": 1280, "height": 800}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LAIBAN_")}
    env["LAIBAN_DATA_DIR"] = str(data_dir)
    env["LAIBAN_LOG_LEVEL"] = "warning"
    for source in ("SMHI", "METNO", "SKOLMATEN", "MASHIE"):  # measure Laiban, not the internet
        env[f"LAIBAN_{source}_BASE_URL"] = "http://127.0.0.1:9"
    port = free_port()
    log = data_dir / "serve.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "laiban.cli", "serve", "--demo", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
    base_url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    while time.monotonic() - started < DEADLINE_S:
        if process.poll() is not None:
            raise SystemExit(f"laiban serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return process, base_url
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    process.kill()
    raise SystemExit(f"laiban serve did not answer /healthz within {DEADLINE_S} s:\n{log.read_text()}")


def device_token(data_dir: Path, base_url: str) -> str:
    """Creates a device of the demo preschool in its database and pairs it like the pairing page does."""
    from laiban.store import accounts
    from laiban.store.db import make_engine, session_factory, transaction
    from laiban.store.preschools import preschool_by_slug

    engine = make_engine(f"sqlite:///{data_dir / 'laiban.db'}")
    try:
        with transaction(session_factory(engine)) as session:
            preschool = preschool_by_slug(session, "solrosen")
            assert preschool is not None
            _, code = accounts.create_device(session, preschool, "Bench", preschool.groups[0].id)
    finally:
        engine.dispose()
    response = httpx.post(f"{base_url}/api/v1/devices/pair", json={"code": code}, timeout=10)
    response.raise_for_status()
    return response.json()["token"]


@dataclass
class Run:
    ready_ms: float
    dom_content_loaded_ms: float
    load_ms: float
    first_load_bytes: int
    first_load_requests: int
    background_bytes: int
    background_requests: int
    resource_timing_bytes: int
    by_type: dict[str, int] = field(default_factory=dict)


def measure(browser: Any, base_url: str, token: str) -> Run:
    context = browser.new_context(viewport=VIEWPORT, service_workers="allow")
    # The token as the pairing page leaves it (an init script, so the first navigation is the kiosk's).
    context.add_init_script(f"localStorage.setItem('laiban.deviceToken', {token!r})")
    fetched: list[tuple[float, int, str]] = []  # (started, epoch ms; bytes; content type)
    started: dict[Any, float] = {}

    def start(request: Any) -> None:
        started[request] = time.time() * 1000

    def finished(request: Any) -> None:
        response = request.response()
        kind = (response.headers.get("content-type", "") if response else "").split(";")[0]
        if kind.startswith("audio/"):
            return
        sizes = request.sizes()
        begun = started.get(request, time.time() * 1000)
        fetched.append((begun, sizes["responseBodySize"] + sizes["responseHeadersSize"], kind))

    context.on("request", start)
    context.on("requestfinished", finished)
    page = context.new_page()
    try:
        page.goto(f"{base_url}/kiosk", wait_until="load")
        page.wait_for_selector("html[data-ready='true']")
        page.wait_for_function("() => performance.getEntriesByName('kiosk-ready').length > 0")
        timing = page.evaluate(
            """() => {
              const nav = performance.getEntriesByType('navigation')[0];
              const ready = performance.getEntriesByName('kiosk-ready')[0].startTime;
              const cutoff = Math.max(ready, nav.loadEventEnd);
              const resources = performance.getEntriesByType('resource').filter((r) => r.startTime <= cutoff);
              return {
                origin: performance.timeOrigin,
                ready,
                dcl: nav.domContentLoadedEventEnd,
                load: nav.loadEventEnd,
                bytes: nav.transferSize + resources.reduce((sum, r) => sum + (r.transferSize || 0), 0),
              };
            }"""
        )
        # Then the background work for offline use, until nothing is fetched for SETTLE_S.
        page.wait_for_function("() => document.documentElement.dataset.kept === 'true'", timeout=30_000)
        last = len(fetched)
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < SETTLE_S:
            page.wait_for_timeout(100)
            if len(fetched) != last:
                last = len(fetched)
                quiet_since = time.monotonic()
    finally:
        context.close()
    # The first load: every request that started before the kiosk was ready and the page had loaded.
    cutoff = timing["origin"] + max(timing["ready"], timing["load"])
    first = [item for item in fetched if item[0] <= cutoff]
    background = [item for item in fetched if item[0] > cutoff]
    by_type: dict[str, int] = {}
    for _, size, kind in first:
        by_type[kind or "other"] = by_type.get(kind or "other", 0) + size
    return Run(
        ready_ms=timing["ready"],
        dom_content_loaded_ms=timing["dcl"],
        load_ms=timing["load"],
        first_load_bytes=sum(size for _, size, _ in first),
        first_load_requests=len(first),
        background_bytes=sum(size for _, size, _ in background),
        background_requests=len(background),
        resource_timing_bytes=int(timing["bytes"]),
        by_type=by_type,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh first loads to measure (default 5)")
    runs = max(1, parser.parse_args().runs)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt install chromium")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="laiban-bench-kiosk-") as root:
        data_dir = Path(root)
        process, base_url = start_server(data_dir)
        try:
            token = device_token(data_dir, base_url)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    measure(browser, base_url, token)  # warms the server (imports, first queries)
                    results = [measure(browser, base_url, token) for _ in range(runs)]
                finally:
                    browser.close()
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    first = results[0]
    print(f"kiosk_first_load_bytes {first.first_load_bytes}")
    print(f"kiosk_first_load_kb {first.first_load_bytes / 1024:.1f}")
    print(f"kiosk_first_load_requests {first.first_load_requests}")
    for kind, size in sorted(first.by_type.items(), key=lambda item: -item[1]):
        print(f"kiosk_first_load_bytes[{kind}] {size}")
    print(f"kiosk_first_load_resource_timing_bytes {first.resource_timing_bytes}")
    print(f"kiosk_offline_prefetch_bytes {first.background_bytes}")
    print(f"kiosk_offline_prefetch_requests {first.background_requests}")
    print(f"kiosk_interactive_ms_median {statistics.median(r.ready_ms for r in results):.0f}")
    print(f"kiosk_interactive_ms_max {max(r.ready_ms for r in results):.0f}")
    dom_content_loaded = statistics.median(r.dom_content_loaded_ms for r in results)
    print(f"kiosk_dom_content_loaded_ms_median {dom_content_loaded:.0f}")
    print(f"kiosk_load_ms_median {statistics.median(r.load_ms for r in results):.0f}")
    print(f"kiosk_runs {runs}")


if __name__ == "__main__":
    main()
