"""One attempt, step by step: load the model, download, transcribe, render, upload (json last)."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from scribe_worker import formats, logs, s3http
from scribe_worker.config import Config
from scribe_worker.download import download
from scribe_worker.engine import Engine, FasterWhisperEngine
from scribe_worker.errors import WorkerError
from scribe_worker.taxonomy import Reason
from scribe_worker.termination import Outcome
from scribe_worker.transcript import Transcript
from scribe_worker.upload import upload

EngineLoader = Callable[[Config], Engine]
_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,8}$")


def load_faster_whisper(config: Config) -> Engine:
    engine = FasterWhisperEngine.load(
        config.model_dir, config.model, compute_type=config.compute_type, cpu_threads=config.cpu_threads
    )
    engine.check_language(config.language)  # fail before downloading anything
    return engine


def _input_suffix(uri: str) -> str:
    """The input's extension (a hint for the decoder), if it looks like one."""
    suffix = PurePosixPath(uri.split("?", 1)[0]).suffix
    return suffix if _SUFFIX.match(suffix) else ""


def _since(start: float) -> float:
    return round(time.monotonic() - start, 3)


def run(config: Config, load_engine: EngineLoader = load_faster_whisper) -> Outcome:
    """Carry out the attempt; every classified failure becomes an Outcome (other exceptions propagate)."""
    transcript: Transcript | None = None
    try:
        start = time.monotonic()
        engine = load_engine(config)
        logs.info("model loaded", model=config.model, modelDir=str(config.model_dir), seconds=_since(start))
        with s3http.client(config.http_timeout) as client:
            with tempfile.TemporaryDirectory(prefix="scribe-", dir=config.tmpdir) as workdir:
                audio = Path(workdir) / f"input{_input_suffix(config.input_uri)}"
                start = time.monotonic()
                size = download(client, config.input_url, audio, label=config.input_uri, timeout=config.http_timeout)
                logs.info("downloaded", input=config.input_uri, bytes=size, seconds=_since(start))
                start = time.monotonic()
                transcript = engine.transcribe(audio, config.language, label=config.input_uri)
                logs.info(
                    "transcribed",
                    durationSeconds=round(transcript.duration, 3),
                    language=transcript.language,
                    segments=len(transcript.segments),
                    seconds=_since(start),
                )
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
        return Outcome(
            exc.reason,
            exc.message,
            duration_seconds=transcript.duration if transcript else None,
            language=transcript.language if transcript else None,
        )
    return Outcome(
        Reason.COMPLETED,
        f"transcribed {transcript.duration:.1f}s of {transcript.language} audio from {config.input_uri} "
        f"into {', '.join(config.output_urls)}",
        outputs=dict(config.output_uris),
        duration_seconds=transcript.duration,
        language=transcript.language,
    )
