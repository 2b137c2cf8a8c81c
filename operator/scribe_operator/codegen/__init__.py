"""Code generation over every resource kind: the CRDs in ``crds/`` and the generated sections of ``docs/``.

The input is the kind registry (:data:`scribe_operator.kinds.registry.APIS`, one
:class:`~scribe_operator.api.kind.KindApi` per kind) and the failure taxonomy; nothing here is hand-written per
kind. ``python -m scribe_operator.codegen [--check] [ROOT]`` (``make manifests``) writes every output; with
``--check`` it writes nothing and exits 1 when a checked-in file differs from what it would write.
"""
