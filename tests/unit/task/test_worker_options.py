"""The transcription options on the operator's side, without a cluster: the spec's fields (and the operator's
defaults) become the attempt pod's volumes, scheduling and credentials, and admission rejects what the worker would
refuse. That the worker reads exactly what the pod sets is tests/unit/contract/test_pod_env.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from scribe_operator.kinds.batch.api.layout import child_spec
from scribe_operator.kinds.batch.api.spec import TaskTemplate, TranscriptionBatchSpec
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import Phase
from scribe_operator.kinds.task.core.settings import CoreSettings
from scribe_operator.kinds.task.progress import PROGRESS_MOUNT_PATH, worker_identity
from scribe_operator.kinds.task.workerenv import MODEL_MOUNT

from tests.unit.task.attemptpods import pod_of, settings
from tests.unit.task.factories import Cluster, make_task, phase


def test_operator_default_pvc_and_a_task_back_to_the_baked_model() -> None:
    ops = settings(default_model_claim="shared-models", default_model_sub_path="tiny")
    volumes = pod_of(make_task(), ops)["spec"]["volumes"]
    assert {"name": "model", "persistentVolumeClaim": {"claimName": "shared-models", "readOnly": True}} in volumes
    assert not [v for v in pod_of(make_task(modelSource={}), ops)["spec"]["volumes"] if v["name"] == "model"]


def test_gpu_scheduling_reaches_the_pod() -> None:
    task = make_task(
        device="cuda",
        resources={"limits": {"nvidia.com/gpu": 1, "memory": "8Gi"}},
        worker={"runtimeClassName": "nvidia", "nodeSelector": {"gpu": "a100"},
                "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]},
    )  # fmt: skip
    spec = pod_of(task)["spec"]
    assert spec["runtimeClassName"] == "nvidia" and spec["nodeSelector"] == {"gpu": "a100"}
    assert spec["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    requested = make_task(resources={"requests": {"nvidia.com/gpu": 2}})
    assert pod_of(requested)["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 2
    assert "runtimeClassName" not in pod_of(make_task())["spec"]


def test_progress_credential_is_a_projected_pod_bound_token_of_the_worker_account() -> None:
    spec = pod_of(make_task())["spec"]
    assert spec["serviceAccountName"] == "scribe-worker" and spec["automountServiceAccountToken"] is False
    (volume,) = [v for v in spec["volumes"] if v["name"] == "progress"]
    token = volume["projected"]["sources"][0]["serviceAccountToken"]
    assert token["expirationSeconds"] <= 3600 and "audience" not in token
    mount = next(m for m in spec["containers"][0]["volumeMounts"] if m["name"] == "progress")
    assert mount == {"name": "progress", "mountPath": PROGRESS_MOUNT_PATH, "readOnly": True}
    own = pod_of(make_task(worker={"serviceAccountName": "mine"}))["spec"]
    assert own["serviceAccountName"] == "mine" and not [v for v in own["volumes"] if v["name"] == "progress"]
    off = pod_of(make_task(), settings(progress_reporting=False))["spec"]
    assert "serviceAccountName" not in off and not [v for v in off["volumes"] if v["name"] == "progress"]


def test_worker_account_may_only_patch_pods() -> None:
    account, role, binding = worker_identity("media", settings())
    assert account["metadata"] == {
        "name": "scribe-worker",
        "namespace": "media",
        "labels": account["metadata"]["labels"],
    }
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["patch"]}]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "scribe-worker", "namespace": "media"}]


# --- validation: what admission rejects (the CEL rules carry the same messages) --------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"model": "tiny.en", "task": "translate"}, "spec.task: translate needs a multilingual model"),
        ({"model": "base.EN", "language": "de"}, "spec.model is English-only"),
        ({"decoding": {"mode": "sequential", "batchSize": 4}}, "decoding.batchSize needs decoding.mode batched"),
        ({"decoding": {"vad": False}}, "decoding.vad false needs decoding.mode sequential"),
        ({"decoding": {"temperatures": [0.0, 0.2]}}, "decoding.temperatures with a fallback ladder"),
        ({"decoding": {"mode": "sequential", "temperatures": [0.4, 0.2]}}, "decoding.temperatures must be in incr"),
        ({"decoding": {"conditionOnPreviousText": True}}, "decoding.conditionOnPreviousText true needs"),
        ({"decoding": {"mode": "sequential", "vad": False, "vadParameters": {"threshold": 0.5}}}, "needs decoding.vad"),
        ({"decoding": {"vadParameters": {"maxSpeechDurationS": 20}}}, "maxSpeechDurationS needs decoding.mode"),
        ({"decoding": {"beamSize": 17}}, "decoding.beamSize"),
        ({"decoding": {"mode": "greedy"}}, "decoding.mode"),
        ({"task": "summarize"}, "task"),
        ({"device": "tpu"}, "device"),
        ({"computeType": "Float16!"}, "computeType"),
        ({"initialPrompt": "x" * 1001}, "initialPrompt"),
        ({"modelSource": {"s3": {"prefix": "s3://models/x/"}, "persistentVolumeClaim": {"claimName": "m"}}},
         "modelSource: set at most one"),
        ({"modelSource": {"persistentVolumeClaim": {"claimName": "m", "subPath": "../etc"}}}, "subPath"),
        ({"modelSource": {"s3": {"prefix": "s3://models/no-slash"}}}, "modelSource.s3.prefix"),
    ],
)  # fmt: skip
def test_invalid_options_are_rejected_naming_the_field(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        TranscriptionTaskSpec.model_validate({"input": "s3://audio/a.wav", **spec})
    assert message in str(info.value)


def test_multilingual_models_may_translate_and_english_models_may_transcribe_english() -> None:
    TranscriptionTaskSpec.model_validate({"input": "s3://audio/a.wav", "model": "small", "task": "translate"})
    TranscriptionTaskSpec.model_validate({"input": "s3://audio/a.wav", "model": "tiny.en", "language": "en-US"})


def test_batch_template_carries_the_options_and_their_rules() -> None:
    with pytest.raises(ValidationError, match=r"spec\.task: translate needs a multilingual model"):
        TaskTemplate.model_validate({"model": "tiny.en", "task": "translate"})
    batch = TranscriptionBatchSpec.model_validate(
        {"inputs": ["s3://audio/a.wav"], "template": {"decoding": {"mode": "batched", "batchSize": 4},
                                                      "wordTimestamps": True, "device": "cpu"}}
    )  # fmt: skip
    child = child_spec(batch, 0, "s3://audio/a.wav")
    assert child.decoding is not None and child.decoding.batch_size == 4
    assert (child.word_timestamps, child.device) == (True, "cpu")


def test_translate_with_the_default_english_model_is_dead_before_any_pod() -> None:
    c = Cluster(make_task(task="translate"), settings=CoreSettings(default_model=None))
    plan = c.reconcile()
    assert not c.pods and phase(c) is Phase.DEAD
    assert c.status.attempts[0].reason == "InvalidConfiguration"
    assert "model tiny.en" in (c.status.message or "") and plan.status is not None
    multilingual = Cluster(make_task(task="translate"), settings=CoreSettings(default_model="small"))
    multilingual.reconcile()
    assert phase(multilingual) is Phase.RUNNING


def test_the_options_example_is_valid_and_asks_for_a_gpu() -> None:
    example = yaml.safe_load((Path(__file__).parents[3] / "examples" / "task-options.yaml").read_text())
    task = TranscriptionTask.model_validate({**example, "metadata": {**example["metadata"], "uid": "u"}})
    spec = pod_of(task)["spec"]
    assert spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert spec["runtimeClassName"] == "nvidia"
    env = {v["name"]: v.get("value") for v in spec["containers"][0]["env"]}
    assert (env["SCRIBE_WHISPER_TASK"], env["SCRIBE_DEVICE"], env["SCRIBE_MODEL_DIR"]) == (
        "translate",
        "cuda",
        MODEL_MOUNT,
    )
