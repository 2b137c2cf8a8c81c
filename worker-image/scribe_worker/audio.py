"""Decode audio in bounded memory: PyAV (FFmpeg) streams the file, and it is cut into windows at silence.

The whole file is never held as one array: :func:`windows` yields consecutive pieces of at most
``window_seconds`` of 16 kHz mono float32 samples, each with its offset in the file, so the engine can
transcribe one window at a time and shift its timestamps by the offset. A window ends at the quietest
moment in its last few seconds (lowest short-term energy), so a cut rarely falls inside a word; the
samples after the cut start the next window, so nothing is lost or repeated.

Decoding matches faster-whisper's own ``decode_audio`` (resample to signed 16-bit mono at 16 kHz, then
scale to float32), so a window transcribes exactly like the same samples decoded whole.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
CHUNK_SAMPLES = 30 * SAMPLE_RATE  # what one decoder read yields, at most (bounded by the frames' size)
_FRAME = 320  # 20 ms: the energy measure's resolution
_SMOOTH = 10  # frames (200 ms) averaged, so one quiet frame inside a word does not win
MAX_SEARCH_SECONDS = 30.0

Samples = npt.NDArray[np.float32]


class AudioError(Exception):
    """The input cannot be decoded as audio (the engine classifies it as InvalidAudio)."""


@dataclass(frozen=True)
class Window:
    start: int  # offset of the first sample in the file, in samples
    samples: Samples

    @property
    def offset(self) -> float:
        return self.start / SAMPLE_RATE

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def end(self) -> float:
        return self.offset + self.duration


def _av() -> Any:
    import av  # noqa: PLC0415  (lazy: only the engine decodes audio)

    return av


def probe_duration(path: Path) -> float | None:
    """The audio's length in seconds from the container's metadata, when it says; None otherwise."""
    av = _av()
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            if container.duration is not None:
                return float(container.duration / av.time_base)
    except Exception:  # the decoder reports the real problem
        return None
    return None


def chunks(path: Path) -> Iterator[Samples]:
    """The file's audio as consecutive 16 kHz mono float32 arrays of at most about ``CHUNK_SAMPLES``.

    Raises :class:`AudioError` when the file cannot be opened, has no audio stream, or fails to decode.
    Frames the decoder flags as invalid are skipped, as faster-whisper does.
    """
    av = _av()
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except Exception as exc:
        raise AudioError(f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}") from exc
    resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    pending: list[Samples] = []
    pending_samples = 0
    try:
        if not container.streams.audio:
            raise AudioError("no audio stream")
        for frame in _valid_frames(container.decode(audio=0), av.error.InvalidDataError):
            frame.pts = None  # ignore timestamp gaps, as faster-whisper does
            for out in resampler.resample(frame):
                pending.append(_to_float(out))
                pending_samples += len(pending[-1])
            if pending_samples >= CHUNK_SAMPLES:
                yield np.concatenate(pending)
                pending, pending_samples = [], 0
        pending.extend(_to_float(out) for out in resampler.resample(None))  # flush
        if pending:
            yield np.concatenate(pending)
    except AudioError:
        raise
    except MemoryError:
        raise
    except Exception as exc:
        raise AudioError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        container.close()
        del resampler
        gc.collect()  # PyAV's resampler keeps buffers until collected (github.com/SYSTRAN/faster-whisper/issues/390)


def _valid_frames(frames: Iterator[Any], invalid: type[Exception]) -> Iterator[Any]:
    while True:
        try:
            yield next(frames)
        except StopIteration:
            return
        except invalid:
            continue


def _to_float(frame: Any) -> Samples:
    samples: Samples = frame.to_ndarray().reshape(-1).astype(np.float32) / np.float32(32768.0)
    return samples


def quietest_cut(samples: Samples, search: int) -> int:
    """An index in the last ``search`` samples of ``samples`` where the short-term energy is lowest."""
    if len(samples) <= _FRAME * _SMOOTH or search < _FRAME * _SMOOTH:
        return len(samples)
    begin = max(0, len(samples) - search)
    region = samples[begin:]
    frames = len(region) // _FRAME
    energy = np.square(region[: frames * _FRAME].reshape(frames, _FRAME), dtype=np.float32).mean(axis=1)
    smooth = np.convolve(energy, np.ones(_SMOOTH, dtype=np.float32) / _SMOOTH, mode="valid")
    best = int(np.argmin(smooth))
    return begin + (best + _SMOOTH // 2) * _FRAME


def windows(source: Iterator[Samples], window_seconds: float) -> Iterator[Window]:
    """Consecutive windows of at most ``window_seconds``, cut at the quietest point near each window's end."""
    limit = int(window_seconds * SAMPLE_RATE)
    search = int(min(MAX_SEARCH_SECONDS, window_seconds / 4) * SAMPLE_RATE)
    buffered: list[Samples] = []
    size = 0
    start = 0
    for chunk in source:
        buffered.append(chunk)
        size += len(chunk)
        while size >= limit:
            joined = np.concatenate(buffered)
            del buffered[:]
            cut = quietest_cut(joined[:limit], search)
            yield Window(start, joined[:cut].copy())
            rest = joined[cut:].copy()
            del joined
            start += cut
            buffered, size = ([rest], len(rest)) if len(rest) else ([], 0)
    if size:
        yield Window(start, np.concatenate(buffered) if len(buffered) > 1 else buffered[0])
