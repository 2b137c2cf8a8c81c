"""The worker section of `make bench`: speed, accuracy and memory of transcription, printed as numbers.

1. Decoding modes: real-time factor (transcription seconds per audio second, model load excluded), word error
   rate and peak RSS for each mode on a fixed corpus (Harvard sentences spoken by espeak-ng, ~109 s), and on
   repetitive speech (one sentence looped), where Whisper's sequential decoder tends to fall into fallback.
2. Overhead: the real worker process (`python -m scribe_worker`, against a loopback HTTP server standing in for
   S3) against bare faster-whisper with the same model and decoding, wall time and peak RSS of each process.
3. Memory: speed and peak RSS on 10 minutes of audio for several window lengths, batch sizes, beam 1, and
   sequential decoding (what sets the working memory).
4. Long audio: peak RSS of the worker's engine on a 10-minute and on a 2-hour input (the corpus looped).

Every measurement runs in a fresh child process (peak RSS from wait4), one at a time. Inputs are generated
under the system temp dir, never committed. Knobs (environment):

    SCRIBE_BENCH_MODES         comma-separated mode names to run (default: all)
    SCRIBE_BENCH_OVERHEAD_REPEAT  corpus repetitions for the overhead input (default 3, ~330 s)
    SCRIBE_BENCH_OVERHEAD_RUNS    interleaved runs of each side; the fastest counts (default 3)
    SCRIBE_BENCH_WINDOWS       window lengths (SCRIBE_WINDOW_SECONDS) compared on 10 minutes (default 120,240,480)
    SCRIBE_BENCH_LONG_MINUTES  the long-audio lengths, comma-separated (default 10,120; e.g. 10,40 while developing)

Run alone with `make bench-worker` (no cluster needed) or `python hack/bench.py worker`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "worker-image"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from tests.fixtures.speech import FOX, HARVARD, corpus_wav, looped_wav, speech_wav, word_error_rate  # noqa: E402

WORK = Path(tempfile.gettempdir()) / "scribe-bench-worker"
CORPUS_TEXT = ". ".join(HARVARD)

# name -> the worker's decoding variables (empty: the defaults)
MODES: dict[str, dict[str, str]] = {
    "batched-8-vad": {},
    "batched-4-vad": {"SCRIBE_BATCH_SIZE": "4"},
    "batched-16-vad": {"SCRIBE_BATCH_SIZE": "16"},
    "batched-8-vad-beam1": {"SCRIBE_BEAM_SIZE": "1"},
    "sequential-vad": {"SCRIBE_DECODING": "sequential"},
    "sequential-novad": {"SCRIBE_DECODING": "sequential", "SCRIBE_VAD": "false"},  # faster-whisper's own defaults
    "sequential-vad-nofallback": {
        "SCRIBE_DECODING": "sequential",
        "SCRIBE_TEMPERATURES": "0",
        "SCRIBE_CONDITION_ON_PREVIOUS_TEXT": "false",
    },
    "sequential-vad-greedy": {
        "SCRIBE_DECODING": "sequential",
        "SCRIBE_BEAM_SIZE": "1",
        "SCRIBE_TEMPERATURES": "0",
        "SCRIBE_CONDITION_ON_PREVIOUS_TEXT": "false",
    },
    "sequential-vad-words": {"SCRIBE_DECODING": "sequential", "SCRIBE_WORD_TIMESTAMPS": "true"},
    "batched-8-vad-words": {"SCRIBE_WORD_TIMESTAMPS": "true"},
}
REPETITIVE_MODES = ("batched-8-vad", "sequential-vad", "sequential-novad")


# --- children: each prints one JSON line ------------------------------------------------------------------------


def _child_engine(spec: dict[str, Any]) -> dict[str, Any]:
    """The worker's engine, configured by the worker's own variables, on one file."""
    from scribe_worker import config, models  # noqa: PLC0415
    from scribe_worker.engine import FasterWhisperEngine  # noqa: PLC0415

    env = {
        "SCRIBE_INPUT_URL": "http://bench/x",
        "SCRIBE_INPUT_URI": "s3://bench/x",
        "SCRIBE_OUTPUT_URLS": '{"json": "http://bench/y"}',
        "SCRIBE_OUTPUT_URIS": '{"json": "s3://bench/y"}',
        **spec["env"],
    }
    cfg = config.load(env)
    start = time.monotonic()
    engine = FasterWhisperEngine.load(
        cfg.model_dir or models.resolve("tiny.en", None), cfg.model, decoding=cfg.decoding
    )
    loaded = time.monotonic()
    transcript = engine.transcribe(Path(spec["audio"]), cfg.transcription)
    done = time.monotonic()
    return {
        "load": loaded - start,
        "transcribe": done - loaded,
        "duration": transcript.duration,
        "text": transcript.text,
    }


def _child_bare(spec: dict[str, Any]) -> dict[str, Any]:
    """Bare faster-whisper as a user would call it: the same model, device, compute type and decoding."""
    from faster_whisper import BatchedInferencePipeline, WhisperModel  # noqa: PLC0415
    from scribe_worker import models  # noqa: PLC0415

    start = time.monotonic()
    model = WhisperModel(str(models.resolve("tiny.en", None)), device="cpu", compute_type="int8", local_files_only=True)
    segments, info = BatchedInferencePipeline(model).transcribe(
        spec["audio"],
        batch_size=8,
        without_timestamps=False,
        vad_filter=True,
        vad_parameters={"min_silence_duration_ms": 160},
    )
    text = " ".join(s.text.strip() for s in segments)
    return {"transcribe": time.monotonic() - start, "duration": info.duration, "text": text}


# --- the parent -------------------------------------------------------------------------------------------------


def _run_child(kind: str, spec: dict[str, Any]) -> tuple[dict[str, Any], float, float]:
    """A child of this script, measured with wait4 (so the peak RSS is that child's own)."""
    command = [sys.executable, __file__, "child", kind, json.dumps(spec)]
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    stdout_data: list[str] = []
    stderr_data: list[str] = []
    readers = [
        threading.Thread(target=lambda: stdout_data.append(process.stdout.read()) if process.stdout else None),
        threading.Thread(target=lambda: stderr_data.append(process.stderr.read()) if process.stderr else None),
    ]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    for reader in readers:
        reader.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    if process.returncode != 0:
        raise RuntimeError(f"bench child {kind} failed ({process.returncode}):\n{''.join(stderr_data)[-3000:]}")
    lines = [line for line in "".join(stdout_data).splitlines() if line.startswith("{")]
    return json.loads(lines[-1]), wall, usage.ru_maxrss / 1024


class _FakeS3(BaseHTTPRequestHandler):
    """Serves the input at GET /<name> and accepts PUT /out/<format> (the worker only needs presigned-style URLs)."""

    protocol_version = "HTTP/1.1"
    files: dict[str, Path] = {}  # noqa: RUF012
    uploads: dict[str, bytes] = {}  # noqa: RUF012

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = self.files.get(self.path.split("?", 1)[0].lstrip("/"))
        if path is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(path.stat().st_size))
        self.end_headers()
        with path.open("rb") as source:
            while chunk := source.read(1 << 20):
                self.wfile.write(chunk)

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.uploads[self.path.split("?", 1)[0]] = body
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


