"""TranscriptionTask as one entry of the kind registry: its API and how its controller is started."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from scribe_operator.kinds.kind import Kind
from scribe_operator.kinds.task.api.crd import TASK_API
from scribe_operator.kinds.task.controller import Controller
from scribe_operator.kinds.task.handlers import TaskWiring
from scribe_operator.kinds.task.storage import Storage
from scribe_operator.runtime.kube.effects import KubeEffects

if TYPE_CHECKING:
    from scribe_operator.app import App


def start(app: App) -> TaskWiring:
    """The task controller over the app's API and S3 clients."""
    return TaskWiring(Controller(settings=app.settings, effects=KubeEffects(app.api), storage=Storage(app.s3)))


TASK: Final = Kind(name="task", api=TASK_API, start=start)
