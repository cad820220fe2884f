"""The outside world -> model: one module per service (smhi, metno, …).

Each module has a tolerant `parse(payload, …)` that turns the service's documented shape into our
model, and a `fetch(client, base_url, …)` that calls the service with the client's timeout. Every
failure a caller should handle is a `SourceError` whose message is one plain sentence. Nothing here
runs while a child waits: jobs fetch ahead of time and store the result.
"""

from __future__ import annotations


class SourceError(Exception):
    """A service gave no usable data. The message is one plain sentence saying why, e.g.
    "SMHI answered 404: the location is outside its area."; `status` is the HTTP status, if any."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
