"""scribe-operator: run audio transcription as Kubernetes custom resources.

Importing this package is cheap on purpose (no kopf, no Kubernetes client): the API models
(:mod:`scribe_operator.api`) and the pure decision core (:mod:`scribe_operator.kinds.task.core`) are usable on
their own, e.g. by the CRD generator and the unit tests.
"""

__version__ = "0.1.0"
