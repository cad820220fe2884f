"""Several server processes on one listening socket (`laiban serve --workers N`).

The parent has bound the socket and migrated the database. It forks N workers, each of which builds its own
database engine and app (a SQLAlchemy engine must never cross a fork) and serves the inherited socket; the
kernel hands each new connection to one of them. The parent serves nothing itself. It only watches:

- a worker that exits or is killed is replaced, after a pause that grows while workers keep dying within
  seconds of their start; after `GIVE_UP` such quick deaths in a row the parent stops with an error, so
  that systemd (Restart=on-failure) or the operator sees it;
- SIGTERM, SIGINT or SIGHUP stops every worker gracefully (each finishes its requests under way), and after
  `stop_timeout` seconds kills the ones still running; the parent returns when all are gone;
- on Linux a worker gets SIGTERM when the parent dies, even by SIGKILL, so no orphan keeps serving.

Forking (not spawning) makes a worker start in milliseconds: the parent has imported everything already.
The parent must be single-threaded when it forks; it keeps the signals it waits for blocked and takes them
with `sigtimedwait`, so no Python signal handler of the parent ever runs in a child.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("laiban.supervisor")

STOP = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP})
WATCHED = STOP | {signal.SIGCHLD}
QUICK_DEATH_S = 10.0  # a worker that dies sooner than this after its start counts as failing to start
GIVE_UP = 5  # quick deaths in a row of one worker slot before the parent gives up
MAX_PAUSE_S = 30.0


class WorkersFailing(Exception):
    """The workers keep dying right after their start; the message says so in one sentence."""


@dataclass
class Slot:
    number: int
    pid: int = 0
    started: float = 0.0
    quick_deaths: int = 0
    start_at: float = 0.0  # when to start the next worker of this slot (0: now)


def supervise(workers: int, work: Callable[[], None], *, stop_timeout: float = 30.0) -> None:
    """Run `work` (which serves until it gets SIGTERM) in `workers` forked processes until a stop signal.

    Raises WorkersFailing when a worker keeps dying right after its start.
    """
    if threading.active_count() > 1:  # a lock held by another thread would stay locked in the children
        log.warning("forking workers while %d threads run", threading.active_count())
    slots = [Slot(number) for number in range(1, workers + 1)]
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, WATCHED)
    try:
        for slot in slots:
            _start(slot, work, old_mask)
        while True:
            info = signal.sigtimedwait(WATCHED, 0.5)
            if info is not None and info.si_signo in STOP:
                log.info("received %s, stopping %d workers", signal.Signals(info.si_signo).name, workers)
                break
            _reap(slots)
            now = time.monotonic()
            for slot in slots:
                if slot.pid == 0 and slot.start_at <= now:
                    _start(slot, work, old_mask)
    finally:
        _stop_all(slots, stop_timeout)
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


def _start(slot: Slot, work: Callable[[], None], old_mask: set[signal.Signals]) -> None:
    if slot.quick_deaths >= GIVE_UP:
        raise WorkersFailing(
            f"Worker {slot.number} died {slot.quick_deaths} times in a row right after its start; "
            "see the log above."
        )
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError as exc:  # out of processes or memory for a moment: try again like after a quick death
        slot.quick_deaths += 1
        slot.start_at = time.monotonic() + _pause(slot.quick_deaths)
        log.error("worker %d cannot start (%s); trying again", slot.number, exc.strerror)
        return
    if pid == 0:  # the worker: never returns into the parent's code
        code = 1
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
            _die_with_parent(parent)
            work()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            log.exception("worker %d failed", slot.number)
        finally:
            with contextlib.suppress(Exception):
                logging.shutdown()
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)
    slot.pid, slot.started, slot.start_at = pid, time.monotonic(), 0.0
    log.info("worker %d started [%d]", slot.number, pid)


def _reap(slots: list[Slot]) -> None:
    """Collect every worker that exited and plan its replacement."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        slot = next((slot for slot in slots if slot.pid == pid), None)
        if slot is None:
            continue
        lived = time.monotonic() - slot.started
        slot.pid = 0
        if lived < QUICK_DEATH_S:
            slot.quick_deaths += 1
            pause = _pause(slot.quick_deaths)
        else:
            slot.quick_deaths, pause = 0, 0.0
        slot.start_at = time.monotonic() + pause
        log.warning(
            "worker %d [%d] %s after %.0f s; a new one starts%s",
            slot.number,
            pid,
            _describe(status),
            lived,
            f" in {pause:g} s" if pause else "",
        )


def _pause(quick_deaths: int) -> float:
    """Seconds before the next start after this many quick deaths in a row: 0.5, 1, 2, 4, … 30."""
    return min(MAX_PAUSE_S, 0.5 * 2 ** (quick_deaths - 1))


def _stop_all(slots: list[Slot], timeout: float) -> None:
    running = {slot.pid for slot in slots if slot.pid}
    for pid in running:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while running:
        for pid in list(running):
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                running.discard(pid)
        if not running:
            break
        if time.monotonic() >= deadline:
            log.warning("workers %s did not stop within %g s; killing them", sorted(running), timeout)
            for pid in running:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            for pid in running:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
            break
        time.sleep(0.05)
    for slot in slots:
        slot.pid = 0


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"


def _die_with_parent(parent: int) -> None:
    """Linux: SIGTERM to this process when the parent dies (PR_SET_PDEATHSIG); elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the line above
        os.kill(os.getpid(), signal.SIGTERM)
