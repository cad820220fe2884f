"""The audio cache: what the voice said before, on disk in `<data_dir>/audio/`, so that the day's usual
answers are heard at once.

- One WAV file per (engine, voice, rate, pitch, text), named by the sha256 of them (`cache_key`).
- Bounded: when the files pass the bound, the least recently used go (a hit touches its file's mtime);
  each process counts its own writes and looks at the folder again every `RESCAN_EVERY` writes, so that
  the other workers' files are counted too.
- Concurrent requests for the same audio in one process synthesise it once (the others wait for it);
  files are written to a temporary name and renamed, so that worker processes sharing the folder never
  read half a file.
- A full or read-only disk never costs a child the answer: the audio is returned from memory, the last
  few are kept in memory, and the problem is marked in the folder (an empty file `.problem-ENOSPC`, …:
  even a full disk usually has room for a name) for every worker and the admin to see
  (`cache_problem(data_dir)`); the mark goes with the next write that succeeds.
- Personal audio (a child's name) never comes here: `Voice.audio` makes it in memory every time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

SUFFIX = ".wav"
PROBLEM_PREFIX = ".problem-"
TEMP_PREFIX = ".tmp-"
RESCAN_EVERY = 64  # own writes between two looks at the whole folder
EVICT_TO = 0.9  # of the bound, so that eviction does not run on every write
MEMORY_BYTES = 16 * 1024 * 1024  # audio kept in memory while the disk refuses it
WAIT_SECONDS = 30.0  # the longest a request waits for another one's synthesis of the same audio
STALE_TEMP_SECONDS = 3600.0

# The problems a cache folder can have, by errno name: the marker file's name says which.
_REASONS = {
    "ENOSPC": "disken är full",
    "EDQUOT": "diskkvoten är slut",
    "EROFS": "filsystemet är skrivskyddat",
    "EACCES": "Laiban får inte skriva där",
    "EPERM": "Laiban får inte skriva där",
    "ENOTDIR": "det finns en fil där mappen ska vara",
    "EIO": "disken har ett läs- eller skrivfel",
}
_MARKERS = tuple(PROBLEM_PREFIX + name for name in (*_REASONS, "OTHER"))


def cache_key(engine: str, voice: str, rate: int, pitch: int, text: str) -> str:
    """The audio's name: what makes it sound the way it does, never the audio itself (espeak's output
    differs a little from call to call)."""
    material = "\x1f".join((engine, voice, str(int(rate)), str(int(pitch)), text))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _errno_name(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0, "")
    return name if name in _REASONS else "OTHER"


def _reason(name: str) -> str:
    return _REASONS.get(name, "ett oväntat fel")


def cache_problem(data_dir: Path | str) -> str | None:
    """Why the audio cache of `data_dir` cannot be written, as a sentence for the admin (Swedish), or
    None when it works. Reads the markers any worker left, and tries to create a file there."""
    folder = Path(data_dir) / "audio"
    marked: list[tuple[float, str]] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith(PROBLEM_PREFIX):
                    try:
                        marked.append((entry.stat().st_mtime, entry.name[len(PROBLEM_PREFIX) :]))
                    except OSError:
                        continue
    except FileNotFoundError:
        pass
    except NotADirectoryError as exc:
        return _sentence(folder, _errno_name(exc), None)
    except OSError as exc:
        return _sentence(folder, _errno_name(exc), None)
    if marked:
        since, name = max(marked)
        return _sentence(folder, name, since)
    probe_in = folder if folder.is_dir() else Path(data_dir)
    probe = probe_in / f"{TEMP_PREFIX}probe-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        return _sentence(folder, _errno_name(exc), None)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return None


def _sentence(folder: Path, name: str, since: float | None) -> str:
    when = ""
    if since is not None:
        when = f" (sedan {dt.datetime.fromtimestamp(since).astimezone():%Y-%m-%d %H:%M})"
    return (
        f"Ljudcachen i {folder} kan inte sparas: {_reason(name)}{when}. Laiban talar ändå, men varje svar "
        "skapas på nytt. Frigör utrymme eller rätta mappens behörighet."
    )


class _Flight:
    """One synthesis under way; the other requests for the same audio wait for its result."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: bytes | None = None


