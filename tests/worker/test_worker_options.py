"""The worker's options end to end: a real subprocess, real presigned URLs, MinIO, the fault-injecting proxy.

Decoding modes, word timestamps, windowed decoding, progress lines, and the model sources (a directory, S3
with presigned GETs); a missing or unusable model fails before the audio is requested, which the proxy's
request log proves.
"""

from __future__ import annotations

import itertools
import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.fixtures.speech import HARVARD, corpus_wav, recognised, word_error_rate
from tests.support.faultproxy import Fault, FaultProxy
from tests.support.s3 import S3Settings
from tests.support.workerrun import Job, Result, make_job, run_worker
from tests.worker.modeldirs import bundled_tiny_en

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MODEL_PREFIX = "models/tiny.en/"


@pytest.fixture(scope="module")
def inputs(s3: S3Client, bucket: str, fox_wav: Path) -> dict[str, str]:
    s3.put_object(Bucket=bucket, Key="in/fox.wav", Body=fox_wav.read_bytes())
    s3.upload_file(str(corpus_wav()), bucket, "in/corpus.wav")
    for file in sorted(bundled_tiny_en().iterdir()):
        s3.upload_file(str(file), bucket, MODEL_PREFIX + file.name)
    return {"fox": "in/fox.wav", "corpus": "in/corpus.wav"}


def run(job: Job, tmp_path: Path, **env: str) -> Result:
    return run_worker({**job.env(), **env}, tmp_path, secrets=job.secrets)


def model_env(signer: S3Client, bucket: str, job: Job, files: list[str] | None = None) -> dict[str, str]:
    """SCRIBE_MODEL_URLS/URI for the tiny.en copy in S3, presigned with ``signer``; adds the URLs to ``job.secrets``."""
    names = files if files is not None else [f.name for f in bundled_tiny_en().iterdir()]
    urls = {
        name: signer.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": MODEL_PREFIX + name}, ExpiresIn=600
        )
        for name in names
    }
    job.extra_env["SCRIBE_MODEL_URLS"] = json.dumps(urls)
    job.extra_env["SCRIBE_MODEL_URI"] = f"s3://{bucket}/{MODEL_PREFIX}"
    job.extra_secrets.extend(urls.values())  # so run_worker checks they never leak
    return job.extra_env


def transcript(s3: S3Client, bucket: str, job: Job) -> dict[str, Any]:
    key = job.output_uris["json"].removeprefix(f"s3://{bucket}/")
    document: dict[str, Any] = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    return document


def succeeded(result: Result) -> dict[str, Any]:
    assert result.returncode == 0, result.describe()
    assert result.termination is not None and result.termination["reason"] == "Completed"
    return result.termination


def invalid_configuration(result: Result, fragment: str) -> str:
    assert result.returncode == 40, result.describe()
    assert result.termination is not None
    assert result.termination["reason"] == "InvalidConfiguration"
    assert result.termination["retryable"] is False
    message: str = result.termination["message"]
    assert fragment in message
    return message


def audio_gets(proxy: FaultProxy, bucket: str, key: str) -> list[str]:
    return [r.path for r in proxy.requests if r.method == "GET" and r.path == f"/{bucket}/{key}"]


def log_lines(result: Result, msg: str) -> list[dict[str, Any]]:
    return [line for line in result.logs if line.get("msg") == msg]


# --- decoding modes and transcription options ------------------------------------------------------------------


