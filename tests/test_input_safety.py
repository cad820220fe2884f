"""Input safety at the edge of the server: request bodies are size-limited before they are read
(web/limits.py), form parsing refuses too many fields, files or too large parts with a 4xx, URLs never reach
a file outside their folder, and an exported menu cannot smuggle a spreadsheet formula.

Where streaming or raw paths matter, the requests go over real HTTP to one real `laiban serve` (as in
tests/serving.py) as raw bytes: HTTP clients normalise `..` and percent-encodings away before they send.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import select
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.orm import Session

from laiban.store import accounts, menus
from laiban.store.db import make_engine, session_factory, transaction
from laiban.store.preschools import PreschoolSettings, create_organisation, create_preschool
from laiban.store.tables import Child
from laiban.store.uploads import MAX_BYTES, save_picture
from laiban.web.api.listen import LARGEST_BYTES
from laiban.web.limits import DEFAULT_BYTES, MULTIPART_BYTES

from .conftest import SignIn
from .serving import Server, free_port, serve_command
from .test_cli import clean_env
from .world import PASSWORD, World

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])  # about HTTP, not about the database
MB = 1024 * 1024
CHUNKED = "Transfer-Encoding: chunked\r\n\r\n"


# --- raw HTTP ------------------------------------------------------------------------------------------


def connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.settimeout(10)
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body of one response (until Content-Length or the connection closes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {
        name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])
    }
    length = int(headers.get("content-length", "-1"))
    while length < 0 or len(body) < length:
        try:
            piece = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not piece:
            break
        body += piece
    return status, headers, body


def raw_request(
    server: Server, request_line: str, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    with connect(server) as sock:
        lines = [request_line, f"Host: 127.0.0.1:{server.port}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape"))
        status, _, body = read_response(sock)
    return status, body


def send_chunked(sock: socket.socket, total: int, piece: bytes) -> int:
    """Sends up to `total` bytes as chunks of `piece` until the server answers; returns the bytes sent."""
    sent = 0
    try:
        while sent < total:
            sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            sent += len(piece)
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered (or closed) before the end
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sent


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One `laiban serve` (SQLite in its data folder) for the module: the limits do not depend on data."""
    data_dir = tmp_path_factory.mktemp("served")
    env = clean_env(data_dir, PYTHONUNBUFFERED="1")
    port = free_port()
    log = data_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            serve_command(port), env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(process, port, log, env)
    try:
        server.wait_until_healthy()
        yield server
    finally:
        server.stop()


def data_dir_of(server: Server) -> Path:
    return Path(server.env["LAIBAN_DATA_DIR"])


def device_token(server: Server, photo: str = "") -> str:
    """A paired kiosk of a new preschool in the server's database; with `photo` (an upload key), a child of
    the preschool has it as their picture (pictures are served only where they are used)."""
    engine = make_engine(f"sqlite:///{data_dir_of(server) / 'laiban.db'}")
    try:
        with transaction(session_factory(engine)) as session:
            organisation = create_organisation(session, "Gränsby kommun")
            preschool = create_preschool(session, organisation, "gransen", PreschoolSettings(name="Gränsen"))
            if photo:
                session.add(Child(preschool_id=preschool.id, first_name="Bild", avatar=photo))
            _, code = accounts.create_device(session, preschool, "Hallen")
            paired = accounts.pair_device(session, code)
            assert paired is not None
            return paired[1]
    finally:
        engine.dispose()


# --- body sizes over real HTTP -------------------------------------------------------------------------


def test_a_declared_body_over_the_limit_is_refused_before_it_is_sent(served: Server) -> None:
    cases = [
        ("/api/v1/ask", "application/json", DEFAULT_BYTES + 1),
        ("/api/v1/devices/pair", "application/json", 100 * MB),
        ("/api/v1/listen?lang=sv", "audio/webm", LARGEST_BYTES + 1),
        ("/admin/login", "application/x-www-form-urlencoded", DEFAULT_BYTES + 1),
        ("/admin/p/ekorren/calendar/activities", "multipart/form-data; boundary=x", MULTIPART_BYTES + 1),
    ]
    for path, kind, length in cases:
        started = time.monotonic()
        with connect(served) as sock:
            head = (
                f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {kind}\r\nContent-Length: {length}\r\n\r\n"
            )
            sock.sendall(head.encode())  # and not one byte of the body
            status, headers, body = read_response(sock)
        assert status == 413, (path, status, body[:300])
        assert time.monotonic() - started < 5  # answered at once, without waiting for the body
        assert headers["x-content-type-options"] == "nosniff"  # the usual headers are on it too
        if path.startswith("/admin"):
            assert headers["content-type"].startswith("text/html")
            assert "för stort" in body.decode() and "MB" in body.decode()
        else:
            error = json.loads(body)["error"]
            assert error["code"] == "too_large" and "MB" in error["message"], error
    assert "Traceback" not in served.output()


