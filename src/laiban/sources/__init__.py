"""The outside world -> model: one module per service (smhi, metno, …).

Each module has a tolerant `parse(payload, …)` that turns the service's documented shape into our
model, and a `fetch(client, base_url, …)` that calls the service through `get` below: the client's
timeouts, plus a size cap and an overall deadline of our own. Every failure a caller should handle is a
`SourceError` whose message is one plain sentence. Nothing here runs while a child waits: jobs fetch
ahead of time and store the result.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any

import httpx


class SourceError(Exception):
    """A service gave no usable data. The message is one plain sentence saying why, e.g.
    "SMHI answered 404: the location is outside its area."; `status` is the HTTP status, if any."""

    def __init__(self, message: str, *, status: int | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        # timeout, unreachable, address, http (with a status), too_large (more than MAX_BYTES) or invalid
        # (a reply we cannot read)
        self.kind = kind or ("http" if status is not None and not 200 <= status < 300 else "invalid")

    def in_swedish(self) -> str:
        """The same problem in plain Swedish, for the staff's admin pages."""
        if self.kind == "timeout":
            return "Källan svarade inte i tid. Laiban försöker igen senare."
        if self.kind == "unreachable":
            return "Laiban kunde inte nå källan. Kontrollera serverns nätverk; Laiban försöker igen senare."
        if self.kind == "too_large":
            return "Källan skickade ett alldeles för stort svar. Laiban försöker igen senare."
        if self.kind == "address":
            return "Källans adress i serverns inställningar är felaktig. Kontakta den som sköter servern."
        if self.status in (400, 404):
            return f"Källan känner inte till det som efterfrågades (svar {self.status}). Kontrollera namnet."
        if self.status == 403:
            return "Källan nekade Laiban (svar 403). Kontakta den som sköter servern."
        if self.status == 429:
            return "Källan tycker att Laiban frågar för ofta (svar 429). Laiban försöker igen senare."
        if self.status is not None and self.status >= 500:
            return f"Källan har problem just nu (svar {self.status}). Laiban försöker igen senare."
        if self.status is not None and not 200 <= self.status < 300:
            return f"Källan svarade oväntat (svar {self.status}). Laiban försöker igen senare."
        return "Källan skickade något som inte går att läsa. Laiban försöker igen senare."


# --- helpers shared by the source modules ---------------------------------------------------------


# httpx's timeouts apply to each network operation, not to the whole reply: a source that trickles a
# byte now and then, or sends without end, would keep a job round busy indefinitely and its body in
# memory. So every reply is read as a stream, against two limits of our own. The largest reply in our
# fixtures is SMHI's ten-day point forecast, ~80 kB; a real Mashie page, with its whole menu period inline,
# may reach a few hundred kB: 5 MB leaves more than ten times that. A normal reply takes well under a
# second; 30 seconds leaves room for a slow municipal network and is three times the weather job's read
# timeout.
MAX_BYTES = 5_000_000
DEADLINE = 30.0  # seconds for the whole reply, from connecting to the last byte

# Headers that described the body as it came over the wire, not the decoded bytes we keep.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def get(
    client: httpx.Client,
    url: str,
    name: str,
    headers: dict[str, str],
    *,
    deadline: float = DEADLINE,
    max_bytes: int = MAX_BYTES,
) -> httpx.Response:
    """GET with the client's timeouts, the body (decoded) at most `max_bytes` and the whole reply within
    `deadline` seconds; returns the response with its body read. Network trouble, a reply too large or
    one that takes too long becomes a SourceError naming the service.

    At the deadline the connection's socket is shut down, so a read waiting for a trickle (of the body or
    of the headers) ends at once. Each request has a connection of its own ("Connection: close": a job
    asks each service a few times an hour, keep-alive gains nothing), so there always is a socket to
    shut. Connecting has no socket yet; it is bounded by the connect timeout, cut to the deadline like
    the client's other timeouts (the system's name lookup is not bounded by either).
    """
    return _send(client, "GET", url, name, headers, deadline=deadline, max_bytes=max_bytes)


def post(
    client: httpx.Client,
    url: str,
    name: str,
    headers: dict[str, str],
    payload: Any,
    *,
    deadline: float = DEADLINE,
    max_bytes: int = MAX_BYTES,
) -> httpx.Response:
    """POST `payload` as JSON, with the limits and errors of `get`."""
    return _send(client, "POST", url, name, headers, payload, deadline=deadline, max_bytes=max_bytes)


