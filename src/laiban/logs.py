"""The server's log: plain text for a terminal, or one JSON object per line (`LAIBAN_LOG_FORMAT=json`) for
journald, Loki or ELK. Every logger, uvicorn's too, writes through the one handler set up here.

Logs never contain children's names or voices: the code logs ids and counts, never what a child said.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# With several worker processes the lines of each must be told apart.
TEXT_FORMAT_WITH_PID = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "pid"}` (and `"exception"`, the traceback as one string)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str, log_format: str = "text", *, with_pid: bool = False) -> None:
    """Route every log record (ours, uvicorn's, Alembic's, warnings) to standard error in one format."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT_WITH_PID if with_pid else TEXT_FORMAT))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(True)
