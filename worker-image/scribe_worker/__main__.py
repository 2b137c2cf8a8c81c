"""``python -m scribe_worker`` / ``scribe-worker``: run one attempt, write the termination message, exit.

Exit codes come from the taxonomy (0 on success). On SIGTERM/SIGINT the worker removes its temp files
and exits 128+signal without a termination message: the operator knows why it stopped the pod.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from types import FrameType

from scribe_contract.taxonomy import Reason

from scribe_worker import config, logs, termination, usage
from scribe_worker.errors import WorkerError
from scribe_worker.redact import register_secrets


class Terminated(BaseException):
    """Raised in the main thread by a SIGTERM/SIGINT; a BaseException so no step can swallow it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextmanager
def _signals() -> Iterator[None]:
    previous = {sig: signal.signal(sig, _raise_terminated) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _attempt(env: Mapping[str, str]) -> termination.AttemptResult:
    # Imported here, with the SIGTERM handler in place: the transcription stack takes a second or more to import,
    # and a container's first process (PID 1) ignores a signal it has no handler for, so a pod deleted during
    # that second would otherwise run its whole attempt to the end (or to its grace period's SIGKILL).
    try:
        from scribe_worker import pipeline  # noqa: PLC0415

        cfg = config.load(env)
        logs.info(
            "starting",
            input=cfg.input_uri,
            outputs=dict(cfg.output_uris),
            model=cfg.model,
            modelSource="s3" if cfg.model_source.from_s3 else "local",
            language=cfg.language or "auto",
            whisperTask=cfg.transcription.task,
            wordTimestamps=cfg.transcription.word_timestamps,
            device=cfg.device,
            decoding=cfg.decoding.mode,
            vad=cfg.decoding.vad,
            beamSize=cfg.decoding.beam_size,
        )
        return pipeline.run(cfg)
    except WorkerError as exc:
        return termination.AttemptResult(exc.reason, exc.message)
    except Exception as exc:  # a bug or an unclassified failure: retryable, named by its type
        logs.error("unexpected error", exc_info=True)
        return termination.AttemptResult(
            Reason.TRANSCRIPTION_FAILED, f"unexpected worker error: {type(exc).__name__}: {exc}"
        )


def main() -> int:
    env = os.environ
    env["HF_HUB_OFFLINE"] = "1"  # never reach for the Hugging Face Hub
    register_secrets(*config.secret_values(env))
    logs.configure(config.log_context(env))
    try:
        with _signals():
            outcome = _attempt(env)
    except Terminated as stop:
        logs.warning("terminated by signal; no termination message written", signal=stop.signum)
        return 128 + stop.signum
    outcome = replace(outcome, usage=usage.read())
    logs.info(
        "finished",
        reason=str(outcome.reason),
        exitCode=outcome.exit_code,
        retryable=outcome.retryable,
        message=outcome.message,
        cpuSeconds=outcome.usage.cpu_seconds,
        peakMemoryBytes=outcome.usage.peak_memory_bytes,
    )
    path = config.termination_path(env)
    try:
        termination.write(path, outcome)
    except OSError as exc:
        logs.warning("cannot write the termination message", path=str(path), error=str(exc))
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(main())
