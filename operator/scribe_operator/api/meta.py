"""Parts of a Kubernetes object every kind shares: the metadata the operator reads, a standard condition, and the
JSON form the API server is sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from scribe_operator.api.base import ApiModel

ObjectKey = tuple[str, str]
"""(namespace, name) of a namespaced object: what a controller keys its state by."""
Manifest = dict[str, Any]
"""A Kubernetes object (or a part of one) as JSON, as the API server is sent it."""


class ObjectMeta(ApiModel):
    """The parts of metadata the operator reads."""

    name: str = ""
    namespace: str | None = None
    uid: str = ""
    resource_version: str | None = None
    generation: int | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    creation_timestamp: datetime | None = None
    deletion_timestamp: datetime | None = None

    @property
    def key(self) -> ObjectKey:
        """(namespace, name); an unset namespace is the empty string."""
        return (self.namespace or "", self.name)


class Condition(ApiModel):
    """A standard Kubernetes condition."""

    type: str = Field(description="The condition's type; the types are listed under conditions.")
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: str | None = Field(None, description="CamelCase reason of the last transition.")
    message: str | None = Field(None, description="Human-readable detail.")
    last_transition_time: datetime | None = Field(None, description="When status last changed.")
    observed_generation: int | None = Field(None, description="metadata.generation this is based on.")


def conditions_field(description: str) -> Any:
    """A status's ``conditions`` field (``list[Condition]``, empty by default): a list-map keyed by type, so the API
    server merges a patch's conditions into the list by type."""
    return Field(
        default_factory=list,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
        description=description,
    )


def to_json(model: BaseModel, *, nulls: bool = False) -> dict[str, Any]:
    """JSON-ready camelCase dict. ``nulls=True`` keeps ``None`` as null: a merge patch then clears them."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=not nulls)
