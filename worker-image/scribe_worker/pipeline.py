"""One attempt, step by step: model (fetch, load, check), download, transcribe, render, upload (json last).

The model comes first: a model that is missing, unloadable or unable to do what was asked fails the attempt
before any audio is downloaded.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path, PurePosixPath

import httpx
from scribe_contract.taxonomy import Reason

from scribe_worker import formats, logs, modelfetch, s3http
from scribe_worker.config.loader import Config
from scribe_worker.download import download
from scribe_worker.engine import Engine, FasterWhisperEngine
from scribe_worker.errors import WorkerError
from scribe_worker.podprogress import PodAnnotationTransport
from scribe_worker.progress import LogTransport, Reporter, Transport
from scribe_worker.termination import AttemptResult
from scribe_worker.transcript import Transcript
from scribe_worker.upload import upload

EngineLoader = Callable[[Config, Path], Engine]
_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,8}$")


def load_faster_whisper(config: Config, model_dir: Path) -> Engine:
    start = time.monotonic()
    engine = FasterWhisperEngine.load(
        model_dir,
        config.model,
        device_name=config.device,
        compute_type=config.compute_type,
        cpu_threads=config.cpu_threads,
        decoding=config.decoding,
    )
    engine.check(config.transcription)  # fail before downloading anything
    logs.info(
        "model loaded",
        model=config.model,
        modelDir=str(model_dir),
        device=engine.placement.device,
        computeType=engine.placement.compute_type,
        decoding=config.decoding.mode,
        seconds=_since(start),
    )
    return engine


def _input_suffix(uri: str) -> str:
    """The input's extension (a hint for the decoder), if it looks like one."""
    suffix = PurePosixPath(uri.split("?", 1)[0]).suffix
    return suffix if _SUFFIX.match(suffix) else ""


def _since(start: float) -> float:
    return round(time.monotonic() - start, 3)


def _model_dir(config: Config, client: httpx.Client, stack: ExitStack) -> Path:
    """The local model directory: as configured, or fetched from S3 into the cache dir (or a temp dir)."""
    source = config.model_source
    if not source.from_s3:
        assert source.dir is not None
        return source.dir
    dest = source.cache_dir
    if dest is None:
        dest = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scribe-model-", dir=config.tmpdir)))
    start = time.monotonic()
    size = modelfetch.fetch(client, source, dest, timeout=config.http_timeout)
    logs.info("model fetched", model=config.model, source=source.uri, bytes=size, seconds=_since(start))
    return dest


def _transports(config: Config) -> list[Transport]:
    """Progress goes to the log and, with a progress credential (SCRIBE_PROGRESS_DIR), to the own pod."""
    transports: list[Transport] = [LogTransport()]
    if config.progress_dir is not None:
        try:
            transports.append(PodAnnotationTransport(config.progress_dir))
        except (OSError, ValueError) as exc:  # progress is best effort: the transcription goes on without it
            logs.warning("progress reporting on the pod is unavailable", error=str(exc))
    return transports


def run(config: Config, load_engine: EngineLoader = load_faster_whisper) -> AttemptResult:
    """Carry out the attempt; every classified failure becomes an AttemptResult (other exceptions propagate)."""
    transcript: Transcript | None = None
    try:
        with s3http.client(config.http_timeout) as client, ExitStack() as stack:
            engine = load_engine(config, _model_dir(config, client, stack))
            with tempfile.TemporaryDirectory(prefix="scribe-", dir=config.tmpdir) as workdir:
                audio = Path(workdir) / f"input{_input_suffix(config.input_uri)}"
                start = time.monotonic()
                size = download(client, config.input_url, audio, label=config.input_uri, timeout=config.http_timeout)
                logs.info("downloaded", input=config.input_uri, bytes=size, seconds=_since(start))
                start = time.monotonic()
                progress = Reporter(_transports(config), config.progress_interval)
                transcript = engine.transcribe(audio, config.transcription, label=config.input_uri, progress=progress)
                logs.info(
                    "transcribed",
                    durationSeconds=round(transcript.duration, 3),
                    language=transcript.language,
                    segments=len(transcript.segments),
                    seconds=_since(start),
                )
            stack.close()  # a model fetched into a temp dir is not needed any more
            documents = formats.render(transcript, config.output_urls, config.model)
            for document in documents:  # config orders formats with json last
                start = time.monotonic()
                label = config.output_uris[document.format]
                upload(
                    client,
                    config.output_urls[document.format],
                    document,
                    label=label,
                    timeout=config.http_timeout,
                )
                logs.info(
                    "uploaded",
                    format=document.format,
                    output=label,
                    bytes=len(document.body),
                    seconds=_since(start),
                )
    except WorkerError as exc:
        return AttemptResult(
            exc.reason,
            exc.message,
            duration_seconds=transcript.duration if transcript else None,
            language=transcript.language if transcript else None,
        )
    return AttemptResult(
        Reason.COMPLETED,
        f"{'translated' if transcript.task == 'translate' else 'transcribed'} {transcript.duration:.1f}s of "
        f"{transcript.language} audio from {config.input_uri} into {', '.join(config.output_urls)}",
        outputs=dict(config.output_uris),
        duration_seconds=transcript.duration,
        language=transcript.language,
    )
