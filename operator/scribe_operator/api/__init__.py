"""The TranscriptionTask API: models, names, constants, parsing and the CRD generator."""

from scribe_operator.api.constants import API_VERSION, GROUP, KIND, PLURAL, VERSION
from scribe_operator.api.meta import Condition, ObjectMeta, to_json
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.names import label_value, pod_name, secret_name
from scribe_operator.kinds.task.api.outputs import effective_formats, output_prefix, output_uris
from scribe_operator.kinds.task.api.parse import ValidationProblem, parse_spec, parse_status, parse_task
from scribe_operator.kinds.task.api.resources import Resources
from scribe_operator.kinds.task.api.retry import Backoff, RetryPolicy, RetryRule, RuleAction
from scribe_operator.kinds.task.api.spec import Format, Timeouts, TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import AttemptRecord, Phase, RequeueOutcome, RequeueRecord, TaskStatus
from scribe_operator.kinds.task.api.worker import WorkerSpec

__all__ = [
    "API_VERSION",
    "GROUP",
    "KIND",
    "PLURAL",
    "VERSION",
    "AttemptRecord",
    "Backoff",
    "Condition",
    "Format",
    "ObjectMeta",
    "Phase",
    "RequeueOutcome",
    "RequeueRecord",
    "Resources",
    "RetryPolicy",
    "RetryRule",
    "RuleAction",
    "TaskStatus",
    "Timeouts",
    "TranscriptionTask",
    "TranscriptionTaskSpec",
    "ValidationProblem",
    "WorkerSpec",
    "effective_formats",
    "label_value",
    "output_prefix",
    "output_uris",
    "parse_spec",
    "parse_status",
    "parse_task",
    "pod_name",
    "secret_name",
    "to_json",
]
