"""kubectl-scribe's command line: arguments, durations and label selectors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lightkube import operators
from lightkube.core.selector import build_selector
from scribe_operator.cli.args import format_duration, parse_args, parse_duration, parse_selector


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("45s", timedelta(seconds=45)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1.5h", timedelta(minutes=90)),
        ("0s", timedelta(0)),
        (" 7D ", timedelta(days=7)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "7", "d", "7x", "-1d", "7 d", "1h 30m", "h1", "1.d", "seven days"])
def test_bad_durations_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match=r"invalid duration .*e\.g\. 7d, 12h, 30m"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "text"), [(timedelta(days=7), "7d"), (timedelta(minutes=90), "1h30m"), (timedelta(0), "0s")]
)
def test_format_duration(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("", ""),
        ("team=audio", "team=audio"),
        ("team==audio", "team=audio"),
        ("team!=audio", "team!=audio"),
        ("example.com/team=audio,env", "example.com/team=audio,env"),
        ("!legacy", "!legacy"),
        ("env in (prod, staging),tier notin (a)", "env in (prod,staging),tier notin (a)"),
        (" team = audio , env ", "team=audio,env"),
        ("team=", "team="),
    ],
)
def test_selectors_become_lightkube_filters(text: str, encoded: str) -> None:
    selector = parse_selector(text)
    assert (build_selector(selector) if selector else "") == encoded


def test_selector_operators() -> None:
    selector = parse_selector("a=b,c!=d,e,!f")
    assert selector["a"] == "b" and selector["e"] is None
    assert isinstance(selector["c"], operators.Operator) and isinstance(selector["f"], operators.Operator)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a=b,,c=d", "empty requirement"),
        ("a=b,a=c", "appears twice"),
        ("scribe.dev/dead-letter=true", "is implied"),
        ("-bad=x", "not a valid label key"),
        ("a=b c", "invalid selector requirement"),
        ("a in ()", "bad value list"),
        ("a in (b,,c)", "bad value list"),
        ("a=-x-", "not a valid label value"),
        ("a in (b", "invalid selector requirement"),
    ],
)
def test_bad_selectors_name_the_problem(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_selector(text)


def test_dead_defaults() -> None:
    args = parse_args(["dead"])
    assert (args.command, args.namespace, args.all_namespaces, args.output, args.selector) == (
        "dead",
        None,
        False,
        "table",
        {},
    )
    args = parse_args(["dead", "-A", "-o", "json", "-l", "team=audio", "--context", "c", "--kubeconfig", "k"])
    assert args.all_namespaces and args.output == "json" and args.selector == {"team": "audio"}
    assert (args.context, args.kubeconfig) == ("c", "k")


def test_describe_takes_one_task() -> None:
    args = parse_args(["describe", "talk", "-n", "media", "-o", "yaml"])
    assert (args.task, args.namespace, args.output) == ("talk", "media", "yaml")


def test_retry_forms() -> None:
    args = parse_args(["retry", "a", "b", "-n", "media", "--reset-attempts", "--dry-run"])
    assert args.tasks == ["a", "b"] and args.reset_attempts and args.dry_run and not args.all_dead
    args = parse_args(["retry", "--all-dead", "-A", "-l", "team=audio"])
    assert args.all_dead and args.all_namespaces and args.tasks == [] and not args.reset_attempts


def test_purge_parses_its_duration() -> None:
    args = parse_args(["purge", "--older-than", "7d", "-A", "--dry-run", "-o", "json"])
    assert args.older_than == timedelta(days=7) and args.dry_run and args.output == "json"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "COMMAND"),
        (["nope"], "invalid choice"),
        (["dead", "-n", "x", "-A"], "exclude each other"),
        (["dead", "-o", "wide"], "invalid choice"),
        (["dead", "-l", "a=b,a=c"], "appears twice"),
        (["describe"], "TASK"),
        (["describe", "t", "-A"], "unrecognized arguments: -A"),
        (["retry"], "give one or more task names, or --all-dead"),
        (["retry", "a", "--all-dead"], "not both"),
        (["retry", "a", "-l", "team=x"], "only goes with --all-dead"),
        (["retry", "a", "-A"], "need one namespace"),
        (["purge"], "--older-than"),
        (["purge", "--older-than", "soon"], "invalid duration 'soon'"),
    ],
)
def test_usage_errors_exit_2_with_a_message(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_args(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
