"""``python hack/benchscale`` (as ``make bench-scale`` runs it), or ``python -m benchscale`` with hack/ on the path."""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as a folder: its parent (hack/) is where the package imports from
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchscale import main

raise SystemExit(main())