@pytest.mark.parametrize(
    ("path", "kind", "limit"),
    [
        ("/api/v1/ask", "application/json", DEFAULT_BYTES),
        ("/api/v1/devices/pair", "application/json", DEFAULT_BYTES),
        ("/admin/login", "application/x-www-form-urlencoded", DEFAULT_BYTES),
    ],
)
def test_a_chunked_body_is_cut_off_at_the_limit_while_it_streams(
    served: Server, path: str, kind: str, limit: int
) -> None:
    total = 20 * limit
    with connect(served) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {kind}\r\n{CHUNKED}".encode())
        sent = send_chunked(sock, total, b" " * 65536 if "json" in kind else b"a" * 65536)
        status, _, body = read_response(sock)
    assert status == 413, (status, body[:300])
    assert sent < total / 2, "answered long before the whole body was sent"
    if path.startswith("/admin"):
        assert "för stort" in body.decode()
    else:
        assert json.loads(body)["error"]["code"] == "too_large"
    assert "Traceback" not in served.output()


def test_a_body_within_the_limit_still_works_and_bad_lengths_are_refused(served: Server) -> None:
    with connect(served) as sock:  # a small chunked JSON body reaches the route (no device token: 401)
        sock.sendall(
            f"POST /api/v1/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{CHUNKED}".encode()
        )
        sock.sendall(b'11\r\n{"intent":"time"}\r\n0\r\n\r\n')
        status, _, body = read_response(sock)
    assert status == 401, body
    for length in ("abc", "-1", "1e9", "99999999999999999999999"):
        status, _ = raw_request(
            served,
            "POST /api/v1/ask HTTP/1.1",
            {"Content-Type": "application/json", "Content-Length": length},
        )
        assert status == 400, length
    assert "Traceback" not in served.output()


# --- multipart and form limits through the app ----------------------------------------------------------


def multipart(parts: list[tuple[str, bytes, str | None]], boundary: str = "grans") -> bytes:
    out = []
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n")
    return b"".join(out) + f"--{boundary}--\r\n".encode()


