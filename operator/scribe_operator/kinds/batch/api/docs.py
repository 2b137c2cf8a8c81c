"""The generated part of docs/batches.md: the TranscriptionBatch field reference, from the CRD schema.

``python -m scribe_operator.kinds.batch.api.docs [--check] [ROOT]`` rewrites the section between
``<!-- BEGIN GENERATED: batch-fields -->`` and ``<!-- END GENERATED: batch-fields -->`` (``make manifests``);
``--check`` only reports drift. A unit test runs the check.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final

from scribe_operator.kinds.batch.api.crd import batch_openapi_schema
from scribe_operator.kinds.task.api.docs import _rows, _table, fill

BATCH_DOC: Final = "docs/batches.md"
SECTION: Final = "batch-fields"


def batch_fields_reference() -> str:
    """Markdown tables of every spec and status field of a TranscriptionBatch."""
    props = batch_openapi_schema()["properties"]
    spec_root = {"properties": {"spec": props["spec"]}, "required": ["spec"]}
    spec = _table(["field", "type", "default", "validation", "description"], _rows(spec_root, ""))
    status_rows = (row[:2] + row[4:] for row in _rows({"properties": {"status": props["status"]}}, ""))
    status = _table(["field", "type", "description"], status_rows)
    return f"### Spec\n\n{spec}\n### Status\n\n{status}"


def render(root: Path) -> str:
    return fill((root / BATCH_DOC).read_text(), SECTION, batch_fields_reference())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report drift (exit 1)")
    parser.add_argument("root", nargs="?", default=".", type=Path)
    args = parser.parse_args(argv)
    path, text = args.root / BATCH_DOC, render(args.root)
    if args.check:
        if path.read_text() != text:
            print(f"{path} is out of date: run `make manifests`", file=sys.stderr)
            return 1
        return 0
    path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
