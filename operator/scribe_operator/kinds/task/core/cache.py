"""The result cache's decision: is the result already at the task's output location complete and current?

Pure. A hit needs a result record (:mod:`..api.result`) for the same input object at the version the preflight HEAD
just saw (ETag and size), made with the same options hash, listing exactly the task's outputs, each of which still
has the ETag recorded when it was written (so nothing has overwritten or deleted it since).
"""

from __future__ import annotations

from scribe_operator.kinds.task.api.outputs import output_uris
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.core.observed import InputProbe


def cache_hit(spec: TranscriptionTaskSpec, probe: InputProbe, output: InputProbe, options: str) -> bool:
    """Whether ``output.stored`` is a complete result of ``spec``'s input as ``probe`` saw it, with ``options``."""
    stored = output.stored
    if stored is None or probe.etag is None or probe.size_bytes is None:
        return False
    record = stored.record
    same_input = (record.input_uri, record.input_etag, record.input_size) == (spec.input, probe.etag, probe.size_bytes)
    wanted = output_uris(spec)
    same_outputs = {fmt: uri for fmt, (uri, _) in record.outputs.items()} == wanted
    intact = all(stored.current.get(fmt) == etag for fmt, (_, etag) in record.outputs.items())
    return same_input and record.options == options and same_outputs and intact
