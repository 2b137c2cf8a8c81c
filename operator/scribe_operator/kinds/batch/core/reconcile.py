"""``reconcile_batch(batch, children, now, settings) -> BatchPlan``: the decision core of TranscriptionBatch.

Pure: no I/O, no clock reads. Level-triggered: every pass derives each input's state from the child tasks
observed now, falling back on what status recorded (``succeededIndexes``, ``failedIndexes``, ``created``) only for
children that are gone. The session-monitor seed's guarantee is built in: a batch ends

* when every input has ended (child Succeeded or Dead, child deleted, input invalid): ``Succeeded`` if all
  succeeded, else ``CompletedWithFailures``;
* at ``status.deadlineAt`` (``startedAt`` + ``inputs x deadline.perItemSeconds + deadline.bufferSeconds``, or
  ``deadline.seconds``), whatever its children do: unfinished children are deleted (which deletes their pods)
  and their inputs fail with ``BatchDeadlineExceeded``;
* as ``Failed`` when its inputPrefix cannot be expanded (no objects, no bucket, too many objects, S3 unavailable
  for ``expansion_timeout_seconds``).

The only timer a running batch needs is its deadline; a terminal batch needs none (except while its summary
could not be written yet, for a bounded number of attempts). Terminal phases are absorbing: after the summary,
plans of a terminal batch are empty.

Actions are idempotent: child names are deterministic (``<batch>-<index>``), a create that meets AlreadyExists
and a delete that meets NotFound are successes, and the summary object is simply overwritten. ``ExpandPrefix``
and ``WriteSummary`` ask the effects layer for a result: run them, then reconcile again with ``plan.apply(batch)``
and the result (``expansion=`` / ``summary=``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from pydantic import ValidationError

from scribe_operator.api.meta import Condition
from scribe_operator.kinds.batch.api.indexes import format_indexes, parse_indexes
from scribe_operator.kinds.batch.api.layout import child_spec, summary_uri
from scribe_operator.kinds.batch.api.model import TranscriptionBatch
from scribe_operator.kinds.batch.api.names import BATCH_API_VERSION, child_name
from scribe_operator.kinds.batch.api.spec import MAX_BATCH_INPUTS
from scribe_operator.kinds.batch.api.status import (
    MAX_FAILED_LISTED,
    BatchCounts,
    BatchPhase,
    BatchReason,
    BatchStatus,
    FailedInput,
)
from scribe_operator.kinds.batch.core.observed import ObservedChild
from scribe_operator.kinds.task.api.outputs import output_uris
from scribe_operator.kinds.task.api.parse import problem_from
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import Phase
from scribe_operator.kinds.task.core.notify import (
    NotificationResult,
    NotificationSettings,
    SendNotification,
    batch_notification_id,
    notify_step,
)
from scribe_operator.kinds.task.core.plan import EmitEvent, EventType

COMPLETE = "Complete"
READY = "Ready"
SUMMARY_WRITTEN = "SummaryWritten"


@dataclass(frozen=True)
class BatchSettings:
    """Tunables of the batch core (environment ``SCRIBE_BATCH_*``, see docs/batches.md)."""

    max_creates_per_pass: int = 50
    """At most this many children are created per reconcile; the rest follow at once in the next passes."""
    create_requeue_seconds: float = 1.0
    """Reconcile again this soon while children remain to be created."""
    expansion_retry_seconds: float = 10.0
    """Listing an inputPrefix failed (S3 error): try again after this long ..."""
    expansion_timeout_seconds: float = 600.0
    """... until this long after the batch was created; then the batch is Failed (InputPrefixUnavailable)."""
    summary_retry_seconds: float = 30.0
    """Writing the summary failed: attempt k+1 is made k times this long after the batch finished ..."""
    max_summary_attempts: int = 5
    """... and after this many failed attempts the operator stops trying (condition SummaryWritten False)."""
    max_message_length: int = 512
    """Messages copied from children into the batch's status are clipped to this length."""
    max_failed_listed: int = MAX_FAILED_LISTED
    notification: NotificationSettings = field(default_factory=NotificationSettings)
    """Tries and backoff of the batch's completion notification (the operator's SCRIBE_NOTIFICATION_*)."""


# --- observations and actions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Expansion:
    """The result of listing the inputPrefix (asked for by ExpandPrefix)."""

    result: Literal["ok", "not_found", "error"]
    inputs: tuple[str, ...] = ()
    truncated: bool = False
    """More than MAX_BATCH_INPUTS objects were found (``inputs`` holds the first ones)."""
    message: str = ""


