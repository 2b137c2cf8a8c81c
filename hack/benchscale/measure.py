"""What a phase measured, and how: the API server's audit log, /proc of the controller's process, the operator's
metrics endpoint.

- Requests per item: the audit log's events of the phase (from the log's size at its start to the size at its end),
  counted by the controller's user, as ``<verb> <resource>[/<subresource>]``.
- Latencies (ms): an item's creation (by the admin) to its first pod's creation (by the controller; a task's first
  attempt pod is ``<task>-a1``), and a pod's terminal status (kwok's last status write of it) to the controller's next
  status write of its owner.
- CPU seconds: utime + stime from /proc/<pid>/stat at the phase's start and end; RSS: VmRSS of /proc/<pid>/status.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchscale.names import ADMIN_USER, KWOK_USER

AuditEvent = dict[str, Any]
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Phase:
    """One phase's results, as the report and performance-results.json hold them."""

    name: str
    controller: str
    n: int
    wall_s: float = 0.0
    terminal: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    cpu_s: float = 0.0
    rss_mib: float | None = None
    requests: dict[str, int] = field(default_factory=dict)
    apiserver_requests: int = 0
    latency_ms: dict[str, dict[str, float | None]] = field(default_factory=dict)
    note: str = ""

    @property
    def per_s(self) -> float:
        return self.terminal / self.wall_s if self.wall_s else 0.0

    def writes(self, include_events: bool = True) -> int:
        return sum(
            v for k, v in self.requests.items()
            if k.split()[0] in WRITE_VERBS and (include_events or not k.endswith(" events"))
        )  # fmt: skip


# --- the process ---------------------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime (fields 14, 15 of stat)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def watch_events(metrics_port: int, resource: str) -> float:
    """The operator's ``scribe_watch_events_total`` for ``resource`` (0 while its metrics endpoint does not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith(f'scribe_watch_events_total{{resource="{resource}"}}'):
            return float(line.split()[-1])
    return 0.0


# --- the audit log -------------------------------------------------------------------------------------------------


def audit_events(path: Path, start: int, end: int) -> list[AuditEvent]:
    with path.open("rb") as f:
        f.seek(start)
        data = f.read(end - start)
    return [json.loads(line) for line in data.splitlines() if line.strip()]


def ts(event: AuditEvent) -> float:
    return dt.datetime.fromisoformat(event["stageTimestamp"]).timestamp()


def resource_of(event: AuditEvent) -> str:
    ref = event.get("objectRef") or {}
    return str(ref.get("resource", "?")) + (f"/{ref['subresource']}" if ref.get("subresource") else "")


def requests_by(events: Iterable[AuditEvent], user: str) -> Counter[str]:
    return Counter(f"{e['verb']} {resource_of(e)}" for e in events if e["user"]["username"] == user)


def writes_by(events: Iterable[AuditEvent], user: str) -> dict[str, int]:
    return {k: v for k, v in requests_by(events, user).items() if k.split()[0] in WRITE_VERBS}


def _ok(e: AuditEvent) -> bool:
    return int((e.get("responseStatus") or {}).get("code", 0)) < 300


def latencies(events: list[AuditEvent], controller: str, kind: str) -> dict[str, list[float]]:
    """Milliseconds from an item's creation to its first pod's creation (tasks: attempt pods have known names), and
    from a pod's terminal status (written by kwok) to the controller's next status write of its owner."""
    created: dict[str, float] = {}
    pod_created: dict[str, float] = {}
    pod_terminal: dict[str, float] = {}
    status_writes: dict[str, list[float]] = defaultdict(list)
    for e in events:
        if e.get("stage") != "ResponseComplete" or not _ok(e):
            continue
        user, res, name = e["user"]["username"], resource_of(e), (e.get("objectRef") or {}).get("name", "")
        if user == ADMIN_USER and e["verb"] == "create" and res == kind:
            created[name] = ts(e)
        elif user == controller and e["verb"] == "create" and res == "pods" and name:
            pod_created[name] = ts(e)
        elif user == KWOK_USER and res == "pods/status" and e["verb"] in ("patch", "update"):
            pod_terminal[name] = ts(e)  # kwok's last write of a pod's status is its terminal one
        elif user == controller and res == f"{kind}/status" and e["verb"] in ("patch", "update"):
            status_writes[name].append(ts(e))
    to_pod = [(pod_created[f"{n}-a1"] - t) * 1000 for n, t in created.items() if f"{n}-a1" in pod_created]
    to_status = []
    for pod, t in pod_terminal.items():
        owner = pod.rsplit("-", 1)[0]  # <task>-a<N>, or a Job's <job>-<suffix>
        after = [w for w in status_writes.get(owner, ()) if w >= t]
        if after:
            to_status.append((min(after) - t) * 1000)
    return {"create_to_pod_ms": to_pod, "terminated_to_status_ms": to_status}


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarize(values: list[float]) -> dict[str, float | None]:
    """p50, p99 and count, as a phase's ``latency_ms`` holds them."""
    return {"p50": pct(values, 0.5), "p99": pct(values, 0.99), "count": len(values)}