@contextmanager
def _fake_s3(audio: Path) -> Iterator[str]:
    _FakeS3.files = {"audio.wav": audio}
    _FakeS3.uploads = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeS3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _worker_process(audio: Path) -> tuple[dict[str, Any], float, float]:
    """The real worker process end to end (download, transcribe, upload json) against the loopback server."""
    with _fake_s3(audio) as base, tempfile.TemporaryDirectory(dir=WORK) as tmp:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": tmp,
            "SCRIBE_INPUT_URL": f"{base}/audio.wav?X-Amz-Signature=bench",
            "SCRIBE_INPUT_URI": "s3://bench/audio.wav",
            "SCRIBE_OUTPUT_URLS": json.dumps({"json": f"{base}/out/json?X-Amz-Signature=bench"}),
            "SCRIBE_OUTPUT_URIS": json.dumps({"json": "s3://bench/out/transcript.json"}),
            "SCRIBE_TERMINATION_MESSAGE_PATH": f"{tmp}/termination-log",
            "SCRIBE_TMPDIR": tmp,
        }
        start = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "scribe_worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        stderr: list[bytes] = []
        reader = threading.Thread(target=lambda: stderr.append(process.stderr.read() if process.stderr else b""))
        reader.start()
        _, status, usage = os.wait4(process.pid, 0)
        reader.join()
        wall = time.monotonic() - start
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"the worker failed:\n{b''.join(stderr).decode()[-3000:]}")
        document = json.loads(_FakeS3.uploads["/out/json"])
    return {"text": document["text"], "duration": document["duration"]}, wall, usage.ru_maxrss / 1024


