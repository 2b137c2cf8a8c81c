"""Render a transcript as json, txt, srt and vtt documents (UTF-8 bytes plus their content type)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

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
        "segments": [
            {"id": s.id, "start": round(s.start, 3), "end": round(s.end, 3), "text": s.text}
            for s in transcript.segments
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


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


def to_vtt(transcript: Transcript) -> str:
    blocks = [
        f"{timestamp(s.start, '.')} --> {timestamp(s.end, '.')}\n{_vtt_text(s.text)}\n"
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
