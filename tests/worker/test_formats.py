"""Rendering transcripts: timestamps, cue layout and escaping for srt and vtt, the json shape."""

from __future__ import annotations

import json

import pytest
from scribe_worker.formats import render, timestamp, to_json, to_srt, to_txt, to_vtt
from scribe_worker.transcript import Segment, Transcript, Word


def transcript(*segments: tuple[float, float, str], duration: float = 10.0) -> Transcript:
    return Transcript(
        language="en",
        language_probability=0.98765,
        duration=duration,
        segments=tuple(Segment(i, start, end, text) for i, (start, end, text) in enumerate(segments)),
    )


@pytest.mark.parametrize(
    ("seconds", "srt", "vtt"),
    [
        (0.0, "00:00:00,000", "00:00:00.000"),
        (1.5, "00:00:01,500", "00:00:01.500"),
        (2.0004, "00:00:02,000", "00:00:02.000"),
        (2.0006, "00:00:02,001", "00:00:02.001"),
        (59.9996, "00:01:00,000", "00:01:00.000"),  # rounding carries into minutes
        (61.25, "00:01:01,250", "00:01:01.250"),
        (3599.999, "00:59:59,999", "00:59:59.999"),
        (3600.0, "01:00:00,000", "01:00:00.000"),
        (360000.0, "100:00:00,000", "100:00:00.000"),  # hours never wrap
        (-0.2, "00:00:00,000", "00:00:00.000"),  # clamped
    ],
)
def test_timestamps(seconds: float, srt: str, vtt: str) -> None:
    assert timestamp(seconds, ",") == srt
    assert timestamp(seconds, ".") == vtt


def test_srt_numbers_cues_from_one_and_separates_them_with_blank_lines() -> None:
    t = transcript((0.0, 2.5, "Hello there."), (2.5, 4.04, "General Kenobi!"))
    assert to_srt(t) == (
        "1\n00:00:00,000 --> 00:00:02,500\nHello there.\n\n2\n00:00:02,500 --> 00:00:04,040\nGeneral Kenobi!\n"
    )


def test_vtt_has_header_and_dot_milliseconds() -> None:
    t = transcript((0.0, 2.5, "Hello there."), (2.5, 4.04, "General Kenobi!"))
    assert to_vtt(t) == (
        "WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello there.\n\n00:00:02.500 --> 00:00:04.040\nGeneral Kenobi!\n"
    )


def test_cue_text_cannot_break_the_cue_structure() -> None:
    t = transcript((0.0, 1.0, "line one\n\nline two"), (1.0, 2.0, "a --> b <i>&"), (2.0, 3.0, "   "))
    srt = to_srt(t)
    assert "line one line two" in srt
    assert srt.count("-->") == 3  # two timing lines + the literal one in cue text (harmless in srt)
    assert "\n3\n" not in srt  # the blank segment is dropped, numbering stays contiguous
    vtt = to_vtt(t)
    assert "a --&gt; b &lt;i&gt;&amp;" in vtt
    assert vtt.count("-->") == 2
    assert to_txt(t) == "line one line two\na --> b <i>&\n"


def test_empty_transcript() -> None:
    t = transcript()
    assert to_srt(t) == ""
    assert to_vtt(t) == "WEBVTT\n"
    assert to_txt(t) == ""
    assert json.loads(to_json(t, "tiny.en"))["text"] == ""


def test_json_shape() -> None:
    t = transcript((0.0, 1.23456, "Hello"), (1.23456, 2.0, "world ü"), duration=2.71828)
    document = json.loads(to_json(t, "tiny.en"))
    assert document == {
        "text": "Hello world ü",
        "language": "en",
        "languageProbability": 0.9877,
        "duration": 2.718,
        "model": "tiny.en",
        "task": "transcribe",
        "segments": [
            {"id": 0, "start": 0.0, "end": 1.235, "text": "Hello"},
            {"id": 1, "start": 1.235, "end": 2.0, "text": "world ü"},
        ],
    }


def with_words() -> Transcript:
    words = (Word(0.5, 0.9, "Hello", 0.91234), Word(1.0, 1.4, "<world>", 0.5), Word(1.5, 2.2, "again.", 0.75))
    return Transcript(
        language="de",
        language_probability=0.9,
        duration=3.0,
        segments=(Segment(0, 0.5, 2.2, "Hello <world> again.", words),),
        task="translate",
    )


def test_json_words() -> None:
    document = json.loads(to_json(with_words(), "small"))
    assert document["task"] == "translate"
    assert document["segments"][0]["words"] == [
        {"start": 0.5, "end": 0.9, "word": "Hello", "probability": 0.9123},
        {"start": 1.0, "end": 1.4, "word": "<world>", "probability": 0.5},
        {"start": 1.5, "end": 2.2, "word": "again.", "probability": 0.75},
    ]
    assert "words" not in json.loads(to_json(transcript((0.0, 1.0, "x")), "tiny.en"))["segments"][0]


def test_vtt_with_words_has_karaoke_timestamp_tags() -> None:
    assert to_vtt(with_words()) == (
        "WEBVTT\n\n00:00:00.500 --> 00:00:02.200\nHello <00:00:01.000>&lt;world&gt; <00:00:01.500>again.\n"
    )
    assert to_srt(with_words()) == "1\n00:00:00,500 --> 00:00:02,200\nHello <world> again.\n"


def test_render_keeps_the_requested_order_and_sets_content_types() -> None:
    documents = render(transcript((0.0, 1.0, "Grüße")), ["txt", "srt", "vtt", "json"], "tiny.en")
    assert [d.format for d in documents] == ["txt", "srt", "vtt", "json"]
    types = {d.format: d.content_type for d in documents}
    assert types == {
        "txt": "text/plain; charset=utf-8",
        "srt": "application/x-subrip; charset=utf-8",
        "vtt": "text/vtt; charset=utf-8",
        "json": "application/json; charset=utf-8",
    }
    assert documents[0].body == "Grüße\n".encode()
