"""The operator's settings (``SCRIBE_*`` environment variables): the model in :mod:`.model`, its sections in
:mod:`.sections`, how a setting is declared in :mod:`.section`, the generated reference (docs, chart values and
schema) in :mod:`.reference`. Here: the model and what the rest of the operator reads of it beyond the model."""

from scribe_operator.runtime.settings.model import OperatorSettings, SettingsError
from scribe_operator.runtime.settings.section import Section
from scribe_operator.runtime.settings.sections import DEFAULT_WORKER_IMAGE, LeaderElectionSection, S3Section

__all__ = [
    "DEFAULT_WORKER_IMAGE",
    "LeaderElectionSection",
    "OperatorSettings",
    "S3Section",
    "Section",
    "SettingsError",
]
