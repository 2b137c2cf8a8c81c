"""The command line of ``kubectl scribe``: the parser, durations (``7d``) and label selectors (``team=a``).

Flags follow kubectl: ``-n/--namespace`` (default: the kubeconfig context's namespace), ``-A/--all-namespaces``,
``-l/--selector``, ``-o/--output``, ``--kubeconfig``, ``--context``. Usage errors exit with 2 (argparse).
"""

from __future__ import annotations

import argparse
import re
from datetime import timedelta
from typing import Final

from lightkube import operators
from lightkube.core.client import LabelSelector, LabelValue

from scribe_operator import __version__
from scribe_operator.api.constants import LABEL_DEAD_LETTER

PROG: Final = "kubectl scribe"
OUTPUTS: Final = ("table", "json", "yaml")

DURATION_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_DURATION: Final = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")
_DURATION_PART: Final = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")

_NAME: Final = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
_PREFIX: Final = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_KEY: Final = re.compile(rf"({_PREFIX}/)?{_NAME}")
_VALUE: Final = re.compile(rf"({_NAME})?")
_SET: Final = re.compile(r"(?P<key>[^\s!=(),]+)\s+(?P<op>in|notin)\s+\((?P<values>[^()]*)\)")
_COMPARE: Final = re.compile(r"(?P<key>[^\s!=(),]+)\s*(?P<op>==|=|!=)\s*(?P<value>[^\s!=(),]*)")


def parse_duration(text: str) -> timedelta:
    """``7d``, ``12h``, ``30m``, ``45s``, ``2w``, or combinations like ``1h30m``; ValueError otherwise."""
    compact = text.strip().lower()
    if not _DURATION.fullmatch(compact):
        raise ValueError(
            f"invalid duration {text!r}: use a number and a unit (s, m, h, d, w), e.g. 7d, 12h, 30m or 1h30m"
        )
    seconds = sum(float(number) * DURATION_UNITS[unit] for number, unit in _DURATION_PART.findall(compact))
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The compact form of a duration (``7d``, ``1h30m``), as a user would type it."""
    seconds = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _split_requirements(text: str) -> list[str]:
    """Split a selector at the commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts]


def parse_selector(text: str) -> LabelSelector:
    """A kubectl label selector (``a=b,c!=d,e in (f,g),h notin (i),j,!k``) as lightkube's label filter.

    ValueError naming the offending requirement. Each key may appear once, and the dead-letter label is the
    plugin's own (it selects the dead-letter queue) so it may not appear at all.
    """
    selector: LabelSelector = {}
    if not text.strip():
        return selector
    for requirement in _split_requirements(text):
        key, value = _requirement(requirement)
        if not _KEY.fullmatch(key):
            raise ValueError(f"invalid selector {text!r}: {key!r} is not a valid label key")
        if key == LABEL_DEAD_LETTER:
            raise ValueError(f"invalid selector {text!r}: {LABEL_DEAD_LETTER} is implied (it is the dead-letter queue)")
        if key in selector:
            raise ValueError(f"invalid selector {text!r}: the key {key!r} appears twice")
        selector[key] = value
    return selector


def _requirement(requirement: str) -> tuple[str, LabelValue]:
    if not requirement:
        raise ValueError("invalid selector: empty requirement")
    if match := _SET.fullmatch(requirement):
        values = [v.strip() for v in match["values"].split(",")]
        if not all(values) or not all(_VALUE.fullmatch(v) for v in values):
            raise ValueError(f"invalid selector requirement {requirement!r}: bad value list")
        op = operators.in_(values) if match["op"] == "in" else operators.not_in(values)
        return match["key"], op
    if match := _COMPARE.fullmatch(requirement):
        value = match["value"]
        if not _VALUE.fullmatch(value):
            raise ValueError(f"invalid selector requirement {requirement!r}: {value!r} is not a valid label value")
        return match["key"], operators.not_equal(value) if match["op"] == "!=" else value
    if requirement.startswith("!"):
        return requirement[1:].strip(), operators.not_exists()
    if re.fullmatch(r"[^\s!=(),]+", requirement):
        return requirement, None
    raise ValueError(f"invalid selector requirement {requirement!r}")


