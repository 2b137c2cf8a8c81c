"""What each ``kubectl scribe`` command does, on a :class:`~.cluster.TaskApi` (the cluster, or a fake in tests).

Every command writes its result to ``out`` and notes to ``err``, and returns the exit code: 0, or 1 when some
task could not be handled (each such task is named on ``err``; the others are still handled).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, TextIO

from lightkube.core.client import LabelSelector

from scribe_operator.api.constants import (
    ANNOTATION_REQUEUE,
    ANNOTATION_REQUEUE_RESET_ATTEMPTS,
    DEAD_LETTER_VALUE,
    LABEL_DEAD_LETTER,
)
from scribe_operator.cli import render
from scribe_operator.cli.args import format_duration
from scribe_operator.cli.cluster import CliConflict, CliError, NotFound, TaskApi
from scribe_operator.cli.tasks import TaskView

CONFLICT_RETRIES: Final = 3


@dataclass(frozen=True)
class Scope:
    """Where a command looks: one namespace, or all (``namespace is None``), narrowed by a label selector."""

    namespace: str | None
    labels: LabelSelector

    @property
    def all_namespaces(self) -> bool:
        return self.namespace is None

    def nothing_found(self, what: str) -> str:
        where = "" if self.namespace is None else f" in namespace {self.namespace}"
        return f"No {what} found{where}."


def scope_of(args: argparse.Namespace, api: TaskApi) -> Scope:
    """``-A``: all namespaces; ``-n``: that one; neither: the context's namespace, except for ``dead``, which lists
    the whole dead-letter queue across namespaces unless told otherwise."""
    across = getattr(args, "all_namespaces", False) or (args.command == "dead" and not args.namespace)
    namespace = None if across else (args.namespace or api.namespace)
    return Scope(namespace, dict(getattr(args, "selector", None) or {}))


def requeue_token(now: datetime) -> str:
    """A fresh token: the time, RFC 3339 with microseconds (two requests never share one)."""
    return now.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def not_found(name: str, namespace: str) -> CliError:
    return CliError(f'transcriptiontask "{name}" not found in namespace "{namespace}"')


def not_dead(view: TaskView) -> CliError:
    return CliError(
        f'transcriptiontask "{view.name}" in namespace "{view.namespace}" is {view.phase}, not Dead: '
        "only dead-lettered tasks can be retried"
    )


def dead_tasks(api: TaskApi, scope: Scope) -> list[TaskView]:
    """The dead-letter queue in ``scope``: tasks labelled dead-letter whose phase is Dead, by namespace and name."""
    labels: LabelSelector = {LABEL_DEAD_LETTER: DEAD_LETTER_VALUE, **scope.labels}
    views = [TaskView.from_raw(raw) for raw in api.list_tasks(scope.namespace, labels)]
    return sorted((v for v in views if v.dead), key=lambda v: (v.namespace, v.name))


def _emit(out: TextIO, output: str, table: Callable[[], str], document: Callable[[], object]) -> None:
    out.write(table() if output == "table" else render.dump(document(), output))


# --- commands -----------------------------------------------------------------------------------------------------


def dead(args: argparse.Namespace, api: TaskApi, now: datetime, out: TextIO, err: TextIO) -> int:
    scope = scope_of(args, api)
    views = dead_tasks(api, scope)
    if not views and args.output == "table":
        err.write(scope.nothing_found("dead TranscriptionTasks") + "\n")
        return 0
    _emit(
        out,
        args.output,
        lambda: render.dead_table(views, now, scope.all_namespaces),
        lambda: render.task_list(views),
    )
    return 0


def describe(args: argparse.Namespace, api: TaskApi, now: datetime, out: TextIO, err: TextIO) -> int:
    namespace = args.namespace or api.namespace
    raw = api.get_task(args.task, namespace)
    if raw is None:
        raise not_found(args.task, namespace)
    view = TaskView.from_raw(raw)
    events = api.task_events(view.name, namespace)
    _emit(
        out,
        args.output,
        lambda: render.describe_text(view, events, now),
        lambda: render.describe_doc(view, events, now),
    )
    return 0


def _requeue(api: TaskApi, view: TaskView, token: str, reset: bool) -> TaskView:
    """Set the requeue annotation on a Dead task; re-checks and retries when the task changed meanwhile."""
    annotations: dict[str, str | None] = {
        ANNOTATION_REQUEUE: token,
        ANNOTATION_REQUEUE_RESET_ATTEMPTS: "true" if reset else None,  # a stale "true" must not apply
    }
    for _ in range(CONFLICT_RETRIES):
        try:
            return TaskView.from_raw(api.annotate_task(view.name, view.namespace, annotations, view.resource_version))
        except NotFound:
            raise not_found(view.name, view.namespace) from None
        except CliConflict:
            raw = api.get_task(view.name, view.namespace)
            if raw is None:
                raise not_found(view.name, view.namespace) from None
            view = TaskView.from_raw(raw)
            if not view.dead:
                raise not_dead(view) from None
    raise CliError(f'transcriptiontask "{view.name}" in namespace "{view.namespace}" keeps changing; try again')


def retry(args: argparse.Namespace, api: TaskApi, now: datetime, out: TextIO, err: TextIO) -> int:
    scope = scope_of(args, api)
    errors: list[str] = []
    if args.all_dead:
        views = dead_tasks(api, scope)
        if not views and args.output == "table":
            err.write(scope.nothing_found("dead TranscriptionTasks") + "\n")
            return 0
    else:
        assert scope.namespace is not None, "named tasks live in one namespace"
        views = []
        for name in dict.fromkeys(args.tasks):
            raw = api.get_task(name, scope.namespace)
            view = TaskView.from_raw(raw) if raw is not None else None
            if view is None:
                errors.append(str(not_found(name, scope.namespace)))
            elif not view.dead:
                errors.append(str(not_dead(view)))
            else:
                views.append(view)
        if errors:  # a typo or a live task among the names: change nothing
            raise CliError("\n".join(errors))

    done: list[TaskView] = []
    tokens: list[str] = []
    for view in views:
        token = requeue_token(now)
        try:
            if not args.dry_run:
                _requeue(api, view, token, args.reset_attempts)
        except CliError as exc:
            errors.append(str(exc))
            continue
        done.append(view)
        tokens.append(token)
    _emit(
        out,
        args.output,
        lambda: render.retry_lines(done, args.reset_attempts, args.dry_run, scope.all_namespaces),
        lambda: render.retry_doc(done, tokens, args.reset_attempts, args.dry_run),
    )
    for message in errors:
        err.write(f"error: {message}\n")
    return 1 if errors else 0


def expired(views: list[TaskView], older_than: timedelta, now: datetime) -> tuple[list[TaskView], list[TaskView]]:
    """(dead longer than ``older_than``, dead since an unknown time)."""
    cutoff = now - older_than
    old = [v for v in views if v.dead_since is not None and v.dead_since <= cutoff]
    unknown = [v for v in views if v.dead_since is None]
    return old, unknown


def purge(args: argparse.Namespace, api: TaskApi, now: datetime, out: TextIO, err: TextIO) -> int:
    scope = scope_of(args, api)
    old, unknown = expired(dead_tasks(api, scope), args.older_than, now)
    for view in unknown:
        err.write(f"skipping {render.reference(view, True)}: the time it went Dead is not recorded\n")
    older = format_duration(args.older_than)
    if not old and args.output == "table":
        err.write(scope.nothing_found(f"TranscriptionTasks dead for longer than {older}") + "\n")
        return 0
    errors: list[str] = []
    deleted: list[TaskView] = []
    for view in old:
        try:
            if args.dry_run or api.delete_task(view.name, view.namespace):
                deleted.append(view)
        except CliError as exc:
            errors.append(str(exc))
    _emit(
        out,
        args.output,
        lambda: render.purge_lines(deleted, now, args.dry_run, scope.all_namespaces),
        lambda: render.purge_doc(deleted, older, args.dry_run),
    )
    for message in errors:
        err.write(f"error: {message}\n")
    return 1 if errors else 0


COMMANDS: Final = {"dead": dead, "describe": describe, "retry": retry, "purge": purge}


def run(args: argparse.Namespace, api: TaskApi, now: datetime, out: TextIO, err: TextIO) -> int:
    return COMMANDS[args.command](args, api, now, out, err)
