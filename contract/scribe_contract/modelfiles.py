"""The files a faster-whisper (CTranslate2) model directory must hold.

The worker checks a local model directory, and the URLs of a model from S3, against this list before it loads
anything; the operator checks a model's S3 prefix the same way before it starts a pod, so a prefix the worker
would refuse never gets as far as a pod.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

REQUIRED_FILES: Final = ("model.bin", "config.json", "tokenizer.json")
"""``tokenizer.json`` is required because faster-whisper would otherwise fetch one from the Hugging Face Hub."""
VOCABULARY_FILES: Final = ("vocabulary.txt", "vocabulary.json")  # CTranslate2 writes one of them
VOCABULARY: Final = "vocabulary.*"
"""How a missing vocabulary file is named in messages: either of ``VOCABULARY_FILES``."""


def missing_names(names: Iterable[str]) -> list[str]:
    """The required model files absent from ``names`` (``vocabulary.*`` stands for either vocabulary file)."""
    present = set(names)
    missing = [name for name in REQUIRED_FILES if name not in present]
    if not present & set(VOCABULARY_FILES):
        missing.append(VOCABULARY)
    return missing
