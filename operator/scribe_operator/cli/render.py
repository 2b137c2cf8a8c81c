"""Output of ``kubectl scribe``: kubectl-style tables and text, or JSON / YAML documents. Pure: ``now`` is passed in.

Times in tables are ages (``5m``, ``3h``, ``2d``) as kubectl shows them; documents carry RFC 3339 times.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import yaml

from scribe_operator.api.constants import API_VERSION, KIND
from scribe_operator.api.meta import to_json
from scribe_operator.api.notification import NotificationStatus
from scribe_operator.cli.tasks import TaskView
from scribe_operator.kernel.raw import parse_time
from scribe_operator.kinds.task.api.status import AttemptRecord, Usage

NONE: Final = "<none>"
RESOURCE: Final = "transcriptiontask.scribe.dev"
LAST_FAILURE_WIDTH: Final = 60
DESCRIBE_LABEL_WIDTH: Final = 14


# --- primitives -----------------------------------------------------------------------------------------------


_SECOND, _MINUTE, _HOUR, _DAY, _YEAR = (1, "s"), (60, "m"), (3600, "h"), (86_400, "d"), (365 * 86_400, "y")
_AGE_LADDER: Final[tuple[tuple[float, tuple[int, str], tuple[int, str] | None], ...]] = (
    # an age below this many seconds is written in this unit, and the rest in that finer one (none: whole units)
    (120, _SECOND, None),
    (10 * 60, _MINUTE, _SECOND),
    (180 * 60, _MINUTE, None),
    (8 * 3600, _HOUR, _MINUTE),
    (48 * 3600, _HOUR, None),
    (8 * 86_400, _DAY, _HOUR),
    (2 * 365 * 86_400, _DAY, None),
    (8 * 365 * 86_400, _YEAR, _DAY),
    (math.inf, _YEAR, None),
)


def human_age(delta: timedelta) -> str:
    """A duration as kubectl prints ages (k8s.io/apimachinery's ``duration.HumanDuration``)."""
    seconds = int(delta.total_seconds())
    if seconds < -1:
        return "<invalid>"
    seconds = max(seconds, 0)
    (size, unit), finer = next((rung[1], rung[2]) for rung in _AGE_LADDER if seconds < rung[0])
    text = f"{seconds // size}{unit}"
    if finer is not None and (rest := seconds % size // finer[0]):
        text += f"{rest}{finer[1]}"
    return text


def age(moment: datetime | None, now: datetime) -> str:
    return "<unknown>" if moment is None else human_age(now - moment)


def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def clip(text: str, width: int) -> str:
    """One line of at most ``width`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "") -> str:
    """A kubectl-style table: upper-case headers, left-aligned columns three spaces apart."""
    cells = [[h.upper() for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "".join(f"{indent}{line}\n" for line in lines)


def dump(document: Any, output: str) -> str:
    """``document`` as JSON (kubectl's 4-space indent) or YAML."""
    if output == "json":
        return json.dumps(document, indent=4, ensure_ascii=False) + "\n"
    return str(yaml.safe_dump(document, sort_keys=False, default_flow_style=False, allow_unicode=True))


def without_managed_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The object as ``kubectl get -o yaml`` shows it (no managedFields)."""
    obj = dict(raw)
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    obj["metadata"] = meta
    return obj


def reference(view: TaskView, all_namespaces: bool) -> str:
    """``transcriptiontask.scribe.dev/NAME``, plus the namespace when several are in play."""
    ref = f"{RESOURCE}/{view.name}"
    return f"{ref} in namespace {view.namespace}" if all_namespaces else ref


# --- dead -----------------------------------------------------------------------------------------------------


def last_failure(view: TaskView) -> str:
    record = view.last_failure
    if record is not None:
        text = f"{record.reason}: {record.message}" if record.message else str(record.reason)
    else:
        text = view.status.message or ""
    return clip(text, LAST_FAILURE_WIDTH) if text else NONE


def dead_table(views: Sequence[TaskView], now: datetime, all_namespaces: bool) -> str:
    headers = ["NAME", "REASON", "ATTEMPTS", "LAST FAILURE", "AGE"]
    rows = [
        [v.name, v.status.reason or NONE, str(v.status.attempt), last_failure(v), age(v.dead_since, now)] for v in views
    ]
    if all_namespaces:
        headers = ["NAMESPACE", *headers]
        rows = [[v.namespace, *row] for v, row in zip(views, rows, strict=True)]
    return table(headers, rows)


def task_list(views: Sequence[TaskView]) -> dict[str, Any]:
    """A ``List`` of the tasks as the API server holds them (what ``kubectl get -o json`` prints)."""
    return {"apiVersion": "v1", "kind": "List", "items": [without_managed_fields(v.raw) for v in views]}


# --- describe -------------------------------------------------------------------------------------------------


def _duration(record: AttemptRecord, now: datetime) -> timedelta | None:
    begin = record.started_at or record.created_at
    if begin is None:
        return None
    return (record.finished_at or now) - begin


def attempt_doc(record: AttemptRecord, now: datetime) -> dict[str, Any]:
    doc = to_json(record)
    duration = _duration(record, now)
    if duration is not None:
        doc["durationSeconds"] = int(duration.total_seconds())
    return doc


def _event_time(event: Mapping[str, Any]) -> datetime | None:
    for key in ("lastTimestamp", "eventTime", "firstTimestamp"):
        moment = parse_time(event.get(key))
        if moment is not None:
            return moment
    return parse_time((event.get("metadata") or {}).get("creationTimestamp"))


def task_events(view: TaskView, events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The events of this very task (not of an earlier task of the same name), oldest first."""
    mine = [e for e in events if (e.get("involvedObject") or {}).get("uid") in (None, "", view.uid) and e.get("reason")]
    return sorted(mine, key=lambda e: _event_time(e) or datetime.min.replace(tzinfo=UTC))


def event_doc(event: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": event.get("type"),
        "reason": event.get("reason"),
        "message": event.get("message"),
        "count": event.get("count") or 1,
        "lastTimestamp": rfc3339(_event_time(event)),
    }


def describe_doc(view: TaskView, events: Sequence[Mapping[str, Any]], now: datetime) -> dict[str, Any]:
    """Everything ``describe`` shows, as one document."""
    s = view.status
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "namespace": view.namespace,
        "name": view.name,
        "uid": view.uid,
        "phase": view.phase,
        "reason": s.reason,
        "message": s.message,
        "input": view.spec.input if view.spec else None,
        "attempt": s.attempt,
        "maxAttempts": view.max_attempts,
        "attemptBase": s.attempt_base,
        "requeues": s.requeues,
        "requeue": to_json(s.requeue) if s.requeue else None,
        "retryAt": rfc3339(s.retry_at),
        "createdAt": rfc3339(view.created),
        "startedAt": rfc3339(s.started_at),
        "finishedAt": rfc3339(s.finished_at),
        "updatedAt": rfc3339(s.updated_at),
        "deadSince": rfc3339(view.dead_since),
        "failureCounts": dict(s.failure_counts),
        "outputs": dict(s.outputs),
        "usage": to_json(s.usage) if s.usage else None,
        "notification": to_json(s.notification) if s.notification else None,
        "attempts": [attempt_doc(r, now) for r in s.attempts],
        "events": [event_doc(e) for e in task_events(view, events)],
    }


def _when(moment: datetime | None, now: datetime) -> str:
    return NONE if moment is None else f"{rfc3339(moment)} ({human_age(now - moment)} ago)"


def _attempts_line(view: TaskView) -> str:
    s = view.status
    allowed = view.max_attempts
    line = f"{s.attempt} started"
    if allowed is not None:
        since = "since the last requeue" if s.requeues else "allowed"
        line += f" ({s.round_attempts} of {allowed} {since})" if s.requeues else f" (of {allowed} {since})"
    return line


def usage_line(usage: Usage | None) -> str:
    """``CPU 12.5s, peak memory 700.0 MiB, GPU 30.0s`` (the known parts), summed over the attempts."""
    if usage is None:
        return NONE
    parts = []
    if usage.cpu_seconds is not None:
        parts.append(f"CPU {usage.cpu_seconds:.1f}s")
    if usage.peak_memory_bytes is not None:
        parts.append(f"peak memory {usage.peak_memory_bytes / 2**20:.1f} MiB")
    if usage.gpu_seconds is not None:
        parts.append(f"GPU {usage.gpu_seconds:.1f}s")
    return ", ".join(parts) or NONE


def notification_line(note: NotificationStatus | None) -> str | None:
    """``Delivered after 3 tries (HTTP 200)``; None when the task has no notification (yet)."""
    if note is None:
        return None
    tries = f"{note.tries} {'try' if note.tries == 1 else 'tries'}"
    line = f"{note.state.value} after {tries}" if note.tries else note.state.value
    if note.next_try_at is not None:
        line += f", next at {rfc3339(note.next_try_at)}"
    return f"{line} ({note.message})" if note.message else line


def _requeue_line(view: TaskView, now: datetime) -> str | None:
    s = view.status
    if s.requeue is None and not s.requeues:
        return None
    line = f"{s.requeues}"
    if s.requeue is not None:
        last = s.requeue
        line += f" (last request {last.token!r} at {_when(last.at, now)}: {last.outcome.value}"
        line += ", attempts reset)" if last.reset_attempts else ")"
    return line


def describe_text(view: TaskView, events: Sequence[Mapping[str, Any]], now: datetime) -> str:
    """A ``kubectl describe``-style view of the task: summary, attempts, failure counts, outputs, events."""
    s = view.status
    fields: list[tuple[str, str | None]] = [
        ("Name", view.name),
        ("Namespace", view.namespace),
        ("Phase", view.phase),
        ("Reason", s.reason or NONE),
        ("Message", s.message or NONE),
        ("Input", view.spec.input if view.spec else NONE),
        ("Created", _when(view.created, now)),
        ("Attempts", _attempts_line(view)),
        ("Retry At", _when(s.retry_at, now) if s.retry_at else None),
        ("Dead Since", _when(view.dead_since, now) if view.dead else None),
        ("Finished", _when(s.finished_at, now) if s.finished_at and not view.dead else None),
        ("Requeues", _requeue_line(view, now)),
        ("Updated", _when(s.updated_at, now) if s.updated_at else None),
        ("Usage", usage_line(s.usage)),
        ("Notification", notification_line(s.notification)),
    ]
    shown = [(k, v) for k, v in fields if v is not None]
    out = "".join(f"{(k + ':').ljust(DESCRIBE_LABEL_WIDTH)}{v}\n" for k, v in shown)

    out += "Failure Counts:"
    if s.failure_counts:
        out += "\n" + table(["reason", "count"], sorted((r, str(n)) for r, n in s.failure_counts.items()), "  ")
    else:
        out += f"  {NONE}\n"
    out += "Outputs:"
    if s.outputs:
        out += "\n" + "".join(f"  {fmt}:\t{uri}\n" for fmt, uri in sorted(s.outputs.items()))
    else:
        out += f"  {NONE}\n"

    kept = len(s.attempts)
    out += f"Attempt History ({kept} most recent, oldest first):" if kept else f"Attempt History:  {NONE}\n"
    if kept:
        rows = []
        for r in s.attempts:
            duration = _duration(r, now)
            rows.append(
                [
                    str(r.attempt),
                    r.pod or "-",
                    r.node or "-",
                    "-" if r.exit_code is None else str(r.exit_code),
                    r.reason or ("(running)" if not r.finished else "-"),
                    "-" if r.retryable is None else str(r.retryable).lower(),
                    rfc3339(r.started_at or r.created_at) or "-",
                    rfc3339(r.finished_at) or "-",
                    "-" if duration is None else human_age(duration),
                    " ".join((r.message or "").split()) or "-",
                ]
            )
        headers = ["attempt", "pod", "node", "exit", "reason", "retryable", "started", "finished", "duration"]
        out += "\n" + table([*headers, "message"], rows, "  ")

    mine = task_events(view, events)
    out += "Events:"
    if mine:
        rows = [
            [
                str(e.get("type") or ""),
                str(e.get("reason") or ""),
                age(_event_time(e), now),
                " ".join(str(e.get("message") or "").split()),
            ]
            for e in mine
        ]
        out += "\n" + table(["type", "reason", "age", "message"], rows, "  ")
    else:
        out += f"  {NONE}\n"
    return out


# --- retry and purge ------------------------------------------------------------------------------------------


def retry_lines(views: Sequence[TaskView], reset: bool, dry_run: bool, all_namespaces: bool) -> str:
    notes = [n for n, on in (("attempt history reset", reset), ("dry run", dry_run)) if on]
    suffix = f" ({', '.join(notes)})" if notes else ""
    return "".join(f"{reference(v, all_namespaces)} requeued{suffix}\n" for v in views)


def retry_doc(views: Sequence[TaskView], tokens: Sequence[str], reset: bool, dry_run: bool) -> dict[str, Any]:
    items = [
        {"namespace": v.namespace, "name": v.name, "token": t, "resetAttempts": reset}
        for v, t in zip(views, tokens, strict=True)
    ]
    return {"kind": "RequeueResult", "dryRun": dry_run, "items": items}


def purge_lines(views: Sequence[TaskView], now: datetime, dry_run: bool, all_namespaces: bool) -> str:
    suffix = " (dry run)" if dry_run else ""
    return "".join(
        f"{reference(v, all_namespaces)} deleted{suffix}: Dead for {age(v.dead_since, now)}, "
        f"{v.status.reason or 'no reason'}\n"
        for v in views
    )


def purge_doc(views: Sequence[TaskView], older_than: str, dry_run: bool) -> dict[str, Any]:
    items = [
        {"namespace": v.namespace, "name": v.name, "reason": v.status.reason, "deadSince": rfc3339(v.dead_since)}
        for v in views
    ]
    return {"kind": "PurgeResult", "olderThan": older_than, "dryRun": dry_run, "items": items}