def _inputs() -> dict[str, Path]:
    WORK.mkdir(parents=True, exist_ok=True)
    corpus = corpus_wav()
    fox_gap = WORK / "fox-with-gap.wav"
    if not fox_gap.exists():
        looped_wav(speech_wav(FOX), 4.0, fox_gap)  # the sentence and a short silence, looped below
    repetitive = WORK / "repetitive-100s.wav"
    if not repetitive.exists():
        looped_wav(fox_gap, 100.0, repetitive)
    return {"corpus": corpus, "repetitive": repetitive}


def _print(name: str, value: float, digits: int = 3) -> None:
    print(f"{name} {value:.{digits}f}", flush=True)


def bench_modes(inputs: dict[str, Path]) -> None:
    wanted = [m for m in os.environ.get("SCRIBE_BENCH_MODES", ",".join(MODES)).split(",") if m]
    for name in wanted:
        result, _, peak = _run_child("engine", {"env": MODES[name], "audio": str(inputs["corpus"])})
        _print(f"worker.mode.{name}.rtf", result["transcribe"] / result["duration"])
        _print(f"worker.mode.{name}.wer", word_error_rate(CORPUS_TEXT, result["text"]))
        _print(f"worker.mode.{name}.peak_rss_mib", peak, 0)
    for name in (m for m in REPETITIVE_MODES if m in wanted):
        result, _, _ = _run_child("engine", {"env": MODES[name], "audio": str(inputs["repetitive"])})
        _print(f"worker.repetitive.{name}.rtf", result["transcribe"] / result["duration"])
        words = len(result["text"].split())
        _print(f"worker.repetitive.{name}.words_per_sentence", words / (result["duration"] / 4.0), 1)


def bench_overhead(inputs: dict[str, Path]) -> None:
    repeat = int(os.environ.get("SCRIBE_BENCH_OVERHEAD_REPEAT", "3"))
    audio = WORK / f"corpus-x{repeat}.wav"
    if not audio.exists():
        with wave.open(str(inputs["corpus"])) as reader:
            looped_wav(inputs["corpus"], reader.getnframes() / reader.getframerate() * repeat, audio)
    # Interleaved and repeated, the fastest run of each counts: other load on the machine only ever adds time.
    runs = int(os.environ.get("SCRIBE_BENCH_OVERHEAD_RUNS", "3"))
    bare_walls, worker_walls, bare_peaks, worker_peaks = [], [], [], []
    for _ in range(runs):
        bare, wall, peak = _run_child("bare", {"audio": str(audio)})
        bare_walls.append(wall)
        bare_peaks.append(peak)
        worker, wall, peak = _worker_process(audio)
        worker_walls.append(wall)
        worker_peaks.append(peak)
    bare_wall, worker_wall = min(bare_walls), min(worker_walls)
    bare_peak, worker_peak = max(bare_peaks), max(worker_peaks)
    _print("worker.overhead.audio_seconds", bare["duration"], 1)
    _print("worker.overhead.bare_faster_whisper.wall_seconds", bare_wall, 2)
    _print("worker.overhead.worker_process.wall_seconds", worker_wall, 2)
    _print("worker.overhead.wall_ratio", worker_wall / bare_wall)
    _print("worker.overhead.bare_faster_whisper.peak_rss_mib", bare_peak, 0)
    _print("worker.overhead.worker_process.peak_rss_mib", worker_peak, 0)
    _print("worker.overhead.memory_ratio", worker_peak / bare_peak)
    _print("worker.overhead.wer_bare", word_error_rate(" ".join([CORPUS_TEXT] * repeat), bare["text"]))
    _print("worker.overhead.wer_worker", word_error_rate(" ".join([CORPUS_TEXT] * repeat), worker["text"]))


