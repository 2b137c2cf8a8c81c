"""The operator's settings (``SCRIBE_*`` environment variables): the model in :mod:`.model`, its sections in
:mod:`.sections`, how a setting is declared in :mod:`.section`, the generated reference (docs, chart values and
schema) in :mod:`.reference`."""

from scribe_operator.runtime.settings.model import OperatorSettings, SettingsError
from scribe_operator.runtime.settings.section import Section
from scribe_operator.runtime.settings.sections import (
    DEFAULT_WORKER_IMAGE,
    BatchSection,
    BreakerSection,
    CapacitySection,
    LeaderElectionSection,
    NotificationSection,
    OperatorSection,
    S3Section,
    TaskDefaultsSection,
    TaskSection,
    WorkerSection,
)

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
