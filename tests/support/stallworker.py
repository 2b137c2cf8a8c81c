"""A worker that stops reporting (test tooling; `make images` packages it as `localhost/scribe-stall-worker`).

It reports progress once, through the real worker's pod-annotation transport and the credential the operator
projects into the pod, then hangs without another word: what a worker stuck in a decoder loop or a dead GPU looks
like to the operator. The stall watchdog must end it as Stalled long before its deadline.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from scribe_worker.podprogress import PodAnnotationTransport
from scribe_worker.progress import Progress


def main() -> None:
    PodAnnotationTransport(Path(os.environ["SCRIBE_PROGRESS_DIR"])).send(Progress(3.0, 60.0))
    print("reported 3 of 60 audio seconds; now stuck", flush=True)
    signal.pause()  # until the operator's watchdog deletes the pod


if __name__ == "__main__":
    main()
