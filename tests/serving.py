"""A real `laiban serve` in a subprocess, started as an operator would (LAIBAN_* in the environment, a free
port on 127.0.0.1), for tests/test_server_process.py and tests/test_deploy.py. The fixtures `server_env`
and `launch` (tests/conftest.py) start servers that are always stopped when the test ends, pass or fail.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

STARTUP_DEADLINE = 30.0  # seconds until /healthz must answer 200
STOP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_command(port: int, *args: str) -> list[str]:
    return [sys.executable, "-m", "laiban.cli", "serve", "--port", str(port), *args]


def children_of(pid: int) -> list[int]:
    """The live (not zombie) child processes of `pid`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rpartition(")")[2].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.append(int(entry.name))
    return sorted(found)


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet collected, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    env: dict[str, str] = field(repr=False)
    seen_workers: set[int] = field(default_factory=set, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return "(no output)"

    def describe(self) -> str:
        return (
            f"laiban serve on port {self.port}, exit {self.process.poll()}\n--- output ---\n{self.output()}"
        )

    def workers(self) -> list[int]:
        """The server's worker processes (`--workers N`); none for a single-process server."""
        found = children_of(self.process.pid) if self.process.poll() is None else []
        self.seen_workers.update(found)
        return found

    def wait_until_healthy(self, deadline: float = STARTUP_DEADLINE) -> float:
        """Seconds until /healthz answered 200; fails the test with the server's output otherwise."""
        started = time.monotonic()
        last_error = "no answer yet"
        while time.monotonic() - started < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited before it answered /healthz\n{self.describe()}")
            try:
                response = httpx.get(f"{self.base_url}/healthz", timeout=2.0)
            except httpx.TransportError as exc:
                last_error = repr(exc)
            else:
                if response.status_code == 200:
                    return time.monotonic() - started
                last_error = f"{response.status_code} {response.text}"
            time.sleep(0.05)
        pytest.fail(f"/healthz did not answer 200 within {deadline} s ({last_error})\n{self.describe()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or a power cut of the process."""
        self.workers()
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.workers()
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill_leftovers(self) -> None:
        """Cleanup after a failed test: no worker may outlive it."""
        for pid in self.seen_workers:
            try:  # the same process still, not a new one with a reused pid
                ours = b"laiban.cli" in Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                ours = False
            if ours and alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


Launch = Callable[..., Server]
