"""Progress of a running attempt: the annotation the worker writes on its own pod and the operator reads.

The value is a JSON object, ``{"processedSeconds": 912.4, "totalSeconds": 3600.0, "at": "2026-11-23T18:40:12Z"}``:
audio seconds transcribed so far, the audio's total (``null`` while unknown) and when (RFC 3339, UTC). The
operator copies it into the task's ``status.progress``; see docs/worker.md, "Progress".
"""

from __future__ import annotations

from typing import Final

PROGRESS_ANNOTATION: Final = "scribe.dev/progress"
"""The pod annotation that carries the worker's progress."""
