"""The worker's whole configuration, read from environment variables (see docs/worker.md).

Every variable is named once, in the shared contract (``scribe_contract.env``: name, type, default, meaning; the
operator sets them on the attempt's pod), and parsed and validated here by :func:`load`. Any invalid value is an
``InvalidConfiguration`` failure naming the variable, raised before the model is loaded or any audio is
downloaded; a variable that is unset (or empty) takes its documented default.

| module | reads |
|---|---|
| :mod:`.loader` | the whole :class:`Config`: inputs, outputs, device, timeouts, progress, termination path |
| :mod:`.modelsource` | the model's name and where it comes from (a directory or S3) |
| :mod:`.transcription` | language, transcribe or translate, word timestamps, prompting |
| :mod:`.decoding` | batched or sequential decoding and its knobs |
| :mod:`.values` | single values: booleans, bounded numbers, JSON objects, URLs, directories |
"""

from scribe_worker.config.decoding import DecodingOptions
from scribe_worker.config.loader import Config, load, log_context, secret_values, termination_path
from scribe_worker.config.modelsource import ModelLocation
from scribe_worker.config.transcription import Transcription, check_model_supports

__all__ = [
    "Config",
    "DecodingOptions",
    "ModelLocation",
    "Transcription",
    "check_model_supports",
    "load",
    "log_context",
    "secret_values",
    "termination_path",
]
