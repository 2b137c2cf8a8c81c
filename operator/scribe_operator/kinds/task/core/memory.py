"""Memory limit of the next attempt, raised after OOMKilled attempts."""

from __future__ import annotations

import math
from collections.abc import Sequence

from scribe_contract.taxonomy import Reason

from scribe_operator.api.quantity import format_mebibytes, memory_bytes
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import AttemptRecord
from scribe_operator.kinds.task.core.settings import CoreSettings


def memory_limit(spec: TranscriptionTaskSpec, history: Sequence[AttemptRecord], settings: CoreSettings) -> str | None:
    """The worker memory limit for the next attempt.

    Start from spec.resources.limits.memory (or the operator default), at least the memory request. Each
    OOMKilled attempt in the history raises it to that attempt's limit times ``oom_memory_factor``, capped
    at ``max_memory_limit``; raised limits stay raised. Unchanged limits keep their original spelling.
    """
    base_text = spec.resources.limits.memory or settings.default_memory_limit
    request = memory_bytes(spec.resources.requests.memory or "")
    base = memory_bytes(base_text) if base_text else None
    if base is not None and request is not None and request > base:
        base, base_text = request, spec.resources.requests.memory
    cap = memory_bytes(settings.max_memory_limit)
    limit = base
    for record in history:
        used = memory_bytes(record.memory_limit or "") or limit
        if used is None:
            continue
        limit = max(limit or 0, used)
        if record.reason == Reason.OOM_KILLED:
            raised = math.ceil(used * settings.oom_memory_factor)
            limit = max(limit, min(cap, raised) if cap is not None else raised)
    if limit is None or limit == base:
        return base_text
    return format_mebibytes(limit)


def memory_request(spec: TranscriptionTaskSpec, limit: str | None, settings: CoreSettings) -> str | None:
    """The worker memory request for an attempt whose memory limit is ``limit``.

    The spec's request, grown in the same proportion as the limit when the limit was raised after OOMKilled
    attempts (so the scheduler places the bigger attempt where the memory is), never above the limit.
    """
    request_text = spec.resources.requests.memory
    request = memory_bytes(request_text or "")
    base_text = spec.resources.limits.memory or settings.default_memory_limit
    base = memory_bytes(base_text) if base_text else None
    raised = memory_bytes(limit) if limit else None
    if request is None or base is None or raised is None or raised <= base:
        return request_text
    return format_mebibytes(min(raised, math.ceil(request * raised / base)))
