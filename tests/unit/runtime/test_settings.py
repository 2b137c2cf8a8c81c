"""The settings model: the environment variables users set are the documented ones (a contract: none renamed),
each parses into its section, a bad value is refused naming its variable, and the generated reference (docs,
chart values and schema) is current."""

from __future__ import annotations

from pathlib import Path

import pytest
from scribe_operator.kinds.batch.core.settings import BatchSettings
from scribe_operator.kinds.task.core.breaker import BreakerSettings
from scribe_operator.kinds.task.core.settings import CoreSettings
from scribe_operator.runtime.settings import OperatorSettings, SettingsError
from scribe_operator.runtime.settings.reference import stale
from scribe_operator.runtime.settings.sections import TaskSection

ROOT = Path(__file__).resolve().parents[3]

DOCUMENTED = {
    "SCRIBE_NAMESPACES", "SCRIBE_HEALTH_PORT", "SCRIBE_METRICS_PORT", "SCRIBE_LOG_FORMAT",
    "SCRIBE_S3_ENDPOINT_URL", "SCRIBE_S3_REGION", "SCRIBE_S3_ADDRESSING_STYLE",
    "SCRIBE_LEADER_ELECTION", "SCRIBE_LEADER_ELECTION_NAMESPACE", "SCRIBE_LEADER_ELECTION_LEASE",
    "SCRIBE_LEADER_ELECTION_LEASE_SECONDS",
    "SCRIBE_WORKER_IMAGE", "SCRIBE_WORKER_IMAGE_PULL_POLICY", "SCRIBE_WORKER_RUN_AS_USER",
    "SCRIBE_WORKER_SERVICE_ACCOUNT", "SCRIBE_PROGRESS_REPORTING", "SCRIBE_WORKER_PROGRESS_INTERVAL_SECONDS",
    "SCRIBE_DEFAULT_MODEL", "SCRIBE_DEFAULT_MODEL_CLAIM", "SCRIBE_DEFAULT_MODEL_SUB_PATH",
    "SCRIBE_DEFAULT_MODEL_S3_PREFIX", "SCRIBE_DEFAULT_DEVICE", "SCRIBE_DEFAULT_COMPUTE_TYPE",
    "SCRIBE_ATTEMPT_OVERHEAD_SECONDS", "SCRIBE_SECONDS_PER_MIB", "SCRIBE_MIN_ATTEMPT_SECONDS",
    "SCRIBE_MAX_ATTEMPT_SECONDS", "SCRIBE_URL_TTL_MARGIN_SECONDS", "SCRIBE_POD_LOST_GRACE_SECONDS",
    "SCRIBE_DEADLINE_GRACE_SECONDS", "SCRIBE_DEFAULT_MEMORY_LIMIT", "SCRIBE_OOM_MEMORY_FACTOR",
    "SCRIBE_MAX_MEMORY_LIMIT", "SCRIBE_STALL_TIMEOUT_SECONDS", "SCRIBE_RESULT_CACHE",
    "SCRIBE_MAX_RUNNING_ATTEMPTS", "SCRIBE_MAX_RUNNING_ATTEMPTS_PER_NAMESPACE", "SCRIBE_CONCURRENT_STARTS",
    "SCRIBE_BREAKER_THRESHOLD", "SCRIBE_BREAKER_WINDOW_SECONDS", "SCRIBE_BREAKER_COOLDOWN_SECONDS",
    "SCRIBE_NOTIFICATION_ALLOW_HTTP", "SCRIBE_NOTIFICATION_MAX_TRIES", "SCRIBE_NOTIFICATION_BACKOFF_SECONDS",
    "SCRIBE_BATCH_MAX_CREATES_PER_PASS", "SCRIBE_BATCH_EXPANSION_TIMEOUT_SECONDS",
    "SCRIBE_BATCH_SUMMARY_RETRY_SECONDS", "SCRIBE_BATCH_MAX_SUMMARY_ATTEMPTS",
}  # fmt: skip
"""Every variable the operator reads, as docs/operator.md and docs/batches.md have always named them."""


