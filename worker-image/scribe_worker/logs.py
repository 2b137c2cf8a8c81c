"""Structured logs: one JSON object per line on stderr, scrubbed of presigned URLs.

Every line has ``ts`` (UTC, RFC 3339), ``level``, ``msg`` and ``logger``; ``attempt``, ``task`` and
``pod`` when known; and the event's own fields. Third-party loggers (faster-whisper, httpx) go through
the same formatter; httpx's per-request INFO lines (which carry full URLs) are silenced.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from scribe_worker.redact import scrub

_LOGGER = logging.getLogger("scribe_worker")


class JsonFormatter(logging.Formatter):
    def __init__(self, context: dict[str, Any]) -> None:
        super().__init__()
        self.context = context

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
            "logger": record.name,
        }
        line.update({k: v for k, v in self.context.items() if v is not None})
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return scrub(json.dumps(line, ensure_ascii=False, default=str))


def configure(context: dict[str, Any]) -> None:
    """Send every log record to stderr as JSON lines carrying ``context`` (e.g. attempt, task)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(context))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("httpx", "httpcore", "hpack", "urllib3", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def info(msg: str, **fields: Any) -> None:
    _LOGGER.info(msg, extra={"fields": fields})


def warning(msg: str, **fields: Any) -> None:
    _LOGGER.warning(msg, extra={"fields": fields})


def error(msg: str, *, exc_info: bool = False, **fields: Any) -> None:
    _LOGGER.error(msg, exc_info=exc_info, extra={"fields": fields})
