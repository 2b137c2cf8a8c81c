"""The worker's environment and model volumes for a task: the spec's transcription options (and the operator's
defaults) as the worker's variables, named by the shared contract (``scribe_contract.env``). Pure.

A variable is set only when the task (or an operator default) sets its field: otherwise the worker's documented
default applies. Presigned URLs never appear here: they reach the pod through ``secretKeyRef`` only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

from scribe_contract import env as worker_env

from scribe_operator.api.meta import Manifest
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.transcription import ModelSource, PvcModel, S3Model
from scribe_operator.runtime.settings import OperatorSettings

MODEL_MOUNT: Final = "/var/lib/scribe/model"
"""Where a model on a PersistentVolumeClaim is mounted (read-only)."""
MODEL_CACHE: Final = "/var/cache/scribe/model"
"""The emptyDir a model from S3 is fetched into."""
MODEL_VOLUME: Final = "model"


def model_source(spec: TranscriptionTaskSpec, settings: OperatorSettings) -> ModelSource:
    """The task's model source, else the operator's default; ``ModelSource()`` is the model baked into the image."""
    if spec.model_source is not None:
        return spec.model_source
    if settings.defaults.model_claim:
        return ModelSource(
            persistent_volume_claim=PvcModel(
                claim_name=settings.defaults.model_claim, sub_path=settings.defaults.model_sub_path
            )
        )
    if settings.defaults.model_s3_prefix:
        return ModelSource(s3=S3Model(prefix=settings.defaults.model_s3_prefix))
    return ModelSource()


def model_name(spec: TranscriptionTaskSpec, settings: OperatorSettings) -> str | None:
    return spec.model or settings.defaults.model


def _flag(value: bool) -> str:
    return "true" if value else "false"


def transcription_env(spec: TranscriptionTaskSpec, settings: OperatorSettings) -> dict[str, str]:
    """Plain (non-secret) worker variables for the task's transcription options, only those that are set."""
    env: dict[str, str] = {}
    model = model_name(spec, settings)
    if model:
        env[worker_env.MODEL] = model
    if spec.task is not None:
        env[worker_env.WHISPER_TASK] = spec.task.value
    if spec.word_timestamps is not None:
        env[worker_env.WORD_TIMESTAMPS] = _flag(spec.word_timestamps)
    if spec.initial_prompt is not None:
        env[worker_env.INITIAL_PROMPT] = spec.initial_prompt
    if spec.hotwords is not None:
        env[worker_env.HOTWORDS] = spec.hotwords
    device = spec.device.value if spec.device is not None else settings.defaults.device
    if device:
        env[worker_env.DEVICE] = device
    compute_type = spec.compute_type or settings.defaults.compute_type
    if compute_type:
        env[worker_env.COMPUTE_TYPE] = compute_type
    env.update(_decoding_env(spec))
    source = model_source(spec, settings)
    if source.persistent_volume_claim is not None:
        env[worker_env.MODEL_DIR] = MODEL_MOUNT
    elif source.s3 is not None:
        env[worker_env.MODEL_URI] = source.s3.prefix
        env[worker_env.MODEL_CACHE_DIR] = MODEL_CACHE
    if settings.worker.progress_interval_seconds is not None:
        env[worker_env.PROGRESS_INTERVAL_SECONDS] = f"{settings.worker.progress_interval_seconds:g}"
    return env


def _decoding_env(spec: TranscriptionTaskSpec) -> dict[str, str]:
    decoding = spec.decoding
    if decoding is None:
        return {}
    env: dict[str, str] = {}
    if decoding.mode is not None:
        env[worker_env.DECODING] = decoding.mode.value
    if decoding.batch_size is not None:
        env[worker_env.BATCH_SIZE] = str(decoding.batch_size)
    if decoding.vad is not None:
        env[worker_env.VAD] = _flag(decoding.vad)
    if decoding.vad_parameters is not None and decoding.vad_parameters.worker_json():
        env[worker_env.VAD_PARAMETERS] = json.dumps(decoding.vad_parameters.worker_json(), sort_keys=True)
    if decoding.beam_size is not None:
        env[worker_env.BEAM_SIZE] = str(decoding.beam_size)
    if decoding.temperatures is not None:
        env[worker_env.TEMPERATURES] = ",".join(f"{t:g}" for t in decoding.temperatures)
    if decoding.condition_on_previous_text is not None:
        env[worker_env.CONDITION_ON_PREVIOUS_TEXT] = _flag(decoding.condition_on_previous_text)
    return env


@dataclass(frozen=True)
class ModelVolume:
    """The model's volume and its mount in the worker container, if the source needs one."""

    volume: Manifest
    mount: Manifest


def model_volume(spec: TranscriptionTaskSpec, settings: OperatorSettings) -> ModelVolume | None:
    """A PVC mounted read-only at MODEL_MOUNT, or an emptyDir at MODEL_CACHE for a model from S3."""
    source = model_source(spec, settings)
    pvc = source.persistent_volume_claim
    if pvc is not None:
        mount: Manifest = {"name": MODEL_VOLUME, "mountPath": MODEL_MOUNT, "readOnly": True}
        if pvc.sub_path:
            mount["subPath"] = pvc.sub_path
        volume = {"name": MODEL_VOLUME, "persistentVolumeClaim": {"claimName": pvc.claim_name, "readOnly": True}}
        return ModelVolume(volume, mount)
    if source.s3 is not None:
        return ModelVolume({"name": MODEL_VOLUME, "emptyDir": {}}, {"name": MODEL_VOLUME, "mountPath": MODEL_CACHE})
    return None
