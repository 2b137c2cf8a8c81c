"""What to produce: the spoken language, transcribe or translate, word timestamps and prompting
(``SCRIBE_LANGUAGE``, ``SCRIBE_WHISPER_TASK``, ``SCRIBE_WORD_TIMESTAMPS``, ``SCRIBE_INITIAL_PROMPT``,
``SCRIBE_HOTWORDS``), and what an English-only model cannot do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from scribe_contract.env import HOTWORDS, INITIAL_PROMPT, LANGUAGE, WHISPER_TASK, WORD_TIMESTAMPS
from scribe_contract.options import WHISPER_TASKS, english_only

from scribe_worker.config import values

_LANGUAGE = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})?$")
"""An ISO 639 code, optionally with subtags (``en-US``, ``pt_BR``): Whisper knows languages, not regions, so the
worker keeps the primary code."""
_AUTO_LANGUAGE = {"", "auto"}


@dataclass(frozen=True)
class Transcription:
    """What to produce: the language, transcribe or translate, word timestamps, prompting."""

    language: str | None = None  # None: detect
    task: str = "transcribe"
    word_timestamps: bool = False
    initial_prompt: str | None = None
    hotwords: str | None = None


def read_transcription(env: Mapping[str, str], model: str) -> Transcription:
    """The transcription options for ``model`` (an English-only model refuses other languages and translate)."""
    language: str | None = values.get(env, LANGUAGE).lower()
    if language in _AUTO_LANGUAGE:
        language = None
    elif (match := _LANGUAGE.match(language or "")) is None:
        raise values.invalid(f"{LANGUAGE}={language!r} is not a language code (e.g. en, de, haw, pt-BR)")
    else:
        language = match.group(1)
    task = values.choice(env, WHISPER_TASK, WHISPER_TASKS, "transcribe")
    if english_only(model):
        check_model_supports(model, multilingual=False, language=language, task=task)
    return Transcription(
        language=language,
        task=task,
        word_timestamps=bool(values.boolean(env, WORD_TIMESTAMPS)),
        initial_prompt=values.text(env, INITIAL_PROMPT),
        hotwords=values.text(env, HOTWORDS),
    )


def check_model_supports(model: str, *, multilingual: bool, language: str | None, task: str) -> None:
    """Reject what an English-only model cannot do: another language (SCRIBE_LANGUAGE) or translate."""
    if multilingual:
        return
    if language not in (None, "en"):
        raise values.invalid(
            f"{LANGUAGE}={language!r}: model {model!r} does not support language {language!r} "
            "(it is English-only; use a multilingual model)"
        )
    if task == "translate":
        raise values.invalid(
            f"{WHISPER_TASK}=translate: model {model!r} is English-only and cannot translate; use a multilingual model"
        )
