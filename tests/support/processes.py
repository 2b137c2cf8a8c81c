"""Child processes a test or a benchmark starts for itself (an operator, a profiler): a free port for one to listen
on, and a bounded stop.

Standard library only: the scripts under hack/ import it too.
"""

from __future__ import annotations

import signal
import socket
import subprocess


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def terminate(process: subprocess.Popen[bytes], *, grace: float, kill_grace: float = 10.0) -> None:
    """Graceful stop: SIGTERM, then SIGKILL if ``process`` has not exited after ``grace`` seconds. Waits at most
    ``grace + kill_grace`` seconds in all; a process that has already exited is left as it is."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=kill_grace)
