"""The operator's settings (``SCRIBE_*`` environment variables): the model in :mod:`.model`, how a setting is
declared in :mod:`.section`, the generated reference (docs, chart values and schema) in :mod:`.reference`."""

from scribe_operator.runtime.settings.model import (
    DEFAULT_WORKER_IMAGE,
    BatchSection,
    BreakerSection,
    CapacitySection,
    LeaderElectionSection,
    NotificationSection,
    OperatorSection,
    OperatorSettings,
    S3Section,
    SettingsError,
    TaskDefaultsSection,
    TaskSection,
    WorkerSection,
)
from scribe_operator.runtime.settings.section import Section

__all__ = [
    "DEFAULT_WORKER_IMAGE",
    "BatchSection",
    "BreakerSection",
    "CapacitySection",
    "LeaderElectionSection",
    "NotificationSection",
    "OperatorSection",
    "OperatorSettings",
    "S3Section",
    "Section",
    "SettingsError",
    "TaskDefaultsSection",
    "TaskSection",
    "WorkerSection",
]