@pytest.mark.parametrize(
    "env",
    [
        {},  # the default: batched with VAD
        {"SCRIBE_DECODING": "batched", "SCRIBE_BATCH_SIZE": "4", "SCRIBE_VAD_PARAMETERS": '{"threshold": 0.4}'},
        {"SCRIBE_DECODING": "sequential", "SCRIBE_VAD": "false", "SCRIBE_BEAM_SIZE": "1", "SCRIBE_TEMPERATURES": "0"},
        {"SCRIBE_DECODING": "sequential", "SCRIBE_CONDITION_ON_PREVIOUS_TEXT": "false"},
    ],
    ids=["default-batched-vad", "batched-4-tuned-vad", "sequential-greedy-no-vad", "sequential-vad-fallback"],
)
def test_decoding_modes_transcribe(
    s3_settings: S3Settings,
    s3: S3Client,
    bucket: str,
    inputs: dict[str, str],
    tmp_path: Path,
    env: dict[str, str],
) -> None:
    job = make_job(s3_settings.client(), bucket, inputs["fox"], bucket, f"out/mode-{len(env)}-{tmp_path.name}/")
    result = run(job, tmp_path, **env)
    succeeded(result)
    document = transcript(s3, bucket, job)
    assert len(recognised(document["text"])) >= 5, document["text"]
    started = log_lines(result, "starting")[0]
    assert started["decoding"] == env.get("SCRIBE_DECODING", "batched")
    assert started["vad"] is (env.get("SCRIBE_VAD") != "false")


def test_word_timestamps_in_json_and_vtt(
    s3_settings: S3Settings, s3: S3Client, bucket: str, inputs: dict[str, str], tmp_path: Path
) -> None:
    job = make_job(s3_settings.client(), bucket, inputs["fox"], bucket, "out/words/")
    succeeded(run(job, tmp_path, SCRIBE_WORD_TIMESTAMPS="true"))
    document = transcript(s3, bucket, job)
    words = [w for segment in document["segments"] for w in segment["words"]]
    assert len(recognised(" ".join(w["word"] for w in words))) >= 5
    for segment in document["segments"]:
        for word in segment["words"]:
            assert set(word) == {"start", "end", "word", "probability"}
            assert segment["start"] - 0.01 <= word["start"] <= word["end"] <= segment["end"] + 0.01
            assert 0 <= word["probability"] <= 1
    starts = [w["start"] for w in words]
    assert starts == sorted(starts)
    vtt = s3.get_object(Bucket=bucket, Key="out/words/transcript.vtt")["Body"].read().decode()
    assert vtt.count("<00:00:0") >= 4  # karaoke timestamp tags before the words


def test_windowed_long_input_is_continuous_with_progress(
    s3_settings: S3Settings, s3: S3Client, bucket: str, inputs: dict[str, str], tmp_path: Path
) -> None:
    job = make_job(s3_settings.client(), bucket, inputs["corpus"], bucket, "out/windows/")
    result = run(job, tmp_path, SCRIBE_WINDOW_SECONDS="30", SCRIBE_PROGRESS_INTERVAL_SECONDS="0.5")
    message = succeeded(result)
    document = transcript(s3, bucket, job)
    assert document["duration"] == message["durationSeconds"] > 100
    starts = [s["start"] for s in document["segments"]]
    assert starts == sorted(starts)
    assert all(0 <= s["start"] <= s["end"] <= document["duration"] for s in document["segments"])
    assert document["segments"][-1]["end"] > document["duration"] - 5
    assert [s["id"] for s in document["segments"]] == list(range(len(document["segments"])))
    assert word_error_rate(". ".join(HARVARD), document["text"]) < 0.35

    progress = log_lines(result, "progress")
    seconds = [line["audioSeconds"] for line in progress]
    assert seconds == sorted(seconds) and len(set(seconds)) == len(seconds)  # monotone
    assert len(progress) >= 3
    assert progress[0]["audioSeconds"] == 0.0
    assert progress[-1]["final"] is True and progress[-1]["audioSeconds"] == document["duration"]
    assert all(line["totalSeconds"] == pytest.approx(document["duration"], abs=0.05) for line in progress[:-1])
    times = [datetime.fromisoformat(line["ts"]) for line in progress[:-1]]  # the final one is never held back
    assert all((b - a).total_seconds() >= 0.49 for a, b in itertools.pairwise(times))  # rate-limited