@dataclass(frozen=True)
class SummaryResult:
    """The result of writing the summary (asked for by WriteSummary): ``error`` None means written."""

    uri: str
    error: str | None = None


@dataclass(frozen=True)
class ExpandPrefix:
    """List the objects under ``prefix`` (at most MAX_BATCH_INPUTS + 1), then reconcile with the Expansion."""

    prefix: str


@dataclass(frozen=True)
class CreateChild:
    """Create child TranscriptionTask ``name`` for input ``index`` (AlreadyExists is success)."""

    index: int
    name: str
    spec: TranscriptionTaskSpec


@dataclass(frozen=True)
class DeleteChild:
    """Delete child TranscriptionTask ``name`` (and so its pods); NotFound is success."""

    name: str


@dataclass(frozen=True)
class WriteSummary:
    """Write ``document`` as JSON to ``uri`` (overwriting), then reconcile with the SummaryResult."""

    uri: str
    document: Mapping[str, Any] = field(compare=False)


BatchAction = ExpandPrefix | CreateChild | DeleteChild | WriteSummary | EmitEvent | SendNotification
A = TypeVar("A", ExpandPrefix, CreateChild, DeleteChild, WriteSummary, EmitEvent, SendNotification)


@dataclass(frozen=True)
class BatchPlan:
    """What to do for one batch now. The default, empty plan means: nothing, no requeue."""

    status: BatchStatus | None = None
    """The complete new status when it differs from the current one, else None (no write)."""
    actions: tuple[BatchAction, ...] = ()
    requeue_after: float | None = None
    """Reconcile again after this many seconds (deadline, pending creates, retries of a listing or summary)."""

    def apply(self, batch: TranscriptionBatch) -> TranscriptionBatch:
        """``batch`` as it will be once this plan's status is written."""
        return batch if self.status is None else batch.with_status(self.status)

    def of(self, kind: type[A]) -> list[A]:
        """The actions of one type, in order."""
        return [a for a in self.actions if isinstance(a, kind)]


# --- one input's state ------------------------------------------------------------------------------------

Kind = Literal["pending", "running", "retrying", "succeeded", "dead"]
_UNFINISHED_KIND: dict[Phase | None, Kind] = {
    None: "pending",
    Phase.PENDING: "pending",
    Phase.QUEUED: "pending",
    Phase.RUNNING: "running",
    Phase.RETRYING: "retrying",
}


@dataclass(frozen=True)
class Item:
    """Where input ``index`` is, as derived in this pass."""

    index: int
    input: str
    kind: Kind
    task: str | None = None
    """The child's name, once it was created (or observed)."""
    reason: str | None = None
    message: str | None = None
    outputs: Mapping[str, str] = field(default_factory=dict)
    child: ObservedChild | None = None
    """The child, when it is observed alive and unfinished."""
    spec: TranscriptionTaskSpec | None = None

    @property
    def finished(self) -> bool:
        return self.kind in ("succeeded", "dead")

    @property
    def created(self) -> bool:
        return self.task is not None


# --- the core ---------------------------------------------------------------------------------------------


def reconcile_batch(
    batch: TranscriptionBatch,
    children: Sequence[ObservedChild],
    now: datetime,
    settings: BatchSettings | None = None,
    *,
    expansion: Expansion | None = None,
    summary: SummaryResult | None = None,
    notification: NotificationResult | None = None,
) -> BatchPlan:
    """The plan that moves ``batch`` towards its end, given its ``children`` as observed at ``now``."""
    settings = settings or BatchSettings()
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    if batch.metadata.deletion_timestamp is not None:
        return BatchPlan()  # being deleted: its children go with it
    run = _Pass(batch, children, now, settings)
    if batch.status.terminal:
        run.after_end(summary)
        run.notify(notification)
    else:
        run.advance(expansion, summary)
    return run.plan()


