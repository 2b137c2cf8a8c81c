"""``spec.worker``: where and as what the worker pods run (image, node selector, tolerations, accounts)."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from scribe_operator.api.base import ApiModel
from scribe_operator.api.cel import CelRule, validations
from scribe_operator.api.patterns import DNS1123_SUBDOMAIN, LABEL_VALUE_PATTERN, TOLERATION_KEY_PATTERN


def _given(field: str, *, text: bool = True) -> str:
    """CEL: ``field`` is present (and, for a string, not empty). A null is absent to ``has()``."""
    return f"has(self.{field})" + (f" && self.{field} != ''" if text else "")


EXISTS = "has(self.operator) && self.operator == 'Exists'"
TOLERATION_KEYLESS = CelRule(
    f"({_given('key')}) || ({EXISTS})",
    "worker.tolerations[]: operator must be Exists when key is empty (it then matches every taint)",
)
TOLERATION_EXISTS_VALUELESS = CelRule(
    f"!({EXISTS}) || !({_given('value')})", "worker.tolerations[]: value must be empty when operator is Exists"
)
TOLERATION_SECONDS_NO_EXECUTE = CelRule(
    f"!({_given('tolerationSeconds', text=False)}) || (has(self.effect) && self.effect == 'NoExecute')",
    "worker.tolerations[]: tolerationSeconds is only allowed with effect NoExecute",
)


class Toleration(ApiModel):
    """A pod toleration, as in the core/v1 Pod API (and its cross-field rules, which the API server checks only
    when the pod is created)."""

    model_config = ConfigDict(
        json_schema_extra=validations(TOLERATION_KEYLESS, TOLERATION_EXISTS_VALUELESS, TOLERATION_SECONDS_NO_EXECUTE)
    )

    key: str | None = Field(
        None,
        max_length=316,
        pattern=TOLERATION_KEY_PATTERN,
        description="Taint key; empty with operator Exists matches all.",
    )
    operator: Literal["Exists", "Equal"] | None = Field(None, description="Exists or Equal (default Equal).")
    value: str | None = Field(
        None, max_length=63, pattern=LABEL_VALUE_PATTERN, description="Taint value to match with operator Equal."
    )
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        None, description="Taint effect to match; empty matches all effects."
    )
    toleration_seconds: int | None = Field(None, description="For NoExecute: how long the pod stays bound.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        exists = self.operator == "Exists"
        if not self.key and not exists:
            raise ValueError(TOLERATION_KEYLESS.message)
        if exists and self.value:
            raise ValueError(TOLERATION_EXISTS_VALUELESS.message)
        if self.toleration_seconds is not None and self.effect != "NoExecute":
            raise ValueError(TOLERATION_SECONDS_NO_EXECUTE.message)
        return self


class WorkerSpec(ApiModel):
    """Where and as what the worker pods run."""

    image: str | None = Field(
        None, min_length=1, max_length=512, description="Worker image; the operator's default when omitted."
    )
    node_selector: dict[str, Annotated[str, Field(max_length=63, pattern=LABEL_VALUE_PATTERN)]] = Field(
        default_factory=dict, max_length=64, description="Node labels the worker pod must match."
    )
    tolerations: list[Toleration] = Field(
        default_factory=list, max_length=32, description="Tolerations of the worker pod."
    )
    service_account_name: str | None = Field(
        None,
        max_length=253,
        pattern=DNS1123_SUBDOMAIN,
        description=(
            "Service account of the worker pod; the operator's worker account (which may only report progress) "
            "when omitted. Progress is reported only under the operator's worker account."
        ),
    )
    runtime_class_name: str | None = Field(
        None,
        max_length=253,
        pattern=DNS1123_SUBDOMAIN,
        description="RuntimeClass of the worker pod (e.g. nvidia for GPU nodes); the cluster's default when omitted.",
    )
