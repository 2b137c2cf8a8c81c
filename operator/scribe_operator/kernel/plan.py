"""A plan: what a decision core decided for one object now.

``status`` is the object's complete new status when it differs from the current one (None: no write),
``actions`` are carried out in order and each is idempotent (creates of deterministic names treat AlreadyExists as
done, deletes treat NotFound as done), and ``requeue_after`` says when to reconcile again (None: only on the next
event). The default, empty plan means: nothing, no requeue. Actions that ask for information instead of making a
change are answered, and the core decides again on ``plan.apply(object)`` (:mod:`.replan`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

StatusT = TypeVar("StatusT")
StatusT_contra = TypeVar("StatusT_contra", contravariant=True)
ActionT = TypeVar("ActionT")
KindT = TypeVar("KindT")


class PlannedObject(Protocol[StatusT_contra]):
    """An object a plan is made for: it can be copied with a new status."""

    def with_status(self, status: StatusT_contra, /) -> Self: ...


SubjectT = TypeVar("SubjectT", bound=PlannedObject[Any])


@dataclass(frozen=True)
class Plan(Generic[SubjectT, StatusT, ActionT]):
    """What to do for one object now: its new status, the actions in order, when to look again."""

    status: StatusT | None = None
    """The complete new status when it differs from the current one, else None (no write)."""
    actions: tuple[ActionT, ...] = ()
    requeue_after: float | None = None
    """Reconcile again after this many seconds."""

    @property
    def empty(self) -> bool:
        """Nothing to do and no requeue."""
        return self == type(self)()

    def apply(self, subject: SubjectT) -> SubjectT:
        """``subject`` as it will be once this plan's status is written (actions aside)."""
        return subject if self.status is None else subject.with_status(self.status)

    def of(self, kind: type[KindT]) -> list[KindT]:
        """The actions of one type, in order."""
        return [a for a in self.actions if isinstance(a, kind)]


@dataclass(frozen=True)
class DeleteObject:
    """Delete the object of kind ``kind`` called ``name`` in the reconciled object's namespace (NotFound is
    success). Each kind of object a core deletes is a subclass that fixes ``kind``."""

    kind: ClassVar[str]
    name: str
