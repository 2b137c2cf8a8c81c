"""A running batch's children in the batch core: the start (and with it the deadline), creating the next children
within ``spec.parallelism`` and the per-pass cap, the deadline ending the unfinished ones, the status records
derived from the inputs' states, and the batch's end once every input has ended."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from scribe_operator.kernel.clip import listing
from scribe_operator.kernel.clock import iso
from scribe_operator.kinds.batch.api.indexes import format_indexes, parse_indexes
from scribe_operator.kinds.batch.api.names import child_name
from scribe_operator.kinds.batch.api.status import BatchCounts, BatchPhase, BatchReason, FailedInput
from scribe_operator.kinds.batch.core.draft import BatchDraft
from scribe_operator.kinds.batch.core.inputs import Item
from scribe_operator.kinds.batch.core.plan import CreateChild, DeleteChild


class ChildSteps(BatchDraft):
    """The steps of a running batch."""

    def start(self, n: int) -> None:
        seconds = self.spec.deadline.seconds_for(n)
        deadline = self.stamp + timedelta(seconds=seconds)
        self.set(phase=BatchPhase.RUNNING, started_at=self.stamp, deadline_at=deadline, reason=None, message=None)
        how = "deadline.seconds" if self.spec.deadline.seconds is not None else (
            f"{n} x {self.spec.deadline.per_item_seconds}s + {self.spec.deadline.buffer_seconds}s"
        )  # fmt: skip
        self.event("Normal", "Started", f"{n} inputs; deadline {iso(deadline)} ({how})")

    def create(self, items: Sequence[Item]) -> None:
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

    def end_at_deadline(self, items: Sequence[Item], deadline: datetime) -> list[Item]:
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
            out.append(item.ended("dead", BatchReason.BATCH_DEADLINE_EXCEEDED.value, self.deadline_message(item)))
        self.event(
            "Warning",
            BatchReason.BATCH_DEADLINE_EXCEEDED.value,
            f"deadline {iso(deadline)} passed with {len(ended)} of {len(items)} inputs unfinished: "
            f"ending {listing([i.shown for i in ended])}",
        )
        return out

    def deadline_message(self, item: Item) -> str:
        child = item.child
        if not item.created:
            where = "never started (waiting for parallelism)"
        elif child is None:
            where = "its child was not observed"
        else:
            where = f"child {child.name} was {child.phase or 'Pending'}"
            if child.reason:
                where += f" (last failure {child.reason}: {child.message or ''})"
        return self.clip(f"ended at the batch deadline {iso(self.status.deadline_at)}: {where}")

    def record(self, items: Sequence[Item]) -> None:
        """Counts, the index records and the failed list, all derived from ``items``."""
        states = [i.state for i in items]
        counts = BatchCounts(
            total=len(items),
            pending=states.count("pending"),
            running=states.count("running"),
            retrying=states.count("retrying"),
            succeeded=states.count("succeeded"),
            dead=states.count("dead"),
        )
        dead = [i for i in items if i.state == "dead"]
        before = parse_indexes(self.status.failed_indexes, len(items))
        deleted = [i for i in dead if i.reason == BatchReason.CHILD_DELETED.value and i.index not in before]
        if deleted:
            self.event(
                "Warning",
                BatchReason.CHILD_DELETED.value,
                f"deleted before they finished: {listing([i.shown for i in deleted])}",
            )
        self.set(
            counts=counts,
            created=min(len(items), max(self.status.created, *(i.index + 1 for i in items if i.created), 0)),
            succeeded_indexes=format_indexes(i.index for i in items if i.state == "succeeded"),
            failed_indexes=format_indexes(i.index for i in dead),
            failed=[
                FailedInput(index=i.index, input=i.input, task=i.task, reason=i.reason or "Dead", message=i.message)
                for i in dead[: self.settings.max_failed_listed]
            ],
        )

    def finish(self, items: Sequence[Item], by_deadline: bool) -> None:
        dead = [i for i in items if i.state == "dead"]
        n = len(items)
        if not dead:
            self.set(
                phase=BatchPhase.SUCCEEDED,
                reason=BatchReason.ALL_SUCCEEDED.value,
                message=f"all {n} inputs transcribed",
                finished_at=self.stamp,
            )
            self.event("Normal", BatchPhase.SUCCEEDED.value, f"all {n} inputs transcribed")
            return
        reasons: dict[str, int] = {}
        for i in dead:
            reasons[i.reason or "Dead"] = reasons.get(i.reason or "Dead", 0) + 1
        detail = ", ".join(f"{r}: {c}" for r, c in sorted(reasons.items()))
        message = f"{n - len(dead)} of {n} inputs transcribed; {len(dead)} failed ({detail})"
        reason = BatchReason.BATCH_DEADLINE_EXCEEDED if by_deadline else BatchReason.CHILDREN_FAILED
        self.set(phase=BatchPhase.COMPLETED_WITH_FAILURES, reason=reason.value, message=message, finished_at=self.stamp)
        self.event("Warning", BatchPhase.COMPLETED_WITH_FAILURES.value, message)
