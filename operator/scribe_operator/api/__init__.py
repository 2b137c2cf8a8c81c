"""The TranscriptionTask API: models, names, constants, parsing and the CRD generator."""

from .constants import API_VERSION, GROUP, KIND, PLURAL, VERSION
from .names import label_value, pod_name, secret_name
from .outputs import effective_formats, output_prefix, output_uris
from .parse import ValidationProblem, parse_spec, parse_status, parse_task
from .task import (
    AttemptRecord,
    Backoff,
    Condition,
    Format,
    ObjectMeta,
    Phase,
    Resources,
    RetryPolicy,
    RetryRule,
    RuleAction,
    TaskStatus,
    Timeouts,
    TranscriptionTask,
    TranscriptionTaskSpec,
    WorkerSpec,
    to_json,
)

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