def test_translate_is_refused_for_an_english_only_model_before_the_download(
    s3_settings: S3Settings, bucket: str, inputs: dict[str, str], clean_proxy: FaultProxy, tmp_path: Path
) -> None:
    job = make_job(s3_settings.client(clean_proxy.url), bucket, inputs["fox"], bucket, "out/translate/")
    result = run(job, tmp_path, SCRIBE_WHISPER_TASK="translate")
    invalid_configuration(result, "SCRIBE_WHISPER_TASK=translate: model 'tiny.en' is English-only")
    assert clean_proxy.requests == []


def test_a_model_directory_whose_name_hides_it_is_checked_after_loading(
    s3_settings: S3Settings, bucket: str, inputs: dict[str, str], clean_proxy: FaultProxy, tmp_path: Path
) -> None:
    job = make_job(s3_settings.client(clean_proxy.url), bucket, inputs["fox"], bucket, "out/translate-dir/")
    env = {"SCRIBE_MODEL": "whisper-custom", "SCRIBE_MODEL_DIR": str(bundled_tiny_en()), "SCRIBE_LANGUAGE": "fr"}
    result = run(job, tmp_path, **env)
    invalid_configuration(result, "model 'whisper-custom' does not support language 'fr'")
    assert clean_proxy.requests == []


# --- model sources ---------------------------------------------------------------------------------------------


def test_model_from_a_read_only_directory(
    s3_settings: S3Settings, s3: S3Client, bucket: str, inputs: dict[str, str], tmp_path: Path
) -> None:
    mounted = tmp_path / "pvc" / "tiny-en-copy"
    shutil.copytree(bundled_tiny_en(), mounted)
    for path in [mounted, *mounted.iterdir()]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    job = make_job(s3_settings.client(), bucket, inputs["fox"], bucket, "out/model-dir/")
    result = run(job, tmp_path, SCRIBE_MODEL="tiny.en", SCRIBE_MODEL_DIR=str(mounted))
    succeeded(result)
    assert log_lines(result, "model loaded")[0]["modelDir"] == str(mounted)
    assert transcript(s3, bucket, job)["model"] == "tiny.en"


def test_model_from_s3_with_presigned_urls_is_fetched_before_the_audio(
    s3_settings: S3Settings, s3: S3Client, bucket: str, inputs: dict[str, str], clean_proxy: FaultProxy, tmp_path: Path
) -> None:
    signer = s3_settings.client(clean_proxy.url)
    job = make_job(signer, bucket, inputs["fox"], bucket, "out/model-s3/")
    model_env(signer, bucket, job)
    cache = tmp_path / "model-cache"
    cache.mkdir()
    result = run(job, tmp_path, SCRIBE_MODEL="tiny.en", SCRIBE_MODEL_CACHE_DIR=str(cache))
    succeeded(result)
    gets = [r.path for r in clean_proxy.requests if r.method == "GET"]
    model_gets = [p for p in gets if p.startswith(f"/{bucket}/{MODEL_PREFIX}")]
    assert sorted(model_gets) == sorted(f"/{bucket}/{MODEL_PREFIX}{f.name}" for f in bundled_tiny_en().iterdir())
    assert gets[-1] == f"/{bucket}/{inputs['fox']}"  # the audio only after the whole model
    assert sorted(p.name for p in cache.iterdir()) == sorted(p.name for p in bundled_tiny_en().iterdir())
    assert (cache / "model.bin").stat().st_size == (bundled_tiny_en() / "model.bin").stat().st_size
    fetched = log_lines(result, "model fetched")[0]
    assert fetched["source"] == f"s3://{bucket}/{MODEL_PREFIX}"
    assert len(recognised(transcript(s3, bucket, job)["text"])) >= 5


