"""``reconcile_batch(batch, observed, now, settings) -> BatchPlan``: the decision core of TranscriptionBatch.

Pure: no I/O, no clock reads. Level-triggered: every pass derives each input's state from the child tasks
observed now, falling back on what status recorded (``succeededIndexes``, ``failedIndexes``, ``created``) only for
children that are gone. A batch ends

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

The steps are in :mod:`.expand` (the inputPrefix), :mod:`.children` (creating, the deadline, the records, the end)
and :mod:`.summary`; the plan and its actions in :mod:`.plan`, what the core is handed in :mod:`.observed`.
"""

from __future__ import annotations

from datetime import datetime

from scribe_operator.kernel.decision import decision_core
from scribe_operator.kernel.notify import NotificationResult, notify_step
from scribe_operator.kinds.batch.api.model import TranscriptionBatch
from scribe_operator.kinds.batch.core.children import ChildSteps
from scribe_operator.kinds.batch.core.conditions import batch_conditions
from scribe_operator.kinds.batch.core.expand import PrefixExpansion
from scribe_operator.kinds.batch.core.notify import batch_notification_id
from scribe_operator.kinds.batch.core.observed import BatchObserved, Expansion, SummaryResult
from scribe_operator.kinds.batch.core.plan import BatchPlan
from scribe_operator.kinds.batch.core.settings import BatchSettings
from scribe_operator.kinds.batch.core.summary import SummaryStep


@decision_core(empty=BatchPlan, defaults=BatchSettings)
def reconcile_batch(
    batch: TranscriptionBatch, observed: BatchObserved, now: datetime, settings: BatchSettings
) -> BatchPlan:
    """The plan that moves ``batch`` towards its end, given its children and answers ``observed`` at ``now``
    (:func:`~scribe_operator.kernel.decision.decision_core`: a batch being deleted gets the empty plan, its children
    go with it)."""
    run = BatchPass(batch, observed.children, now, settings)
    if batch.status.terminal:
        run.after_end(observed.summary)
        run.notify(observed.notification)
    else:
        run.advance(observed.expansion, observed.summary)
    return run.plan()


class BatchPass(PrefixExpansion, ChildSteps, SummaryStep):
    """One reconcile pass: every step the observation allows, then the plan."""

    def advance(self, expansion: Expansion | None, summary: SummaryResult | None) -> None:
        inputs = self.batch.inputs()
        if inputs is None:
            if not self.expand(expansion):
                if self.status.terminal:
                    self.summarize([], summary)
                return
            inputs = self.status.inputs or []
        items = self.resolve(inputs, frozen=False)
        if self.status.started_at is None:
            self.start(len(items))
        unfinished = [i for i in items if not i.finished]
        deadline = self.status.deadline_at
        by_deadline = bool(unfinished) and deadline is not None and self.now >= deadline
        if by_deadline and deadline is not None:
            items = self.end_at_deadline(items, deadline)
        elif unfinished:
            self.create(items)
            if deadline is not None:
                self.wake_at.append(deadline)
        self.record(items)
        if all(i.finished for i in items):
            self.finish(items, by_deadline)
            self.summarize(items, summary)

    def after_end(self, summary: SummaryResult | None) -> None:
        """A terminal batch: only the summary may still be owed."""
        if self.status.summary is not None:
            return
        self.summarize(None, summary)

    def notify(self, result: NotificationResult | None) -> None:
        """A terminal batch's notification: the next POST, or the delivery state its result makes."""
        key = batch_notification_id(self.batch)
        step = notify_step(
            self.spec.notification, key, self.status.notification, result, self.now, self.settings.notification
        )
        if step.status is not None:
            self.set(notification=step.status)
        if step.send is not None:
            self.actions.append(step.send)
        if step.wake_at is not None:
            self.wake_at.append(step.wake_at)

    def plan(self) -> BatchPlan:
        if self.status.terminal and not self.batch.status.terminal and self.spec.notification is not None:
            self.wake_at.append(self.now)  # the notification goes out in the next reconcile, after this status write
        old = self.batch.status
        conditions = batch_conditions(
            self.status,
            old.conditions,
            self.summary_uri,
            self.settings.max_summary_attempts,
            self.stamp,
            self.batch.metadata.generation,
        )
        status = self.status.model_copy(
            update={"conditions": conditions, "observed_generation": self.batch.metadata.generation}
        )
        return BatchPlan(
            status=None if status == old else status,
            actions=(*self.actions, *self.events),
            requeue_after=self.requeue_after(),
        )