@SQLITE_ONLY
def test_form_limits_answer_400_not_500(client: TestClient) -> None:
    kind = {"Content-Type": "multipart/form-data; boundary=grans"}
    cases = {
        "too many fields": multipart([(f"f{n}", b"x", None) for n in range(1001)]),
        "too many files": multipart([(f"f{n}", b"x", f"{n}.txt") for n in range(1001)]),
        "a field over 1 MB": multipart([("csrf_token", b"x" * (MB + 1), None)]),
        "no end": b'--grans\r\nContent-Disposition: form-data; name="a"\r\n\r\nx',
        "no boundary": b"--grans--\r\n",
    }
    for what, body in cases.items():
        headers = kind if what != "no boundary" else {"Content-Type": "multipart/form-data"}
        response = client.post("/admin/login", content=body, headers=headers)
        assert 400 <= response.status_code < 500, (what, response.status_code)
        assert response.headers["content-type"].startswith("text/html"), what  # a page for people
    urlencoded = "&".join(f"f{n}=x" for n in range(5000)) + "&csrf_token=x"
    response = client.post(
        "/admin/login", content=urlencoded, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code in (400, 403), response.status_code
    deep = "[" * 200_000 + "]" * 200_000  # within 1 MB, deeper than any parser's recursion
    response = client.post("/api/v1/devices/pair", content=deep, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500 and "error" in response.json()


@SQLITE_ONLY
def test_a_picture_over_10_mb_is_told_by_the_form_and_a_larger_body_by_the_limit(
    browser_for: SignIn, world: World
) -> None:
    pedagogue = browser_for(world.pedagogue_ekorren, PASSWORD)
    form = {"day": (dt.date.today() + dt.timedelta(days=3)).isoformat(), "title": "Skogen"}
    url = "/admin/p/ekorren/calendar/activities"
    big = ("stor.png", b"\x89PNG\r\n\x1a\n" + bytes(MAX_BYTES), "image/png")
    told = pedagogue.post(url, form, files={"picture_file": big})
    assert told.status_code == 400 and "högst 10 MB" in told.text  # the form's own sentence
    huge = ("enorm.png", bytes(MULTIPART_BYTES), "image/png")
    refused = pedagogue.post(url, form, files={"picture_file": huge})
    assert refused.status_code == 413 and "för stort" in refused.text


# --- path traversal over real HTTP ----------------------------------------------------------------------

SECRET = "hemlig-rad-som-aldrig-far-synas"
OUTSIDE = ("CONTENT_SECURITY_POLICY", "root:x:0:0", "SQLite format 3", SECRET, "[tool.", "secret_key")


def traversals(sha: str) -> list[str]:
    long = "a" * 5000
    paths = []
    for prefix in (
        "/uploads/",
        "/static/",
        "/static/kiosk/",
        "/static/pictures/",
        "/kiosk/",
        "/api/v1/speech/",
    ):
        paths += [
            f"{prefix}../secret.txt",
            f"{prefix}../../secret.txt",
            f"{prefix}..%2fsecret.txt",
            f"{prefix}%2e%2e%2fsecret.txt",
            f"{prefix}%2e%2e/%2e%2e/app.py",
            f"{prefix}%2E%2E%2F%2E%2E%2Fapp.py",
            f"{prefix}..%252f..%252fapp.py",  # encoded twice
            f"{prefix}..%5c..%5capp.py",
            f"{prefix}..\\..\\app.py",
            f"{prefix}....//....//app.py",
            f"{prefix}..;/app.py",
            f"{prefix}%c0%ae%c0%ae/app.py",  # overlong UTF-8 dots
            f"{prefix}/etc/passwd",
            f"{prefix}%2fetc%2fpasswd",
            f"{prefix}..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
            f"{prefix}C:%5cwindows%5cwin.ini",
            f"{prefix}{sha}.png%00.txt",
            f"{prefix}%00",
            f"{prefix}{long}",
            f"{prefix}{long}/{long}",
        ]
    paths += [
        "/kiosk/sw.js/..%2f..%2fapp.py",
        "/kiosk/sw.js%00.html",
        "/kiosk/%2e%2e/static/kiosk/sw.js/../../../app.py",
        "/api/docs/../../app.py",
        "/static/kiosk/index.html/..%2f..%2f..%2fapp.py",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/../../../../etc/passwd",
    ]
    return paths


def test_no_url_reaches_a_file_outside_its_folder(served: Server) -> None:
    data_dir = data_dir_of(served)
    (data_dir / "secret.txt").write_text(SECRET)
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, format="PNG")
    key = save_picture(data_dir, out.getvalue())
    sha = key.removeprefix("upload/")
    (data_dir / "uploads" / "secret.txt").write_text(SECRET)
    auth = {"Authorization": f"Bearer {device_token(served, photo=key)}"}

    # What should be served is: the test would prove nothing if every answer were a 404.
    assert raw_request(served, f"GET /uploads/{sha}.png HTTP/1.1", auth)[0] == 200
    assert raw_request(served, "GET /static/admin.css HTTP/1.1")[0] == 200
    assert raw_request(served, "GET /kiosk/sw.js HTTP/1.1")[0] == 200

    for path in traversals(sha):
        for line in (f"GET {path} HTTP/1.1", f"GET http://127.0.0.1:{served.port}{path} HTTP/1.1"):
            status, body = raw_request(served, line, auth)
            assert status in (400, 401, 404, 405, 414, 431), (line[:120], status, body[:200])
            text = body.decode("latin-1")
            for secret in OUTSIDE:
                assert secret not in text, (line[:120], secret)
    assert "Traceback" not in served.output()


# --- a menu exported as CSV -----------------------------------------------------------------------------


@SQLITE_ONLY
def test_an_exported_menu_cannot_carry_a_spreadsheet_formula(db: Session, world: World) -> None:
    monday = dt.date(2026, 11, 23)
    dishes = ['=HYPERLINK("http://example.com/x","Klicka")', "+1+1", "-2+3", "@SUM(A1)", "Fisk - med sås"]
    menus.set_day(db, world.ekorren, monday, "lunch", dishes)
    exported = menus.export_csv(db, world.ekorren, monday, monday)
    for line in exported.splitlines()[1:]:
        cell = line.split(",", 2)[2].strip('"')
        assert not cell.startswith(("=", "+", "-", "@")), line
    found, errors = menus.parse_csv(exported)
    assert not errors and found[(monday, "lunch")] == dishes  # imported again, the dishes are as they were