MEMORY_VARIANTS: dict[str, dict[str, str]] = {
    "batch1": {"SCRIBE_BATCH_SIZE": "1"},
    "batch4": {"SCRIBE_BATCH_SIZE": "4"},
    "beam1": {"SCRIBE_BEAM_SIZE": "1"},
    "sequential-vad": {"SCRIBE_DECODING": "sequential"},
    "sequential-novad": {"SCRIBE_DECODING": "sequential", "SCRIBE_VAD": "false"},
}


def bench_windows(inputs: dict[str, Path]) -> None:
    """What sets the working memory, on a 10-minute input: the window's length, the batch, the beam, the mode."""
    audio = _long_input(inputs, 10)
    variants = {
        f"window{s}s": {"SCRIBE_WINDOW_SECONDS": s}
        for s in os.environ.get("SCRIBE_BENCH_WINDOWS", "120,240,480").split(",")
    }
    for name, env in {**variants, **MEMORY_VARIANTS}.items():
        result, _, peak = _run_child("engine", {"env": env, "audio": str(audio)})
        _print(f"worker.memory.{name}.rtf", result["transcribe"] / result["duration"])
        _print(f"worker.memory.{name}.peak_rss_mib", peak, 0)


def _long_input(inputs: dict[str, Path], minutes: int) -> Path:
    audio = WORK / f"long-{minutes}min.wav"
    if not audio.exists():
        looped_wav(inputs["corpus"], minutes * 60.0, audio)
    return audio


def bench_long(inputs: dict[str, Path]) -> None:
    minutes = [int(m) for m in os.environ.get("SCRIBE_BENCH_LONG_MINUTES", "10,120").split(",") if m]
    peaks: dict[int, float] = {}
    for length in minutes:
        audio = _long_input(inputs, length)
        result, wall, peak = _run_child("engine", {"env": {}, "audio": str(audio)})
        peaks[length] = peak
        _print(f"worker.long.{length}min.peak_rss_mib", peak, 0)
        _print(f"worker.long.{length}min.rtf", result["transcribe"] / result["duration"])
        _print(f"worker.long.{length}min.wall_seconds", wall, 1)
    if len(peaks) >= 2:
        shortest, longest = min(peaks), max(peaks)
        _print(f"worker.long.peak_rss_ratio_{longest}min_vs_{shortest}min", peaks[longest] / peaks[shortest])


def bench_worker() -> None:
    inputs = _inputs()
    with wave.open(str(inputs["corpus"])) as reader:
        _print("worker.corpus_seconds", reader.getnframes() / reader.getframerate(), 1)  # tiny.en, int8, CPU
    bench_modes(inputs)
    bench_overhead(inputs)
    bench_windows(inputs)
    bench_long(inputs)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "child":
        children = {"engine": _child_engine, "bare": _child_bare}
        print(json.dumps(children[sys.argv[2]](json.loads(sys.argv[3]))), flush=True)
    else:
        bench_worker()
