"""Every resource kind the operator serves, one entry per kind package.

The code generator (:mod:`scribe_operator.codegen`) writes one CRD and one field reference per entry.
"""

from __future__ import annotations

from typing import Final

from scribe_operator.api.kind import KindApi
from scribe_operator.kinds.batch.api.crd import BATCH_API
from scribe_operator.kinds.task.api.crd import TASK_API

KINDS: Final[tuple[KindApi, ...]] = (TASK_API, BATCH_API)
