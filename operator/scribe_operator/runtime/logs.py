"""Logging: JSON lines (or text), and the task fields on every line about a task or its pods.

Our own lines pass ``extra=log_fields(...)``; kopf's lines about an object carry only kopf's ``object`` reference,
so a filter copies it into the same ``namespace``/``task``/``attempt`` fields. kopf's per-event "Handler ...
succeeded" lines are dropped (level WARNING): one per watch event, they say nothing the task's status does not.
"""

from __future__ import annotations

import logging
import re

import kopf

from scribe_operator.api.constants import KIND

_POD = re.compile(r"^(?P<task>.+)-a(?P<attempt>\d+)$")
NOISY = ("httpx", "httpx2", "httpcore", "botocore", "boto3", "urllib3", "aiohttp.access")


class TaskFields(logging.Filter):
    """Adds namespace, task and (for attempt pods) attempt to kopf's records about tasks and pods."""

    def filter(self, record: logging.LogRecord) -> bool:
        ref = getattr(record, "k8s_ref", None)
        if isinstance(ref, dict):
            name, kind = str(ref.get("name") or ""), ref.get("kind")
            record.namespace = ref.get("namespace")
            if kind == KIND:
                record.task = name
            elif kind == "Pod" and (match := _POD.match(name)):
                record.task, record.attempt = match["task"], int(match["attempt"])
        return True


def configure(log_format: str) -> None:
    kopf.configure(log_format=kopf.LogFormat.JSON if log_format == "json" else kopf.LogFormat.FULL, verbose=False)
    objects = logging.getLogger("kopf.objects")
    objects.setLevel(logging.WARNING)
    objects.addFilter(TaskFields())
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
