"""TranscriptionBatch as one entry of the kind registry: its API and how its controller is started."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from scribe_operator.kinds.batch.api.crd import BATCH_API
from scribe_operator.kinds.batch.controller import BatchController, BatchEffects
from scribe_operator.kinds.batch.handlers import BatchWiring
from scribe_operator.kinds.batch.storage import BatchStorage
from scribe_operator.kinds.kind import Kind
from scribe_operator.runtime.notifier import Notifier

if TYPE_CHECKING:
    from scribe_operator.app import App


def start(app: App) -> BatchWiring:
    """The batch controller over the app's API and S3 clients."""
    settings = app.settings
    effects = BatchEffects(app.api)
    return BatchWiring(
        BatchController(
            effects=effects,
            storage=BatchStorage(app.s3),
            settings=settings.batch_core(),
            notifier=Notifier(effects, settings.notification.allow_http),
        )
    )


BATCH: Final = Kind(name="batch", api=BATCH_API, start=start)