class AudioCache:
    """WAV files in `folder`, at most about `max_bytes` together. Thread-safe; shared by processes."""

    def __init__(self, folder: Path, max_bytes: int):
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self._guard = threading.Lock()
        self._flights: dict[str, _Flight] = {}
        self._memory: OrderedDict[str, bytes] = OrderedDict()  # while the disk refuses our files
        self._memory_bytes = 0
        self._size: int | None = None  # the folder's bytes as this process knows them
        self._writes = 0
        self.hits = 0
        self.misses = 0

    def path(self, key: str) -> Path:
        return self.folder / f"{key}{SUFFIX}"

    # --- reading ---------------------------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        """The cached audio, or None; a hit counts as a use (for the LRU eviction)."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except OSError:
            data = None
        if data is not None and _complete(data):
            with contextlib.suppress(OSError):  # evicted meanwhile, or a read-only disk: the audio is good
                os.utime(path)
            return data
        with self._guard:
            kept = self._memory.get(key)
            if kept is not None:
                self._memory.move_to_end(key)
        return kept

    def fetch(self, key: str, make: Callable[[], bytes]) -> tuple[bytes, bool]:
        """The audio for `key` and whether it was cached; else `make()` makes it (once, however many ask
        at the same time) and it is stored. Raises what `make` raises."""
        data = self.get(key)
        if data is not None:
            self.hits += 1
            return data, True
        with self._guard:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leader:
            if flight.done.wait(WAIT_SECONDS) and flight.result is not None:
                self.hits += 1
                return flight.result, True
            return make(), False  # the other one failed: try ourselves, without waiting again
        try:
            data = self.get(key)  # another process may have written it meanwhile
            if data is not None:
                self.hits += 1
                flight.result = data
                return data, True
            self.misses += 1
            data = make()
            flight.result = data
            self.store(key, data)
            return data, False
        finally:
            with self._guard:
                self._flights.pop(key, None)
            flight.done.set()

    # --- writing ---------------------------------------------------------------------------------

    def store(self, key: str, data: bytes) -> bool:
        """Write the audio (atomically); False, marked and kept in memory when the disk refuses it."""
        temporary = self.folder / f"{TEMP_PREFIX}{key[:16]}-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(temporary, "xb") as out:
                out.write(data)
            os.replace(temporary, self.path(key))
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            self._failed(exc)
            self._remember(key, data)
            return False
        self._succeeded()
        self._account(len(data))
        return True

    def _remember(self, key: str, data: bytes) -> None:
        with self._guard:
            if key not in self._memory:
                self._memory[key] = data
                self._memory_bytes += len(data)
            while self._memory_bytes > MEMORY_BYTES and len(self._memory) > 1:
                _, dropped = self._memory.popitem(last=False)
                self._memory_bytes -= len(dropped)

    def _failed(self, exc: OSError) -> None:
        name = _errno_name(exc)
        marker = self.folder / (PROBLEM_PREFIX + name)
        try:
            if marker.exists():
                return
            # An empty file: it needs no data block, so it can be made on a full disk.
            os.close(os.open(marker, os.O_WRONLY | os.O_CREAT, 0o644))
        except OSError:
            pass  # a read-only folder: cache_problem finds out by trying to write there

    def _succeeded(self) -> None:
        """A write worked: the problem marks go (any worker's; a few syscalls, only when audio was made)."""
        for name in _MARKERS:
            try:
                os.unlink(self.folder / name)
            except FileNotFoundError:
                pass
            except OSError:
                break
        if self._memory:
            with self._guard:
                self._memory.clear()
                self._memory_bytes = 0

    def _account(self, added: int) -> None:
        with self._guard:
            self._writes += 1
            if self._size is not None:
                self._size += added
            rescan = self._size is None or self._writes % RESCAN_EVERY == 0 or self._size > self.max_bytes
        if rescan:
            self.evict()

    def evict(self) -> int:
        """Delete the least recently used files until the folder is under the bound (with some room);
        also the temporary files of writers that crashed. Returns the folder's bytes afterwards."""
        files: list[tuple[float, int, str]] = []
        now = time.time()
        try:
            with os.scandir(self.folder) as entries:
                for entry in entries:
                    try:
                        stat = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if entry.name.endswith(SUFFIX) and not entry.name.startswith("."):
                        files.append((stat.st_mtime, stat.st_size, entry.name))
                    elif entry.name.startswith(TEMP_PREFIX) and now - stat.st_mtime > STALE_TEMP_SECONDS:
                        _unlink(self.folder / entry.name)
        except OSError:
            return self._size or 0
        total = sum(size for _, size, _ in files)
        if total > self.max_bytes:
            goal = int(self.max_bytes * EVICT_TO)
            for _, size, name in sorted(files):
                if total <= goal:
                    break
                if _unlink(self.folder / name):
                    total -= size
        with self._guard:
            self._size = total
        return total


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return True  # another worker evicted it
    except OSError:
        return False
    return True


def _complete(data: bytes) -> bool:
    """A whole WAV file (its RIFF size matches): a file cut short by a crash is not served."""
    return len(data) >= 44 and data[:4] == b"RIFF" and int.from_bytes(data[4:8], "little") == len(data) - 8
