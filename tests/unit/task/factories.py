"""Builders and a tiny simulated cluster for the unit tests of the API models and the decision core."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from scribe_operator.api.constants import ANNOTATION_REQUEUE, ANNOTATION_REQUEUE_RESET_ATTEMPTS
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import Phase, TaskStatus
from scribe_operator.kinds.task.core.observed import (
    CapacityVerdict,
    CircuitHold,
    InputProbe,
    LaunchError,
    Observed,
    ObservedPod,
    PodCheck,
)
from scribe_operator.kinds.task.core.plan import (
    CheckCapacity,
    ConfirmPod,
    DeletePod,
    LaunchAttempt,
    ProbeInput,
    ProbeOutput,
    TaskPlan,
)
from scribe_operator.kinds.task.core.reconcile import reconcile
from scribe_operator.kinds.task.core.settings import CoreSettings
from scribe_operator.runtime.settings import OperatorSettings

from tests.unit.simulation import T0, SimulatedClock, passes

MIB = 2**20
SETTINGS = CoreSettings()


def operator_settings(**env: Any) -> OperatorSettings:
    """The operator's settings from the environment a user sets: ``default_model="base"`` is
    ``SCRIBE_DEFAULT_MODEL=base``."""
    return OperatorSettings.from_environ({f"SCRIBE_{name.upper()}": value for name, value in env.items()})


def make_task(
    name: str = "talk",
    uid: str = "uid-1",
    status: TaskStatus | None = None,
    labels: dict[str, str] | None = None,
    **spec: Any,
) -> TranscriptionTask:
    """A task with ``spec`` overrides (camelCase JSON) on top of a minimal valid spec."""
    body = {"input": "s3://audio/talks/talk.wav", **spec}
    return TranscriptionTask(
        metadata={"name": name, "namespace": "media", "uid": uid, "generation": 1, "labels": labels or {}},
        spec=TranscriptionTaskSpec.model_validate(body),
        status=status or TaskStatus(),
    )


def make_pod(
    attempt: int, phase: str = "Pending", task: str = "talk", created: datetime = T0, **kw: Any
) -> ObservedPod:
    return ObservedPod(name=f"{task}-a{attempt}", attempt=attempt, phase=phase, created_at=created, **kw)  # type: ignore[arg-type]


def ok_probe(size: int = 10 * MIB) -> InputProbe:
    return InputProbe("ok", size, "")


def probed(size: int = 10 * MIB, **observed: Any) -> Observed:
    """An observation with both storage probes answered: the input (of ``size``) and the output bucket are there."""
    return Observed(input_probe=ok_probe(size), output_probe=InputProbe("ok"), **observed)


def launches(plan: TaskPlan) -> list[LaunchAttempt]:
    return plan.of(LaunchAttempt)


@dataclass
class Cluster(SimulatedClock):
    """Carries out plans the way the effects layer does, with pods as plain values the test edits."""

    task: TranscriptionTask
    probe: InputProbe = field(default_factory=ok_probe)
    output_probe: InputProbe = field(default_factory=lambda: InputProbe("ok"))
    """The answer to ProbeOutput (the output bucket's check)."""
    settings: CoreSettings = SETTINGS
    presign_fails: set[int] = field(default_factory=set)
    refused: dict[int, LaunchError] = field(default_factory=dict)
    """Attempts whose Secret or Pod the API server refuses, and the launch error the controller makes of it."""
    pods: dict[int, ObservedPod] = field(default_factory=dict)
    plans: list[TaskPlan] = field(default_factory=list)
    last_observed: Observed = field(default_factory=Observed)
    capacity: CapacityVerdict = field(default_factory=lambda: CapacityVerdict(True))
    """The answer to CheckCapacity (asked only when settings limit running attempts)."""
    circuit: CircuitHold | None = None
    """The circuit breaker's verdict passed into every reconcile (None: closed)."""
    steps: list[tuple[TranscriptionTask, Observed, TaskPlan]] = field(default_factory=list)
    """Every core call: the task it was given, what it observed, the plan it returned."""

    def observed(self, **kw: Any) -> Observed:
        return Observed(pods=tuple(self.pods.values()), circuit=self.circuit, **kw)

    def reconcile(self) -> TaskPlan:
        """One handler invocation; returns the last plan (after a capacity check, a probe or a launch error, the
        follow-up), as the controller runs them."""
        answers: dict[str, Any] = {}  # a task's observation accumulates: each pass keeps the answers before it

        def answer(plan: TaskPlan) -> dict[str, Any] | None:
            failed = [a for a in launches(plan) if a.attempt in self.presign_fails]
            refused = [self.refused[a.attempt] for a in launches(plan) if a.attempt in self.refused]
            if any(isinstance(a, CheckCapacity) for a in plan.actions):
                answers["capacity"] = self.capacity
            elif ProbeInput() in plan.actions or ProbeOutput() in plan.actions:
                answers["input_probe"], answers["output_probe"] = self.probe, self.output_probe
            elif confirm := [a for a in plan.actions if isinstance(a, ConfirmPod)]:
                found = [p for p in self.pods.values() if p.name == confirm[0].name]  # the API server's answer
                answers["pod_check"] = PodCheck(confirm[0].name, found[0] if found else None)
            elif failed:
                answers["launch_error"] = LaunchError(failed[0].attempt, "PresignFailed", "cannot sign: no credentials")
            elif refused:
                answers["launch_error"] = refused[0]
            else:
                return None
            return answers

        return passes(lambda asked: self._run(self.observed(**(asked or {}))), answer, max_passes=5)[-1]

    def _run(self, observed: Observed) -> TaskPlan:
        self.last_observed = observed
        plan = reconcile(self.task, observed, self.now, self.settings)
        self.plans.append(plan)
        self.steps.append((self.task, observed, plan))
        self.task = plan.apply(self.task)
        for action in plan.actions:
            if isinstance(action, LaunchAttempt) and action.attempt not in {*self.presign_fails, *self.refused}:
                self.pods[action.attempt] = ObservedPod(
                    name=action.pod_name, attempt=action.attempt, phase="Pending", created_at=self.now
                )
            elif isinstance(action, DeletePod):
                self.pods = {k: p for k, p in self.pods.items() if p.name != action.name}
        return plan

    def annotate(self, token: str | None, reset: bool | None = None) -> None:
        """Set (None: remove) the requeue annotation, as `kubectl annotate --overwrite` does."""
        annotations = dict(self.task.metadata.annotations)
        for key, value in ((ANNOTATION_REQUEUE, token), (ANNOTATION_REQUEUE_RESET_ATTEMPTS, reset)):
            if value is None:
                annotations.pop(key, None)
            else:
                annotations[key] = str(value).lower() if isinstance(value, bool) else value
        meta = self.task.metadata.model_copy(update={"annotations": annotations})
        self.task = self.task.model_copy(update={"metadata": meta})

    def start(self, attempt: int, node: str = "node-1") -> None:
        self.pods[attempt] = replace(self.pods[attempt], phase="Running", node=node, started_at=self.now)

    def finish(self, attempt: int, exit_code: int, message: str | None = None, **kw: Any) -> None:
        pod = self.pods[attempt]
        self.pods[attempt] = replace(
            pod,
            phase="Succeeded" if exit_code == 0 else "Failed",
            node=pod.node or "node-1",
            started_at=pod.started_at or self.now,
            finished_at=self.now,
            exit_code=exit_code,
            termination_message=message,
            **kw,
        )

    @property
    def status(self) -> TaskStatus:
        return self.task.status


def phase(cluster: Cluster) -> Phase | None:
    """The task's phase (a call, so type checkers do not carry narrowing across reconciles)."""
    return cluster.task.status.phase
