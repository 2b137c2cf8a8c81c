"""Names that make up the API contract: group, version, kind, labels and annotations."""

from typing import Final

GROUP: Final = "scribe.dev"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
KIND: Final = "TranscriptionTask"
PLURAL: Final = "transcriptiontasks"
CRD_NAME: Final = f"{PLURAL}.{GROUP}"

OPERATOR_LABELS: Final = {"app.kubernetes.io/managed-by": "scribe-operator"}
"""On every object the operator creates."""
WORKER_LABELS: Final = {"app.kubernetes.io/name": "scribe-worker", **OPERATOR_LABELS}
"""On the worker's objects: attempt pods and secrets, the worker account."""
LABEL_TASK: Final = f"{GROUP}/task"
"""On attempt pods and secrets: the owning task's name (see :func:`~.kinds.task.api.names.label_value`)."""
LABEL_ATTEMPT: Final = f"{GROUP}/attempt"
"""On attempt pods and secrets: the attempt number, 1-based, as a decimal string."""
LABEL_DEAD_LETTER: Final = f"{GROUP}/dead-letter"
"""On Dead tasks, value :data:`DEAD_LETTER_VALUE`: the dead-letter queue is this label selector."""
DEAD_LETTER_VALUE: Final = "true"
ANNOTATION_REQUEUE: Final = f"{GROUP}/requeue"
"""On a Dead task, a value (token) the operator has not handled yet requeues it, once per value.

See docs/dead-letter.md; the operator records the last handled token in ``status.requeue.token``."""
ANNOTATION_REQUEUE_RESET_ATTEMPTS: Final = f"{GROUP}/requeue-reset-attempts"
""""true" with a new requeue token: also clear the attempt history and failure counts."""

MAX_HISTORY: Final = 20
"""``status.attempts`` keeps the last this-many attempts; ``status.failureCounts`` counts them all."""
MAX_RETRIES_LIMIT: Final = 100
"""Upper bound of ``spec.retryPolicy.maxRetries``; so an attempt number is at most 101."""
DAY: Final = 86_400
"""Seconds in a day: the unit of the API's upper bounds on durations."""
