"""Starting the next attempt in the task core: adopt a pod that already exists for it, else wait (retryAt, the
circuit breaker, a free slot, the storage probes), else fail it up front, succeed at once from the result cache, or
launch it."""

from __future__ import annotations

from scribe_contract.options import DEFAULT_MODEL
from scribe_contract.taxonomy import Reason

from scribe_operator.kernel.clock import stamp
from scribe_operator.kernel.conditions import is_true
from scribe_operator.kinds.task.api.names import pod_name, secret_name
from scribe_operator.kinds.task.api.outputs import output_prefix, output_uris
from scribe_operator.kinds.task.api.status import AttemptRecord, Phase
from scribe_operator.kinds.task.api.transcription import model_problem
from scribe_operator.kinds.task.core import classify
from scribe_operator.kinds.task.core.cache import cache_hit
from scribe_operator.kinds.task.core.conditions import CIRCUIT_OPEN
from scribe_operator.kinds.task.core.deadline import attempt_deadline, url_ttl
from scribe_operator.kinds.task.core.endings import AttemptEndings
from scribe_operator.kinds.task.core.memory import memory_limit
from scribe_operator.kinds.task.core.observed import InputProbe, ObservedPod
from scribe_operator.kinds.task.core.plan import CheckCapacity, EventReason, LaunchAttempt, ProbeInput, ProbeOutput


class AttemptStart(AttemptEndings):
    """The steps between attempts."""

    def start(self, m: int) -> bool:
        """Try to start attempt ``m``; False when it has to wait (retryAt, input probe)."""
        pod = self._pod(m, pod_name(self.task.metadata.name, m))
        if self._round(m) > self.max_attempts:
            self._dead(Reason.RETRIES_EXHAUSTED.value, f"no attempts left ({self.max_attempts} allowed)", self.stamp)
            return True
        if pod is not None:
            self._adopt(m, pod)
            return True
        retry_at = self.status.retry_at
        if self.status.phase is Phase.RETRYING and retry_at is not None and self.now < retry_at:
            self.wake_at.append(retry_at)
            return False
        error = self.observed.launch_error
        if error is not None and error.attempt == m:
            self._fail(m, classify.launch_failed(error), cleanup=True)
            return True
        problem = self._model_problem()
        if problem is not None:
            self._fail(m, classify.failure(Reason.INVALID_CONFIGURATION, problem), cleanup=False)
            return True
        if not self._may_start(m):
            return False
        probe, output = self.observed.input_probe, self.observed.output_probe
        if probe is None or output is None:
            if self.status.phase is None:
                self.set(phase=Phase.PENDING)
            wanted = ((ProbeInput(), probe), (ProbeOutput(lookup=self._reuse), output))
            self.actions.extend(a for a, seen in wanted if seen is None)
            return False
        outcome = classify.probe_failed(probe, self.spec.input) or classify.output_probe_failed(
            output, output_prefix(self.spec)
        )
        if outcome is not None:
            self._fail(m, outcome, cleanup=False)
        elif self._reuse and cache_hit(self.spec, probe, output, self._options):
            self._cache_hit(probe)
        else:
            self._launch(m, probe)
        return True

    def _cache_hit(self, probe: InputProbe) -> None:
        """End the task as Succeeded with the result already at its output location; no attempt is spent."""
        prefix = output_prefix(self.spec)
        message = f"a complete transcript of this input version with the same options is already under {prefix}"
        self.set(
            phase=Phase.SUCCEEDED,
            reason=Reason.CACHE_HIT.value,
            message=message,
            outputs=output_uris(self.spec),
            retry_at=None,
            input_size=probe.size_bytes,
            input_etag=probe.etag,
            finished_at=self.stamp,
        )
        self.event("Normal", EventReason.CACHE_HIT, f"{message}; no pod was started")

    def _model_problem(self) -> str | None:
        """What the task asks of a model that cannot do it, with the default model filled in: the CEL rules see only
        a model the spec names. Caught before any pod (or probe) is spent."""
        model = self.spec.model or self.settings.default_model or DEFAULT_MODEL
        problem = model_problem(model, self.spec.language, self.spec.task)
        return None if problem is None else f"{problem} (model {model}, the default when spec.model is omitted)"

    def _may_start(self, m: int) -> bool:
        """Whether attempt ``m`` may start now: the circuit breaker is closed and a slot is free. Else the task waits
        without spending an attempt: held where it is (CircuitOpen) or in phase Queued."""
        hold = self.observed.circuit
        if hold is not None:
            if self.status.phase is None:
                self.set(phase=Phase.PENDING)
            if not is_true(self.status.conditions, CIRCUIT_OPEN):
                self.event("Warning", EventReason.CIRCUIT_OPEN, f"{self._of(m)} waits: {hold.message}")
            self.held = hold
            self.wake_at.append(hold.retry_at)
            return False
        if not self.settings.capacity.limited:
            return True
        verdict = self.observed.capacity
        if verdict is None:
            if self.status.phase is None:
                self.set(phase=Phase.PENDING)
            self.actions.append(CheckCapacity(m))
            return False
        if verdict.admitted:
            return True
        if self.status.phase is not Phase.QUEUED:
            self.queued = verdict
            self.set(phase=Phase.QUEUED, retry_at=None)
            self.event("Normal", EventReason.QUEUED, f"{self._of(m)} waits for a free slot: {verdict.message}")
        return False

    def _launch(self, m: int, probe: InputProbe) -> None:
        deadline = attempt_deadline(self.spec, probe.size_bytes, self.settings)
        memory = memory_limit(self.spec, self.status.attempts, self.settings)
        name = self.task.metadata.name
        pod, secret = pod_name(name, m), secret_name(name, m)
        self._begin(
            AttemptRecord(attempt=m, pod=pod, created_at=self.stamp, memory_limit=memory, deadline_seconds=deadline),
            input_size=probe.size_bytes,
            input_etag=probe.etag,
        )
        self.actions.append(
            LaunchAttempt(m, pod, secret, deadline, url_ttl(self.spec, deadline, self.settings), memory)
        )
        self.event("Normal", EventReason.ATTEMPT_LAUNCHED, f"{self._of(m)}: pod {pod}, deadline {deadline}s")

    def _adopt(self, m: int, pod: ObservedPod) -> None:
        """Take over a pod created for attempt ``m`` whose launch never made it into status."""
        self._begin(
            AttemptRecord(
                attempt=m,
                pod=pod.name,
                created_at=stamp(pod.created_at),
                memory_limit=memory_limit(self.spec, self.status.attempts, self.settings),
                deadline_seconds=attempt_deadline(self.spec, self.status.input_size, self.settings),
            ),
            input_size=self.status.input_size,
            input_etag=self.status.input_etag,
        )
        self.event("Normal", EventReason.ATTEMPT_ADOPTED, f"{self._of(m)}: adopted existing pod {pod.name}")

    def _begin(self, record: AttemptRecord, input_size: int | None, input_etag: str | None) -> None:
        self._put(record)
        self.set(
            attempt=record.attempt,
            phase=Phase.RUNNING,
            retry_at=None,
            input_size=input_size,
            input_etag=input_etag,
            started_at=self.status.started_at or record.created_at,
            progress=None,
        )
