"""How to decode: faster-whisper's batched pipeline or its sequential decoder, and their knobs (``SCRIBE_DECODING``,
``SCRIBE_BATCH_SIZE``, ``SCRIBE_VAD``, ``SCRIBE_VAD_PARAMETERS``, ``SCRIBE_BEAM_SIZE``, ``SCRIBE_TEMPERATURES``, the
fallback thresholds, ``SCRIBE_CONDITION_ON_PREVIOUS_TEXT``, ``SCRIBE_WINDOW_SECONDS``).

An option the chosen mode cannot honour is refused, not silently ignored; an unset option takes the mode's
default (docs/worker.md, "Decoding modes").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from scribe_contract import options
from scribe_contract.env import (
    BATCH_SIZE,
    BEAM_SIZE,
    COMPRESSION_RATIO_THRESHOLD,
    CONDITION_ON_PREVIOUS_TEXT,
    DECODING,
    LOG_PROB_THRESHOLD,
    NO_SPEECH_THRESHOLD,
    TEMPERATURES,
    VAD,
    VAD_PARAMETERS,
    WINDOW_SECONDS,
)

from scribe_worker.config import values


@dataclass(frozen=True)
class DecodingOptions:
    """How to decode: faster-whisper's batched pipeline or its sequential decoder, and their knobs."""

    mode: str = options.DEFAULT_DECODING
    batch_size: int = options.DEFAULT_BATCH_SIZE
    vad: bool = True
    vad_parameters: Mapping[str, float] = field(default_factory=dict)
    beam_size: int = options.DEFAULT_BEAM_SIZE
    temperatures: tuple[float, ...] = options.BATCHED_TEMPERATURES
    compression_ratio_threshold: float = options.DEFAULT_COMPRESSION_RATIO_THRESHOLD
    log_prob_threshold: float = options.DEFAULT_LOG_PROB_THRESHOLD
    no_speech_threshold: float = options.DEFAULT_NO_SPEECH_THRESHOLD
    condition_on_previous_text: bool = False
    window_seconds: float = options.DEFAULT_WINDOW_SECONDS


def _temperatures(env: Mapping[str, str]) -> tuple[float, ...] | None:
    raw = values.get(env, TEMPERATURES)
    if not raw:
        return None
    parsed = tuple(values.number(part.strip(), TEMPERATURES, 0.0, 1.0) for part in raw.split(","))
    if list(parsed) != sorted(parsed) or len(set(parsed)) != len(parsed):
        raise values.invalid(f"{TEMPERATURES}={raw!r} must list distinct temperatures in increasing order")
    return parsed


def _vad_parameters(env: Mapping[str, str]) -> dict[str, float]:
    if not values.get(env, VAD_PARAMETERS):
        return {}
    raw = values.json_object(env, VAD_PARAMETERS, what="VAD parameter to value")
    unknown = sorted(set(raw) - set(options.VAD_FIELDS))
    if unknown:
        raise values.invalid(f"{VAD_PARAMETERS} has unknown keys {unknown}; known: {sorted(options.VAD_FIELDS)}")
    parsed: dict[str, float] = {}
    for key, value in raw.items():
        kind, low, high = options.VAD_FIELDS[key]
        ok_type = isinstance(value, int) if kind is int else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type or not low <= value <= high:
            kind_name = "an integer" if kind is int else "a number"
            raise values.invalid(f"{VAD_PARAMETERS}[{key!r}] must be {kind_name} from {low:g} to {high:g}")
        parsed[key] = kind(value)
    return parsed


def read_decoding(env: Mapping[str, str]) -> DecodingOptions:
    """The decoding options; raises ``InvalidConfiguration`` for a value out of range or one the mode refuses."""
    mode = values.choice(env, DECODING, options.DECODING_MODES, options.DEFAULT_DECODING)
    batch_size = values.integer(env, BATCH_SIZE, *options.BATCH_SIZE_BOUNDS)
    vad = values.boolean(env, VAD)
    vad_parameters = _vad_parameters(env)
    temperatures = _temperatures(env)
    condition = values.boolean(env, CONDITION_ON_PREVIOUS_TEXT)
    if mode == "batched":
        # Options the batched pipeline cannot honour are refused, not silently ignored.
        if vad is False:
            raise values.invalid(f"{VAD}=false needs {DECODING}=sequential: batched decoding cuts audio at VAD speech")
        if temperatures is not None and len(temperatures) > 1:
            raise values.invalid(
                f"{TEMPERATURES} with a fallback ladder needs {DECODING}=sequential (batched uses one)"
            )
        if condition:
            raise values.invalid(f"{CONDITION_ON_PREVIOUS_TEXT}=true needs {DECODING}=sequential")
        if "max_speech_duration_s" in vad_parameters:
            raise values.invalid(
                f"{VAD_PARAMETERS}['max_speech_duration_s'] needs {DECODING}=sequential (batched uses 30 s)"
            )
    elif batch_size is not None:
        raise values.invalid(f"{BATCH_SIZE} needs {DECODING}=batched")
    if not (vad if vad is not None else True) and vad_parameters:
        raise values.invalid(f"{VAD_PARAMETERS} needs {VAD}=true")
    default_temperatures = options.BATCHED_TEMPERATURES if mode == "batched" else options.SEQUENTIAL_TEMPERATURES
    compression = values.optional_number(env, COMPRESSION_RATIO_THRESHOLD, 0.0, 100.0)
    if compression == 0.0:
        raise values.invalid(f"{COMPRESSION_RATIO_THRESHOLD} must be greater than 0")
    log_prob = values.optional_number(env, LOG_PROB_THRESHOLD, -100.0, 0.0)
    no_speech = values.optional_number(env, NO_SPEECH_THRESHOLD, 0.0, 1.0)
    window = values.optional_number(env, WINDOW_SECONDS, *options.WINDOW_SECONDS_BOUNDS)
    return DecodingOptions(
        mode=mode,
        batch_size=batch_size or options.DEFAULT_BATCH_SIZE,
        vad=True if vad is None else vad,
        vad_parameters=vad_parameters,
        beam_size=values.integer(env, BEAM_SIZE, *options.BEAM_SIZE_BOUNDS) or options.DEFAULT_BEAM_SIZE,
        temperatures=temperatures or default_temperatures,
        compression_ratio_threshold=compression or options.DEFAULT_COMPRESSION_RATIO_THRESHOLD,
        log_prob_threshold=options.DEFAULT_LOG_PROB_THRESHOLD if log_prob is None else log_prob,
        no_speech_threshold=options.DEFAULT_NO_SPEECH_THRESHOLD if no_speech is None else no_speech,
        condition_on_previous_text=(mode == "sequential") if condition is None else condition,
        window_seconds=window or options.DEFAULT_WINDOW_SECONDS,
    )
