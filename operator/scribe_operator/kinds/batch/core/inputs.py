"""Where each of a batch's inputs is, derived anew in every pass (level-triggered): from its child task as observed
now, falling back on what status recorded (``succeededIndexes``, ``failedIndexes``, ``failed``, ``created``) only
for children that are gone. Pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from pydantic import ValidationError

from scribe_operator.api.parse import problem_from
from scribe_operator.kinds.batch.api.indexes import parse_indexes
from scribe_operator.kinds.batch.api.layout import child_spec
from scribe_operator.kinds.batch.api.model import TranscriptionBatch
from scribe_operator.kinds.batch.api.names import child_name
from scribe_operator.kinds.batch.api.status import BatchReason, BatchStatus
from scribe_operator.kinds.batch.core.observed import ObservedChild
from scribe_operator.kinds.task.api.outputs import output_uris
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import Phase

InputState = Literal["pending", "running", "retrying", "succeeded", "dead"]
_UNFINISHED: dict[Phase | None, InputState] = {
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
    state: InputState
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
        return self.state in ("succeeded", "dead")

    @property
    def created(self) -> bool:
        return self.task is not None

    @property
    def shown(self) -> str:
        """How messages name the input: its child task, else ``#<index>``."""
        return self.task or f"#{self.index}"

    def ended(
        self, state: InputState, reason: str | None, message: str | None, outputs: Mapping[str, str] | None = None
    ) -> Item:
        """The input, finished (``succeeded`` or ``dead``) with ``reason``."""
        return replace(self, state=state, reason=reason, message=message, outputs=outputs or {})


def resolve_inputs(
    batch: TranscriptionBatch,
    status: BatchStatus,
    children: Sequence[ObservedChild],
    inputs: Sequence[str],
    frozen: bool,
    clip: Callable[[str], str],
) -> list[Item]:
    """Every input's state: the observed child first, ``status``' records for children that are gone. ``frozen``:
    the batch has ended, an unfinished child no longer counts as running. ``clip`` cuts messages copied from
    children."""
    name, uid = batch.metadata.name, batch.metadata.uid
    kids: dict[int, ObservedChild] = {}
    for c in sorted(children, key=lambda c: c.name):
        own = not uid or c.owner_uid in (None, uid)
        if own and 0 <= c.index < len(inputs) and c.name == child_name(name, c.index):
            kids.setdefault(c.index, c)
    created = min(max(status.created, *(i + 1 for i in kids), 0), len(inputs))
    done = parse_indexes(status.succeeded_indexes, len(inputs))
    failed = parse_indexes(status.failed_indexes, len(inputs))
    listed = {f.index: f for f in status.failed}
    items = []
    for i, uri in enumerate(inputs):
        cname = child_name(name, i)
        child = kids.get(i)
        existed = child is not None or i < created
        try:
            spec = child_spec(batch.spec, i, uri)
        except ValidationError as err:
            message = problem_from(err, "child").message
            items.append(Item(i, uri, "dead", None, BatchReason.INVALID_INPUT.value, clip(message)))
            continue
        item = Item(i, uri, "pending", cname if existed else None, spec=spec)
        if child is not None and child.phase == Phase.SUCCEEDED:
            item = item.ended("succeeded", child.reason, None, dict(child.outputs) or output_uris(spec))
        elif child is not None and child.phase == Phase.DEAD:
            item = item.ended("dead", child.reason or "Dead", clip(child.message or ""))
        elif i in done:
            item = item.ended("succeeded", "Completed", None, output_uris(spec))
        elif child is not None and not child.deleting and not frozen:
            item = Item(i, uri, _UNFINISHED.get(child.phase, "pending"), cname, child=child, spec=spec)
        elif i in failed:
            entry = listed.get(i)
            if entry is not None:
                item = item.ended("dead", entry.reason, entry.message)
            else:
                unknown = "the child is gone and its failure was not kept (status.failed lists at most 100)"
                item = item.ended("dead", BatchReason.UNKNOWN.value, unknown)
        elif existed:
            item = item.ended("dead", BatchReason.CHILD_DELETED.value, f"child task {cname} was deleted")
        items.append(item)
    return items
