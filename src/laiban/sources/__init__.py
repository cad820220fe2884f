"""The outside world -> model: one module per service (smhi, metno, …).

Each module has a tolerant `parse(payload, …)` that turns the service's documented shape into our
model, and a `fetch(client, base_url, …)` that calls the service with the client's timeout. Every
failure a caller should handle is a `SourceError` whose message is one plain sentence. Nothing here
runs while a child waits: jobs fetch ahead of time and store the result.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import httpx


class SourceError(Exception):
    """A service gave no usable data. The message is one plain sentence saying why, e.g.
    "SMHI answered 404: the location is outside its area."; `status` is the HTTP status, if any."""

    def __init__(self, message: str, *, status: int | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        # timeout, unreachable, address, http (with a status) or invalid (a reply we cannot read)
        self.kind = kind or ("http" if status is not None and not 200 <= status < 300 else "invalid")

    def in_swedish(self) -> str:
        """The same problem in plain Swedish, for the staff's admin pages."""
        if self.kind == "timeout":
            return "Källan svarade inte i tid. Laiban försöker igen senare."
        if self.kind == "unreachable":
            return "Laiban kunde inte nå källan. Kontrollera serverns nätverk; Laiban försöker igen senare."
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


def get(client: httpx.Client, url: str, name: str, headers: dict[str, str]) -> httpx.Response:
    """GET with the client's timeout; network trouble becomes a SourceError naming the service."""
    try:
        return client.get(url, headers=headers)
    except httpx.TimeoutException as exc:
        raise SourceError(f"{name} did not answer in time{timeout_text(client)}.", kind="timeout") from exc
    except httpx.TransportError as exc:
        raise SourceError(f"{name} could not be reached ({reason(exc)}).", kind="unreachable") from exc
    except httpx.InvalidURL as exc:
        raise SourceError(f"The {name} address {url!r} is not a valid URL.", kind="address") from exc


def json_of(response: httpx.Response, name: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise SourceError(
            f"{name} sent a reply that is not valid JSON.", status=response.status_code
        ) from exc


def number(data: Mapping[str, Any], key: str, missing: float | None = None) -> float | None:
    """A finite number, or None for a missing key, the service's "missing" marker (SMHI: 9999), or
    anything that is not a number."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        found = float(value)
    except (ValueError, OverflowError):  # OverflowError: an integer too large for a float
        return None
    if not math.isfinite(found) or (missing is not None and found == missing):
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


def timeout_text(client: httpx.Client) -> str:
    limits = [t for t in (client.timeout.connect, client.timeout.read) if t is not None]
    return f" (within {max(limits):g} seconds)" if limits else ""


def reason(exc: Exception) -> str:
    return str(exc).strip().rstrip(".") or type(exc).__name__
