"""Every resource kind the operator serves, one entry per kind package.

The code generator (:mod:`scribe_operator.codegen`) writes one CRD and one field reference per entry (its
:attr:`~.kind.Kind.api`); the operator (:mod:`scribe_operator.app`) starts each entry's controller and registers
its kopf handlers and metrics.
"""

from __future__ import annotations

from typing import Final

from scribe_operator.api.kind import KindApi
from scribe_operator.kinds.batch.kind import BATCH
from scribe_operator.kinds.kind import Kind
from scribe_operator.kinds.task.kind import TASK

KINDS: Final[tuple[Kind, ...]] = (TASK, BATCH)
APIS: Final[tuple[KindApi, ...]] = tuple(kind.api for kind in KINDS)
"""The kinds' APIs, in registry order: what the code generator reads."""