def variables() -> dict[str, tuple[str, str]]:
    """Documented variable -> (section attribute, field)."""
    return {
        section.env_name(name): (attr, name)
        for attr, section in OperatorSettings.sections()
        for name in section.model_fields
    }


def test_the_variables_are_the_documented_ones() -> None:
    assert set(variables()) == DOCUMENTED


def test_aliases_come_after_the_scribe_variable() -> None:
    s3 = dict(OperatorSettings.sections())["s3"]
    assert s3.env_names("endpoint_url") == ("SCRIBE_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
    settings = OperatorSettings.from_environ({"AWS_ENDPOINT_URL": "http://b", "SCRIBE_S3_ENDPOINT_URL": "http://a"})
    assert settings.s3.endpoint_url == "http://a"
    assert OperatorSettings.from_environ({"AWS_REGION": "eu-west-1"}).s3.region == "eu-west-1"


NEEDS = {"SCRIBE_DEFAULT_MODEL_SUB_PATH": {"SCRIBE_DEFAULT_MODEL_CLAIM": "models"}}
"""What a variable is refused without."""


def test_each_variable_sets_its_field() -> None:
    for variable, (attr, name) in variables().items():
        section = getattr(OperatorSettings(), attr)
        example = type(section).model_fields[name].examples[0]  # type: ignore[index]
        value = str(example).lower() if isinstance(example, bool) else str(example)
        environ = {**NEEDS.get(variable, {}), variable: value}
        got = getattr(getattr(OperatorSettings.from_environ(environ), attr), name)
        assert got == example, variable


def test_variable_names_are_not_case_sensitive_and_others_are_ignored() -> None:
    settings = OperatorSettings.from_environ({"scribe_max_running_attempts": "3", "SCRIBE_UNKNOWN": "x", "PATH": "/"})
    assert settings.capacity.max_running_attempts == 3


def test_the_defaults_are_the_decision_cores() -> None:
    defaults = OperatorSettings.from_environ({})
    assert defaults == OperatorSettings()
    core = defaults.core()
    expected = CoreSettings(transcript_defaults=core.transcript_defaults)
    assert core == expected
    assert defaults.breaker.core() == BreakerSettings()
    assert defaults.batch_core() == BatchSettings()


def test_each_task_setting_reaches_the_decision_core_under_its_name() -> None:
    examples = {}
    for name, info in TaskSection.model_fields.items():
        assert info.examples, name
        examples[name] = info.examples[0]
    core = OperatorSettings(task=TaskSection(**examples)).core()
    assert {name: getattr(core, name) for name in examples} == examples


BAD_VALUES = {
    "SCRIBE_MAX_RUNNING_ATTEMPTS": "many",
    "SCRIBE_BREAKER_WINDOW_SECONDS": "0",
    "SCRIBE_LOG_FORMAT": "xml",
    "SCRIBE_BATCH_MAX_CREATES_PER_PASS": "0",
}
"""A value each of these variables refuses on its own."""


@pytest.mark.parametrize(("variable", "value"), BAD_VALUES.items())
def test_a_bad_value_is_refused_naming_its_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        OperatorSettings.from_environ({variable: value})


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"SCRIBE_DEFAULT_MODEL_SUB_PATH": "tiny"}, "SCRIBE_DEFAULT_MODEL_SUB_PATH needs SCRIBE_DEFAULT_MODEL_CLAIM"),
        (
            {"SCRIBE_DEFAULT_MODEL_CLAIM": "models", "SCRIBE_DEFAULT_MODEL_S3_PREFIX": "s3://m/"},
            "at most one of SCRIBE_DEFAULT_MODEL_CLAIM and SCRIBE_DEFAULT_MODEL_S3_PREFIX",
        ),
    ],
)
def test_a_forbidden_combination_is_refused_naming_its_variables(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        OperatorSettings.from_environ(environ)


def test_every_setting_has_a_meaning_and_an_example_other_than_its_default() -> None:
    for _, section in OperatorSettings.sections():
        for name, info in section.model_fields.items():
            assert info.description, f"{section.__name__}.{name}"
            assert info.examples and info.examples[0] != info.default, f"{section.__name__}.{name}"


def test_the_generated_settings_reference_is_current() -> None:
    assert stale(ROOT) == []
