"""One container run: a process in a private mount namespace and a memory cgroup, and how it ended."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from ..cgroups import ContainerCgroup
from ..paths import cache_dir

CLUSTER_TOOLS = str(Path(__file__).resolve().parents[2])
# What a container's command runs from: the repository (and its .venv), the interpreter's installation, the cache.
KEEP_VISIBLE = sorted({str(Path(__file__).resolve().parents[4]), sys.prefix, sys.base_prefix, str(cache_dir())})
MAX_MESSAGE = 4096
FALLBACK_LOG_LINES, FALLBACK_LOG_BYTES = 80, 2048


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def stamp(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Termination:
    exit_code: int
    reason: str
    message: str
    started_at: dt.datetime
    finished_at: dt.datetime
    signal: int | None = None

    def state(self, container_id: str) -> dict[str, object]:
        out: dict[str, object] = {
            "exitCode": self.exit_code,
            "reason": self.reason,
            "startedAt": stamp(self.started_at),
            "finishedAt": stamp(self.finished_at),
            "containerID": container_id,
        }
        if self.message:
            out["message"] = self.message
        if self.signal:
            out["signal"] = self.signal
        return out


class ContainerRun:
    """Started with `start`; `wait` returns its Termination; `kill` signals the whole process group."""

    def __init__(self, workdir: Path, log: Path, cgroup: ContainerCgroup) -> None:
        self.workdir, self.log, self.cgroup = workdir, log, cgroup
        self.proc: asyncio.subprocess.Process | None = None
        self.started_at = now()
        self.termination_file = workdir / "termination-log"

    async def start(
        self,
        argv: list[str],
        env: dict[str, str],
        cwd: str | None,
        mounts: list[tuple[str, str]],
        term_path: str,
    ) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.termination_file.write_text("")
        spec = {
            "argv": argv,
            "env": env,
            "cwd": cwd,
            "cgroup": str(self.cgroup.path),
            "mounts": [*mounts, (str(self.termination_file), term_path)],
            "keep": KEEP_VISIBLE,
        }
        spec_file = self.workdir / "spec.json"
        spec_file.write_text(json.dumps(spec))
        spec_file.chmod(0o600)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:  # noqa: ASYNC230 - a local file, opened once per container start
            self.proc = await asyncio.create_subprocess_exec(
                "unshare", "--mount", "--propagation", "private", "--",
                sys.executable, "-m", "localcluster.podrunner.launch", str(spec_file),
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": CLUSTER_TOOLS},
                start_new_session=True,
            )  # fmt: skip
        self.started_at = now()

    async def wait(self, fallback_to_logs: bool) -> Termination:
        assert self.proc is not None
        code = await self.proc.wait()
        finished = now()
        sig = -code if code < 0 else None
        exit_code = 128 + sig if sig else code
        if self.cgroup.oom_killed():
            reason, exit_code = "OOMKilled", 137
        else:
            reason = "Completed" if exit_code == 0 else "Error"
        message = self._message(fallback_to_logs and exit_code != 0)
        # the container is gone: reap anything it left behind in its cgroup
        self.cgroup.remove()
        return Termination(exit_code, reason, message, self.started_at, finished, sig)

    def _message(self, fallback: bool) -> str:
        with contextlib.suppress(OSError):
            text = self.termination_file.read_bytes()[:MAX_MESSAGE].decode(errors="replace")
            if text.strip():
                return text
        if fallback:
            with contextlib.suppress(OSError):
                lines = self.log.read_text(errors="replace").splitlines()[-FALLBACK_LOG_LINES:]
                return "\n".join(lines)[-FALLBACK_LOG_BYTES:]
        return ""

    def kill(self, sig: int) -> None:
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
        if sig == signal.SIGKILL:
            for pid in self.cgroup.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