def _stamp(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _names(items: Sequence[Item], limit: int = 10) -> str:
    shown = [i.task or f"#{i.index}" for i in items[:limit]]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(shown) + more


class _Pass:
    def __init__(self, batch: TranscriptionBatch, children: Sequence[ObservedChild], now: datetime, s: BatchSettings):
        self.batch, self.spec, self.settings = batch, batch.spec, s
        self.now, self.stamp = now, _stamp(now)
        self.status = batch.status
        self.actions: list[BatchAction] = []
        self.events: list[EmitEvent] = []
        self.wake_at: list[datetime] = []
        self.children = children

    # --- driving ------------------------------------------------------------------------------------------

    def advance(self, expansion: Expansion | None, summary: SummaryResult | None) -> None:
        inputs = self.batch.inputs()
        if inputs is None:
            if not self._expand(expansion):
                if self.status.terminal:
                    self._summary([], summary)
                return
            inputs = self.status.inputs or []
        items = self._resolve(inputs, frozen=False)
        if self.status.started_at is None:
            self._start(len(items))
        unfinished = [i for i in items if not i.finished]
        deadline = self.status.deadline_at
        by_deadline = bool(unfinished) and deadline is not None and self.now >= deadline
        if by_deadline and deadline is not None:
            items = self._end_at_deadline(items, deadline)
        elif unfinished:
            self._create(items)
            if deadline is not None:
                self.wake_at.append(deadline)
        self._record(items)
        if all(i.finished for i in items):
            self._finish(items, by_deadline)
            self._summary(items, summary)

    def after_end(self, summary: SummaryResult | None) -> None:
        """A terminal batch: only the summary may still be owed."""
        if self.status.summary is not None:
            return
        self._summary(None, summary)

    def notify(self, result: NotificationResult | None) -> None:
        """A terminal batch's notification: the next POST, or the delivery state its result makes."""
        key = batch_notification_id(self.batch)
        step = notify_step(
            self.spec.notification, key, self.status.notification, result, self.now, self.settings.notification
        )
        if step.status is not None:
            self._set(notification=step.status)
        if step.send is not None:
            self.actions.append(step.send)
        if step.wake_at is not None:
            self.wake_at.append(step.wake_at)

    def plan(self) -> BatchPlan:
        if self.status.terminal and not self.batch.status.terminal and self.spec.notification is not None:
            self.wake_at.append(self.now)  # the notification goes out in the next reconcile, after this status write
        old = self.batch.status
        status = self.status.model_copy(
            update={
                "conditions": self._conditions(old.conditions),
                "observed_generation": self.batch.metadata.generation,
            }
        )
        wake = min(self.wake_at, default=None)
        return BatchPlan(
            status=None if status == old else status,
            actions=(*self.actions, *self.events),
            requeue_after=None if wake is None else max(0.0, (wake - self.now).total_seconds()),
        )

    # --- the inputs -----------------------------------------------------------------------------------------

    def _expand(self, expansion: Expansion | None) -> bool:
        """Expand spec.inputPrefix into status.inputs (once); True when the inputs are known now."""
        prefix = self.spec.input_prefix or ""
        if expansion is None:
            if self.status.phase is None:
                self._set(phase=BatchPhase.PENDING)
            self.actions.append(ExpandPrefix(prefix))
            return False
        if expansion.result == "ok" and expansion.truncated:
            self._fail(BatchReason.TOO_MANY_INPUTS, f"more than {MAX_BATCH_INPUTS} objects under {prefix}")
        elif expansion.result == "ok" and not expansion.inputs:
            self._fail(BatchReason.INPUT_PREFIX_EMPTY, f"no objects to transcribe under {prefix}")
        elif expansion.result == "ok":
            self._set(inputs=list(expansion.inputs), reason=None, message=None)
            self._event("Normal", "InputsExpanded", f"{prefix}: {len(expansion.inputs)} inputs")
            return True
        elif expansion.result == "not_found":
            self._fail(BatchReason.INPUT_PREFIX_NOT_FOUND, self._clip(expansion.message or f"{prefix}: no bucket"))
        else:
            created = self.batch.metadata.creation_timestamp or self.now
            give_up = created + timedelta(seconds=self.settings.expansion_timeout_seconds)
            message = self._clip(f"cannot list {prefix}: {expansion.message}")
            if self.now >= give_up:
                self._fail(BatchReason.INPUT_PREFIX_UNAVAILABLE, message)
            else:
                self._set(phase=BatchPhase.PENDING, reason=BatchReason.INPUT_PREFIX_UNAVAILABLE.value, message=message)
                self.wake_at.append(min(give_up, self.now + timedelta(seconds=self.settings.expansion_retry_seconds)))
        return False

    def _resolve(self, inputs: Sequence[str], frozen: bool) -> list[Item]:
        """Every input's state: the observed child first, status' records for children that are gone."""
        name, uid = self.batch.metadata.name, self.batch.metadata.uid
        kids: dict[int, ObservedChild] = {}
        for c in sorted(self.children, key=lambda c: c.name):
            own = not uid or c.owner_uid in (None, uid)
            if own and 0 <= c.index < len(inputs) and c.name == child_name(name, c.index):
                kids.setdefault(c.index, c)
        created = min(max(self.status.created, *(i + 1 for i in kids), 0), len(inputs))
        done = parse_indexes(self.status.succeeded_indexes, len(inputs))
        failed = parse_indexes(self.status.failed_indexes, len(inputs))
        listed = {f.index: f for f in self.status.failed}
        items = []
        for i, uri in enumerate(inputs):
            cname = child_name(name, i)
            child = kids.get(i)
            existed = child is not None or i < created
            try:
                spec = child_spec(self.spec, i, uri)
            except ValidationError as err:
                message = problem_from(err, "child").message
                items.append(Item(i, uri, "dead", None, BatchReason.INVALID_INPUT.value, self._clip(message)))
                continue
            item = Item(i, uri, "pending", cname if existed else None, spec=spec)
            if child is not None and child.phase == Phase.SUCCEEDED:
                item = _with(item, "succeeded", child.reason, None, dict(child.outputs) or output_uris(spec))
            elif child is not None and child.phase == Phase.DEAD:
                item = _with(item, "dead", child.reason or "Dead", self._clip(child.message or ""))
            elif i in done:
                item = _with(item, "succeeded", "Completed", None, output_uris(spec))
            elif child is not None and not child.deleting and not frozen:
                item = Item(i, uri, _UNFINISHED_KIND.get(child.phase, "pending"), cname, child=child, spec=spec)
            elif i in failed:
                entry = listed.get(i)
                if entry is not None:
                    item = _with(item, "dead", entry.reason, entry.message)
                else:
                    unknown = "the child is gone and its failure was not kept (status.failed lists at most 100)"
                    item = _with(item, "dead", BatchReason.UNKNOWN.value, unknown)
            elif existed:
                item = _with(item, "dead", BatchReason.CHILD_DELETED.value, f"child task {cname} was deleted")
            items.append(item)
        return items

    # --- running --------------------------------------------------------------------------------------------

    def _start(self, n: int) -> None:
        seconds = self.spec.deadline.seconds_for(n)
        deadline = self.stamp + timedelta(seconds=seconds)
        self._set(phase=BatchPhase.RUNNING, started_at=self.stamp, deadline_at=deadline, reason=None, message=None)
        how = "deadline.seconds" if self.spec.deadline.seconds is not None else (
            f"{n} x {self.spec.deadline.per_item_seconds}s + {self.spec.deadline.buffer_seconds}s"
        )  # fmt: skip
        self._event("Normal", "Started", f"{n} inputs; deadline {_iso(deadline)} ({how})")

    def _create(self, items: Sequence[Item]) -> None:
        """Create the next children, in index order, within parallelism and the per-pass cap."""
        active = sum(1 for i in items if i.created and not i.finished)
        limit = self.spec.parallelism or len(items)
        waiting = [i for i in items if not i.created and not i.finished]
        room = max(0, limit - active)
        batch = waiting[: min(room, self.settings.max_creates_per_pass)]
        for item in batch:
            assert item.spec is not None
            self.actions.append(CreateChild(item.index, child_name(self.batch.metadata.name, item.index), item.spec))
        if len(batch) < min(room, len(waiting)):
            self.wake_at.append(self.now + timedelta(seconds=self.settings.create_requeue_seconds))

    def _end_at_deadline(self, items: Sequence[Item], deadline: datetime) -> list[Item]:
        """The monitor fires: delete unfinished children, fail their inputs with BatchDeadlineExceeded."""
        ended: list[Item] = []
        out: list[Item] = []
        for item in items:
            if item.finished:
                out.append(item)
                continue
            if item.child is not None and not item.child.deleting:
                self.actions.append(DeleteChild(item.child.name))
            ended.append(item)
            out.append(_with(item, "dead", BatchReason.BATCH_DEADLINE_EXCEEDED.value, self._deadline_message(item)))
        self._event(
            "Warning",
            BatchReason.BATCH_DEADLINE_EXCEEDED.value,
            f"deadline {_iso(deadline)} passed with {len(ended)} of {len(items)} inputs unfinished: "
            f"ending {_names(ended)}",
        )
        return out

    def _deadline_message(self, item: Item) -> str:
        child = item.child
        if not item.created:
            where = "never started (waiting for parallelism)"
        elif child is None:
            where = "its child was not observed"
        else:
            where = f"child {child.name} was {child.phase or 'Pending'}"
            if child.reason:
                where += f" (last failure {child.reason}: {child.message or ''})"
        return self._clip(f"ended at the batch deadline {_iso(self.status.deadline_at)}: {where}")

    def _record(self, items: Sequence[Item]) -> None:
        """Counts, the index records and the failed list, all derived from ``items``."""
        kinds = [i.kind for i in items]
        counts = BatchCounts(
            total=len(items),
            pending=kinds.count("pending"),
            running=kinds.count("running"),
            retrying=kinds.count("retrying"),
            succeeded=kinds.count("succeeded"),
            dead=kinds.count("dead"),
        )
        dead = [i for i in items if i.kind == "dead"]
        before = parse_indexes(self.status.failed_indexes, len(items))
        deleted = [i for i in dead if i.reason == BatchReason.CHILD_DELETED.value and i.index not in before]
        if deleted:
            self._event("Warning", BatchReason.CHILD_DELETED.value, f"deleted before they finished: {_names(deleted)}")
        self._set(
            counts=counts,
            created=min(len(items), max(self.status.created, *(i.index + 1 for i in items if i.created), 0)),
            succeeded_indexes=format_indexes(i.index for i in items if i.kind == "succeeded"),
            failed_indexes=format_indexes(i.index for i in dead),
            failed=[
                FailedInput(index=i.index, input=i.input, task=i.task, reason=i.reason or "Dead", message=i.message)
                for i in dead[: self.settings.max_failed_listed]
            ],
        )

    def _finish(self, items: Sequence[Item], by_deadline: bool) -> None:
        dead = [i for i in items if i.kind == "dead"]
        n = len(items)
        if not dead:
            self._set(
                phase=BatchPhase.SUCCEEDED,
                reason=BatchReason.ALL_SUCCEEDED.value,
                message=f"all {n} inputs transcribed",
                finished_at=self.stamp,
            )
            self._event("Normal", BatchPhase.SUCCEEDED.value, f"all {n} inputs transcribed")
            return
        reasons: dict[str, int] = {}
        for i in dead:
            reasons[i.reason or "Dead"] = reasons.get(i.reason or "Dead", 0) + 1
        detail = ", ".join(f"{r}: {c}" for r, c in sorted(reasons.items()))
        message = f"{n - len(dead)} of {n} inputs transcribed; {len(dead)} failed ({detail})"
        reason = BatchReason.BATCH_DEADLINE_EXCEEDED if by_deadline else BatchReason.CHILDREN_FAILED
        self._set(
            phase=BatchPhase.COMPLETED_WITH_FAILURES, reason=reason.value, message=message, finished_at=self.stamp
        )
        self._event("Warning", BatchPhase.COMPLETED_WITH_FAILURES.value, message)

    def _fail(self, reason: BatchReason, message: str) -> None:
        """The batch cannot run at all (its inputPrefix did not expand)."""
        self._set(phase=BatchPhase.FAILED, reason=reason.value, message=message, finished_at=self.stamp)
        self._event("Warning", BatchPhase.FAILED.value, f"{reason.value}: {message}")

    # --- the summary ----------------------------------------------------------------------------------------

    def _summary_due(self, result: SummaryResult | None) -> bool:
        """Whether to write the summary in this pass (first try at once, then on a bounded schedule)."""
        attempts = self.status.summary_attempts
        if result is not None or attempts >= self.settings.max_summary_attempts:
            return False
        finished = self.status.finished_at or self.stamp
        due = finished + timedelta(seconds=attempts * self.settings.summary_retry_seconds)
        if self.now < due:
            self.wake_at.append(due)
            return False
        return True

    def _summary(self, items: Sequence[Item] | None, result: SummaryResult | None) -> None:
        """Write the summary once the batch ended; ``items`` None: derive them from the (frozen) status."""
        uri = summary_uri(self.batch.metadata.name, self.spec, self.batch.inputs() or self.status.inputs)
        if uri is None or self.status.summary is not None:
            return
        if result is not None and result.uri == uri:
            if result.error is None:
                self._set(summary=uri)
                self._event("Normal", "SummaryWritten", uri)
                return
            attempts = self.status.summary_attempts + 1
            self._set(summary_attempts=attempts)
            self._event("Warning", "SummaryFailed", self._clip(f"attempt {attempts}: {result.error}"))
            if attempts < self.settings.max_summary_attempts:
                self.wake_at.append(
                    (self.status.finished_at or self.stamp)
                    + timedelta(seconds=attempts * self.settings.summary_retry_seconds)
                )
            return
        if self._summary_due(result):
            if items is None:
                items = self._resolve(self.batch.inputs() or [], frozen=True)
            self.actions.append(WriteSummary(uri, self._document(items)))

    def _document(self, items: Sequence[Item]) -> dict[str, Any]:
        """The summary: the batch's outcome and, per input, its task, result, reason and outputs."""
        st, meta = self.status, self.batch.metadata
        return {
            "apiVersion": BATCH_API_VERSION,
            "kind": "TranscriptionBatchSummary",
            "batch": {"name": meta.name, "namespace": meta.namespace, "uid": meta.uid},
            "phase": st.phase.value if st.phase else None,
            "reason": st.reason,
            "message": st.message,
            "inputPrefix": self.spec.input_prefix,
            "outputPrefix": self.spec.output_prefix,
            "counts": st.counts.model_dump(mode="json", by_alias=True),
            "createdAt": _iso(meta.creation_timestamp),
            "startedAt": _iso(st.started_at),
            "deadlineAt": _iso(st.deadline_at),
            "finishedAt": _iso(st.finished_at),
            "items": [
                {
                    "index": i.index,
                    "input": i.input,
                    "task": i.task,
                    "result": "Succeeded" if i.kind == "succeeded" else "Failed",
                    "reason": i.reason or ("Completed" if i.kind == "succeeded" else None),
                    "message": i.message,
                    "outputs": dict(i.outputs),
                }
                for i in items
            ],
        }

    # --- status helpers -------------------------------------------------------------------------------------

    def _conditions(self, previous: Sequence[Condition]) -> list[Condition]:
        st = self.status
        phase = st.phase or BatchPhase.PENDING
        wanted = [
            _cond(COMPLETE, st.terminal, phase.value, st.message if st.terminal else None),
            _cond(READY, phase is BatchPhase.SUCCEEDED, phase.value, st.message if st.terminal else None),
        ]
        uri = summary_uri(self.batch.metadata.name, self.spec, self.batch.inputs() or st.inputs)
        if st.terminal and uri is not None:
            if st.summary is not None:
                wanted.append(_cond(SUMMARY_WRITTEN, True, "Written", st.summary))
            elif st.summary_attempts:
                gave_up = st.summary_attempts >= self.settings.max_summary_attempts
                why = f"{st.summary_attempts} failed attempts to write {uri}" + ("; gave up" if gave_up else "")
                wanted.append(_cond(SUMMARY_WRITTEN, False, "SummaryFailed", why))
            else:
                wanted.append(_cond(SUMMARY_WRITTEN, False, "Pending", uri))
        old = {c.type: c for c in previous}
        kinds = {c.type for c in wanted}
        out = [c for c in previous if c.type not in kinds and c.type not in (COMPLETE, READY, SUMMARY_WRITTEN)]
        for cond in wanted:
            before = old.get(cond.type)
            same = before is not None and before.status == cond.status and before.last_transition_time is not None
            since = before.last_transition_time if same and before is not None else self.stamp
            generation = self.batch.metadata.generation
            out.append(cond.model_copy(update={"last_transition_time": since, "observed_generation": generation}))
        return out

    def _set(self, **fields: object) -> None:
        self.status = self.status.model_copy(update=fields)

    def _event(self, kind: EventType, reason: str, message: str) -> None:
        self.events.append(EmitEvent(kind, reason, message))

    def _clip(self, text: str) -> str:
        limit = self.settings.max_message_length
        return text if len(text) <= limit else text[: limit - 1] + "…"


def _with(
    item: Item, kind: Kind, reason: str | None, message: str | None, outputs: Mapping[str, str] | None = None
) -> Item:
    return Item(item.index, item.input, kind, item.task, reason, message, outputs or {}, item.child, item.spec)


def _cond(kind: str, true: bool, reason: str, message: str | None) -> Condition:
    return Condition(type=kind, status="True" if true else "False", reason=reason, message=message)
