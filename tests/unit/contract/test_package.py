"""The contract package itself: standard library only, typed, imported by both sides (and the operator by nothing of
the worker), and its wire values pinned: a renamed variable or renumbered exit code must be a deliberate change."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import scribe_contract
from scribe_contract.env import VARIABLES
from scribe_contract.taxonomy import TAXONOMY, Source

ROOT = Path(__file__).resolve().parents[3]
CONTRACT = Path(scribe_contract.__file__).parent


def _imported_roots(directory: Path) -> dict[str, set[str]]:
    """Module file -> the top-level packages it imports (absolute imports only)."""
    found: dict[str, set[str]] = {}
    for path in sorted(directory.rglob("*.py")):
        roots: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                roots.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = roots
    return found


def test_the_contract_is_standard_library_only_and_typed() -> None:
    assert CONTRACT == ROOT / "contract" / "scribe_contract"
    allowed = set(sys.stdlib_module_names) | {"__future__", "scribe_contract"}
    foreign = {module: roots - allowed for module, roots in _imported_roots(CONTRACT).items() if roots - allowed}
    assert foreign == {}
    assert (CONTRACT / "py.typed").is_file()


def test_the_operator_imports_the_contract_and_nothing_of_the_worker() -> None:
    imports = _imported_roots(ROOT / "operator" / "scribe_operator")
    assert not [module for module, roots in imports.items() if "scribe_worker" in roots]
    assert [module for module, roots in imports.items() if "scribe_contract" in roots]
    worker = _imported_roots(ROOT / "worker-image" / "scribe_worker")
    assert not [module for module, roots in worker.items() if "scribe_operator" in roots]


def test_the_exit_codes_are_the_documented_wire_values() -> None:
    assert {str(e.reason): e.exit_code for e in TAXONOMY if e.source is Source.WORKER} == {
        "Completed": 0,
        "InputNotFound": 10,
        "InputForbidden": 11,
        "DownloadFailed": 12,
        "InvalidAudio": 20,
        "TranscriptionFailed": 21,
        "UploadFailed": 30,
        "InvalidConfiguration": 40,
    }
    assert {
        str(e.reason): e.exit_code for e in TAXONOMY if e.exit_code is not None and e.source is not Source.WORKER
    } == {"OOMKilled": 137}


def test_the_variable_names_are_the_documented_wire_values() -> None:
    names = [v.name for v in VARIABLES]
    assert all(name.startswith("SCRIBE_") for name in names) and len(names) == len(set(names)) == 35
    assert [v.name for v in VARIABLES if v.secret] == ["SCRIBE_INPUT_URL", "SCRIBE_OUTPUT_URLS", "SCRIBE_MODEL_URLS"]
