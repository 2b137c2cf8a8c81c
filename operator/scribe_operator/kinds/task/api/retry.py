"""``spec.retryPolicy``: how many attempts a task gets, the backoff between them, and the rules that override which
failures are retried."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final, Self

from pydantic import AfterValidator, ConfigDict, Field, WithJsonSchema, model_validator
from scribe_contract.taxonomy import Reason

from scribe_operator.api.base import ApiModel
from scribe_operator.api.cel import CelRule, validations
from scribe_operator.api.constants import DAY, MAX_RETRIES_LIMIT


class RuleAction(StrEnum):
    """What a matching retry rule does with a failed attempt."""

    RETRY = "Retry"
    FAIL = "Fail"


NON_MATCHABLE_REASONS: Final = frozenset({Reason.COMPLETED, Reason.CACHE_HIT, Reason.RETRIES_EXHAUSTED})
"""Reasons that never end an attempt as a failure, so a retry rule cannot name them."""
MATCHABLE_REASONS: Final = tuple(r for r in Reason if r not in NON_MATCHABLE_REASONS)


def _matchable(reason: Reason) -> Reason:
    if reason in NON_MATCHABLE_REASONS:
        raise ValueError(f"retryPolicy.rules[].reasons: {reason.value} is not an attempt failure reason")
    return reason


MatchableReason = Annotated[
    Reason,
    AfterValidator(_matchable),
    WithJsonSchema({"type": "string", "enum": [r.value for r in MATCHABLE_REASONS]}),
]
ExitCode = Annotated[int, Field(ge=1, le=255)]


BACKOFF_ORDER = CelRule(
    "!has(self.maxSeconds) || !has(self.initialSeconds) || self.maxSeconds >= self.initialSeconds",
    "retryPolicy.backoff.maxSeconds must be greater than or equal to retryPolicy.backoff.initialSeconds",
)


class Backoff(ApiModel):
    """Exponential backoff between attempts (see docs/api.md for the exact formula)."""

    model_config = ConfigDict(json_schema_extra=validations(BACKOFF_ORDER))

    initial_seconds: int = Field(10, ge=1, le=DAY, description="Delay before the second attempt, in seconds.")
    factor: float = Field(2.0, ge=1.0, le=10.0, description="Each further delay is the previous one times this.")
    max_seconds: int = Field(
        600, ge=1, le=DAY, description="Upper bound of any delay, in seconds; at least initialSeconds."
    )
    jitter: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description=(
            "Fraction by which delays are shortened, per task: each task's delays are scaled by a fixed "
            "factor in (1 - jitter, 1], derived from its uid, so tasks that fail together spread out."
        ),
    )

    @model_validator(mode="after")
    def _max_not_below_initial(self) -> Self:
        if self.max_seconds < self.initial_seconds:
            raise ValueError(BACKOFF_ORDER.message)
        return self


RULE_HAS_MATCHER = CelRule(
    "(has(self.exitCodes) && size(self.exitCodes) > 0) || (has(self.reasons) && size(self.reasons) > 0)",
    "retryPolicy.rules[]: a rule must list exitCodes or reasons (or both)",
)


class RetryRule(ApiModel):
    """Overrides whether a failed attempt is retried. Matches if the attempt's exit code is in exitCodes
    or its reason is in reasons; the first matching rule wins."""

    model_config = ConfigDict(json_schema_extra=validations(RULE_HAS_MATCHER))

    exit_codes: list[ExitCode] = Field(
        default_factory=list, max_length=32, description="Worker exit codes (1-255) this rule matches."
    )
    reasons: list[MatchableReason] = Field(
        default_factory=list, max_length=32, description="Failure reasons this rule matches."
    )
    action: RuleAction = Field(description="Retry: retry while attempts remain. Fail: go Dead at once.")

    @model_validator(mode="after")
    def _has_matcher(self) -> Self:
        if not self.exit_codes and not self.reasons:
            raise ValueError(RULE_HAS_MATCHER.message)
        return self

    def matches(self, exit_code: int | None, reason: str) -> bool:
        """Whether this rule applies to an attempt that ended with ``exit_code`` and ``reason``."""
        return (exit_code is not None and exit_code in self.exit_codes) or reason in self.reasons


class RetryPolicy(ApiModel):
    """How many times a task is retried, how long to wait in between, and which failures to retry."""

    max_retries: int = Field(
        3, ge=0, le=MAX_RETRIES_LIMIT, description="Retries after the first attempt: attempts = maxRetries + 1."
    )
    backoff: Backoff = Field(
        default_factory=Backoff, json_schema_extra={"default": {}}, description="Delay between attempts."
    )
    rules: list[RetryRule] = Field(
        default_factory=list,
        max_length=32,
        description=("Overrides of the failure taxonomy's retryable defaults, checked in order; the first match wins."),
    )

    @property
    def max_attempts(self) -> int:
        return self.max_retries + 1