def _duration_arg(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _selector_arg(text: str) -> LabelSelector:
    try:
        return parse_selector(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _common(*, all_namespaces: bool = True, selector: bool = True) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("cluster and output")
    group.add_argument("-n", "--namespace", help="namespace (default: the kubeconfig context's namespace)")
    if all_namespaces:
        group.add_argument("-A", "--all-namespaces", action="store_true", help="all namespaces")
    if selector:
        group.add_argument(
            "-l", "--selector", type=_selector_arg, default={}, metavar="SELECTOR",
            help="label selector to narrow the dead tasks, e.g. team=audio,env in (prod)",
        )  # fmt: skip
    group.add_argument("-o", "--output", choices=OUTPUTS, default="table", help="output format (default: table)")
    group.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    group.add_argument("--context", help="kubeconfig context (default: the current context)")
    return common


_COMMANDS: Final = (
    # name, whether it acts on many tasks (-A, -l), help, description
    ("dead", True, "list dead-lettered tasks", "List Dead TranscriptionTasks (the dead-letter queue) across all "
     "namespaces, or in one with -n: reason, attempts, last failure, age."),
    ("describe", False, "show every attempt of a task", "Show a TranscriptionTask's attempts (pod, exit code, "
     "reason, message, node, times), failure counts, outputs and events."),
    ("retry", True, "requeue dead tasks", "Requeue Dead TranscriptionTasks: sets the scribe.dev/requeue annotation, "
     "which the operator honours once (phase back to Pending, a fresh budget of maxRetries+1 attempts)."),
    ("purge", True, "delete dead tasks older than a given age", "Delete Dead TranscriptionTasks that have been dead "
     "for longer than --older-than (and with them their pods and secrets)."),
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Dead-letter operations on TranscriptionTasks (scribe.dev/v1alpha1).",
        epilog="Dead tasks carry the label scribe.dev/dead-letter=true; see docs/dead-letter.md.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub = {
        name: commands.add_parser(
            name, parents=[_common(all_namespaces=many, selector=many)], help=summary, description=description
        )
        for name, many, summary, description in _COMMANDS
    }
    sub["describe"].add_argument("task", metavar="TASK", help="task name")
    retry = sub["retry"]
    retry.add_argument("tasks", nargs="*", metavar="TASK", help="task names (or --all-dead)")
    retry.add_argument("--all-dead", action="store_true", help="every dead task in scope (-n/-A, -l)")
    retry.add_argument(
        "--reset-attempts",
        action="store_true",
        help="also clear the attempt history and failure counts (attempt numbers still go on)",
    )
    retry.add_argument("--dry-run", action="store_true", help="only show what would be requeued")

    purge = sub["purge"]
    purge.add_argument(
        "--older-than", type=_duration_arg, required=True, metavar="DURATION", help="e.g. 7d, 12h, 30m, 1h30m"
    )
    purge.add_argument("--dry-run", action="store_true", help="only show what would be deleted")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse and cross-check the arguments (exits with 2 and a usage message on errors)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    all_namespaces = getattr(args, "all_namespaces", False)
    if all_namespaces and args.namespace:
        parser.error("-n/--namespace and -A/--all-namespaces exclude each other")
    if args.command == "retry":
        if args.all_dead and args.tasks:
            parser.error("retry: give task names or --all-dead, not both")
        if not args.all_dead and not args.tasks:
            parser.error("retry: give one or more task names, or --all-dead")
        if args.tasks and args.selector:
            parser.error("retry: -l/--selector only goes with --all-dead")
        if args.tasks and all_namespaces:
            parser.error("retry: tasks named by name need one namespace (-n), not -A")
    return args