def test_model_from_s3_without_a_cache_dir_leaves_nothing_behind(
    s3_settings: S3Settings, bucket: str, inputs: dict[str, str], tmp_path: Path
) -> None:
    signer = s3_settings.client()
    job = make_job(signer, bucket, inputs["fox"], bucket, "out/model-s3-tmp/", formats=("json",))
    model_env(signer, bucket, job)
    succeeded(run(job, tmp_path))  # run_worker asserts the temp dir (SCRIBE_TMPDIR) is empty afterwards


@pytest.mark.parametrize(
    ("fault", "reason", "exit_code", "fragment"),
    [
        (None, "InvalidConfiguration", 40, "model file s3://{bucket}/models/tiny.en/model.bin not found: HTTP 404"),
        (
            Fault("status", method="GET", path_contains="/tokenizer.json", status=503, code="SlowDown"),
            "DownloadFailed",
            12,
            "download of s3://{bucket}/models/tiny.en/tokenizer.json failed: HTTP 503 SlowDown",
        ),
        (
            Fault("status", method="GET", path_contains="/config.json", status=403, code="AccessDenied"),
            "DownloadFailed",
            12,
            "download of s3://{bucket}/models/tiny.en/config.json refused: HTTP 403 AccessDenied",
        ),
    ],
    ids=["missing-file", "503", "403"],
)
def test_a_model_that_cannot_be_fetched_fails_before_the_audio_is_requested(
    s3_settings: S3Settings,
    bucket: str,
    inputs: dict[str, str],
    clean_proxy: FaultProxy,
    tmp_path: Path,
    fault: Fault | None,
    reason: str,
    exit_code: int,
    fragment: str,
) -> None:
    signer = s3_settings.client(clean_proxy.url)
    job = make_job(signer, bucket, inputs["fox"], bucket, "out/model-broken/")
    env = model_env(signer, bucket, job)
    if fault is None:  # point model.bin at an object that does not exist
        urls = json.loads(env["SCRIBE_MODEL_URLS"])
        urls["model.bin"] = signer.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": MODEL_PREFIX + "absent/model.bin"}, ExpiresIn=600
        )
        env["SCRIBE_MODEL_URLS"] = json.dumps(urls)
        job.extra_secrets.append(urls["model.bin"])
    else:
        clean_proxy.inject(fault)
    result = run(job, tmp_path)
    assert result.returncode == exit_code, result.describe()
    assert result.termination is not None and result.termination["reason"] == reason
    assert fragment.format(bucket=bucket) in result.termination["message"]
    assert audio_gets(clean_proxy, bucket, inputs["fox"]) == []
    assert [r for r in clean_proxy.requests if r.method == "PUT"] == []


def test_a_missing_model_directory_fails_before_the_audio_is_requested(
    s3_settings: S3Settings, bucket: str, inputs: dict[str, str], clean_proxy: FaultProxy, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-pvc"
    empty.mkdir()
    (empty / "model.bin").write_bytes(b"")
    job = make_job(s3_settings.client(clean_proxy.url), bucket, inputs["fox"], bucket, "out/model-missing/")
    result = run(job, tmp_path, SCRIBE_MODEL_DIR=str(empty))
    invalid_configuration(result, "missing config.json, tokenizer.json, vocabulary.*")
    assert clean_proxy.requests == []


def test_a_corrupt_model_fails_before_the_audio_is_requested(
    s3_settings: S3Settings, bucket: str, inputs: dict[str, str], clean_proxy: FaultProxy, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt"
    shutil.copytree(bundled_tiny_en(), corrupt)
    (corrupt / "model.bin").write_bytes(b"\0" * 1024)
    job = make_job(s3_settings.client(clean_proxy.url), bucket, inputs["fox"], bucket, "out/model-corrupt/")
    result = run(job, tmp_path, SCRIBE_MODEL_DIR=str(corrupt))
    invalid_configuration(result, "cannot load model 'tiny.en'")
    assert clean_proxy.requests == []
