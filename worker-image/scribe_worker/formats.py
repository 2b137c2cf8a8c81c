"""Render a transcript as json, txt, srt and vtt documents (UTF-8 bytes plus their content type)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from scribe_worker.transcript import Segment, Transcript


@dataclass(frozen=True)
class Document:
    format: str
    content_type: str
    body: bytes


def timestamp(seconds: float, decimal_marker: str) -> str:
    """``HH:MM:SS<marker>mmm``, rounded to the millisecond; negative input clamps to zero."""
    total_ms = max(0, round(seconds * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_marker}{ms:03d}"


def _one_line(text: str) -> str:
    # A blank line ends a cue in both srt and vtt; keep every cue's text on one line.
    return " ".join(text.split())


def _cues(segments: Iterable[Segment]) -> Iterable[Segment]:
    return (s for s in segments if _one_line(s.text))


def to_json(transcript: Transcript, model: str) -> str:
    document = {
        "text": transcript.text,
        "language": transcript.language,
        "languageProbability": round(transcript.language_probability, 4),
        "duration": round(transcript.duration, 3),
        "model": model,
        "task": transcript.task,
        "segments": [_json_segment(s) for s in transcript.segments],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _json_segment(segment: Segment) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": segment.id,
        "start": round(segment.start, 3),
        "end": round(segment.end, 3),
        "text": segment.text,
    }
    if segment.words is not None:
        item["words"] = [
            {"start": round(w.start, 3), "end": round(w.end, 3), "word": w.text, "probability": round(w.probability, 4)}
            for w in segment.words
        ]
    return item


def to_txt(transcript: Transcript) -> str:
    """One line per segment."""
    return "".join(_one_line(s.text) + "\n" for s in _cues(transcript.segments))


def to_srt(transcript: Transcript) -> str:
    blocks = [
        f"{n}\n{timestamp(s.start, ',')} --> {timestamp(s.end, ',')}\n{_one_line(s.text)}\n"
        for n, s in enumerate(_cues(transcript.segments), start=1)
    ]
    return "\n".join(blocks)


def _vtt_text(text: str) -> str:
    escaped = _one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped  # "-->" cannot survive: its ">" is escaped


def _vtt_karaoke(segment: Segment) -> str:
    """The cue's words, each after a WebVTT timestamp tag (``<00:00:01.200>``) giving when it is spoken."""
    words = segment.words or ()
    parts = [_vtt_text(w.text) for w in words]
    if not any(parts):
        return _vtt_text(segment.text)
    out = [parts[0]] if words[0].start <= segment.start else [f"<{timestamp(words[0].start, '.')}>{parts[0]}"]
    for word, text in zip(words[1:], parts[1:], strict=True):
        if text:
            out.append(f"<{timestamp(min(max(word.start, segment.start), segment.end), '.')}>{text}")
    return " ".join(out)


def to_vtt(transcript: Transcript) -> str:
    """WebVTT cues; with word timestamps each word carries a timestamp tag (karaoke-style cues)."""
    blocks = [
        f"{timestamp(s.start, '.')} --> {timestamp(s.end, '.')}\n{_vtt_karaoke(s) if s.words else _vtt_text(s.text)}\n"
        for s in _cues(transcript.segments)
    ]
    return "\n".join(["WEBVTT\n", *blocks])


_RENDERERS: dict[str, tuple[str, Callable[[Transcript, str], str]]] = {
    "json": ("application/json; charset=utf-8", to_json),
    "txt": ("text/plain; charset=utf-8", lambda t, _model: to_txt(t)),
    "srt": ("application/x-subrip; charset=utf-8", lambda t, _model: to_srt(t)),
    "vtt": ("text/vtt; charset=utf-8", lambda t, _model: to_vtt(t)),
}


def render(transcript: Transcript, formats: Iterable[str], model: str) -> list[Document]:
    """One document per requested format, in the order given."""
    documents = []
    for fmt in formats:
        content_type, renderer = _RENDERERS[fmt]
        documents.append(Document(fmt, content_type, renderer(transcript, model).encode("utf-8")))
    return documents
