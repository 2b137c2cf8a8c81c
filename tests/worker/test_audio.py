"""Decoding in windows: bounded size, nothing lost or repeated, cuts at silence, and faster-whisper's samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from faster_whisper import decode_audio
from scribe_worker import audio
from scribe_worker.audio import SAMPLE_RATE


def test_chunks_decode_exactly_like_faster_whisper(fox_wav: Path) -> None:
    pieces = list(audio.chunks(fox_wav))
    assert all(len(p) <= audio.CHUNK_SAMPLES + SAMPLE_RATE for p in pieces)
    assert np.array_equal(np.concatenate(pieces), decode_audio(str(fox_wav)))
    assert audio.probe_duration(fox_wav) == pytest.approx(len(np.concatenate(pieces)) / SAMPLE_RATE, abs=0.01)


def tone_with_gaps(seconds: int, gaps: list[float], seed: int = 7) -> np.ndarray:
    """Noise ("speech") with 0.6 s of silence starting at each of ``gaps`` (seconds)."""
    samples = np.random.default_rng(seed).uniform(-0.5, 0.5, seconds * SAMPLE_RATE).astype(np.float32)
    for gap in gaps:
        start = int(gap * SAMPLE_RATE)
        samples[start : start + int(0.6 * SAMPLE_RATE)] = 0.0
    return samples


def test_windows_are_bounded_lossless_and_cut_in_silence() -> None:
    samples = tone_with_gaps(200, gaps=[55.0, 112.0, 170.0])
    source = iter(np.array_split(samples, 37))  # arbitrary chunk sizes
    windows = list(audio.windows(source, window_seconds=60))
    assert all(w.duration <= 60.0 for w in windows)
    assert np.array_equal(np.concatenate([w.samples for w in windows]), samples)
    assert [w.start for w in windows] == list(np.cumsum([0] + [len(w.samples) for w in windows[:-1]]))
    for window, gap in zip(windows, [55.0, 112.0, 170.0], strict=False):
        assert gap <= window.end <= gap + 0.6, (window.end, gap)  # the cut falls inside the silent gap


def test_short_audio_is_one_window() -> None:
    samples = tone_with_gaps(10, gaps=[])
    windows = list(audio.windows(iter([samples]), window_seconds=30))
    assert len(windows) == 1
    assert windows[0].start == 0 and windows[0].duration == pytest.approx(10.0)
    assert list(audio.windows(iter([]), window_seconds=30)) == []


def test_undecodable_input_raises_audio_error(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(b"not audio at all" * 100)
    with pytest.raises(audio.AudioError):
        list(audio.chunks(path))
    assert audio.probe_duration(path) is None