def _send(
    client: httpx.Client,
    method: str,
    url: str,
    name: str,
    headers: dict[str, str],
    payload: Any = None,
    *,
    deadline: float,
    max_bytes: int,
) -> httpx.Response:
    timeout = _cut(client.timeout, deadline)
    ends = time.monotonic() + deadline
    too_late = f"{name} did not finish its reply within {seconds_text(deadline)}."
    with _Watchdog(deadline) as watchdog:
        try:
            with client.stream(
                method,
                url,
                headers={**headers, "Connection": "close"},
                json=payload,
                timeout=timeout,
                extensions={"trace": watchdog.trace},
            ) as response:
                watchdog.watch(response.extensions.get("network_stream"))  # a connection reused
                body = _body(response, name, ends, too_late, max_bytes)
        except httpx.TransportError as exc:
            if watchdog.fired:  # the read that was cut short by the deadline
                raise SourceError(too_late, kind="timeout") from exc
            if isinstance(exc, httpx.TimeoutException):
                late = f"{name} did not answer in time{timeout_text(timeout)}."
                raise SourceError(late, kind="timeout") from exc
            raise SourceError(f"{name} could not be reached ({reason(exc)}).", kind="unreachable") from exc
        except httpx.TooManyRedirects as exc:
            raise SourceError(f"{name} could not be reached ({reason(exc)}).", kind="unreachable") from exc
        except httpx.InvalidURL as exc:
            raise SourceError(f"The {name} address {url!r} is not a valid URL.", kind="address") from exc
    kept = [(key, value) for key, value in response.headers.multi_items() if key.lower() not in _WIRE_HEADERS]
    return httpx.Response(response.status_code, headers=kept, content=body, request=response.request)


def _body(response: httpx.Response, name: str, ends: float, too_late: str, max_bytes: int) -> bytes:
    """The decoded body, read as it arrives; a SourceError as soon as it is too large or too late."""
    status = response.status_code
    too_large = f"{name} sent more than {size_text(max_bytes)}."
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        raise SourceError(too_large, status=status, kind="too_large")  # said so up front: nothing is read
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise SourceError(too_large, status=status, kind="too_large")
            if time.monotonic() > ends:
                raise SourceError(too_late, status=status, kind="timeout")
            chunks.append(chunk)
    except httpx.DecodingError as exc:  # say, "Content-Encoding: gzip" on a body that is not
        raise SourceError(f"{name} sent a reply that cannot be decoded.", status=status) from exc
    if time.monotonic() > ends:  # the last bytes (or the headers of an empty body) came too late
        raise SourceError(too_late, status=status, kind="timeout")
    return b"".join(chunks)


class _Watchdog:
    """Shuts down the socket of a request that is still running at its deadline, so that a read blocked
    on a source that trickles returns at once (httpx then raises a TransportError)."""

    def __init__(self, deadline: float) -> None:
        self.fired = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(deadline, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace extension: the new connection's stream, plain and after TLS."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self.watch(info.get("return_value"))

    def watch(self, stream: Any) -> None:
        found = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(found, socket.socket):
            with self._lock:
                self._socket = found
                if self.fired:
                    self._shut()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            self._shut()

    def _shut(self) -> None:
        if self._socket is not None:
            # socket.socket's own shutdown, also for an SSLSocket (whose override would unwrap it under
            # the reading thread); an OSError means it is closed already: the request has finished.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self._socket, socket.SHUT_RDWR)


def _cut(timeout: httpx.Timeout, deadline: float) -> httpx.Timeout:
    """The client's timeouts, none longer than the deadline (a missing one becomes the deadline)."""

    def cut(seconds: float | None) -> float:
        return deadline if seconds is None else min(seconds, deadline)

    return httpx.Timeout(
        connect=cut(timeout.connect), read=cut(timeout.read), write=cut(timeout.write), pool=cut(timeout.pool)
    )


def json_of(response: httpx.Response, name: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise SourceError(
            f"{name} sent a reply that is not valid JSON.", status=response.status_code
        ) from exc


# What weather on Earth can measure (records: −89.2 °C, 56.7 °C, gusts of 113 m/s, ~300 mm in an hour).
# A value outside is as unreadable as a missing one: 1e300 °C is finite, but told to a child it is
# nonsense, and in the feels-like formula it overflows into NaN, which no answer can round.
TEMPERATURE = (-90.0, 60.0)  # °C
WIND = (0.0, 120.0)  # m/s
HUMIDITY = (0.0, 100.0)  # %
PRECIPITATION = (0.0, 2000.0)  # mm in one step (up to six hours)


def number(
    data: Mapping[str, Any],
    key: str,
    missing: float | None = None,
    *,
    within: tuple[float, float] | None = None,
) -> float | None:
    """A finite number, or None for a missing key, the service's "missing" marker (SMHI: 9999), anything
    that is not a number, or a number outside `within` (low, high)."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        found = float(value)
    except (ValueError, OverflowError):  # OverflowError: an integer too large for a float
        return None
    if not math.isfinite(found) or (missing is not None and found == missing):
        return None
    if within is not None and not within[0] <= found <= within[1]:
        return None
    return found


def parse_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 time as an aware UTC datetime (a time without offset is taken as UTC), or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            return moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):  # OverflowError: beyond year 9999 in UTC
        return None


def require_aware(moment: dt.datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("The fetch time must be timezone-aware.")


def timeout_text(timeout: httpx.Timeout) -> str:
    limits = [t for t in (timeout.connect, timeout.read) if t is not None]
    return f" (within {seconds_text(max(limits))})" if limits else ""


def seconds_text(seconds: float) -> str:
    return f"{seconds:g} second" + ("" if seconds == 1 else "s")


def size_text(size: int) -> str:
    """A byte count as people say it: "5 MB", "200 kB", "512 bytes" (decimal units)."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:g} MB"
    if size >= 1_000:
        return f"{size / 1_000:g} kB"
    return f"{size} bytes"


def reason(exc: Exception) -> str:
    return str(exc).strip().rstrip(".") or type(exc).__name__
