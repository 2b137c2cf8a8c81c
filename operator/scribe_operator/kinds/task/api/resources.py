"""``spec.resources``: the worker container's requests and limits, with the Pod API's request-within-limit rules
checked at admission (CEL) and in Python."""

from __future__ import annotations

from typing import Final, NamedTuple, Self

from pydantic import ConfigDict, Field, model_validator

from scribe_operator.api.base import ApiModel
from scribe_operator.api.cel import CelRule, validations
from scribe_operator.api.quantity import Quantity, parse_quantity


class ResourceList(ApiModel):
    """CPU and memory quantities."""

    cpu: Quantity | None = Field(None, description="CPU, e.g. 500m or 2.")
    memory: Quantity | None = Field(None, description="Memory, e.g. 512Mi or 2Gi.")
    gpu: int | None = Field(
        None,
        alias="nvidia.com/gpu",
        ge=0,
        le=64,
        description="NVIDIA GPUs (the device plugin's nvidia.com/gpu); set in limits, or in requests and limits alike.",
    )


def cel_name(name: str) -> str:
    """A property name as CEL spells it: the API server escapes ``__``, ``.``, ``-`` and ``/`` in property names
    (``nvidia.com/gpu`` -> ``nvidia__dot__com__slash__gpu``)."""
    escapes = (("__", "__underscores__"), (".", "__dot__"), ("-", "__dash__"), ("/", "__slash__"))
    for plain, escaped in escapes:
        name = name.replace(plain, escaped)
    return name


class ResourceRule(NamedTuple):
    """The Pod API's rule for one resource of a ResourceList: ``field`` is its Python name, ``name`` its JSON name.
    Extended resources (domain-prefixed names such as ``nvidia.com/gpu``) cannot be overcommitted: a request set next
    to a limit must equal it (a request alone becomes the limit too). Other resources: a request may not exceed the
    limit."""

    field: str
    name: str

    @property
    def extended(self) -> bool:
        return "/" in self.name

    @property
    def cel(self) -> CelRule:
        key = cel_name(self.name)
        request, limit = f"self.requests.{key}", f"self.limits.{key}"
        both = f"has(self.requests) && has({request}) && has(self.limits) && has({limit})"
        if self.extended:
            return CelRule(
                f"!({both}) || {limit} == {request}",
                f"resources.requests.{self.name} must equal resources.limits.{self.name} when both are set "
                "(an extended resource cannot be overcommitted)",
            )
        quantities = " && ".join(f"{q} != null && isQuantity(string({q}))" for q in (request, limit))
        compare = f"quantity(string({request})).compareTo(quantity(string({limit}))) <= 0"
        return CelRule(
            f"!({both} && {quantities}) || {compare}",
            f"resources.requests.{self.name} must be less than or equal to resources.limits.{self.name}",
        )

    def violated(self, requests: ResourceList, limits: ResourceList) -> str | None:
        """The rule's message (with the values) if ``requests`` and ``limits`` break it, else None."""
        request, limit = getattr(requests, self.field), getattr(limits, self.field)
        if request is None or limit is None:
            return None
        if self.extended:
            return None if limit == request else f"{self.cel.message} ({request} vs {limit})"
        if parse_quantity(str(request)) <= parse_quantity(str(limit)):
            return None
        return f"{self.cel.message} ({request} > {limit})"


RESOURCE_RULES: Final = tuple(
    ResourceRule(field, info.alias or field) for field, info in ResourceList.model_fields.items()
)
"""One rule per resource a ResourceList names, generated from the model (its fields and their JSON names)."""


class Resources(ApiModel):
    """Compute resources of the worker container; operator defaults apply to what is omitted."""

    model_config = ConfigDict(json_schema_extra=validations(*(r.cel for r in RESOURCE_RULES)))

    requests: ResourceList = Field(default_factory=ResourceList, description="Resource requests.")
    limits: ResourceList = Field(
        default_factory=ResourceList,
        description="Resource limits. After an OOMKilled attempt the next attempt gets a raised memory limit.",
    )

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Self:
        for rule in RESOURCE_RULES:
            problem = rule.violated(self.requests, self.limits)
            if problem is not None:
                raise ValueError(problem)
        return self
