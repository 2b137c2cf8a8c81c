"""What the API models of every kind share: group, version, labels and annotations (``constants``), object metadata
and conditions (``meta``), the pydantic base (``base``), schema and CEL helpers, quantities, S3 URIs, notifications.

Each kind's own models live in ``scribe_operator.kinds.<kind>.api``; this package imports none of them (they import
it), so any of them can be imported first.
"""
