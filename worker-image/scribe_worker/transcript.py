"""What an engine produces: plain data, independent of the engine and of the output formats."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Word:
    start: float  # seconds from the start of the audio
    end: float
    text: str  # stripped of surrounding whitespace
    probability: float


@dataclass(frozen=True)
class Segment:
    id: int  # 0-based, in order
    start: float  # seconds from the start of the audio
    end: float
    text: str  # stripped of surrounding whitespace
    words: tuple[Word, ...] | None = None  # with word timestamps only


@dataclass(frozen=True)
class Transcript:
    language: str
    language_probability: float
    duration: float  # seconds of audio
    segments: tuple[Segment, ...]
    task: str = "transcribe"  # or translate: the text is English whatever the language

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments if s.text)
